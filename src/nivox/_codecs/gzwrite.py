"""Writing gzip files as independent members, compressed on several threads.

:class:`GzipMemberWriter` cuts what is written into members of
``member_size`` uncompressed bytes (the last one shorter), compresses each
on its own with the fastest deflate backend (:func:`.backends.deflate_whole`)
on a thread pool, and writes them in order. Each member's header carries
nivox's NV field (member and data size, see :mod:`.gzformat`), so readers
find every member without decompressing; an empty last member lists them all
(:mod:`.gztable`), so a remote reader finds them with one read of the tail.
Every gzip reader reads the result as one file.

The output is deterministic: member boundaries fall at fixed uncompressed
offsets whatever the sizes of the ``write`` calls, members do not depend on
each other, and headers hold the given mtime (0 by default) and no file
name; so the same data, level, member size and backend give the same bytes
with any number of threads.

The members of a ``write`` (an image array written in one call) are
compressed straight from the caller's memory, and the call returns once they
are, so the caller may reuse its buffer. Only its last members, one per
thread, are copied: the pool goes on compressing them while the caller
writes more (or closes), so it never runs dry between calls. Compressed
members are written to the file in order by the calling thread as they
complete, while the pool compresses the next ones.
"""

from __future__ import annotations

import builtins
import io
import os
from collections import deque
from concurrent.futures import Future
from typing import IO, Any

from .._threads import thread_pool
from . import backends
from .gzformat import NV_HEADER_SIZE, build_header, build_trailer, xfl_for_level
from .gztable import build_table_member
from ..errors import InvalidArgumentError

__all__ = ["GzipMemberWriter", "compress_member"]


def compress_member(data: Any, level: int, mtime: int = 0) -> tuple[bytes, Any, bytes]:
    """One gzip member holding ``data``: (header, deflate stream, trailer)."""
    body = backends.deflate_whole(data, level)
    size = len(data) if not isinstance(data, memoryview) else data.nbytes
    header = build_header(mtime, xfl_for_level(level), NV_HEADER_SIZE + len(body) + 8, size)
    return header, body, build_trailer(backends.crc32(data), size)


