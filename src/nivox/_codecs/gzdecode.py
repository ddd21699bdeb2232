"""Decoding gzip data: whole members, and streaming decoders that stop and go on.

:func:`decode_member` and :func:`decode_member_into` decompress one member
whose compressed bounds are known (from nivox's size field) and check its
CRC. A :class:`_Cursor` is a streaming decoder at a place in a file, which a
later read continues; :class:`_Snapshot` copies its state as an in-process
seek point. :class:`~.gzread.GzipReader` chooses between them.
"""

from __future__ import annotations

import bisect
from typing import Any

from ..errors import CorruptStreamError
from . import backends, corrupt_stream_error, libdeflate
from .gzfile import Pread
from .gzformat import parse_header
from .gzindex import GzipIndex

__all__ = ["decode_member", "decode_member_into"]

_IN_CHUNK = 128 << 10  # compressed bytes read at a time when streaming
_OUT_CHUNK = 256 << 10  # most bytes decoded per call (bounds the temporary bytes objects)
_PROBE_COMPRESSED = 256 << 10  # after a read, decode to the member's end when its rest is this small
_PROBE_OUTPUT = 4 << 20  # ... and yields at most this much


def _truncated(name: Any) -> Exception:
    return corrupt_stream_error(name, EOFError("truncated"))


def _read_member(pread: Pread, start: int, end: int, name: Any) -> tuple[bytes, int]:
    """The member's compressed bytes and the length of its gzip header."""
    blob = pread(start, end - start)
    if len(blob) < end - start:
        raise _truncated(name)
    header = parse_header(blob, name)
    if header is None or header.length + 8 > len(blob):
        raise corrupt_stream_error(name, ValueError(f"member at byte {start} is shorter than its header"))
    return blob, header.length


def _check_member(out: Any, size: int, blob: bytes, start: int, name: Any) -> None:
    """Raise unless ``out`` holds ``size`` bytes with the CRC in the member's trailer."""
    if len(out) != size:
        raise corrupt_stream_error(name, ValueError(f"member at byte {start} holds {len(out)} bytes, not {size}"))
    if backends.crc32(out) != int.from_bytes(blob[-8:-4], "little"):
        raise corrupt_stream_error(name, ValueError(f"CRC check failed for the member at byte {start}"))


def decode_member(pread: Pread, start: int, end: int, size: int, name: Any = None) -> bytes | bytearray:
    """Decompress the member in compressed bytes ``start:end`` holding ``size`` bytes; check its CRC."""
    blob, header = _read_member(pread, start, end, name)
    body = memoryview(blob)[header : len(blob) - 8]
    try:
        out = backends.inflate_whole(body, size)
    except backends.decode_errors() as err:
        raise corrupt_stream_error(name, err) from err
    finally:
        body.release()
    _check_member(out, size, blob, start, name)
    return out


def decode_member_into(pread: Pread, start: int, end: int, target: memoryview, name: Any = None) -> None:
    """Decompress the member in compressed bytes ``start:end`` straight into ``target`` (its exact size)."""
    blob, header = _read_member(pread, start, end, name)
    try:
        written = libdeflate.inflate_into(memoryview(blob)[header : len(blob) - 8], target)[1]
    except backends.decode_errors() as err:
        raise corrupt_stream_error(name, err) from err
    _check_member(target[:written], len(target), blob, start, name)


class _Snapshot:
    """A copy of a cursor's state inside a member: a seek point valid in this process."""

    __slots__ = ("data", "buf_at", "decoder", "crc", "first")

    def __init__(self, cursor: _Cursor) -> None:
        # the input not yet fed is the file's bytes from buf_at on: read again on resuming
        self.data, self.buf_at = cursor.data, cursor.buf_at
        self.decoder = cursor.decoder.copy()
        self.crc, self.first = cursor.crc, cursor.first


