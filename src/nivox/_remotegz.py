"""Random access by byte range into a remote gzip file made of members that state their size.

Files nivox writes (and bgzip's) are sequences of independently compressed
members whose headers carry the member's compressed and uncompressed sizes
(:mod:`nivox._codecs.gzformat`). Over a URL, :class:`RemoteMembers` walks
the member table nivox writes at the file's end (:mod:`nivox._codecs.gztable`,
one ranged read of the tail) or, for files without one (bgzip's, older
nivox files), walks the members' headers lazily, one small ranged request
per member and only as far as a read needs; then it decompresses just the members a read touches, each fetched
with one ranged request of its compressed bytes. Other gzip files (one long
stream) are read as a stream instead (see :func:`nivox.loadsave.load`).

A file whose table is not found is walked header by header; a read that
reaches the end of the members walked so far also checks what follows them,
so a file cut short inside its table (or a header) is reported as a
truncated file (CorruptStreamError naming the URL), as the local reader does.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from typing import Any

from ._codecs.gzdecode import decode_member
from ._codecs.gzformat import HEADER_PROBE, parse_header
from ._codecs.gztable import read_table
from ._remote import PositionedReader, RangeFile
from .errors import CorruptStreamError, RemoteFileError

__all__ = ["RemoteMembers"]

#: decompressed members kept for the next read (a header read, then a volume)
KEPT_MEMBERS = 4


class RemoteMembers(PositionedReader):
    """The decompressed bytes of a sized-member gzip file at a URL, read member by member.

    Use :meth:`open`, which returns None for a file whose first member does
    not state its size.
    """

    def __init__(self, raw: RangeFile, table: list[tuple[int, int]] | None = None) -> None:
        super().__init__()
        self.raw, self.name = raw, raw.name
        # member i spans compressed bytes starts[i]:starts[i+1] and data[i]:data[i+1];
        # the last entry is the start of the first member not walked yet
        self._starts, self._data = [0], [0]
        self._walked_all = False
        if table is not None:
            self._starts, self._data = [c for c, _ in table], [u for _, u in table]
            self._walked_all = True
        self._pos = 0
        self._kept: OrderedDict[int, bytes] = OrderedDict()

    @classmethod
    def open(cls, raw: RangeFile) -> RemoteMembers | None:
        """A reader on ``raw``, or None when its first member does not state its size."""
        try:
            header = parse_header(raw.pread(0, HEADER_PROBE), raw.name)
        except CorruptStreamError:
            return None
        if header is None or header.member_size is None:
            return None
        return cls(raw, read_table(raw.pread, raw.size(), raw.name, after=header.member_size))

    def _end(self) -> int:
        self._walk_past(None)
        return self._data[-1]

    def _walk_past(self, target: int | None) -> None:
        """Read member headers until the member holding data byte ``target`` (None: all) is known."""
        size = self.raw.size()
        while not self._walked_all and (target is None or self._data[-1] <= target):
            pos, data = self._starts[-1], self._data[-1]
            if pos >= size:
                self._walked_all = True
                break
            probe = self.raw.pread(pos, HEADER_PROBE)
            header = parse_header(probe, self.name)
            if header is None and pos + len(probe) >= size:
                raise CorruptStreamError(f"{self.name}: ends inside the gzip member header at byte {pos}: "
                                         "truncated file?")
            if header is None or header.member_size is None:
                raise RemoteFileError(
                    f"{self.name}: the gzip member at byte {pos} does not state its size, so it cannot "
                    f"be read by range; read the file whole with a 'simplecache::{self.name}' URL"
                )
            end = pos + header.member_size
            if end > size and header.data_size == 0:
                # the member table after the data, cut short (the local reader reports it too)
                raise CorruptStreamError(f"{self.name}: ends inside the gzip member at byte {pos} "
                                         f"({header.member_size} bytes stated, {size - pos} left): "
                                         "truncated file?")
            if header.member_size < header.length + 8 or end > size:
                raise CorruptStreamError(f"{self.name}: the gzip member at byte {pos} states a size "
                                         f"({header.member_size}) that does not fit the file ({size} bytes)")
            length = header.data_size
            if length is None:  # bgzip's BC field: the trailer's ISIZE is exact (members < 64 KiB)
                length = int.from_bytes(self.raw.pread(end - 4, 4), "little")
            self._starts.append(end)
            self._data.append(data + length)

    def _member(self, index: int) -> bytes:
        kept = self._kept.get(index)
        if kept is not None:
            self._kept.move_to_end(index)
            return kept
        start, end = self._starts[index], self._starts[index + 1]
        size = self._data[index + 1] - self._data[index]
        data = bytes(decode_member(self.raw.pread, start, end, size, self.name))
        self._kept[index] = data
        if len(self._kept) > KEPT_MEMBERS:
            self._kept.popitem(last=False)
        return data

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view):
            pos = self._pos + done
            self._walk_past(pos)
            if pos >= self._data[-1]:
                break  # end of the data
            index = bisect.bisect_right(self._data, pos) - 1
            member = self._member(index)
            chunk = member[pos - self._data[index]: pos - self._data[index] + len(view) - done]
            view[done:done + len(chunk)] = chunk
            done += len(chunk)
        self._pos += done
        if not self._walked_all and self._pos >= self._data[-1]:
            # a read up to the end of the members known: check what follows (the next
            # member, or the member table and the end of the file, whole), as a local read does
            self._walk_past(self._data[-1])
        return done

    def __reduce__(self) -> tuple[Any, ...]:
        # the URL (in the RangeFile) and the members known: a worker process reads no table again
        table = list(zip(self._starts, self._data)) if self._walked_all else None
        return (RemoteMembers, (self.raw, table))

    def __repr__(self) -> str:
        return f"RemoteMembers({self.name!r})"
