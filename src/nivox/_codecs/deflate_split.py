"""Inflating one deflate stream on several threads at once.

Most ``.nii.gz`` files are a single deflate stream, which a decoder can only
read from its start: each block may copy bytes from the 32 KiB decoded just
before it. This module splits such a stream anyway:

1. Near each split point it finds where a block starts. A dynamic-Huffman
   block header is recognisable: a numpy filter keeps the bit positions whose
   first bits could start one (block type, table sizes, a complete code-length
   code), and a short trial decode picks the first that decodes cleanly.
2. Each part after the first is decoded without knowing the 32 KiB before it,
   in a stream of our own making: a stored block holding a made-up window
   ``LOW`` (byte ``p`` of it is ``p & 0xFF``), then a fixed-Huffman block of
   a few literals whose length puts the next bit where the part's first
   block starts, then the part's own bits (and, for all but the last part,
   an empty final block). libdeflate decodes that on its own thread.
3. A byte of a part can depend on the unknown window (copied from it, or from
   bytes that were). Decoding the part's start again after a second made-up
   window ``HIGH`` (every byte differs from ``LOW``'s, and the pair of them
   names the position) shows which: the bytes that differ, each naming the
   window position it came from; they are set from the real window when the
   part before is done. Once 32 KiB in a row agree, the rest agrees too (the
   decoder's state is then the same): that second decoding streams, and
   stops there (a few MiB into an image, often less).
4. The whole output is checked against the stream's CRC-32; any doubt
   (no block start found, dependence that does not fade, a wrong CRC) gives
   False, and the caller decodes the stream in one piece as before.

With two cores this reads a single-stream file about twice as fast as one
libdeflate call.
"""

from __future__ import annotations

import functools
import mmap
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import backends, libdeflate
from .crc32 import crc32_combine

__all__ = ["InputTrimmer", "anonymous_memory", "find_block_start", "inflate_in_parts", "inflate_into"]

WINDOW = 32768
MIN_PART = 8 << 20  # bytes of output per part at least: below, finding a split and tracing cost more than they save
_SEARCH = 256 << 10  # compressed bytes searched for a block start after a split point
_TRIAL = 4096  # compressed bytes a candidate block start must decode cleanly
_DEPENDENCE_LIMIT = 8 << 20  # give up when a part depends on the unknown window for longer
_TRACE_ESTIMATE = 4 << 20  # bytes of a part typically decoded again to trace its dependence
_TRACE_INPUT = 64 << 10  # compressed bytes the trace decodes at a time
_TRACE_OUTPUT = 1 << 20  # ... giving at most this many bytes at a time
_MOVE_STEP = 4 << 20  # bytes copied out of a part's memory at a time (each step's pages then given back)


# ---------------------------------------------------------------- bit writing


class _Bits:
    """Bits written least significant first, as deflate packs them."""

    def __init__(self) -> None:
        self.value = 0
        self.count = 0

    def put(self, value: int, nbits: int) -> None:
        self.value |= value << self.count
        self.count += nbits

    def put_code(self, code: int, nbits: int) -> None:
        """A Huffman code: deflate stores its most significant bit first."""
        self.put(int(format(code, f"0{nbits}b")[::-1], 2), nbits)


def _fixed_literal(bits: _Bits, byte: int) -> None:
    if byte < 144:
        bits.put_code(0x30 + byte, 8)
    else:
        bits.put_code(0x190 + byte - 144, 9)


def _shift_block(tail: bytes, shift: int) -> tuple[bytes, int]:
    """A fixed-Huffman block of the literals ``tail`` (each >= 144) ending ``shift`` bits into a byte.

    ``len(tail)`` must be ``(shift - 2) % 8``: 3 + 9 * len(tail) + 7 bits.
    Returns the whole bytes and the partly filled last byte (its low
    ``shift`` bits are the block's).
    """
    bits = _Bits()
    bits.put(0b010, 3)  # not final, fixed Huffman
    for byte in tail:
        if byte < 144:
            raise ValueError("literals must be >= 144 (9-bit codes)")  # internal error
        _fixed_literal(bits, byte)
    bits.put_code(0, 7)  # end of block
    whole, partial = divmod(bits.count, 8)
    if partial != shift:
        raise ValueError(f"{len(tail)} literals do not end {shift} bits into a byte")  # internal error
    value = bits.value.to_bytes(whole + 1, "little")
    return value[:whole], value[whole]


