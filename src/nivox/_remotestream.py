"""Random access into a remote single-stream ``.nii.gz`` through seek points kept per URL.

A gzip file that is one deflate stream (as nibabel, FSL, ITK write) can only
be entered where a decoder's state was recorded: a seek point, i.e. a bit
offset and the 32 KiB of data before it. ``indexed_gzip`` records such
points every :data:`SPACING` bytes of data as it reads (zlib's
``inflatePrime``, which Python's ``zlib`` lacks), reading the compressed
bytes through a :class:`~nivox._remote.RangeFile`, so it fetches only the
ranges it decodes.

One reader, with its points, is kept per version of a file in the process
(:data:`CACHE`, keyed by URL, size and ETag or modification time as the
server gives them; a changed file is a new version, and a change while
reading is caught by the ETag check of every range): every later ``load`` of
the URL reuses the points, so a second slice fetches only the stretch from
the nearest point before it. :func:`save_index` writes the points to a file
(by default in a cache folder, ``NIVOX_INDEX_DIR`` or
``<tmp>/nivox-gzip-indexes``, under a name made from the URL; or to any
sidecar path) and :func:`load_index` takes them back, in a later run or in
another process; an index saved in the cache folder is loaded by ``load``
itself. An index made for another version of the file is refused (load_index)
or ignored (the cache folder).

Without ``indexed_gzip`` (the ``fast`` or ``remote`` extra) such files are
decompressed as a stream over ranged reads, as before.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import tempfile
import threading
import zlib
from collections import OrderedDict
from typing import Any

from ._codecs import corrupt_stream_error
from ._remote import PositionedReader, RangeFile, open_remote
from .errors import ImageFileError, RemoteFileError

__all__ = ["CACHE_ENTRIES", "SPACING", "RemoteGzipStream", "clear", "default_index_path", "load_index",
           "open_stream", "save_index"]

#: bytes of data between seek points (each point keeps a 32 KiB window)
SPACING = 1 << 20
#: compressed bytes fetched per request while decoding
READ_BUFFER = 64 << 10
#: reads of at least this many data bytes fetch LONG_READ_FETCH bytes per request
LONG_READ = 8 << 20
LONG_READ_FETCH = 1 << 20
#: data bytes at the start served without indexed_gzip (the header a load reads)
HEAD = 64 << 10
#: file versions whose readers (and points) the process keeps
CACHE_ENTRIES = 16
_MAGIC = b"NVRGZIX1"


def _igz() -> Any:
    try:
        import indexed_gzip  # type: ignore[import-untyped]
    except ImportError:
        return None
    return indexed_gzip


class _Entry:
    """The reader and seek points of one version of one remote file, shared by every load of it."""

    def __init__(self, raw: RangeFile, igz: Any) -> None:
        self.raw = raw
        self.key = raw.identity()
        raw.keep_blocks(2 * SPACING + 4 * READ_BUFFER)  # decoding up to a place, then from the point before it
        self.lock = threading.RLock()
        self.reader = igz.IndexedGzipFile(fileobj=raw, spacing=SPACING, readbuf_size=READ_BUFFER,
                                          buffer_size=1, drop_handles=False)
        self.extent = 0  # data offset up to which seek points were recorded
        self.head: bytes | None = None  # the first data bytes, decoded apart (see head_bytes)
        self.errors: tuple[type[BaseException], ...] = (igz.ZranError, getattr(igz, "CrcError", igz.ZranError),
                                                        OSError, EOFError, ValueError)

    def points(self) -> int:
        return sum(1 for _ in self.reader.seek_points())

    def head_bytes(self) -> bytes:
        """The first data bytes, from the first compressed block alone.

        Loading reads only the header, at the start; indexed_gzip would
        decode a whole seek-point spacing first (a MiB) to serve it.
        """
        if self.head is None:
            try:
                blob = self.raw.pread(0, READ_BUFFER)
                self.head = zlib.decompressobj(31).decompress(blob, HEAD)
            except zlib.error:
                self.head = b""  # left to indexed_gzip, which reports it
        return self.head


_CACHE: OrderedDict[tuple[str, int, str], _Entry] = OrderedDict()
_LOCK = threading.Lock()


def clear() -> None:
    """Forget every remote file's seek points held in this process."""
    with _LOCK:
        _CACHE.clear()


def _index_dir() -> str:
    return os.environ.get("NIVOX_INDEX_DIR") or os.path.join(tempfile.gettempdir(), "nivox-gzip-indexes")


