"""nibabel's slice planning, for code written against ``nibabel.fileslice``.

nivox reads slices with its own planner (:mod:`nivox._sliceplan`, runs of bytes
merged by gap size). nibabel exposes the steps of its planner, and code and
tests use them directly: per-axis decisions to read a whole axis, a
contiguous stretch, or only the elements needed (:func:`optimize_slicer`,
driven by a heuristic such as :func:`threshold_heuristic`), the resulting
(offset, length) segments (:func:`slicers2segments`) and the slicing left to
do after reading (:func:`calc_slicedefs`). The functions here give the same
results as nibabel's. :mod:`nivox.fileslice` imports them under their names.
"""

from __future__ import annotations

import math
import mmap
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from ._sliceplan import canonical_slicers, predict_shape
from .errors import SlicerError

__all__ = [
    "calc_slicedefs",
    "fill_slicer",
    "optimize_read_slicers",
    "optimize_slicer",
    "read_segments",
    "slice2len",
    "slice2outax",
    "slicers2segments",
    "threshold_heuristic",
]

#: threshold_heuristic's default: gaps (bytes) up to this size are read and
#: thrown away rather than skipped (nibabel's value; nivox's own planner uses
#: :data:`nivox.fileslice.SKIP_THRESH`)
AXIS_SKIP_THRESH = 2**8

#: ``heuristic(slicer, dim_len, stride) -> 'full' | 'contiguous' | None``
AxisHeuristic = Callable[[Any, int, int], Any]


def _is_int(obj: Any) -> bool:
    return isinstance(obj, (int, np.integer)) and not isinstance(obj, (bool, np.bool_))


def slice2outax(ndim: int, sliceobj: Any) -> tuple[int | None, ...]:
    """For each input axis of an ``ndim`` array, its axis in ``arr[sliceobj]`` (None if dropped)."""
    out: list[int | None] = []
    position = 0
    for item in canonical_slicers(sliceobj, [1] * ndim, check_inds=False):
        if _is_int(item):
            out.append(None)
            continue
        if item is not None:  # a slice keeps its axis; None only adds one
            out.append(position)
        position += 1
    return tuple(out)


def fill_slicer(slicer: slice, in_len: int) -> slice:
    """``slicer`` with explicit start, stop and step for an axis of length ``in_len``.

    Negative start and stop count from the end once; stop is capped at the
    axis length. A negative step keeps a stop of None, meaning "through the
    first element", which no integer stop can say.
    """
    start, stop, step = slicer.start, slicer.stop, slicer.step
    step = 1 if step is None else step
    if start is not None and start < 0:
        start += in_len
    if stop is not None and stop < 0:
        stop += in_len
    if step > 0:
        start = 0 if start is None else start
        stop = in_len if stop is None else min(stop, in_len)
    else:
        start = in_len - 1 if start is None else min(start, in_len - 1)
    return slice(start, stop, step)


def _filled_len(filled: slice) -> int:
    """Number of elements a slice from :func:`fill_slicer` selects (stop None: through index 0)."""
    return len(range(filled.start, -1 if filled.stop is None else filled.stop, filled.step))


def slice2len(slicer: slice, in_len: int) -> int:
    """Number of elements ``slicer`` selects from an axis of length ``in_len``."""
    if slicer == slice(None):
        return in_len
    return _filled_len(fill_slicer(slicer, in_len))


def _positive_slice(slicer: slice) -> slice:
    """A slice with positive step selecting the same elements as filled ``slicer``."""
    start, step = slicer.start, slicer.step
    if step > 0:
        return slicer
    count = _filled_len(slicer)
    lowest = start + (count - 1) * step
    return slice(lowest, start + 1, -step)


