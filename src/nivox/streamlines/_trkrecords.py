"""The record layer of TRK files: finding, gathering and writing streamline records.

A record is an int32 point count ``n``, ``n`` rows of ``k`` float32 (x, y, z
and the scalars), then ``m`` float32 properties. A record's position depends
on every count before it, so finding records is a walk. It is done without a
Python step per record when it can be: a count is a small non-negative int32,
and a float32 read as int32 is that small only when it is +0.0 or subnormal.
The words between 1 and 2**23 are therefore taken as the candidate counts, and
the walk they imply is checked in one vectorised step (each candidate must lead
to the next and the last to the end). Only when the check fails (empty
records, coordinates that are subnormal floats, counts of 2**23 or more) does
a tight loop step through the counts.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from ..errors import DataError

# words examined per vectorised step
_BLOCK_WORDS = 1 << 20
# the smallest positive normal float32, read as an int32
_SMALL = 1 << 23


def walk(words: NDArray[np.int32], k: int, m: int, expected: int, name: str) -> NDArray[np.int64]:
    """Word positions of the record counts in `words` (native int32 view of the data).

    Parameters
    ----------
    k, m : int
        Words per point, properties per record.
    expected : int
        Records the header announces (0: as many as the data hold).
    """
    n_words = len(words)
    found = _walk_vectorised(words, k, m, expected)
    if found is None:
        found = _walk_loop(words, k, m, expected, name)
    if expected and len(found) < expected:
        raise DataError(f"{name}: the header announces {expected} streamlines, the file holds "
                        f"{len(found)}")
    if len(found):
        last = int(found[-1])
        end = last + 1 + int(words[last]) * k + m
        if end > n_words:
            raise DataError(f"{name}: the file ends inside streamline {len(found) - 1} "
                            f"({(end - n_words) * 4} bytes missing)")
    return found


def _walk_vectorised(words: NDArray[np.int32], k: int, m: int, expected: int) -> NDArray[np.int64] | None:
    n_words = len(words)
    if n_words == 0:
        return np.zeros(0, np.int64)
    parts = []
    for start in range(0, n_words, _BLOCK_WORDS):
        block = words[start : start + _BLOCK_WORDS]
        idx = np.flatnonzero((block > 0) & (block < _SMALL))
        if idx.size:
            parts.append(idx.astype(np.int64) + start)
    cand = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    if len(cand) == 0 or cand[0] != 0:
        return None
    nxt = cand + 1 + words[cand].astype(np.int64) * k + m
    if expected:
        if len(cand) < expected:
            return None
        # candidates past the announced records are not checked (trailing bytes are ignored)
        chain = cand[:expected]
        if not np.array_equal(nxt[: expected - 1], chain[1:]) or nxt[expected - 1] > n_words:
            return None
        return chain
    if not np.array_equal(nxt[:-1], cand[1:]) or nxt[-1] != n_words:
        return None
    return cand


def _walk_loop(words: NDArray[np.int32], k: int, m: int, expected: int, name: str) -> NDArray[np.int64]:
    view = memoryview(words.data)
    n_words = len(words)
    limit = expected if expected else n_words + 1
    found = array("q")
    add = found.append
    p = 0
    i = 0
    while p < n_words and i < limit:
        n = view[p]
        if n < 0:
            raise DataError(f"{name}: streamline {i} has a negative point count ({n})")
        add(p)
        p += 1 + n * k + m
        i += 1
    return np.frombuffer(found, np.int64) if len(found) else np.zeros(0, np.int64)


def gather(words: NDArray[np.int32], starts: NDArray[np.int64], k: int, m: int
           ) -> tuple[NDArray[np.float32], NDArray[np.intp], NDArray[np.float32]]:
    """Pull the point rows and the properties out of the records, in place.

    Returns (rows (P, k) float32 at the front of the buffer, counts, properties (S, m)).
    The rows reuse `words`' memory: no second copy of the points.
    """
    flat = words.view(np.float32)
    counts = words[starts].astype(np.intp)
    n_rec = len(starts)
    props = np.zeros((n_rec, m), np.float32)
    if m and n_rec:
        prop_at = starts + 1 + counts * k
        props[:] = flat[prop_at[:, None] + np.arange(m)]
    total_pts = int(counts.sum())
    dest = 0
    rec = 0
    while rec < n_rec:
        # records spanning about one block of words
        stop_word = int(starts[rec]) + _BLOCK_WORDS
        last = max(rec + 1, int(np.searchsorted(starts, stop_word, side="left")))
        last = min(last, n_rec)
        a = int(starts[rec])
        b = int(starts[last - 1]) + 1 + int(counts[last - 1]) * k + m
        keep = np.ones(b - a, bool)
        keep[starts[rec:last] - a] = False
        if m:
            prop_at = starts[rec:last] + 1 + counts[rec:last] * k - a
            keep[(prop_at[:, None] + np.arange(m)).ravel()] = False
        kept = flat[a:b][keep]
        flat[dest : dest + len(kept)] = kept
        dest += len(kept)
        rec = last
    rows = flat[: total_pts * k].reshape(total_pts, k)
    return rows, counts, props


def split_points(rows: NDArray[np.float32], buffer: NDArray[Any]
                 ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Points (P, 3) and scalars (P, k - 3) from rows (P, k): scalars copied out, points
    moved to the front of the same buffer."""
    n, k = rows.shape
    scalars = rows[:, 3:].copy()  # a copy even when the slice is contiguous: the buffer is resized next
    flat = buffer.view(np.float32).reshape(-1)
    step = max(1, _BLOCK_WORDS // k)
    for a in range(0, n, step):
        b = min(n, a + step)
        part = rows[a:b, :3].copy()  # copied first: the destination may overlap these rows
        flat[a * 3 : b * 3] = part.ravel()
    return flat[: n * 3].reshape(n, 3), scalars


def pack(pts: NDArray[Any], scalars: NDArray[Any] | None, props: NDArray[Any] | None,
         lengths: NDArray[Any]) -> NDArray[np.float32]:
    """The records of some streamlines as little-endian float32 words (counts as int32)."""
    ns = 0 if scalars is None else scalars.shape[1]
    m = 0 if props is None else props.shape[1]
    k = 3 + ns
    n_rec = len(lengths)
    sizes = 1 + lengths * k + m
    starts = np.zeros(n_rec, np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    out = np.empty(int(sizes.sum()), "<f4")
    out.view("<i4")[starts] = lengths
    row_words = np.empty((len(pts), k), "<f4")
    row_words[:, :3] = pts
    if ns:
        row_words[:, 3:] = scalars
    keep = np.ones(len(out), bool)
    keep[starts] = False
    if m:
        prop_at = (starts + 1 + lengths * k)[:, None] + np.arange(m)
        keep[prop_at.ravel()] = False
        out[prop_at.ravel()] = np.asarray(props, "<f4").ravel()
    out[keep] = row_words.ravel()
    return out


def stream(f: BinaryIO, offset: int, k: int, m: int, expected: int, dtype_i4: np.dtype,
           dtype_f4: np.dtype, name: str, block: int = 4 << 20
           ) -> Iterator[tuple[NDArray[Any], NDArray[Any], NDArray[Any]]]:
    """Yield (points, scalars, properties) per record, reading about `block` bytes at a time."""
    from ._io import remaining_size

    total = remaining_size(f, offset)
    f.seek(offset)
    buf = b""
    pos = 0
    done = 0  # bytes of the data region consumed
    count = 0
    while not expected or count < expected:
        if len(buf) - pos < 4:
            buf = buf[pos:] + f.read(block)
            pos = 0
            if len(buf) == 0:
                break
            if len(buf) < 4:
                raise DataError(f"{name}: the file ends inside the count of streamline {count}")
        n = int(np.frombuffer(buf, dtype_i4, 1, pos)[0])
        if n < 0:
            raise DataError(f"{name}: streamline {count} has a negative point count ({n})")
        size = 4 + (n * k + m) * 4
        if total is not None and done + size > total:  # checked before reading (or allocating) it
            raise DataError(f"{name}: the file ends inside streamline {count} "
                            f"({done + size - total} bytes missing)")
        while len(buf) - pos < size:
            more = f.read(max(block, size - (len(buf) - pos)))
            if not more:
                raise DataError(f"{name}: the file ends inside streamline {count}")
            buf = buf[pos:] + more
            pos = 0
        rec = np.frombuffer(buf, dtype_f4, n * k + m, pos + 4).astype(np.float32)
        rows = rec[: n * k].reshape(n, k)
        yield rows[:, :3], rows[:, 3:], rec[n * k :]
        pos += size
        done += size
        count += 1
    if expected and count < expected:
        raise DataError(f"{name}: the header announces {expected} streamlines, the file holds {count}")


def blocks(f: BinaryIO, offset: int, k: int, m: int, expected: int, swap: bool, name: str,
           block: int = 2 << 20) -> Iterator[tuple[NDArray[np.float32], NDArray[np.intp], NDArray[np.float32]]]:
    """Yield (rows (P, k), counts, properties) for runs of whole records, about `block` bytes each.

    The streaming counterpart of :func:`walk` and :func:`gather`: memory stays
    at about one block, and each block's points can be transformed at once.
    """
    from ._io import remaining_size

    total = remaining_size(f, offset)
    f.seek(offset)
    left = b""
    done = 0  # records yielded
    consumed = 0  # bytes of the data region in yielded blocks
    while not expected or done < expected:
        chunk = f.read(block)
        data = left + chunk
        if not data:
            break
        if len(data) < 4 and not chunk:
            raise DataError(f"{name}: the file ends inside the count of streamline {done}")
        words = np.frombuffer(bytearray(data[: len(data) // 4 * 4]), np.int32)
        if swap:
            words = words.byteswap()
        view = memoryview(words.data)
        starts = array("q")
        p = 0
        n_words = len(words)
        limit = expected - done if expected else n_words + 1
        while p < n_words and len(starts) < limit:
            n = view[p]
            if n < 0:
                raise DataError(f"{name}: streamline {done + len(starts)} has a negative point count ({n})")
            size = 1 + n * k + m
            if total is not None and consumed + 4 * (p + size) > total:
                raise DataError(f"{name}: the file ends inside streamline {done + len(starts)}")
            if p + size > n_words:
                break  # the rest of this record comes with the next read
            starts.append(p)
            p += size
        if not starts:
            if not chunk:
                raise DataError(f"{name}: the file ends inside streamline {done}")
            # one record bigger than a block: read on (its size was checked against the file)
            left = data
            block *= 2
            continue
        idx = np.frombuffer(starts, np.int64)
        rows, counts, props = gather(words[:p].copy(), idx, k, m)
        yield rows, counts, props
        done += len(idx)
        consumed += 4 * p
        left = data[4 * p :]
        if not chunk and not left:
            break
    if expected and done < expected:
        raise DataError(f"{name}: the header announces {expected} streamlines, the file holds {done}")