def default_index_path(url: str) -> str:
    """Where :func:`save_index` keeps ``url``'s index by default (and ``load`` looks for it)."""
    name = hashlib.sha1(url.encode(), usedforsecurity=False).hexdigest()
    return os.path.join(_index_dir(), f"remote-{name}.nvidx")


def _entry(raw: RangeFile, igz: Any, *, create: bool = True) -> _Entry | None:
    key = raw.identity()
    with _LOCK:
        entry = _CACHE.get(key)
        if entry is not None:
            _CACHE.move_to_end(key)
            return entry
        if not create:
            return None
        for old in [k for k in _CACHE if k[0] == key[0]]:
            del _CACHE[old]  # an older version of the file
        entry = _CACHE[key] = _Entry(raw, igz)
        while len(_CACHE) > CACHE_ENTRIES:
            _CACHE.popitem(last=False)
    saved = default_index_path(raw.name)
    if os.path.exists(saved):
        try:
            _import(entry, saved)
        except (ImageFileError, OSError):
            pass  # another version's index, or unreadable: points are recorded afresh
    return entry


def open_stream(raw: RangeFile) -> RemoteGzipStream | None:
    """A seekable reader of the data of gzip file ``raw``, or None without indexed_gzip."""
    igz = _igz()
    if igz is None:
        return None
    entry = _entry(raw, igz)
    assert entry is not None
    return RemoteGzipStream(entry)


class RemoteGzipStream(PositionedReader):
    """The decompressed bytes of a remote gzip stream, read through its shared seek points.

    Each loaded image has its own position; reads take the shared reader's
    lock. Pickles as its URL and filesystem (which carries the storage
    options), so a worker process opens the file itself.
    """

    def __init__(self, entry: _Entry) -> None:
        super().__init__()
        self._entry = entry
        self.name = entry.raw.name
        self._pos = 0

    def _end(self) -> int:
        with self._entry.lock:
            return int(self._call(lambda reader: reader.seek(0, io.SEEK_END)))

    def _call(self, action: Any) -> Any:
        entry = self._entry
        entry.raw.last_error = None
        try:
            return action(entry.reader)
        except entry.errors as err:
            with _LOCK:  # a reader that failed is not reused
                if _CACHE.get(entry.key) is entry:
                    del _CACHE[entry.key]
            cause = entry.raw.last_error
            if cause is not None:
                raise cause from err  # the transfer failed: say so, naming the URL
            if isinstance(err, RemoteFileError):
                raise
            raise corrupt_stream_error(self.name, err) from err

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")

        def read(reader: Any) -> int:
            entry, at = self._entry, self._pos
            # indexed_gzip records points while it reads in steps, and when it seeks; a far
            # seek makes it decode (and fetch) well past its target, up to the end of the
            # file, so new ground is covered one spacing at a time
            for target in range(entry.extent + SPACING, at, SPACING):
                reader.seek(target)
                entry.extent = target
            reader.seek(at)
            done = 0
            # a long read (a whole image) fetches in larger requests; a volume keeps to 64 KiB
            entry.raw.fetch_min = LONG_READ_FETCH if len(view) >= LONG_READ else READ_BUFFER
            try:
                while done < len(view):
                    got = reader.readinto(view[done:done + min(len(view) - done, SPACING)])
                    if not got:
                        break
                    done += got
            finally:
                entry.raw.fetch_min = READ_BUFFER
            entry.extent = max(entry.extent, at + done)
            return done

        with self._entry.lock:
            head = self._entry.head_bytes()
            if self._pos + len(view) <= len(head):
                view[:] = head[self._pos:self._pos + len(view)]
                done = len(view)
            else:
                done = self._call(read)
        self._pos += done
        return int(done)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            chunks = []
            while chunk := self.read(4 << 20):
                chunks.append(chunk)
            return b"".join(chunks)
        buffer = bytearray(size)
        return bytes(buffer[: self.readinto(buffer)])

    def build_index(self) -> None:
        """Record seek points up to the end of the stream, decoding on from the last one known.

        (indexed_gzip's ``build_full_index`` starts again from the first
        byte, fetching again what earlier reads had covered.)
        """
        entry = self._entry
        scratch = bytearray(SPACING)

        def build(reader: Any) -> None:
            entry.raw.fetch_min = LONG_READ_FETCH
            try:
                reader.seek(entry.extent)
                at = entry.extent
                while got := reader.readinto(scratch):
                    at += got
                    entry.extent = at
            finally:
                entry.raw.fetch_min = READ_BUFFER

        with entry.lock:
            self._call(build)

    def save_index(self, target: str) -> str:
        """Write the seek points known for this file to ``target`` (atomically); its name."""
        return _write_index(self._entry, target)

    def load_index(self, source: str) -> None:
        """Take the seek points in ``source`` (made for this version of the file, else ImageFileError)."""
        _import(self._entry, source)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_reopen, (self._entry.raw,))

    def __repr__(self) -> str:
        return f"RemoteGzipStream({self.name!r})"


