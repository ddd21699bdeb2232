"""Random-access indexes of gzip files, shared per file in a process and saved on request.

A :class:`GzipIndex` holds what is known about one gzip file: where its
members start (restart points: decompression can begin there with no other
state), which of them state their size (so they can be decompressed whole,
in parallel), the live streaming decoder left where the last read ended (so
reading a file front to back, volume after volume, decompresses it once),
and, for files that are one long deflate stream, seek points inside it:
copies of the streaming decoder's state taken every few MiB (in-process
only; zlib and zlib-ng decoders can be copied, ISA-L's cannot) and an
``indexed_gzip`` index (which can be saved).

Why ``indexed_gzip`` for single-stream files: a seek point inside a deflate
stream is a bit offset plus the 32 KiB of output before it; resuming there
needs zlib's ``inflatePrime``, which Python's ``zlib`` (and isal, zlib-ng)
do not expose. ``indexed_gzip`` implements exactly this (zran) in C, builds
its points while it reads, and exports and imports them. (Whole reads split
a stream at block starts found with numpy, :mod:`.deflate_split`, but
those starts carry no window, so they are no seek points.) Files nivox writes need none of
this: they are sequences of independent members (see :mod:`.gzformat`), so
every member start is a seek point without a window.

All indexes live in one process-wide LRU cache (:data:`CACHE`) keyed by the
file's real path, size, modification time and inode: every image and proxy of the
file shares one index, and a file changed on disk gets a new one. The cache
keeps its entries' estimated memory under a byte budget
(``nivox._codecs.gzip.INDEX_BUDGET``), evicting the least recently used.

:func:`export_index` / :func:`import_index` give an index as bytes, so a
later run or another process can reuse it (``nivox._codecs.gzip.save_index``
/ ``load_index`` do it with files). The bytes record the file's size,
modification time and last bytes; they are refused for any other file.
"""

from __future__ import annotations

import bisect
import io
import json
import os
import struct
import threading
from collections import OrderedDict
from typing import Any

from ..errors import ImageFileError

__all__ = ["CACHE", "GzipIndex", "IndexCache", "file_key", "export_index", "import_index"]

# estimated memory of parts of an index
_WINDOW = 32 << 10
_CURSOR_BYTES = 256 << 10
_SNAPSHOT_BYTES = 48 << 10  # a zlib inflate state: 32 KiB window and tables
_POINT_BYTES = 120
_MAGIC = b"NVGZIDX1"
_TAIL = 16
#: the last read of a file is kept when at most this big
KEEP_READ_MAX = 16 << 20

Key = tuple[str, int, int, int]


def file_key(path: str, status: os.stat_result) -> Key:
    """What identifies one version of a file: real path, size, modification time (ns), inode.

    The inode tells apart a file replaced by renaming (as nivox saves) even
    within one tick of the clock.
    """
    return (path, status.st_size, status.st_mtime_ns, status.st_ino)


