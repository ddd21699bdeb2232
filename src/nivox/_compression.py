"""What nivox's compressed streams are, under the names nibabel's ``_compression`` gives them.

Every codec lives in :mod:`nivox._codecs`; this module only describes it:
which classes are compressed file objects (:data:`COMPRESSED_FILE_LIKES`),
which errors mean a bad stream (:data:`COMPRESSION_ERRORS`), whether zstd
is available (:data:`HAVE_ZSTD`), and small openers (:func:`gzip_open`,
:func:`zstd_open`) that go through the same registry as :class:`~nivox.openers.Opener`.

``HAVE_INDEXED_GZIP`` is False: in nibabel it means gzip files are read
through ``indexed_gzip.IndexedGzipFile``; nivox reads them with its own
random-access reader (which may take seek points from ``indexed_gzip``).
``IndexedGzipFile`` names that reader class, as nibabel's name names the
class gzip reads give. Both are read at each open, as in nibabel: set
``HAVE_INDEXED_GZIP = True`` and gzip files named by path are read through
``IndexedGzipFile(name, drop_handles=not keep_open)`` (nivox's reader by
default, or a class of your own such as ``indexed_gzip.IndexedGzipFile``),
and array proxies then keep one opener per gzip file for its index.
"""

from __future__ import annotations

import bz2
import gzip
import io
import os
from typing import IO, Any

from . import _codecs
from ._codecs import zstd as _zstd_codec
from ._codecs.gzip import DeterministicGzipFile
from ._codecs.gzread import GzipReader
from ._codecs.gzwrite import GzipMemberWriter
from .errors import CorruptStreamError, InvalidArgumentError
from .tripwire import TripWire

__all__ = [
    "COMPRESSED_FILE_LIKES",
    "COMPRESSION_ERRORS",
    "HAVE_INDEXED_GZIP",
    "HAVE_ZSTD",
    "DeterministicGzipFile",
    "IndexedGzipFile",
    "gzip_open",
    "zstd",
    "zstd_open",
]

#: gzip reads go through indexed_gzip's own file class (never, in nivox: see above)
HAVE_INDEXED_GZIP = False
#: the class of the objects reading a gzip file by name gives
IndexedGzipFile = GzipReader

#: whether .zst files can be read and written (the ``zstd`` extra is installed)
HAVE_ZSTD: bool = _zstd_codec.available()
#: the zstd module: ``zstd.ZstdFile`` opens files, ``zstd.ZstdError`` is the backend's error
zstd: Any = _zstd_codec if HAVE_ZSTD else TripWire(
    "zstd support needs the optional package zstandard: pip install nivox[zstd]"
)

#: the classes of compressed file objects nivox (and the standard library) produce
COMPRESSED_FILE_LIKES: tuple[type, ...] = (
    bz2.BZ2File,
    gzip.GzipFile,
    GzipReader,
    GzipMemberWriter,
    _zstd_codec.ZstdFile,
)
#: what reading a corrupt or truncated compressed stream raises
COMPRESSION_ERRORS: tuple[type[BaseException], ...] = (OSError, gzip.BadGzipFile, CorruptStreamError)


def gzip_open(
    filename: Any,
    mode: str = "rb",
    compresslevel: int = 9,
    mtime: int = 0,
    keep_open: bool = False,
) -> IO[bytes]:
    """Open a gzip file as :class:`~nivox.openers.Opener` would, at ``compresslevel`` when writing.

    Reads give nivox's random-access reader (``keep_open`` holds its file
    handle); writes are deterministic (``mtime``, no file name in the header).
    """
    codec = _codecs.by_name("gzip")
    base = mode.replace("b", "").replace("t", "")
    if base == "r" and HAVE_INDEXED_GZIP and isinstance(filename, (str, bytes, os.PathLike)):
        # nibabel's switch, read at each open: a module that sets it (and
        # IndexedGzipFile, e.g. to indexed_gzip's class) chooses the reader
        return IndexedGzipFile(filename, drop_handles=not keep_open)
    if base == "r":
        return codec.open_read(filename, keep_open=keep_open)
    if base == "w":
        return codec.open_write(filename, compresslevel, mtime=mtime)
    raise InvalidArgumentError(f"gzip files open with mode 'rb' or 'wb', not {mode!r}")


def zstd_open(
    filename: Any,
    mode: str = "r",
    *,
    level: int | None = None,
    options: Any = None,
    zstd_dict: Any = None,
) -> IO[bytes]:
    """Open a zstd file for reading ('r') or writing ('w') at ``level``."""
    _codecs.by_name("zstd").require()
    return _zstd_codec.ZstdFile(filename, mode, level=level, options=options, zstd_dict=zstd_dict)


def is_compressed_fobj(fobj: Any) -> bool:
    """True when ``fobj`` (or the file object an Opener wraps) decompresses or compresses."""
    inner = getattr(fobj, "fobj", fobj)
    if isinstance(inner, io.BufferedReader) and isinstance(getattr(inner, "raw", None), GzipReader):
        return True
    return isinstance(inner, COMPRESSED_FILE_LIKES)
