"""Reading ahead while a gzip file is read front to back (volume after volume).

A read that starts exactly where the previous read of the same file ended
is part of a front-to-back pass, as ``for i in range(n): img.dataobj[..., i]``
makes. Then:

- in a file of sized members (what nivox writes), the members after the
  read are decoded on the thread pool while the caller works on what it
  got (:func:`prefetch_members`); the next reads find them done;
- a file that is one deflate stream is decoded whole on all threads
  (:mod:`.gzwhole`) into anonymous memory at the third read of a pass, each
  part staying where its thread decoded it, if its size is within
  ``nivox._codecs.gzip.READ_AHEAD`` (:class:`StreamAhead`); the following
  reads copy from those parts, and the pages
  the pass has gone beyond are given back to the system as it goes. A read
  elsewhere, or the end of the file, drops it. Reads inside
  :func:`bounded_memory` (a slab-by-slab save) never decode a stream whole.
"""

from __future__ import annotations

import contextlib
import mmap
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextvars import ContextVar
from typing import Any

import numpy as np

from .._threads import thread_pool
from . import libdeflate

__all__ = ["STREAK_FOR_STREAM", "StreamAhead", "bounded_memory", "prefetch_members", "take_member"]

#: forward reads in a row before a single-stream file is decoded whole
STREAK_FOR_STREAM = 2
_MEMBERS_AHEAD_MAX = 64 << 20  # bytes of members decoded ahead at most

# set while the current thread (or task) reads with bounded memory: no whole-stream decode ahead
_bounded: ContextVar[bool] = ContextVar("nivox_gzip_bounded_memory", default=False)


@contextlib.contextmanager
def bounded_memory() -> Iterator[None]:
    """Reads in this block decode single-stream files as they go, never whole ahead."""
    token = _bounded.set(True)
    try:
        yield
    finally:
        _bounded.reset(token)


def whole_stream_allowed() -> bool:
    """Whether reads here may decode a single-stream file whole ahead of them."""
    return not _bounded.get()


def prefetch_members(index: Any, first: int, read_size: int, threads: int, decode: Callable[[int], Any]) -> None:
    """Start decoding the sized members from ``first`` on, ahead of the next reads.

    About two reads' worth, and at least two members per thread, are kept
    decoded or on their way; ``decode(member)`` returns one member's bytes.
    """
    with index.lock:
        want = min(max(2 * read_size, 1), _MEMBERS_AHEAD_MAX)
        member, covered, started = first, 0, 0
        while member < index.sized and (covered < want or started < 2 * threads):
            if member not in index.members and member not in index.ahead:
                index.ahead[member] = thread_pool(threads).submit(decode, member)
            (_, u0), (_, u1) = index.points[member], index.points[member + 1]
            covered += u1 - u0
            member += 1
            started += 1
        index.keep_members = max(index.keep_members, 2 * started + 2)


def take_member(index: Any, member: int) -> Any:
    """The decoded bytes of ``member`` if kept or decoded ahead (waiting for it if started), else None.

    A member decoded ahead moves to the kept members; an error met decoding
    it ahead is raised here, where the read needs it. ``decode(member)`` of
    :func:`prefetch_members` may give None (the file changed): read it again.
    """
    with index.lock:
        data = index.members.get(member)
        if data is not None:
            index.members.move_to_end(member)
            return data
        future: Future[Any] | None = index.ahead.pop(member, None)
    if future is None:
        return None
    if future.cancel():
        # still queued: maybe behind this very pool thread, or behind others waiting like it
        # (concurrent readers of one file); waiting could deadlock the pool, so decode here
        return None
    data = future.result()
    if data is not None:  # None: the file changed on disk since
        keep(index, member, data)
    return data


def keep(index: Any, member: int, data: Any) -> None:
    """Keep a decoded member for later reads, dropping the least recently used beyond the limit."""
    with index.lock:
        index.members[member] = data
        index.members.move_to_end(member)
        while len(index.members) > index.keep_members:
            index.members.popitem(last=False)


class StreamAhead:
    """A single-stream file decoded whole into anonymous memory, read from front to back.

    The file's parts stay where the threads decoded them
    (:meth:`.GzipReader.inflate_whole_parts`). Pages before the latest read
    are given back to the system, so memory falls as the pass goes on.
    """

    def __init__(self, parts: list[tuple[mmap.mmap, np.ndarray]]) -> None:
        self._parts = parts
        self._starts = [0]
        for _, data in parts:
            self._starts.append(self._starts[-1] + len(data))
        # where each part's bytes begin in its map, to give pages back
        self._bases = [data.ctypes.data - np.frombuffer(mapping, dtype=np.uint8).ctypes.data for mapping, data in parts]
        self.released = 0  # bytes before this are gone
        self.lock = threading.Lock()

    @classmethod
    def decode(
        cls, total: int, inflate_whole_parts: Callable[[int], list[tuple[mmap.mmap, np.ndarray]] | None]
    ) -> StreamAhead | None:
        """Decode the whole file of ``total`` bytes; None when the file cannot be read that way."""
        if not libdeflate.available():
            return None
        parts = inflate_whole_parts(total)
        return None if parts is None else cls(parts)

    @property
    def total(self) -> int:
        return self._starts[-1]

    def nbytes(self) -> int:
        """Memory still held."""
        return self.total - self.released

    def read(self, view: memoryview, at: int) -> int | None:
        """Copy the bytes at ``at`` into ``view``; None when they are no longer (or never were) held."""
        with self.lock:
            if at < self.released or at >= self.total:
                return None
            count = min(len(view), self.total - at)
            for (_, data), start in zip(self._parts, self._starts):
                lo, hi = max(at, start), min(at + count, start + len(data))
                if lo < hi:
                    view[lo - at : hi - at] = data[lo - start : hi - start].data
            self._release_before(at)
            return count

    def _release_before(self, at: int) -> None:
        page = mmap.PAGESIZE
        for (mapping, data), start, base in zip(self._parts, self._starts, self._bases):
            lo, hi = max(self.released, start) - start, min(at, start + len(data)) - start
            if hi <= lo:
                continue
            first, last = -(-(base + lo) // page) * page, (base + hi) // page * page
            if last > first and hasattr(mmap, "MADV_DONTNEED"):
                mapping.madvise(mmap.MADV_DONTNEED, first, last - first)
        self.released = max(self.released, at)
