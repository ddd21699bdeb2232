"""gzip: fast backends, parallel members, random access, deterministic output.

Reading a path gives a :class:`~.gzread.GzipReader`: any position can be read
directly (``readinto_at``), through the file's index shared by every reader
in the process (:mod:`.gzindex`); a full read decompresses straight into the
result with the fastest backend (:mod:`.backends`), in parallel when the
file is made of sized members. Reading a file object gives a streaming
``gzip.GzipFile`` subclass (ISA-L when installed).

Writing gives, by default, a :class:`~.gzwrite.GzipMemberWriter`: the data
in independently compressed members of :data:`MEMBER_SIZE` bytes, on
:data:`THREADS` threads. Measured: 1 MiB members cost at most 0.17 % in
size against one stream at the same level (levels 1 and 6; nine corpus
images of 1-67 MB and a 177 MB 4D series; 4 MiB members: at most 0.04 %,
but four times coarser random access); they let reads and writes use every
core, and reading part of the file decompresses only the members it needs; nibabel, SimpleITK, Python's ``gzip`` and
``gzip -dc`` read it as one file (tests check this). ``LAYOUT = 'single'``
writes one deflate stream instead, for readers that stop after the first
member. Output is deterministic either way: mtime 0 unless given, no file
name, and the same bytes for the same data and settings with any number of
threads.

Settings (module attributes, read at call time):

``LAYOUT``
    ``'members'`` (default) or ``'single'``; initial value from the
    environment variable ``NIVOX_GZIP_LAYOUT``.
``MEMBER_SIZE``
    Uncompressed bytes per member when writing (default 1 MiB).
``MEMBER_TABLE``
    End files written in the 'members' layout with the member table
    (:mod:`.gztable`: an empty last member listing every member, so a
    remote reader finds them all with one read of the file's tail; default
    True).
``THREADS``
    Threads for compressing and decompressing members; None (default) means
    one per CPU, at most 8 (each holds about two members in memory).
``INDEX_BUDGET``
    Bytes the process-wide cache of gzip indexes may hold (default 256 MiB;
    environment ``NIVOX_GZIP_INDEX_BUDGET``).
``CURSOR_REACH``
    How far ahead (uncompressed bytes) the streaming decoder is still moved
    forward rather than using an ``indexed_gzip`` seek point (default 8 MiB);
    the decoder leaves a copy of its state as a seek point every half of it.
``READ_AHEAD``
    Reading a file front to back (volume after volume) decodes ahead: the
    next members of a file nivox wrote, or the whole of a file that is one
    deflate stream, on all threads, if it decodes to at most this many bytes
    (default 1 GiB, or an eighth of the machine's memory where that is
    less; environment ``NIVOX_GZIP_READ_AHEAD``; 0 turns reading ahead
    off). See :mod:`.gzahead`.
``USE_INDEXED_GZIP``
    Use ``indexed_gzip`` (when installed) for seek points inside
    single-stream files (default True).

The backend is chosen per task (see :mod:`.backends`); ``NIVOX_GZIP_BACKEND``
or :func:`~.backends.set_backend` override it. :func:`save_index` and
:func:`load_index` keep a file's index across processes and runs.
"""

from __future__ import annotations

import builtins
import gzip
import io
import os
import zlib
from typing import IO, Any

from .._threads import cpu_threads
from . import StreamGuard, backends, gzindex
from .gzread import GzipReader, record_igz_points
from .gzwrite import GzipMemberWriter
from ..errors import ArgumentTypeError, InvalidArgumentError