class GzipIndex:
    """What is known about one version of one gzip file; see the module docstring.

    Attributes
    ----------
    points : list of (int, int)
        Known member starts as (compressed offset, uncompressed offset),
        sorted; the first is (0, 0).
    sized : int
        Members ``0 .. sized - 1`` have known bounds: member ``i`` spans
        ``points[i]`` to ``points[i + 1]``.
    complete : bool
        ``points[sized]`` is the end of the file (every member is sized).
    total : int or None
        Uncompressed size of the whole file, once known.
    head : bytes or None
        The first bytes of a single-stream file's data, decoded once (where
        every load reads its header); b"" when not to be had that way.
    recent : (int, bytes) or None
        The last read kept for reading it again (:meth:`keep_read`).
    """

    def __init__(self, key: Key) -> None:
        self.key = key
        self.lock = threading.RLock()
        self.points: list[tuple[int, int]] = [(0, 0)]
        self.sized = 0
        self.member_starts = [0]  # uncompressed offsets of points[: sized + 1], for member_at
        self.complete = False
        self.scanned = False
        self.total: int | None = None
        self.trailer_size: int | None = None  # the size field of the last member's trailer, once read
        self.cursor: Any = None
        self.igz: Any = None
        self.igz_points = 0
        self.igz_extent = 0
        self.igz_blob: bytes | None = None
        self.members: OrderedDict[int, Any] = OrderedDict()  # decoded members kept for partial reads
        self.keep_members = 4  # how many (more while reading ahead)
        self.ahead: dict[int, Any] = {}  # members being decoded ahead: futures
        self.stream_ahead: Any = None  # a single-stream file decoded whole for a front-to-back pass
        self.stream_ahead_failed = False
        self.head: bytes | None = None  # the first bytes of data, decoded once (b"": not available)
        self.recent: tuple[int, bytes] | None = None  # the last streamed read: (position, its bytes)
        self.last_end = -1  # where the latest read ended
        self.streak = 0  # reads in a row that began where the one before ended
        # in-process seek points inside members: copies of a decoder's state, by data offset
        self.snapshots: list[Any] = []

    @property
    def path(self) -> str:
        return self.key[0]

    @property
    def size(self) -> int:
        return self.key[1]

    def nbytes(self) -> int:
        """Estimated memory held by this index."""
        held = len(self.points) * _POINT_BYTES + sum(len(data) for data in self.members.values())
        if self.cursor is not None:
            held += _CURSOR_BYTES
        held += self.igz_points * _WINDOW + len(self.igz_blob or b"")
        held += _SNAPSHOT_BYTES * len(self.snapshots) + len(self.head or b"")
        held += len(self.recent[1]) if self.recent is not None else 0
        if self.stream_ahead is not None:
            held += self.stream_ahead.nbytes()
        return held

    def read_kept(self, view: memoryview, at: int) -> int:
        """Serve a read from the bytes kept here (the head, the last read); 0 when they do not hold it."""
        with self.lock:
            kept = [(0, self.head or b""), self.recent or (0, b"")]
        for start, data in kept:
            if start <= at and at + len(view) <= start + len(data):
                view[:] = data[at - start : at - start + len(view)]
                return len(view)
        return 0

    def keep_read(self, view: memoryview, at: int, count: int) -> None:
        """Keep the ``count`` bytes a read at ``at`` gave, for reading them again (0: keep none).

        Reading one volume again would decode its members again, or stream
        from the nearest seek point a few MiB back; keeping the last read
        makes it a copy (as indexed_gzip's read buffer does for nibabel).
        Reads over :data:`KEEP_READ_MAX` bytes are not kept.
        """
        with self.lock:
            self.recent = (at, bytes(view[:count])) if 0 < count <= KEEP_READ_MAX else None

    def set_scan(self, points: list[tuple[int, int]], complete: bool) -> None:
        """Record the result of walking the sized members' headers."""
        with self.lock:
            extra = [p for p in self.points if p[0] > points[-1][0]]
            self.points = points + extra
            self.sized = len(points) - 1
            self.member_starts = [u for _, u in points]
            self.complete = complete
            if complete:
                self.total = points[-1][1]
            self.scanned = True

    def add_point(self, compressed: int, data: int) -> None:
        """Record a member start found while decompressing."""
        with self.lock:
            i = bisect.bisect_left(self.points, (compressed, data))
            if i == len(self.points) or self.points[i] != (compressed, data):
                self.points.insert(i, (compressed, data))

    def restart_point(self, data: int) -> tuple[int, int]:
        """The known member start at or before uncompressed offset ``data``."""
        with self.lock:
            offsets = [u for _, u in self.points]
            return self.points[max(0, bisect.bisect_right(offsets, data) - 1)]

    def member_at(self, data: int) -> int | None:
        """Number of the sized member holding uncompressed offset ``data``, or None."""
        if not self.sized or data >= self.points[self.sized][1]:
            return None
        return bisect.bisect_right(self.member_starts, data) - 1

    def close(self) -> None:
        """Drop the decoder, the indexed_gzip reader and the kept members."""
        with self.lock:
            igz, self.igz = self.igz, None
            self.cursor = None
            self.members.clear()
            self.snapshots.clear()
            self.recent = None
            self.stream_ahead = None
            for future in self.ahead.values():
                future.cancel()
            self.ahead.clear()
        if igz is not None:
            try:
                igz.close()
            except Exception:  # an already broken reader need not close cleanly
                pass