def _window_prefix(window: bytes, shift: int) -> tuple[bytes, int]:
    """A stream start that decodes to ``window`` and leaves the next block at bit ``shift`` of a byte.

    A stored block holds all but the last ``(shift - 2) % 8`` bytes, a
    fixed-Huffman block the rest as 9-bit literals (so the window's last
    bytes must be >= 144). Returns the whole bytes and the partly filled
    last byte.
    """
    extra = (shift - 2) % 8
    head, tail = window[: len(window) - extra], window[len(window) - extra :]
    stored = bytes([0]) + len(head).to_bytes(2, "little") + (len(head) ^ 0xFFFF).to_bytes(2, "little") + head
    whole, partial = _shift_block(tail, shift)
    return stored + whole, partial


def _final_suffix(bits_used: int, last_byte: int) -> bytes:
    """An empty final fixed-Huffman block after the ``bits_used`` low bits of ``last_byte``."""
    bits = _Bits()
    bits.put(last_byte & ((1 << bits_used) - 1), bits_used)
    bits.put(0b011, 3)  # final, fixed Huffman
    bits.put_code(0, 7)
    return bits.value.to_bytes((bits.count + 7) // 8, "little")


def _made_up_windows() -> tuple[bytes, bytes]:
    # LOW: each position's low byte. HIGH: low byte + high byte + 24 (mod 256),
    # which differs from LOW everywhere (the high byte is 0..127) and is >= 144
    # in the last 7 bytes, as _window_prefix needs.
    position = np.arange(WINDOW, dtype=np.int64)
    low = position & 0xFF
    high = (low + (position >> 8) + _HIGH_OFFSET) & 0xFF
    return low.astype(np.uint8).tobytes(), high.astype(np.uint8).tobytes()


_HIGH_OFFSET = 24
_LOW, _HIGH = _made_up_windows()


def _patch_start(body: np.ndarray, start_bit: int, window: bytes) -> int:
    """Write, just before ``start_bit`` in the private copy ``body``, a stream start holding ``window``.

    Returns the offset in ``body`` where the stream now starts.
    """
    first, shift = divmod(start_bit, 8)
    prefix, partial = _window_prefix(window, shift)
    begin = first - len(prefix)
    if begin < 0:
        raise ValueError("a part starts too close to the stream's start")  # internal error
    body[begin:first] = np.frombuffer(prefix, dtype=np.uint8)
    body[first] = partial | (int(body[first]) & (0xFF << shift) & 0xFF)
    return begin


def _patch_end(body: np.ndarray, end_bit: int) -> int:
    """End the stream at ``end_bit`` in the private copy ``body``; returns the offset just after it."""
    last, used = divmod(end_bit, 8)
    suffix = _final_suffix(used, int(body[last]))
    body[last : last + len(suffix)] = np.frombuffer(suffix, dtype=np.uint8)
    return last + len(suffix)


# ---------------------------------------------------------------- finding a block start


def _kraft_table() -> np.ndarray:
    """For 12 bits holding four 3-bit code lengths: their share of a complete code, in 1/128."""
    bits = np.arange(1 << 12)
    share = np.zeros(1 << 12, dtype=np.int32)
    for field in range(4):
        length = (bits >> (3 * field)) & 7
        share += np.where(length > 0, 1 << (7 - length), 0)
    return share


_KRAFT = _kraft_table()


def _candidates(region: np.ndarray) -> np.ndarray:
    """Bit offsets in ``region`` where a non-final dynamic block header could start.

    The header: BFINAL 0 and BTYPE 2 (3 bits), HLIT and HDIST at most 29
    (5 bits each), HCLEN (4 bits), then HCLEN + 4 code lengths of 3 bits
    that must make a complete prefix code (zlib and libdeflate refuse others).
    """
    count = len(region) - 12
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    wide = region.astype(np.uint64)
    words = np.zeros(count + 4, dtype=np.uint64)  # the 64 bits from each byte on
    for k in range(8):
        words |= wide[k : k + count + 4] << np.uint64(8 * k)
    found = []
    for shift in range(8):
        bits = words[:count] >> np.uint64(shift)
        ok = (bits & np.uint64(7)) == np.uint64(0b100)
        ok &= ((bits >> np.uint64(3)) & np.uint64(31)) <= np.uint64(29)
        ok &= ((bits >> np.uint64(8)) & np.uint64(31)) <= np.uint64(29)
        at = np.flatnonzero(ok)
        if not len(at):
            continue
        near, far = bits[at], words[at + 4] >> np.uint64(shift)  # far: 32 bits further on
        ncodes = ((near >> np.uint64(13)) & np.uint64(15)) + np.uint64(4)
        # the 19 code lengths, 3 bits each from bit 17 (the first 13 from near, the rest from
        # far, as near holds only 57 bits for sure), the unused ones (from ncodes on) zeroed
        lengths = ((near >> np.uint64(17)) & np.uint64((1 << 39) - 1)) | (
            ((far >> np.uint64(56 - 32)) & np.uint64((1 << 18) - 1)) << np.uint64(39)
        )
        lengths &= (np.uint64(1) << (np.uint64(3) * ncodes)) - np.uint64(1)
        kraft = sum(_KRAFT[(lengths >> np.uint64(at_bit)) & np.uint64(0xFFF)] for at_bit in range(0, 57, 12))
        found.append(at[kraft == 128] * 8 + shift)
    return np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)