class GzipMemberWriter(io.RawIOBase):
    """A write-only gzip stream of independently compressed members.

    Parameters
    ----------
    target : str, os.PathLike or binary file object
        Where to write; a path is opened (and closed with the writer).
    level : int
        zlib compression level, 0-9.
    mtime : int
        Modification time stored in every header.
    member_size : int
        Uncompressed bytes per member.
    threads : int
        Members compressed at once; 1 compresses in the calling thread.
    table : bool
        End the file with the member table (:mod:`.gztable`).
    """

    def __init__(
        self,
        target: str | os.PathLike[str] | IO[bytes],
        level: int,
        *,
        mtime: float = 0,
        member_size: int = 1 << 20,
        threads: int = 1,
        table: bool = True,
    ) -> None:
        super().__init__()
        if member_size < 1:
            raise InvalidArgumentError(f"member_size must be positive, not {member_size}")
        self._owned = isinstance(target, (str, bytes, os.PathLike))
        if isinstance(target, (str, bytes, os.PathLike)):
            self._raw: IO[bytes] = builtins.open(target, "wb")
            self.name: Any = target
        else:
            self._raw, self.name = target, getattr(target, "name", None)
        self.mode = "wb"
        self._level = min(9, max(0, int(level)))
        self._mtime = int(mtime or 0)
        self._member_size = int(member_size)
        self._threads = max(1, int(threads))
        self._buffer = bytearray()
        self._pending: deque[Future[tuple[bytes, Any, bytes]]] = deque()
        self._written = 0
        self._members = 0
        self._emitted = 0
        self._table = table
        self._compressed: list[int] = []  # each member's compressed size, for the table
        self._last_data = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._written

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move forward by writing zeros; a compressed stream cannot go back."""
        target = offset if whence == io.SEEK_SET else self._written + offset if whence == io.SEEK_CUR else None
        if target is None:
            raise io.UnsupportedOperation("a compressed file being written cannot seek from its end")
        if target < self._written:
            raise io.UnsupportedOperation("a compressed file being written cannot seek backwards")
        zeros = bytes(min(target - self._written, 1 << 20))
        while self._written < target:
            self.write(zeros[: target - self._written])
        return self._written

    def write(self, data: Any) -> int:
        if self.closed:
            raise InvalidArgumentError("write to closed file")
        try:
            view = memoryview(data).cast("B")
        except TypeError:  # not C-contiguous
            view = memoryview(bytes(memoryview(data)))
        size = len(view)
        start = 0
        member = self._member_size
        if self._buffer:
            start = min(size, member - len(self._buffer))
            self._buffer += view[:start]
            if len(self._buffer) == member:
                self._submit(self._buffer)  # handed over: a new buffer follows
                self._buffer = bytearray()
        full = (size - start) // member
        # members are compressed from the caller's memory, except the last one per
        # thread: those are copied, so the pool goes on with them after write returns
        in_place = full if self._threads == 1 else max(0, full - self._threads)
        for index in range(full):
            piece = view[start : start + member]
            self._submit(piece if index < in_place else bytes(piece))
            start += member
            if index + 1 == in_place:
                last_in_place = self._members
        if start < size:
            self._buffer += view[start:]
        if in_place:  # done with the caller's buffer before returning
            while self._emitted < last_in_place:
                self._emit(self._pending.popleft().result())
        self._written += size
        return size

    def compress(self, data: Any) -> bytes:
        """``data`` as one complete gzip member at this writer's level and mtime, not written."""
        return b"".join(bytes(part) for part in compress_member(data, self._level, self._mtime))

    def fileno(self) -> int:
        """Descriptor of the file being written (UnsupportedOperation for in-memory targets)."""
        return self._raw.fileno()

    def _submit(self, chunk: Any) -> None:
        self._members += 1
        if self._threads == 1:
            self._emit(compress_member(chunk, self._level, self._mtime))
            return
        pool = thread_pool(self._threads)
        self._pending.append(pool.submit(compress_member, chunk, self._level, self._mtime))
        # bounded memory: at most two members per thread in flight
        while self._pending and (len(self._pending) > 2 * self._threads or self._pending[0].done()):
            self._emit(self._pending.popleft().result())

    def _emit(self, parts: tuple[bytes, Any, bytes]) -> None:
        self._emitted += 1
        self._compressed.append(sum(memoryview(part).nbytes for part in parts))
        self._last_data = int.from_bytes(bytes(parts[2][4:]), "little")
        for part in parts:
            view = memoryview(part)
            while len(view):
                written = self._raw.write(view)
                if written is None or written >= len(view):  # an unbuffered target may write part
                    break
                view = view[written:]

    def _drain(self) -> None:
        while self._pending:
            self._emit(self._pending.popleft().result())

    def flush(self) -> None:
        """Write the members that are complete (a partial member waits: boundaries are fixed)."""
        if self.closed or self._raw.closed:
            return
        while self._pending and self._pending[0].done():
            self._emit(self._pending.popleft().result())
        self._raw.flush()

    def close(self) -> None:
        if self.closed:
            return
        try:
            if self._buffer or not self._members:
                self._submit(self._buffer)  # an empty file is still one (empty) member
                self._buffer = bytearray()
            self._drain()
            table = build_table_member(self._compressed, self._member_size, self._last_data, self._mtime)
            if self._table and table is not None:
                self._emit((table, b"", b""))
            self._raw.flush()
        finally:
            self._pending.clear()
            if self._owned:
                self._raw.close()
            super().close()

    def __repr__(self) -> str:
        return f"<GzipMemberWriter {self.name!r} level={self._level} member_size={self._member_size}>"