__all__ = [
    "CURSOR_REACH",
    "INDEX_BUDGET",
    "LAYOUT",
    "MEMBER_SIZE",
    "MEMBER_TABLE",
    "THREADS",
    "READ_AHEAD",
    "USE_INDEXED_GZIP",
    "DeterministicGzipFile",
    "GzipMemberWriter",
    "GzipReader",
    "build_index",
    "clear_index_cache",
    "load_index",
    "save_index",
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
        if mode is not None and "b" not in mode:
            mode += "b"
        writing = mode is not None and mode[:1] in ("w", "a", "x")
        if writing and fileobj is None:
            if filename is None or filename == "":
                raise ArgumentTypeError("DeterministicGzipFile needs a filename or a fileobj")
            # GzipFile stores the name it opened in the header; open the file
            # here and give it no name so the bytes do not depend on the path
            fileobj = self._owned = builtins.open(filename, mode)
        if writing:
            filename = ""
        try:
            super().__init__(filename, mode, self._level(compresslevel), fileobj, mtime)  # type: ignore[call-arg]
        except BaseException:
            if self._owned is not None:
                self._owned.close()
            raise
        if self._owned is not None:
            # as GzipFile does for files it opened itself: closed with this object
            self.myfileobj = self._owned

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
    return backends._isal_level(compresslevel)


# streaming classes, fastest first: for file objects and the single-stream layout
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

    # python-zlib-ng 1.1's GzipFile returns wrong data after seeking
    # backwards, so it only writes here (its decompressobj is fine)
    WRITERS["zlib-ng"] = _ZlibNgGzipFile

READERS["stdlib"] = WRITERS["stdlib"] = DeterministicGzipFile

#: 'members' (independent members, parallel and seekable) or 'single' (one deflate stream)
LAYOUT: str = os.environ.get("NIVOX_GZIP_LAYOUT", "members")
#: uncompressed bytes per member when writing the 'members' layout
MEMBER_SIZE: int = 1 << 20
#: end 'members' files with the table of their members (an empty member that readers skip)
MEMBER_TABLE: bool = True
#: threads for members; None means one per CPU (at most 8)
THREADS: int | None = None
#: bytes the process-wide index cache may hold
INDEX_BUDGET: int = int(os.environ.get("NIVOX_GZIP_INDEX_BUDGET", 256 << 20))
#: move the streaming decoder forward up to this far rather than use indexed_gzip
CURSOR_REACH: int = 8 << 20


def _default_read_ahead() -> int:
    """1 GiB, or an eighth of the machine's memory where that is less."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - no sysconf (Windows)
        return 1 << 30
    return min(1 << 30, max(memory // 8, 0))


#: a front-to-back pass decodes a single-stream file whole ahead if it holds at most this many bytes
READ_AHEAD: int = int(os.environ.get("NIVOX_GZIP_READ_AHEAD", _default_read_ahead()))
#: use indexed_gzip for seek points inside single-stream files when installed
USE_INDEXED_GZIP: bool = True


def _stream_class(table: dict[str, type[gzip.GzipFile]]) -> type[gzip.GzipFile]:
    choice = backends.selected()
    if choice == "auto":
        return next(iter(table.values()))
    return table.get(choice, table["stdlib"])


def available() -> bool:
    """gzip is always available (the standard library is the fallback)."""
    return True


def backend_name() -> str:
    """The backends in use, as 'whole-member reads+streaming reads/writes'."""
    writer = backends.deflate_backend()
    if LAYOUT == "single":
        writer = next(name for name, klass in WRITERS.items() if klass is _stream_class(WRITERS))
    return f"{backends.whole_backend()}+{backends.stream_backend()}/{writer}"


def threads() -> int:
    """Threads used for members now: :data:`THREADS`, or one per CPU this process may use, up to 8."""
    if THREADS:
        return max(1, int(THREADS))
    return cpu_threads()


def open_read(fileish: Any, *, keep_open: bool = False) -> IO[bytes]:
    """Open a gzip path (random access, see :class:`~.gzread.GzipReader`) or file object (streaming).

    ``keep_open=True`` holds the file handle open until the reader closes.
    """
    if isinstance(fileish, (str, bytes, os.PathLike)):
        return GzipReader(os.fsdecode(fileish), keep_open=keep_open)  # type: ignore[return-value]
    return _stream_class(READERS)(fileobj=fileish, mode="rb")


def open_write(fileish: Any, compresslevel: int | None, *, mtime: float = 0) -> IO[bytes]:
    """Open a gzip path or binary file object for deterministic writing in :data:`LAYOUT`."""
    level = 1 if compresslevel is None else int(compresslevel)
    if LAYOUT == "members":
        return GzipMemberWriter(  # type: ignore[return-value]
            fileish, level, mtime=mtime, member_size=MEMBER_SIZE, threads=threads(), table=MEMBER_TABLE
        )
    if LAYOUT != "single":
        raise InvalidArgumentError(f"nivox._codecs.gzip.LAYOUT must be 'members' or 'single', not {LAYOUT!r}")
    klass = _stream_class(WRITERS)
    if isinstance(fileish, (str, bytes, os.PathLike)):
        return klass(fileish, "wb", level, mtime=mtime)
    return klass(fileobj=fileish, mode="wb", compresslevel=level, mtime=mtime)


# ---------------------------------------------------------------- indexes


def _key(path: str | os.PathLike[str]) -> gzindex.Key:
    real = os.path.realpath(os.fspath(path))
    return gzindex.file_key(real, os.stat(real))


def _default_index_path(path: str | os.PathLike[str]) -> str:
    return os.fsdecode(path) + ".nvidx"


def build_index(path: str | os.PathLike[str]) -> None:
    """Make the index of ``path`` complete now: every member, or seek points throughout.

    For a single-stream file this decompresses it once (with ``indexed_gzip``
    when installed, which records seek points every few MiB).
    """
    with GzipReader(path) as reader:
        reader.readinto_at(bytearray(1), 0)  # walks the member table
        index = gzindex.CACHE.lookup(_key(path))
        igz = None if index.complete or not USE_INDEXED_GZIP or not backends.uses_optional_packages() else _igz()
        if igz is None:
            reader.data_size()
            return
        with index.lock:
            if index.igz is None:
                reader._igz_read(index, igz, memoryview(bytearray(1)), 0)
            index.igz.build_full_index()
            record_igz_points(index)
            if index.total is None:
                index.total = index.igz.seek(0, io.SEEK_END)


def member_starts(path: str | os.PathLike[str]) -> list[int] | None:
    """Uncompressed offsets at which the members of ``path`` start, when all are sized.

    Files nivox writes are made of members that record their size, so any
    member start is a seek point; for other files (one deflate stream) this
    returns None. Only member headers are read.
    """
    with GzipReader(path) as reader:
        reader.readinto_at(bytearray(1), 0)  # walks the member table
    index = gzindex.CACHE.lookup(_key(path))
    with index.lock:
        if not index.complete or len(index.points) < 2:
            return None
        return [data for _, data in index.points[:-1]]


def _igz() -> Any:
    try:
        import indexed_gzip
    except ImportError:
        return None
    return indexed_gzip


def save_index(path: str | os.PathLike[str], index_path: str | os.PathLike[str] | None = None,
               storage_options: dict[str, Any] | None = None) -> str:
    """Write what is known of ``path``'s index to ``index_path`` (default ``path + '.nvidx'``).

    Returns the index file's name. Call :func:`build_index` first for a
    complete index. For a URL (``https://``, ``s3://``, ...), the seek
    points recorded in this process for that single-stream file; by default
    in a local cache folder (see :mod:`nivox._remotestream`).
    """
    from .. import _remote

    if _remote.is_url(path):
        from .. import _remotestream

        return _remotestream.save_index(str(path), index_path, storage_options)
    target = os.fsdecode(index_path) if index_path is not None else _default_index_path(path)
    with GzipReader(path) as reader:
        reader.readinto_at(bytearray(1), 0)  # make sure the member table is scanned
    blob = gzindex.export_index(gzindex.CACHE.lookup(_key(path)))
    temporary = f"{target}.{os.getpid()}.tmp"
    with builtins.open(temporary, "wb") as out:
        out.write(blob)
    os.replace(temporary, target)
    return target


def load_index(path: str | os.PathLike[str], index_path: str | os.PathLike[str] | None = None,
               storage_options: dict[str, Any] | None = None) -> None:
    """Use the index saved by :func:`save_index` for ``path`` (a path or URL) from now on, in this process.

    Raises ImageFileError naming the index when it was made for another
    file or another version of this one.
    """
    from .. import _remote

    if _remote.is_url(path):
        from .. import _remotestream

        _remotestream.load_index(str(path), index_path, storage_options)
        return
    source = os.fsdecode(index_path) if index_path is not None else _default_index_path(path)
    with builtins.open(source, "rb") as raw:
        blob = raw.read()
    gzindex.CACHE.install(gzindex.import_index(_key(path), blob, source))


def clear_index_cache() -> None:
    """Forget every gzip index held in this process."""
    gzindex.CACHE.clear()