_ZERO_WINDOW = bytes(WINDOW)


@functools.lru_cache(maxsize=8)
def _trial_prefix(shift: int) -> tuple[bytes, int]:
    """The block a trial decode starts with, to reach a candidate ``shift`` bits into a byte (one per shift)."""
    return _shift_block(bytes([144]) * ((shift - 2) % 8), shift)


def _decodes_cleanly(body: np.ndarray, bit: int, nbytes: int) -> bool:
    """Whether ``body`` decodes without error for ``nbytes`` from a block start at ``bit``."""
    first, shift = divmod(bit, 8)
    whole, partial = _trial_prefix(shift)
    merged = partial | (int(body[first]) & (0xFF << shift) & 0xFF)
    trial = b"".join((whole, bytes([merged]), body[first + 1 : first + 1 + nbytes].tobytes()))
    decoder = zlib.decompressobj(-15, zdict=_ZERO_WINDOW)
    try:
        decoder.decompress(trial)
    except zlib.error:
        return False
    return not decoder.eof  # a split point is never in the last block


def find_block_start(body: np.ndarray, near: int, search: int = _SEARCH) -> int | None:
    """Bit offset of the first dynamic-Huffman block start at or after byte ``near`` of ``body``."""
    stop = min(len(body) - 64, near + search)
    step = 8 << 10
    for lo in range(near, stop, step):
        region = body[lo : min(stop, lo + step) + 12]
        for offset in _candidates(region):
            bit = lo * 8 + int(offset)
            if _decodes_cleanly(body, bit, _TRIAL) and _decodes_cleanly(body, bit, 16 * _TRIAL):
                return bit
    return None


# ---------------------------------------------------------------- dependence on the window


def _decoded_pieces(stream: np.ndarray) -> Iterator[bytes]:
    """The raw-deflate ``stream`` decoded by a streaming decoder, in pieces of at most ``_TRACE_OUTPUT`` bytes."""
    decoder = backends.inflater()
    source = stream.data.cast("B")
    for position in range(0, len(source), _TRACE_INPUT):
        data: Any = source[position : position + _TRACE_INPUT]
        while data:
            yield decoder.decompress(data, _TRACE_OUTPUT)
            data = decoder.unconsumed_tail
    while not decoder.eof:  # output still held back by the size limit
        out = decoder.decompress(b"", _TRACE_OUTPUT)
        if not out:
            return
        yield out