def _reopen(raw: RangeFile) -> Any:
    """The stream in another process: its own reader of the same file version (seek points from the cache folder)."""
    stream = open_stream(raw)
    if stream is None:  # no indexed_gzip in this process: a plain stream
        from ._codecs import gzip as gz

        return gz.open_read(raw)
    return stream


# ---------------------------------------------------------------- saved indexes


def _export(entry: _Entry) -> bytes:
    with entry.lock:
        buffer = io.BytesIO()
        entry.reader.export_index(fileobj=buffer)
    url, size, validator = entry.key
    meta = json.dumps({"url": url, "size": size, "validator": validator}).encode()
    return _MAGIC + struct.pack("<Q", len(meta)) + meta + buffer.getvalue()


def _import(entry: _Entry, source: str) -> None:
    with open(source, "rb") as raw:
        blob = raw.read()
    if blob[: len(_MAGIC)] != _MAGIC or len(blob) < len(_MAGIC) + 8:
        raise ImageFileError(f"{source}: not a nivox remote gzip index")
    (length,) = struct.unpack_from("<Q", blob, len(_MAGIC))
    start = len(_MAGIC) + 8
    try:
        meta = json.loads(blob[start : start + length])
        made_for = (meta["url"], int(meta["size"]), str(meta["validator"]))
    except (ValueError, KeyError, TypeError) as err:
        raise ImageFileError(f"{source}: damaged nivox remote gzip index ({err})") from None
    if made_for[1:] != entry.key[1:]:
        raise ImageFileError(f"{source}: the index was made for another version of {entry.key[0]} "
                             f"(size {made_for[1]}, {made_for[2] or 'no ETag'}; now size {entry.key[1]}, "
                             f"{entry.key[2] or 'no ETag'}); rebuild it")
    with entry.lock:
        try:
            entry.reader.import_index(fileobj=io.BytesIO(blob[start + length :]))
        except entry.errors as err:
            raise ImageFileError(f"{source}: damaged nivox remote gzip index ({err})") from None
        entry.extent = max([entry.extent, *(data for data, _ in entry.reader.seek_points())])


def save_index(url: str, index_path: str | os.PathLike[str] | None = None,
               storage_options: dict[str, Any] | None = None) -> str:
    """Write the seek points known for remote gzip file ``url`` (default: the cache folder); its name.

    The points are those recorded by reads in this process (or loaded);
    read the file (or the part that matters) first.
    """
    igz = _igz()
    if igz is None:
        from .errors import MissingDependencyError

        raise MissingDependencyError("remote gzip indexes need indexed_gzip: pip install 'nivox[remote]'")
    raw = open_remote(url, storage_options)
    entry = _entry(raw, igz)
    assert entry is not None
    target = os.fsdecode(index_path) if index_path is not None else default_index_path(raw.name)
    return _write_index(entry, target)


def _write_index(entry: _Entry, target: str) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    temporary = f"{target}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(temporary, "wb") as out:
        out.write(_export(entry))
    os.replace(temporary, target)  # readers in other processes never see half an index
    return target


def load_index(url: str, index_path: str | os.PathLike[str] | None = None,
               storage_options: dict[str, Any] | None = None) -> None:
    """Use the seek points :func:`save_index` wrote for ``url`` from now on, in this process.

    Raises ImageFileError naming the index when it was made for another
    version of the file (its size or ETag/modification time differ).
    """
    igz = _igz()
    if igz is None:
        from .errors import MissingDependencyError

        raise MissingDependencyError("remote gzip indexes need indexed_gzip: pip install 'nivox[remote]'")
    raw = open_remote(url, storage_options)
    source = os.fsdecode(index_path) if index_path is not None else default_index_path(raw.name)
    key = raw.identity()
    with _LOCK:
        _CACHE.pop(key, None)  # start from the saved points
    entry = _Entry(raw, igz)
    _import(entry, source)
    with _LOCK:
        _CACHE[key] = entry