def threshold_heuristic(
    slicer: Any, dim_len: int, stride: int, skip_thresh: int = AXIS_SKIP_THRESH
) -> str | None:
    """Whether to read a whole axis ('full'), a contiguous stretch of it ('contiguous') or only what is needed (None).

    Gaps of at most ``skip_thresh`` bytes are worth reading and discarding.
    ``slicer`` is an integer or a slice filled as by :func:`fill_slicer`.
    """
    if _is_int(slicer):
        return "full" if (dim_len - 1) * stride <= skip_thresh else None
    if abs(slicer.step) * stride > skip_thresh:
        return None  # steps too far apart: skipping wins
    positive = _positive_slice(slicer)
    unread = (dim_len - (positive.stop - positive.start)) * stride
    return "full" if unread <= skip_thresh else "contiguous"


def optimize_slicer(
    slicer: Any,
    dim_len: int,
    all_full: bool,
    is_slowest: bool,
    stride: int,
    heuristic: AxisHeuristic = threshold_heuristic,
) -> tuple[Any, Any]:
    """What to read along one axis, and how to slice what was read: ``(to_read, post_slice)``.

    ``to_read`` always steps forward. Only while every faster axis is read
    whole (``all_full``) may ``heuristic`` widen the read to the whole axis or
    to a contiguous stretch; the slowest axis is never widened to 'full'.
    ``post_slice`` is 'dropped' for an integer index read as such.
    """
    if isinstance(slicer, slice):
        if slicer == slice(None):
            return slicer, slicer
        slicer = fill_slicer(slicer, dim_len)
        if slicer == slice(0, dim_len, 1):
            return slice(None), slice(None)
        if slicer == slice(dim_len - 1, None, -1):
            return slice(None), slice(None, None, -1)
        is_int = False
    else:
        slicer = int(slicer)
        if slicer < 0:
            slicer += dim_len
        is_int = True
    if all_full:
        action = heuristic(slicer, dim_len, stride)
        if action not in ("full", "contiguous", None):
            raise SlicerError(f"heuristic returned {action!r}; expected 'full', 'contiguous' or None")
        if is_int and action == "contiguous":
            raise SlicerError("an integer index cannot be read as a contiguous stretch")
        if is_slowest and action == "full":
            action = None if is_int else "contiguous"
        if action == "full":
            return slice(None), slicer
        if action == "contiguous" and slicer.step not in (1, -1):
            positive = _positive_slice(slicer)
            return slice(positive.start, positive.stop, 1), slice(None, None, slicer.step)
    if is_int:
        return slicer, "dropped"
    if slicer.step > 0:
        return slicer, slice(None)
    return _positive_slice(slicer), slice(None, None, -1)