def _trace_dependence(stream: np.ndarray, decoded: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Which leading bytes of a part came from the window before it, and from where.

    ``decoded`` is the part decoded after window ``LOW``; ``stream`` is the
    part's stream starting with window ``HIGH``, decoded here again by a
    streaming decoder only as far as needed. A byte that is the same after
    both windows does not depend on them; one that differs was copied from
    window position ``(HIGH - LOW - 24) % 256 * 256 + LOW``. Once more than
    32 KiB in a row agree, everything after agrees (the decoder's state is
    then the same): the decoding stops there. Returns (offsets of the
    dependent bytes in the part, their window positions), or None when the
    dependence does not fade within the first ``_DEPENDENCE_LIMIT`` bytes.
    """
    skip = WINDOW  # the made-up window's own bytes come out first
    at = 0  # offset in the part of the next byte out
    last = -1  # offset of the last byte found to differ
    offsets: list[np.ndarray] = []
    highs: list[np.ndarray] = []
    for out in _decoded_pieces(stream):
        cut = min(skip, len(out))
        skip -= cut
        theirs = np.frombuffer(out, dtype=np.uint8)[cut : cut + len(decoded) - at]
        differ = np.flatnonzero(decoded[at : at + len(theirs)] != theirs)
        if len(differ) and differ[0] + at - last - 1 > WINDOW:
            break  # agreement first: nothing after can differ
        gaps = np.flatnonzero(np.diff(differ) > WINDOW)
        if len(gaps):
            differ = differ[: gaps[0] + 1]
        if len(differ):
            offsets.append(differ + at)
            highs.append(theirs[differ])
            last = int(differ[-1]) + at
        at += len(theirs)
        if len(gaps) or at - last - 1 > WINDOW or at >= len(decoded):
            break
        if at >= _DEPENDENCE_LIMIT:
            return None
    dependent = np.concatenate(offsets) if offsets else np.zeros(0, dtype=np.intp)
    low_byte = decoded[dependent]
    high_byte = (np.concatenate(highs) if highs else low_byte) - low_byte - np.uint8(_HIGH_OFFSET)  # wraps mod 256
    return dependent, (high_byte.astype(np.uint16) << 8) | low_byte


# ---------------------------------------------------------------- the whole


def anonymous_memory(size: int) -> tuple[mmap.mmap, np.ndarray]:
    """Anonymous memory for a part's output, released page by page as it is copied out.

    Private and aligned to 2 MiB, and marked for huge pages where the kernel
    allows, so that writing it costs few page faults (as numpy arranges for
    its own arrays).
    """
    huge = 2 << 20
    if not hasattr(mmap, "MAP_PRIVATE"):  # pragma: no cover - Windows: a plain anonymous map
        mapping = mmap.mmap(-1, max(size, 1))
        return mapping, np.frombuffer(mapping, dtype=np.uint8)[:size]
    flags = mmap.MAP_PRIVATE | getattr(mmap, "MAP_ANONYMOUS", 0x20)
    mapping = mmap.mmap(-1, size + huge, flags=flags)
    whole = np.frombuffer(mapping, dtype=np.uint8)
    skip = -whole.ctypes.data % huge
    if hasattr(mmap, "MADV_HUGEPAGE"):
        mapping.madvise(mmap.MADV_HUGEPAGE, skip, max(huge, size // huge * huge))
    return mapping, whole[skip : skip + size]


def _crc_of_pieces(bounds: list[int], crc_of: Callable[[int, int], int], run: Callable[[list[Callable[[], None]]], None]) -> int:
    """The CRC-32 (from 0) of bytes ``bounds[0]:bounds[-1]``, ``crc_of(lo, hi)`` giving each piece's, all at once."""
    crcs = [0] * (len(bounds) - 1)

    def piece(k: int) -> None:
        crcs[k] = crc_of(bounds[k], bounds[k + 1])

    run([functools.partial(piece, k) for k in range(len(crcs))])
    crc = crcs[0]
    for k in range(1, len(crcs)):
        crc = crc32_combine(crc, crcs[k], bounds[k + 1] - bounds[k])
    return crc


def _move_out_in_parallel(
    mapping: mmap.mmap | None, source: np.ndarray, dest: np.ndarray, pieces: int,
    run: Callable[[list[Callable[[], None]]], None],
) -> int:
    """:func:`_move_out` in ``pieces`` pieces at once; the CRC of ``source`` (from 0)."""
    bounds = [len(dest) * k // pieces // _MOVE_STEP * _MOVE_STEP for k in range(pieces)] + [len(dest)]
    return _crc_of_pieces(bounds, lambda lo, hi: _move_out(mapping, source[lo:hi], dest[lo:hi], 0), run)


def _crc_in_parallel(data: np.ndarray, pieces: int, run: Callable[[list[Callable[[], None]]], None]) -> int:
    """The CRC-32 of ``data`` (from 0), computed in ``pieces`` pieces at once."""
    bounds = [len(data) * k // pieces for k in range(pieces + 1)]
    return _crc_of_pieces(bounds, lambda lo, hi: backends.crc32(data[lo:hi]), run)


def _move_out(mapping: mmap.mmap | None, source: np.ndarray, dest: np.ndarray, crc: int) -> int:
    """Copy ``source`` to ``dest``, releasing the copied pages of ``mapping`` (if it is theirs); the CRC continued."""
    step, page = _MOVE_STEP, mmap.PAGESIZE
    release = mapping is not None and hasattr(mmap, "MADV_DONTNEED")
    base = source.ctypes.data - np.frombuffer(mapping, dtype=np.uint8).ctypes.data if release else 0
    for at in range(0, len(dest), step):
        end = min(len(dest), at + step)
        dest[at:end] = source[at:end]
        crc = backends.crc32(dest[at:end], crc)
        lo, hi = -(-(base + at) // page) * page, (base + end) // page * page
        if release and hi > lo:
            mapping.madvise(mmap.MADV_DONTNEED, lo, hi - lo)  # type: ignore[union-attr]
    return crc


class InputTrimmer:
    """Gives back, every few milliseconds, the pages of compressed input mapped from a file.

    libdeflate reads its input once, front to back, but the pages it has
    read stay mapped, counted as the process's memory, until the map goes:
    a quarter of the output, for a float image. Dropping them
    (``MADV_DONTNEED``) is safe for every page the map has not modified: a
    later read maps it again from the file. Pages holding our patches are
    kept. A context manager: the trimming thread runs inside it.
    """

    def __init__(self, interval: float = 0.01) -> None:
        self._interval = interval
        self._ranges: list[tuple[mmap.mmap, int, int, list[tuple[int, int]]]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, array: np.ndarray, keep: Sequence[tuple[int, int]] = ()) -> None:
        """Trim the pages under ``array`` (a view of a file map), but those of its byte ranges ``keep``."""
        mapping: Any = array
        while isinstance(mapping, np.ndarray):
            mapping = mapping.base
        if isinstance(mapping, memoryview):  # what np.frombuffer(map) keeps
            mapping = mapping.obj
        if not isinstance(mapping, mmap.mmap) or not hasattr(mmap, "MADV_DONTNEED"):
            return
        at = array.ctypes.data - np.frombuffer(mapping, dtype=np.uint8).ctypes.data
        page = mmap.PAGESIZE
        kept = [((at + lo) // page * page, -(-(at + hi) // page) * page) for lo, hi in keep]
        with self._lock:
            self._ranges.append((mapping, at, at + array.nbytes, kept))

    def _trim(self) -> None:
        page = mmap.PAGESIZE
        with self._lock:
            ranges = list(self._ranges)
        for mapping, lo, hi, kept in ranges:
            start = -(-lo // page) * page
            for keep_lo, keep_hi in sorted(kept) + [(hi // page * page, hi // page * page)]:
                if keep_lo > start:
                    mapping.madvise(mmap.MADV_DONTNEED, start, keep_lo - start)
                start = max(start, keep_hi)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._trim()
            except (OSError, ValueError):  # a map closed under us: nothing left to give back
                return

    def __enter__(self) -> InputTrimmer:
        if hasattr(mmap, "MADV_DONTNEED"):
            self._thread = threading.Thread(target=self._loop, name="nivox-trim", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._ranges.clear()


class _Part:
    """One part's decoded bytes, before they are moved to their place."""

    __slots__ = ("mapping", "data", "dependence", "crc")

    def __init__(self, mapping: mmap.mmap | None, data: np.ndarray, dependence: Any = None, crc: int = 0) -> None:
        self.mapping, self.data, self.dependence, self.crc = mapping, data, dependence, crc


def _decode_parts(
    private_body: Callable[[], np.ndarray],
    first: np.ndarray,
    size: int,
    parts: int,
    run: Callable[[list[Callable[[], None]]], None],
    spare: np.ndarray | None = None,
) -> list[_Part] | None:
    """The stream's ``parts`` decoded at once: the first into ``first``, the others into memory of their own.

    Each later part comes with its dependence on the window before it
    traced, not yet resolved. None when the stream cannot be split safely.
    """
    if parts < 2 or size < parts * MIN_PART or not libdeflate.available():
        return None
    body = private_body()
    starts = [0]
    for i in range(1, parts):
        # later parts also trace their dependence (decode a few MiB again):
        # give them that much less
        lean = min(0.5 / parts, _TRACE_ESTIMATE / 2 / size)
        bit = find_block_start(body, int(len(body) * (i / parts + lean)))
        if bit is None or bit <= starts[-1] + 8 * (WINDOW + 64):
            return None
        starts.append(bit)
    ends: list[int | None] = [*starts[1:], None]
    done: list[_Part | None] = [None] * parts

    def decode(i: int) -> None:
        mine = body if i == 0 else private_body()
        stop = len(mine) if ends[i] is None else _patch_end(mine, ends[i])  # type: ignore[arg-type]
        if i == 0:
            trimmer.add(mine[:stop], [(stop - 8, stop)])
            written = libdeflate.inflate_into(mine[:stop], first)[1]
            done[0] = _Part(None, first[:written], crc=backends.crc32(first[:written]))
            return
        if parts == 2 and spare is not None and len(spare) >= WINDOW + size * 3 // 4:
            mapping, scratch = None, spare  # the second part's output seldom outgrows it: else whole
        else:
            mapping, scratch = anonymous_memory(size + WINDOW)
        begin = _patch_start(mine, starts[i], _LOW)
        trimmer.add(mine[begin:stop], [(0, starts[i] // 8 + 1 - begin), (stop - begin - 8, stop - begin)])
        written = libdeflate.inflate_into(mine[begin:stop], scratch)[1] - WINDOW
        decoded = scratch[WINDOW : WINDOW + written]
        _patch_start(mine, starts[i], _HIGH)
        done[i] = _Part(mapping, decoded, _trace_dependence(mine[begin:stop], decoded))

    try:
        with InputTrimmer() as trimmer:
            run([functools.partial(decode, i) for i in range(parts)])
    except backends.decode_errors():
        return None
    return done  # type: ignore[return-value]


def _resolve(part: _Part, window: np.ndarray) -> bool:
    """Set the bytes ``part`` copied from the unknown window from the real ``window`` (its last 32 KiB)."""
    if part.dependence is None or len(window) < WINDOW:
        return False
    offsets, positions = part.dependence
    if len(offsets):
        part.data[offsets] = window[-WINDOW:][positions]
    return True


def inflate_into(
    private_body: Callable[[], np.ndarray],
    dest: np.ndarray,
    crc: int,
    parts: int,
    run: Callable[[list[Callable[[], None]]], None],
    spare: np.ndarray | None = None,
) -> bool:
    """Inflate one raw-deflate stream into ``dest`` (exactly its size) in ``parts`` parts at once.

    ``private_body()`` returns a new writable copy-on-write view of the
    stream (each part patches its own); ``run`` runs tasks in parallel.
    ``spare``: byte memory the caller lends (not overlapping ``dest``);
    with two parts, the second is decoded there rather than in memory of
    its own, if it fits. Returns False when the stream cannot be split
    safely (``dest`` then holds nothing useful and the caller inflates the
    stream whole).
    """
    size = len(dest)
    done = _decode_parts(private_body, dest, size, parts, run, spare)
    if done is None:
        return False
    filled, total_crc = len(done[0].data), done[0].crc
    for i in range(1, parts):
        part = done[i]
        if filled + len(part.data) > size or not _resolve(part, dest[:filled]):
            return False
        part_crc = _move_out_in_parallel(part.mapping, part.data, dest[filled : filled + len(part.data)], parts, run)
        total_crc = crc32_combine(total_crc, part_crc, len(part.data))
        filled += len(part.data)
        done[i] = None  # type: ignore[call-overload]
    return filled == size and total_crc == crc


def inflate_in_parts(
    private_body: Callable[[], np.ndarray],
    size: int,
    crc: int,
    parts: int,
    run: Callable[[list[Callable[[], None]]], None],
) -> list[tuple[mmap.mmap, np.ndarray]] | None:
    """As :func:`inflate_into`, leaving each part's bytes where they were decoded: (map, bytes) in order.

    For a reader that copies out of the parts anyway (a front-to-back
    pass): nothing is moved, and the output takes no memory twice. None
    when the stream cannot be split safely.
    """
    mapping, first = anonymous_memory(size)
    done = _decode_parts(private_body, first, size, parts, run)
    if done is None:
        return None
    done[0].mapping = mapping
    filled = len(done[0].data)
    for before, part in zip(done, done[1:]):
        if filled + len(part.data) > size or not _resolve(part, before.data):
            return None
        filled += len(part.data)
    total_crc = done[0].crc
    for part in done[1:]:
        total_crc = crc32_combine(total_crc, _crc_in_parallel(part.data, parts, run), len(part.data))
    if filled != size or total_crc != crc:
        return None
    return [(part.mapping, part.data) for part in done]  # type: ignore[misc]