class _Cursor:
    """A streaming decoder at a place in the file: next compressed byte, next output byte.

    It starts at a member start (or a snapshot taken by a cursor that did),
    so every member it finishes has its CRC checked. With ``spacing``, it
    leaves a :class:`_Snapshot` in the index every ``spacing`` output bytes.
    """

    def __init__(self, index: GzipIndex, compressed: int, data: int, name: Any, spacing: int = 0) -> None:
        self.index = index
        self.name = name
        self.data = data
        self.buf = b""  # compressed bytes read but not yet decoded
        self.buf_at = compressed  # file offset of buf[0]
        self.decoder: Any = None  # None between members
        self.crc = 0
        self.first = compressed == 0
        self.eof = False
        self.spacing = spacing
        self.next_snapshot = data + spacing
        self.pending = b""  # output decoded ahead of ``data``
        self.deferred: CorruptStreamError | None = None  # damage met while decoding ahead

    @classmethod
    def resume(cls, index: GzipIndex, snap: _Snapshot, name: Any, spacing: int) -> _Cursor:
        """A cursor continuing from ``snap``."""
        cursor = cls(index, snap.buf_at, snap.data, name, spacing)
        cursor.decoder = snap.decoder.copy()
        cursor.crc, cursor.first = snap.crc, snap.first
        return cursor

    def _snapshot(self) -> None:
        self.next_snapshot = self.data + self.spacing
        if not hasattr(self.decoder, "copy"):
            self.spacing = 0
            return
        snaps = self.index.snapshots
        at = bisect.bisect_left([snap.data for snap in snaps], self.data)
        if at == len(snaps) or snaps[at].data != self.data:
            snaps.insert(at, _Snapshot(self))

    def _fill(self, pread: Pread) -> bool:
        chunk = pread(self.buf_at + len(self.buf), _IN_CHUNK)
        if not chunk:
            return False
        self.buf = self.buf + chunk if self.buf else chunk
        return True

    def _start_member(self, pread: Pread) -> bool:
        while True:
            try:
                header = parse_header(self.buf, self.name) if self.buf else None
            except Exception:
                if self.first:
                    raise
                header = None  # not a member after the last one: trailing bytes, ignored
                self.buf = b""
                self.eof = True
                break
            if header is not None:
                break
            if not self._fill(pread):
                if self.buf and self.first:
                    raise _truncated(self.name)
                self.eof = True
                break
        if self.eof or header is None:
            with self.index.lock:
                self.index.total = self.data
            return False
        self.index.add_point(self.buf_at, self.data)
        self.buf = self.buf[header.length :]
        self.buf_at += header.length
        self.decoder = backends.inflater(copyable=self.spacing > 0)
        self.crc = 0
        return True

    def _end_member(self, pread: Pread) -> None:
        while len(self.buf) < 8:
            if not self._fill(pread):
                raise _truncated(self.name)
        if int.from_bytes(self.buf[:4], "little") != self.crc:
            err = corrupt_stream_error(self.name, ValueError(f"CRC check failed for the member ending at byte {self.buf_at + 8}"))
            err.checksum = True  # type: ignore[attr-defined]
            raise err
        self.buf = self.buf[8:]
        self.buf_at += 8
        self.decoder = None
        self.first = False

    def _decode(self, limit: int, pread: Pread) -> bytes:
        """Up to ``limit`` more bytes of output (CRC counted); finishes the member at its end."""
        data = self.buf
        try:
            out = self.decoder.decompress(data, limit)
        except backends.decode_errors() as err:
            raise corrupt_stream_error(self.name, err) from err
        finished = self.decoder.eof
        left = self.decoder.unused_data if finished else self.decoder.unconsumed_tail
        self.buf_at += len(data) - len(left)
        self.buf = left
        if out:
            self.crc = backends.crc32(out, self.crc)
        if finished:
            self._end_member(pread)
        elif not out and not left and not self._fill(pread):
            raise _truncated(self.name)
        return out

    def read(self, view: memoryview, target: int, pread: Pread) -> int:
        """Decode up to ``target`` (discarding), then into ``view``; the count written (0 at the end)."""
        done, want = 0, len(view)
        while done < want and not self.eof:
            skipping = self.data < target
            room = target - self.data if skipping else want - done
            if self.pending:  # decoded by the last probe, not yet delivered
                out, self.pending = self.pending[:room], self.pending[room:]
            elif self.deferred is not None:
                raise self.deferred
            elif self.decoder is None:
                if not self._start_member(pread):
                    break
                continue
            else:
                out = self._decode(min(room, _OUT_CHUNK), pread)
            if not skipping:
                view[done : done + len(out)] = out
                done += len(out)
            self.data += len(out)
            if self.spacing and self.decoder is not None and not self.pending and self.data >= self.next_snapshot:
                self._snapshot()
        if done and self.decoder is not None and not self.pending:
            self._probe_end(pread)
        return done

    def _probe_end(self, pread: Pread) -> None:
        """Decode a little ahead, so a read that ends with its member checks the CRC.

        A whole-image read ends where the member ends: one more byte meets
        the end. When the member should end soon but goes on (corrupt data can
        decode to too many bytes), decode on to its end within a bound.
        """
        try:
            self.pending = self._decode(1, pread)
            if self.index.size - self.buf_at > _PROBE_COMPRESSED:
                return
            while self.decoder is not None and not self.eof and len(self.pending) < _PROBE_OUTPUT:
                self.pending += self._decode(_OUT_CHUNK, pread)
        except CorruptStreamError as err:
            if getattr(err, "checksum", False):
                raise  # what was just read may be wrong
            # damage after what was read: it stays readable; reads past it fail
            self.deferred = err
