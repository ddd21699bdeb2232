"""Reading gzip files by position: members in parallel, streams with a shared cursor or in parts.

:class:`GzipReader` reads a gzip file named by path at any uncompressed
position (``readinto_at``), through the file's shared :class:`~.gzindex.GzipIndex`:

- parts of the file made of members that state their size (what nivox
  writes) are decompressed member by member, each straight from its
  compressed bytes with the fastest whole-buffer backend, on a thread pool;
  a member read only in part is kept (a few per file) for the next read;
- elsewhere (files that are one deflate stream, as most tools write) the
  file's streaming decoder moves on from where the previous read left it
  when the read is ahead of it (so reading volume after volume decompresses
  the file once), leaving copies of its state every ``CURSOR_REACH / 2``
  bytes as seek points; a read behind it resumes from the nearest of
  those, or from a member start; where neither is within ``CURSOR_REACH``
  (a decoder that cannot be copied, as ISA-L's, or seek points loaded from
  a saved index) it reads through ``indexed_gzip``, which records seek
  points as it goes.
- a read of the whole file (an image's data after its header) from a file
  that is one member goes through :meth:`GzipReader.inflate_whole_into`:
  libdeflate called on the caller's memory, in parts on several threads
  for big files (:mod:`.gzwhole`);
- reads that continue where the previous one ended read ahead
  (:mod:`.gzahead`);
- reads within the first 8 KiB of a stream (sniffing, headers) come from
  its head, decoded once and kept with the index;
- the last read is kept (up to 16 MiB; not the steps of a front-to-back
  pass, nor a read to the end), so reading the same volume again is a copy.

Every member decompressed from its start has its CRC checked; the size in
its trailer is not trusted (files over 4 GiB wrap it, some writers get it
wrong), the header of the image says how much to read. Bytes after the last
member that are not a gzip member are ignored, as ``gzip -d`` does.
"""

from __future__ import annotations

import bisect
import io
import mmap
import os
import threading
from typing import Any, Callable

import numpy as np

from .._threads import run_parallel, thread_pool
from . import backends, corrupt_stream_error, gzahead, gzwhole, libdeflate
from .gzdecode import _OUT_CHUNK, _Cursor, decode_member, decode_member_into
from .gzfile import FileAccess, FileReplaced, Pread, pread_for, real_path
from .gzformat import HEADER_PROBE, parse_header
from .gzindex import CACHE, GzipIndex, file_key
from ..errors import InvalidArgumentError

__all__ = ["GzipReader", "decode_member", "decode_member_into", "thread_pool"]

_PARTIAL_WHOLE_MAX = 16 << 20  # bigger members read in part are streamed, not decoded whole
_HEAD = 8 << 10  # the start of a stream's data, decoded once per file: every load reads its header there
_HEAD_INPUT = 32 << 10  # compressed bytes read for it


def _run(tasks: list[Callable[[], None]], threads: int) -> None:
    run_parallel(tasks, threads)