def optimize_read_slicers(
    sliceobj: Sequence[Any], in_shape: Sequence[int], itemsize: int, heuristic: AxisHeuristic
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Read slicers and post-read slicers for canonical ``sliceobj`` on an F-ordered array."""
    read: list[Any] = []
    post: list[Any] = []
    axis = 0
    stride = itemsize
    all_full = True
    for item in sliceobj:
        if item is None:
            read.append(None)
            post.append(slice(None))
            continue
        dim_len = in_shape[axis]
        axis += 1
        to_read, after = optimize_slicer(item, dim_len, all_full, axis == len(in_shape), stride, heuristic)
        read.append(to_read)
        all_full = all_full and to_read == slice(None)
        if not _is_int(to_read):
            post.append(after)
        stride *= dim_len
    return tuple(read), tuple(post)


def slicers2segments(
    read_slicers: Sequence[Any], in_shape: Sequence[int], offset: int, itemsize: int
) -> list[list[int]]:
    """``[offset, length]`` byte segments that positive ``read_slicers`` select from an F-ordered array."""
    segments = [[offset, itemsize]]
    stride = itemsize
    all_full = True
    axis = 0
    for item in read_slicers:
        if item is None:
            continue
        dim_len = in_shape[axis]
        axis += 1
        if _is_int(item):
            for segment in segments:
                segment[0] += stride * item
            all_full = False
        else:
            filled = fill_slicer(item, dim_len)
            if all_full and filled.step == 1:
                # still one run: it starts later and grows
                segments[0][0] += stride * filled.start
                segments[0][1] *= _filled_len(filled)
            else:
                segments = [[start + stride * index, length]
                            for index in range(filled.start, filled.stop, filled.step)
                            for start, length in segments]
            all_full = all_full and filled == slice(0, dim_len, 1)
        stride *= dim_len
    return segments


def calc_slicedefs(
    sliceobj: Any,
    in_shape: Sequence[int],
    itemsize: int,
    offset: int,
    order: str,
    heuristic: AxisHeuristic = threshold_heuristic,
) -> tuple[list[list[int]], tuple[int, ...], tuple[Any, ...]]:
    """``(segments, read_shape, post_slicers)`` to read ``arr[sliceobj]`` from a file.

    Read the byte ``segments`` in order, view them with ``read_shape`` (and
    ``order``), then index with ``post_slicers`` (empty when nothing is left to do).
    """
    if order not in ("C", "F"):
        raise SlicerError(f"order should be 'C' or 'F', not {order!r}")
    canonical = canonical_slicers(sliceobj, in_shape)
    shape = tuple(in_shape)
    if order == "C":  # plan as the F-ordered transpose
        canonical, shape = canonical[::-1], shape[::-1]
    read, post = optimize_read_slicers(canonical, shape, itemsize, heuristic)
    segments = slicers2segments(read, shape, offset, itemsize)
    read_shape = predict_shape(read, shape)
    if all(item == slice(None) for item in post):
        post = ()
    if order == "C":
        read_shape, post = read_shape[::-1], post[::-1]
    return list(segments), tuple(read_shape), tuple(post)


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def read_segments(fileobj: Any, segments: Sequence[Sequence[int]], n_bytes: int, lock: Any = None) -> Any:
    """The bytes of ``segments`` (``(offset, length)`` pairs) of ``fileobj``, joined.

    ``lock`` is held around each seek and read, so threads sharing
    ``fileobj`` (and the lock) do not move each other's position. ValueError
    when the bytes read are not ``n_bytes``.
    """
    guard = _NoLock() if lock is None else lock
    if not segments:
        if n_bytes:
            raise SlicerError(f"no segments to read, but {n_bytes} bytes expected")
        return b""
    if len(segments) == 1:
        start, length = segments[0]
        with guard:
            fileobj.seek(start)
            data = fileobj.read(length)
        if len(data) != n_bytes:
            raise SlicerError(f"read {len(data)} bytes, expected {n_bytes}")
        return data
    total = sum(int(length) for _, length in segments)
    if total != n_bytes:
        raise SlicerError(f"segments hold {total} bytes, expected {n_bytes}")
    out = mmap.mmap(-1, n_bytes)
    for start, length in segments:
        with guard:
            fileobj.seek(start)
            data = fileobj.read(length)
        if len(data) != length:
            raise SlicerError(f"read {len(data)} bytes at offset {start}, expected {length}")
        out.write(data)
    return out


def _simple_fileslice(
    fileobj: Any,
    sliceobj: Any,
    shape: Sequence[int],
    dtype: Any,
    offset: int = 0,
    order: str = "C",
    heuristic: Any = None,
) -> np.ndarray:
    """Read the whole array, then slice it (``heuristic`` is accepted and unused)."""
    dtype = np.dtype(dtype)
    fileobj.seek(offset)
    n_bytes = math.prod(shape) * dtype.itemsize
    data = fileobj.read(n_bytes)
    layout: Literal["C", "F"] = "F" if order == "F" else "C"
    return np.ndarray(tuple(shape), dtype, buffer=data, order=layout)[sliceobj]


def is_axis_heuristic(heuristic: Any) -> bool:
    """True for nibabel's kind of heuristic, taking (slicer, dim_len, stride)."""
    import inspect

    try:
        params = inspect.signature(heuristic).parameters.values()
    except (TypeError, ValueError):
        return False
    required = [p for p in params if p.default is p.empty and
                p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(required) == 3

