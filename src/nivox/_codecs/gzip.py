"""gzip: the standard library always, faster backends when installed.

Reading prefers ``isal`` (Intel ISA-L) over the standard library; writing
prefers ``isal``, then ``zlib-ng``, then the standard library. All are
``gzip.GzipFile`` subclasses producing identical data, only faster.
``zlib-ng`` does not read: its reader (python-zlib-ng 1.1) returns wrong data
or fails after seeking backwards, which fileslice and proxies do. With ``keep_open=True`` and ``indexed_gzip``
installed, readers build a seek index as they go, so a file kept open for
many slices is not decompressed from the start on every backward seek.

Writing is deterministic: the header carries mtime 0 and no file name, so the
output depends on the data and the backend only.
"""

from __future__ import annotations

import builtins
import functools
import gzip
import os
import zlib
from typing import IO, Any

from . import StreamGuard

__all__ = [
    "DeterministicGzipFile",
    "READERS",
    "WRITERS",
    "available",
    "backend_name",
    "open_read",
    "open_write",
]

_DECODE_ERRORS: tuple[type[BaseException], ...] = (EOFError, OSError, zlib.error)


class _GzipMixin(StreamGuard):
    """Deterministic headers, owned raw files, and readinto without a bytes copy."""

    _decode_errors = _DECODE_ERRORS

    def __init__(
        self,
        filename: str | os.PathLike[str] | None = None,
        mode: str | None = None,
        compresslevel: int = 9,
        fileobj: IO[bytes] | None = None,
        mtime: float | None = 0,
    ) -> None:
        self._owned: IO[bytes] | None = None
        self.source_name = filename if filename is not None else getattr(fileobj, "name", None)
        writing = mode is not None and mode[:1] in ("w", "a", "x")
        if writing and filename is not None and fileobj is None:
            # GzipFile stores the name it opened in the header; open the file
            # here and give it no name so the bytes do not depend on the path
            fileobj = self._owned = builtins.open(filename, mode.replace("b", "") + "b")
            filename = ""
        elif writing and filename is None:
            filename = ""
        try:
            super().__init__(filename, mode, self._level(compresslevel), fileobj, mtime)  # type: ignore[call-arg]
        except BaseException:
            if self._owned is not None:
                self._owned.close()
            raise

    @staticmethod
    def _level(compresslevel: int) -> int:
        return compresslevel

    def readinto(self, buffer: Any) -> int:
        # GzipFile.readinto goes through read() and a bytes object; its
        # buffered reader decompresses straight into ``buffer``
        inner = getattr(self, "_buffer", None)
        if inner is not None and getattr(self, "mode", None) == gzip.READ:
            return self._guarded(inner.readinto, buffer)
        return super().readinto(buffer)

    def close(self) -> None:
        try:
            super().close()  # type: ignore[misc]
        finally:
            if self._owned is not None:
                self._owned.close()
                self._owned = None


class DeterministicGzipFile(_GzipMixin, gzip.GzipFile):
    """A ``gzip.GzipFile`` that writes mtime 0 and no file name in its header.

    Reading raises CorruptStreamError for corrupt or truncated streams.
    """


def _isal_level(compresslevel: int) -> int:
    # ISA-L has levels 0-3; spread zlib's 0-9 over them
    return 0 if compresslevel <= 0 else min(3, (compresslevel + 2) // 3)


# fastest first; each entry is a GzipFile subclass with the same behaviour
READERS: dict[str, type[gzip.GzipFile]] = {}
WRITERS: dict[str, type[gzip.GzipFile]] = {}

try:
    from isal import igzip as _igzip
    from isal import isal_zlib as _isal_zlib
except ImportError:  # pragma: no cover - depends on the environment
    pass
else:

    class _IsalGzipFile(_GzipMixin, _igzip.IGzipFile):
        _decode_errors = _DECODE_ERRORS + (_isal_zlib.error,)
        _level = staticmethod(_isal_level)

    READERS["isal"] = WRITERS["isal"] = _IsalGzipFile

try:
    from zlib_ng import gzip_ng as _gzip_ng
    from zlib_ng import zlib_ng as _zlib_ng
except ImportError:  # pragma: no cover - depends on the environment
    pass
else:

    class _ZlibNgGzipFile(_GzipMixin, _gzip_ng.GzipNGFile):
        _decode_errors = _DECODE_ERRORS + (_zlib_ng.error,)

    WRITERS["zlib_ng"] = _ZlibNgGzipFile

READERS["stdlib"] = WRITERS["stdlib"] = DeterministicGzipFile


def available() -> bool:
    """gzip is always available (the standard library is the fallback)."""
    return True


def backend_name() -> str:
    """Names of the backends used for reading and for writing, as 'reader/writer'."""
    return f"{next(iter(READERS))}/{next(iter(WRITERS))}"


@functools.cache
def _indexed_class() -> type | None:
    try:
        import indexed_gzip
    except ImportError:
        return None

    class _IndexedGzipFile(StreamGuard, indexed_gzip.IndexedGzipFile):
        _decode_errors = _DECODE_ERRORS

    return _IndexedGzipFile


def open_read(fileish: Any, *, keep_open: bool = False) -> IO[bytes]:
    """Open a gzip path or binary file object for reading.

    ``keep_open=True`` (paths only) asks for a reader that seeks cheaply,
    for files held open across many reads.
    """
    if isinstance(fileish, (str, bytes, os.PathLike)):
        indexed = _indexed_class() if keep_open else None
        if indexed is not None:
            reader = indexed(os.fsdecode(fileish), drop_handles=False)
            reader.source_name = fileish
            return reader
        return next(iter(READERS.values()))(fileish, "rb")
    return next(iter(READERS.values()))(fileobj=fileish, mode="rb")


def open_write(fileish: Any, compresslevel: int | None, *, mtime: float = 0) -> IO[bytes]:
    """Open a gzip path or binary file object for deterministic writing."""
    level = 1 if compresslevel is None else int(compresslevel)
    klass = next(iter(WRITERS.values()))
    if isinstance(fileish, (str, bytes, os.PathLike)):
        return klass(fileish, "wb", level, mtime=mtime)
    return klass(fileobj=fileish, mode="wb", compresslevel=level, mtime=mtime)