class IndexCache:
    """Process-wide LRU of :class:`GzipIndex` by file key, under a byte budget.

    Each read asks to trim the cache after using one index. The cache keeps
    the size each index had when last measured and their sum, so that this
    costs one measurement, not one per file cached (a long-running process
    may hold thousands); everything is measured again only when the sum is
    over the budget. An index that grows without being read again (members
    decoded ahead in the background) is counted at its new size by the next
    trim after a read of it, or by that full measurement.
    """

    def __init__(self) -> None:
        self._entries: OrderedDict[Key, GzipIndex] = OrderedDict()
        self._by_path: dict[str, Key] = {}
        self._sizes: dict[Key, int] = {}  # each entry's size when last measured
        self._total = 0  # their sum
        self._lock = threading.Lock()

    def _add(self, index: GzipIndex) -> None:
        self._entries[index.key] = index
        self._remeasure(index)

    def _remove(self, key: Key) -> GzipIndex | None:
        self._total -= self._sizes.pop(key, 0)
        return self._entries.pop(key, None)

    def _remeasure(self, index: GzipIndex) -> None:
        size = index.nbytes()
        self._total += size - self._sizes.get(index.key, 0)
        self._sizes[index.key] = size

    def lookup(self, key: Key) -> GzipIndex:
        """The index for ``key``, created when new; an older version's index is dropped."""
        stale = None
        with self._lock:
            index = self._entries.get(key)
            if index is not None:
                self._entries.move_to_end(key)
                return index
            old = self._by_path.get(key[0])
            newer = old is None or old[2] <= key[2]
            if old is not None and old != key and newer:
                # the file changed; a reader still holding the old version open
                # gets an index of its own, without evicting the current one
                stale = self._remove(old)
            index = GzipIndex(key)
            self._add(index)
            if newer:
                self._by_path[key[0]] = key
        if stale is not None:
            stale.close()
        return index

    def install(self, index: GzipIndex) -> None:
        """Put ``index`` in the cache, replacing any index of the same file."""
        with self._lock:
            old_key = self._by_path.get(index.path)
            old = self._remove(old_key) if old_key is not None else None
            self._add(index)
            self._by_path[index.path] = index.key
        if old is not None and old is not index:
            old.close()

    def trim(self, budget: int, keep: GzipIndex | None = None) -> None:
        """Evict least recently used indexes until the total is within ``budget`` bytes.

        ``keep`` (the index just used, which is never evicted) is measured
        again; the others count at their last measured size unless the
        total is over the budget.
        """
        evicted: list[GzipIndex] = []
        with self._lock:
            if keep is not None and keep.key in self._entries:
                self._remeasure(keep)
            if self._total > budget:
                for cached in self._entries.values():
                    self._remeasure(cached)
                for key, cached in list(self._entries.items()):
                    if self._total <= budget:
                        break
                    if cached is keep:
                        continue
                    self._remove(key)
                    evicted.append(cached)
                    if self._by_path.get(key[0]) == key:
                        del self._by_path[key[0]]
            total = self._total
        for index in evicted:
            index.close()
        if keep is not None and total > budget:
            # one file alone is over budget: drop kept members and the last read, then every
            # other snapshot
            with keep.lock:
                keep.members.clear()
                keep.recent = None
                while keep.snapshots and keep.nbytes() > budget:
                    keep.snapshots = keep.snapshots[1::2]
            with self._lock:
                if keep.key in self._entries:
                    self._remeasure(keep)

    def clear(self) -> None:
        """Forget every index."""
        with self._lock:
            entries = list(self._entries.values())
            self._entries.clear()
            self._by_path.clear()
            self._sizes.clear()
            self._total = 0
        for index in entries:
            index.close()

    def nbytes(self) -> int:
        """Estimated memory of all cached indexes, measured now."""
        with self._lock:
            return sum(index.nbytes() for index in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def _forget_after_fork(self) -> None:
        # a forked child may inherit locks held by the parent's other threads
        self._entries = OrderedDict()
        self._by_path = {}
        self._sizes = {}
        self._total = 0
        self._lock = threading.Lock()


#: the one cache all gzip readers of the process share
CACHE = IndexCache()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=CACHE._forget_after_fork)


def _tail(path: str, size: int) -> str:
    with open(path, "rb") as raw:
        raw.seek(max(0, size - _TAIL))
        return raw.read(_TAIL).hex()


def export_index(index: GzipIndex) -> bytes:
    """``index`` as bytes (see the module docstring); valid only for the same file version."""
    with index.lock:
        igz = b""
        if index.igz is not None and index.igz_points:
            buffer = io.BytesIO()
            index.igz.export_index(fileobj=buffer)
            igz = buffer.getvalue()
        elif index.igz_blob:
            igz = index.igz_blob
        meta = {
            "size": index.key[1],
            "mtime_ns": index.key[2],
            "tail": _tail(index.path, index.key[1]),
            "points": index.points,
            "sized": index.sized,
            "complete": index.complete,
            "scanned": index.scanned,
            "total": index.total,
            "igz": len(igz),
        }
    text = json.dumps(meta, separators=(",", ":")).encode()
    return _MAGIC + struct.pack("<Q", len(text)) + text + igz


def import_index(key: Key, blob: bytes, source: str = "<index>") -> GzipIndex:
    """A :class:`GzipIndex` for file version ``key`` from :func:`export_index` bytes.

    Raises ImageFileError naming the file when the bytes are not an index or
    were made for another file or another version of it.
    """
    path = key[0]
    if blob[: len(_MAGIC)] != _MAGIC or len(blob) < len(_MAGIC) + 8:
        raise ImageFileError(f"{source}: not a nivox gzip index")
    (length,) = struct.unpack_from("<Q", blob, len(_MAGIC))
    start = len(_MAGIC) + 8
    try:
        meta = json.loads(blob[start : start + length])
        igz = blob[start + length :]
        if len(igz) != meta["igz"]:
            raise ValueError("truncated")  # internal error
        points = [(int(c), int(u)) for c, u in meta["points"]]
        stale = (meta["size"], meta["mtime_ns"]) != key[1:3] or meta["tail"] != _tail(path, key[1])
    except (ValueError, KeyError, TypeError) as err:
        raise ImageFileError(f"{source}: damaged nivox gzip index ({err})") from None
    if stale:
        raise ImageFileError(
            f"{source}: the index was made for another version of {path} (its size, "
            "modification time or content differ); rebuild it"
        )
    index = GzipIndex(key)
    index.points = points or [(0, 0)]
    index.sized = int(meta["sized"])
    index.member_starts = [u for _, u in index.points[: index.sized + 1]]
    index.complete = bool(meta["complete"])
    index.scanned = bool(meta["scanned"])
    index.total = meta["total"]
    index.igz_blob = igz or None
    return index