def _runs(tasks: list[Callable[[], None]], count: int) -> list[list[Callable[[], None]]]:
    """``tasks`` (members in file order) cut into at most ``count`` runs of neighbours.

    Neighbouring members share the 2 MiB huge pages of a fresh output:
    threads decoding alternate members wait for each other's page faults
    there (4 % of an fMRI read). A few runs per thread still let a thread
    that finishes early take more.
    """
    bounds = [len(tasks) * k // count for k in range(count + 1)]
    return [tasks[lo:hi] for lo, hi in zip(bounds, bounds[1:]) if hi > lo]


_settings: Any = None


def _knobs() -> Any:
    """The user-facing settings module (:mod:`.gzip`, which imports this one); its values are read at call time."""
    global _settings
    if _settings is None:
        from . import gzip

        _settings = gzip
    return _settings


def _threads() -> int:
    return _knobs().threads()


def _igz_module() -> Any:
    try:
        import indexed_gzip
    except ImportError:
        return None
    return indexed_gzip


def record_igz_points(index: GzipIndex) -> None:
    """Note how many seek points the file's indexed_gzip reader holds, and how far they reach."""
    count = extent = 0
    for extent, _ in index.igz.seek_points():
        count += 1
    index.igz_points, index.igz_extent = count, extent


class GzipReader(io.RawIOBase):
    """A seekable, thread-safe reader of the gzip file at ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        The file; it is opened for each read unless ``keep_open``.
    keep_open : bool
        Hold one handle open until :meth:`close`.
    drop_handles : bool, optional
        ``indexed_gzip``'s name for the opposite of ``keep_open``; when given,
        it decides (so the class can stand where ``IndexedGzipFile`` is built).

    ``readinto_at`` reads at a position without moving the file position, so
    several threads can read through one reader.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, keep_open: bool = False, drop_handles: bool | None = None
    ) -> None:
        super().__init__()
        if drop_handles is not None:
            keep_open = not drop_handles
        self.name = path
        self.source_name = path
        self._fd: int | None = None
        if keep_open:
            self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        else:
            os.stat(path)  # fail now, with FileNotFoundError, for a missing file
        self._pos = 0

    # ------------------------------------------------------------ io protocol

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._pos + offset
        elif whence == io.SEEK_END:
            target = self.data_size() + offset
        else:
            raise InvalidArgumentError(f"invalid whence ({whence}, should be 0, 1 or 2)")
        if target < 0:
            raise InvalidArgumentError(f"negative seek position {target}")
        self._pos = target
        return target

    def readinto(self, buffer: Any) -> int:
        count = self.readinto_at(buffer, self._pos)
        self._pos += count
        return count

    def readall(self) -> bytes:
        parts = []
        while chunk := self.read(4 << 20):
            parts.append(chunk)
        return b"".join(parts)

    def fileno(self) -> int:
        """Descriptor of the file; a reader made without ``keep_open`` opens one now and keeps it."""
        if self.closed:
            raise InvalidArgumentError("I/O operation on closed file")
        if self._fd is None:
            self._fd = os.open(self.name, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        return self._fd

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
        super().close()

    # ------------------------------------------------------------ positional reads

    def _open(self) -> tuple[int, bool]:
        if self.closed:
            raise InvalidArgumentError("I/O operation on closed file")
        if self._fd is not None:
            return self._fd, False
        return os.open(self.name, os.O_RDONLY | getattr(os, "O_BINARY", 0)), True

    def _index(self, fd: int, pread: Pread) -> GzipIndex:
        return self._index_for(os.fstat(fd), pread)

    def _index_for(self, status: os.stat_result, pread: Pread) -> GzipIndex:
        index = CACHE.lookup(file_key(real_path(os.fspath(self.name), status), status))
        if not index.scanned:
            from .gzformat import scan_members

            with index.lock:
                if not index.scanned:
                    points, complete = scan_members(pread, index.size, name=self.name)
                    index.set_scan(points, complete)
        return index

    def data_size(self) -> int:
        """Uncompressed size of the file (decompresses it once when not yet known)."""
        fd, mine = self._open()
        try:
            pread = pread_for(fd)
            index = self._index(fd, pread)
            with index.lock:
                if index.total is None:
                    cursor = index.cursor
                    compressed, data = index.points[-1]
                    if cursor is None or cursor.eof or cursor.data < data:
                        cursor = index.cursor = _Cursor(index, compressed, data, self.name)
                    scratch = memoryview(bytearray(_OUT_CHUNK))
                    try:
                        while index.total is None and cursor.read(scratch, cursor.data, pread):
                            pass
                    except BaseException:
                        index.cursor = None
                        raise
                    if index.total is None:  # pragma: no cover - the cursor records it at the end
                        index.total = cursor.data
                return int(index.total)
        finally:
            if mine:
                os.close(fd)

    def readinto_at(self, buffer: Any, position: int) -> int:
        """Fill ``buffer`` with the bytes at uncompressed ``position``; short only at the end."""
        view = memoryview(buffer).cast("B")
        if not len(view):
            return 0
        attempts = 4
        while True:
            try:
                return self._readinto_at(view, position)
            except FileReplaced:  # between looking at the file and opening it: look again
                attempts -= 1
                if not attempts:
                    raise

    def _readinto_at(self, view: memoryview, position: int) -> int:
        if self.closed:
            raise InvalidArgumentError("I/O operation on closed file")
        access = FileAccess(self.name, self._fd, self._index_for)
        try:
            pread = access.pread
            index = access.index
            with index.lock:
                index.streak = index.streak + 1 if position == index.last_end else 0
                streak = index.streak
            if position + len(view) <= _HEAD:
                self._decode_head(index, pread)
            done = index.read_kept(view, position)
            decoded = not done
            while done < len(view):
                at = position + done
                if index.total is not None and at >= index.total:
                    break
                member = index.member_at(at)
                if member is not None:
                    got = self._read_members(index, view[done:], at, member, pread, streak)
                else:
                    got = self._stream(index, view[done:], at, pread, streak)
                if not got:
                    break
                done += got
            with index.lock:
                index.last_end = position + done
                if decoded:
                    # kept for reading it again, except the steps of a front-to-back pass
                    # and reads to the end (a whole image)
                    total = self._stream_total(index, pread)
                    whole = total is not None and position + done >= total
                    index.keep_read(view, position, 0 if streak or whole else done)
            CACHE.trim(_knobs().INDEX_BUDGET, keep=index)
            return done
        finally:
            access.close()

    def _decode_head(self, index: GzipIndex, pread: Pread) -> None:
        """Give ``index`` its head once: the first ``_HEAD`` bytes of data, when the first member holds more.

        Loading an image reads the start of its file two or three times
        (sniffing the format, the header, the extension flag). Decoding that
        start once and keeping it with the file's index spares starting a
        decoder for each of those reads, and for every later load. In a file
        of sized members it also spares decoding the whole first member for
        them, and the header reads no longer replace the last read kept (a
        volume read again after a fresh load stays a copy). A shorter member
        is left to the member reader or the streaming decoder, which check
        its CRC; so is anything that fails here, to be reported there (the
        head is then empty).
        """
        with index.lock:
            if index.head is not None:
                return
            blob = pread(0, _HEAD_INPUT)
            try:
                header = parse_header(blob, self.name)
                out = b"" if header is None else backends.inflater().decompress(
                    memoryview(blob)[header.length :], _HEAD + 1
                )
            except Exception:
                out = b""
            index.head = out[:_HEAD] if len(out) > _HEAD else b""

    def _read_members(self, index: GzipIndex, view: memoryview, at: int, first: int, pread: Pread, streak: int) -> int:
        end = at + len(view)
        decode: list[Callable[[], None]] = []  # members to decompress: on the pool
        copy: list[Callable[[], None]] = []  # members kept or decoded ahead: copied here
        member = first
        stop = at
        while member < index.sized and index.points[member][1] < end:
            (c0, u0), (c1, u1) = index.points[member], index.points[member + 1]
            lo, hi = max(at, u0), min(end, u1)
            whole = lo == u0 and hi == u1
            if not whole and u1 - u0 > _PARTIAL_WHOLE_MAX:
                if member == first:  # stream this part; later members wait for the next round
                    return self._stream(index, view[: hi - at], at, pread, 0)
                break
            target = view[lo - at : hi - at]
            with index.lock:
                decoded = member in index.members or member in index.ahead
            if decoded:
                copy.append(self._part_task(index, member, target, lo - u0, pread))
            elif whole:
                decode.append(self._whole_task(target, pread, c0, c1, u1 - u0))
            else:
                decode.append(self._part_task(index, member, target, lo - u0, pread))
            stop = hi
            member += 1
        threads = _threads()
        pooled = threads > 1 and (len(decode) > 1 or bool(decode and copy))
        futures = [thread_pool(threads).submit(_run, run, 1) for run in _runs(decode, 4 * threads)] if pooled else []
        try:
            if not pooled:
                _run(decode, 1)
            if streak and threads > 1 and _knobs().READ_AHEAD > 0:
                next_member = member if stop == index.points[member][1] else member - 1
                gzahead.prefetch_members(index, next_member, stop - at, threads, lambda m: self._decode_ahead(index, m))
            for task in copy:
                task()
        finally:
            for future in futures:
                future.result()
        return stop - at

    def _decode_ahead(self, index: GzipIndex, member: int) -> Any:
        """A member decoded on a pool thread, through a handle of its own; None if the file changed."""
        fd = os.open(index.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            if file_key(index.path, os.fstat(fd)) != index.key:
                return None
            return self._decode_member(index, member, pread_for(fd))
        finally:
            os.close(fd)

    def _decode_member(self, index: GzipIndex, member: int, pread: Pread) -> Any:
        (c0, u0), (c1, u1) = index.points[member], index.points[member + 1]
        if not libdeflate.available():
            return decode_member(pread, c0, c1, u1 - u0, self.name)
        data = np.empty(u1 - u0, dtype=np.uint8)
        decode_member_into(pread, c0, c1, memoryview(data), self.name)
        return data

    def _whole_task(self, target: memoryview, pread: Pread, c0: int, c1: int, size: int) -> Callable[[], None]:
        def task() -> None:
            if libdeflate.available():
                decode_member_into(pread, c0, c1, target, self.name)
            else:
                target[:] = decode_member(pread, c0, c1, size, self.name)

        return task

    def _part_task(self, index: GzipIndex, member: int, target: memoryview, skip: int, pread: Pread) -> Callable[[], None]:
        def task() -> None:
            data = gzahead.take_member(index, member)
            if data is None:
                data = self._decode_member(index, member, pread)
                gzahead.keep(index, member, data)
            target[:] = memoryview(data).cast("B")[skip : skip + len(target)]

        return task

    def _stream_total(self, index: GzipIndex, pread: Pread) -> int | None:
        """The uncompressed size of a one-member file: known, or told by its trailer (< 4 GiB)."""
        if index.total is not None:
            return index.total
        if index.size < 18 or index.size >= 1 << 32:
            return None
        if index.trailer_size is None:  # read once: reads ask for it to tell a whole-image read
            index.trailer_size = int.from_bytes(pread(index.size - 4, 4), "little")
        return index.trailer_size

    def _read_ahead(self, index: GzipIndex, view: memoryview, at: int, pread: Pread, streak: int) -> int | None:
        """Serve a read from the whole file decoded ahead, deciding to decode it if the pass calls for it."""
        ahead = index.stream_ahead
        if ahead is None:
            cursor = index.cursor
            if (
                streak < gzahead.STREAK_FOR_STREAM
                or index.stream_ahead_failed
                or index.sized
                or len(index.points) > 1
                or cursor is None
                or cursor.data != at
                or _threads() < 2
                or not libdeflate.available()
                or not gzahead.whole_stream_allowed()
            ):
                return None
            total = self._stream_total(index, pread)
            if total is None or not at < total <= _knobs().READ_AHEAD:
                return None
            ahead = gzahead.StreamAhead.decode(total, self.inflate_whole_parts)
            if ahead is None:
                index.stream_ahead_failed = True
                return None
            index.stream_ahead = ahead
        got = ahead.read(view, at)
        if got is None or at + got >= ahead.total:
            index.stream_ahead = None  # gone elsewhere, or done
        return got

    def _stream(self, index: GzipIndex, view: memoryview, at: int, pread: Pread, streak: int) -> int:
        knobs = _knobs()
        reach = knobs.CURSOR_REACH
        with index.lock:
            got = self._read_ahead(index, view, at, pread, streak)
            if got is not None:
                return got
            igz = _igz_module() if knobs.USE_INDEXED_GZIP and backends.uses_optional_packages() else None
            # cursors leave copies of their state as seek points (with a decoder that can be
            # copied: zlib-ng's is 10 % slower than ISA-L's, but a later read back then
            # resumes nearby instead of building indexed_gzip's points at zlib's speed)
            spacing = max(reach // 2, 64 << 10)
            cursor = index.cursor
            if cursor is not None and not cursor.eof and cursor.data <= at:
                # going forward: the live decoder, unless far behind and a seek point is near
                near = index.igz is not None and at <= index.igz_extent + reach
                if igz is not None and at - cursor.data > reach and near:
                    return self._igz_read(index, igz, view, at)
            else:
                compressed, data = index.restart_point(at)
                snaps = index.snapshots
                found = bisect.bisect_right([snap.data for snap in snaps], at) - 1
                snap = snaps[found] if found >= 0 and snaps[found].data > data else None
                start = snap.data if snap is not None else data
                # far from a start or snapshot: indexed_gzip, when it has seek points (built
                # or loaded) or the read goes back from the live decoder (it keeps points for
                # next time); a first read into the file streams
                points = index.igz is not None or bool(index.igz_blob) or cursor is not None
                if igz is not None and at - start > reach and points:
                    return self._igz_read(index, igz, view, at)
                if snap is not None:
                    cursor = _Cursor.resume(index, snap, self.name, spacing)
                else:
                    cursor = _Cursor(index, compressed, data, self.name, spacing)
                index.cursor = cursor
            try:
                return cursor.read(view, at, pread)
            except BaseException:
                index.cursor = None
                raise

    def _igz_read(self, index: GzipIndex, igz: Any, view: memoryview, at: int) -> int:
        reader = index.igz
        try:
            if reader is None:
                reader = igz.IndexedGzipFile(filename=index.path, drop_handles=True)
                if index.igz_blob:
                    reader.import_index(fileobj=io.BytesIO(index.igz_blob))
                    index.igz_blob = None
                index.igz = reader
            reader.seek(at)
            done = 0
            while done < len(view):
                got = reader.readinto(view[done:])
                if not got:
                    break
                done += got
            if at + done > index.igz_extent:  # only a read past the last seek point adds points
                record_igz_points(index)
            return done
        except (igz.ZranError, getattr(igz, "CrcError", igz.ZranError), OSError, EOFError, ValueError) as err:
            index.igz = None
            if isinstance(err, OSError) and err.errno is not None:
                raise
            raise corrupt_stream_error(self.name, err) from err

    # ------------------------------------------------------------ one-call whole reads

    def inflate_whole_into(self, out: Any, spare: Any = None) -> bool:
        """Decompress the whole file into ``out`` (writable, exactly its uncompressed size).

        ``spare``: writable memory the caller does not need now; when the
        compressed bytes fit, they are read there rather than mapped, so the
        read needs no memory beyond the caller's.

        Only for files that are one member, when libdeflate can be called on
        our memory (:mod:`.libdeflate`): big files are inflated in parts on
        several threads, others in one call (:mod:`.gzwhole`). Returns
        False, having decided nothing, when that is not the way for this
        file (or its data looks damaged: the streaming reader then reports
        it properly).
        """
        dest = np.frombuffer(memoryview(out).cast("B"), dtype=np.uint8)
        if not dest.flags.writeable:
            return False
        room = None if spare is None else np.frombuffer(memoryview(spare).cast("B"), dtype=np.uint8)
        room = room if room is not None and room.flags.writeable else None
        return self._inflate_whole(len(dest), lambda stream: gzwhole.inflate_into(stream, dest, room, _threads()))

    def inflate_whole_parts(self, total: int) -> list[tuple[mmap.mmap, np.ndarray]] | None:
        """The whole file (``total`` bytes) decompressed into anonymous memory, in parts: (map, bytes) in order.

        As :meth:`inflate_whole_into`, for a reader that copies out of the
        result: parts decoded on several threads stay where they were
        decoded (:func:`.gzwhole.inflate_in_parts`). None when that is not
        the way for this file.
        """
        parts: list[tuple[mmap.mmap, np.ndarray]] | None = None

        def inflate(stream: gzwhole.WholeStream) -> bool:
            nonlocal parts
            parts = gzwhole.inflate_in_parts(stream, total, _threads())
            return parts is not None

        return parts if self._inflate_whole(total, inflate) else None

    def _inflate_whole(self, total: int, inflate: Callable[[gzwhole.WholeStream], bool]) -> bool:
        """Check that the file is one member of ``total`` bytes, then ``inflate`` it; whether that was done."""
        if not libdeflate.available() or not total:
            return False
        fd, mine = self._open()
        try:
            pread = pread_for(fd)
            index = self._index(fd, pread)
            if index.sized or len(index.points) > 1 or index.total not in (None, total):
                return False
            size = index.size
            if size < 18:
                return False
            trailer = pread(size - 8, 8)
            crc, isize = int.from_bytes(trailer[:4], "little"), int.from_bytes(trailer[4:], "little")
            if index.total is None and (total - isize) % (1 << 32):
                return False  # the trailer disagrees: leave it to the streaming reader
            header = parse_header(pread(0, HEADER_PROBE), self.name)
            if header is None or not inflate(gzwhole.WholeStream(fd, header.length, size - 8, crc)):
                return False
            with index.lock:
                index.total = total
            return True
        finally:
            if mine:
                os.close(fd)

    def decoded_buffer(self, position: int, nbytes: int) -> memoryview | None:
        """The ``nbytes`` at ``position`` in a new writable buffer, when one call can make it.

        That is when the file is one member and the bytes wanted run to its
        end from near its start (an image's data after its header): see
        :meth:`inflate_whole_into`. None otherwise: then :meth:`readinto_at`
        into memory of the caller's is the better way.
        """
        end = position + nbytes
        if nbytes <= 0 or position * 8 > end or not libdeflate.available():
            return None
        whole = np.empty(end, dtype=np.uint8)
        if not self.inflate_whole_into(whole):
            return None
        return memoryview(whole)[position:]
