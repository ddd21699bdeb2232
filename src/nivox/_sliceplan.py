"""Index arithmetic for :mod:`nivox.fileslice`: what an index selects, before any byte is read.

Canonical forms of basic indices, the shape an index gives, the split of a
fancy index into a bounding box plus an in-memory index, and the plan of
contiguous byte runs a box makes in a file. Nothing here touches a file.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import SlicerError

_INVALID_INDEX = (
    "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and "
    "integer or boolean arrays are valid indices"
)


def _as_tuple(sliceobj: Any) -> tuple[Any, ...]:
    return sliceobj if isinstance(sliceobj, tuple) else (sliceobj,)


def _as_int(item: Any) -> int | None:
    """``item`` as an index if it is one integer (bools are not), else None."""
    if isinstance(item, (bool, np.bool_)) or (isinstance(item, np.ndarray) and item.dtype == bool):
        return None
    try:
        return operator.index(item)
    except TypeError:
        return None


def _is_fancy_item(item: Any) -> bool:
    if item is None or item is Ellipsis or isinstance(item, slice):
        return False
    if _as_int(item) is not None:
        return False
    return isinstance(item, (list, tuple, np.ndarray, bool, np.bool_))


def is_fancy(sliceobj: Any) -> bool:
    """Whether ``sliceobj`` uses numpy advanced indexing (integer or boolean arrays)."""
    return any(_is_fancy_item(item) for item in _as_tuple(sliceobj))


def _axes_used(items: Sequence[Any]) -> int:
    used = 0
    for item in items:
        if item is None or item is Ellipsis:
            continue
        if isinstance(item, np.ndarray) and item.dtype == bool:
            used += item.ndim
        elif isinstance(item, (bool, np.bool_)):
            continue
        else:
            used += 1
    return used


def _ellipsis_fill(items: Sequence[Any], ndim: int) -> int:
    """How many axes the Ellipsis of ``items`` (or an implicit trailing one) stands for."""
    if sum(item is Ellipsis for item in items) > 1:
        raise SlicerError("an index can only have a single ellipsis ('...')")
    used = _axes_used(items)
    if used > ndim:
        raise SlicerError(f"too many indices for array: array is {ndim}-dimensional, but {used} were indexed")
    return ndim - used


def _expand(items: Sequence[Any], ndim: int) -> list[Any]:
    """``items`` with its Ellipsis (or an implicit trailing one) replaced by full slices."""
    fill = [slice(None)] * _ellipsis_fill(items, ndim)
    if not any(item is Ellipsis for item in items):
        return [*items, *fill]
    at = next(i for i, item in enumerate(items) if item is Ellipsis)
    return [*items[:at], *fill, *items[at + 1 :]]


def _canonical_slice(item: slice, length: int) -> slice:
    """``slice(None)`` for a slice written out as the whole axis, else ``item`` as given.

    nibabel's rule: only ``[:n]``, ``[0:n]`` and ``[0:n:1]`` on an axis of
    length n count as whole; other slices are kept, so code comparing
    canonical slicers with the ones it passed sees them unchanged.
    """
    if item.start in (None, 0) and item.stop == length and item.step in (None, 1):
        return slice(None)
    return item


def canonical_slicers(sliceobj: Any, shape: Sequence[int], check_inds: bool = True) -> tuple[Any, ...]:
    """``sliceobj`` in a standard form for an array of ``shape``.

    The result has one entry per axis plus the ``None`` (new axis) entries, in
    order; Ellipsis is expanded, integers are non-negative, slices written as
    the whole axis (``[:n]``, ``[0:n]``) are ``slice(None)`` and other slices
    are kept as given, as nibabel does.

    Raises
    ------
    SlicerError
        (an IndexError and a ValueError) for out-of-range integers (unless
        ``check_inds`` is False), too many indices, several Ellipses or
        objects that are not indices.
    ValueError
        For fancy (array) indices, which have no canonical form.
    """
    items = _as_tuple(sliceobj)
    if is_fancy(items):
        raise SlicerError("fancy indexing (integer or boolean arrays) has no canonical slicers")
    shape = tuple(int(n) for n in shape)
    canonical: list[Any] = []
    axis = 0
    for item in _expand(items, len(shape)):
        if item is None:
            canonical.append(None)
            continue
        length = shape[axis]
        if isinstance(item, slice):
            canonical.append(_canonical_slice(item, length))
        else:
            index = _as_int(item)
            if index is None:
                raise SlicerError(_INVALID_INDEX)
            if check_inds and not -length <= index < length:
                raise SlicerError(f"index {index} is out of bounds for axis {axis} with size {length}")
            canonical.append(index + length if index < 0 else index)
        axis += 1
    return tuple(canonical)


def predict_shape(sliceobj: Any, in_shape: Sequence[int]) -> tuple[int, ...]:
    """Shape of ``arr[sliceobj]`` for an array of shape ``in_shape``, without the array."""
    in_shape = tuple(int(n) for n in in_shape)
    if is_fancy(sliceobj):
        box, rest = _split_fancy(_as_tuple(sliceobj), in_shape)
        return strided_scalar(predict_shape(tuple(box), in_shape))[tuple(rest)].shape
    shape = []
    for item, length in _with_axes(canonical_slicers(sliceobj, in_shape), in_shape):
        if item is None:
            shape.append(1)
        elif isinstance(item, slice):
            shape.append(len(range(*item.indices(length))))
    return tuple(shape)


def _with_axes(canonical: Sequence[Any], shape: Sequence[int]) -> list[tuple[Any, int]]:
    """Pair each canonical entry with the length of the axis it indexes (0 for None)."""
    pairs = []
    axis = 0
    for item in canonical:
        if item is None:
            pairs.append((None, 0))
        else:
            pairs.append((item, shape[axis]))
            axis += 1
    return pairs


def strided_scalar(shape: Sequence[int], scalar: Any = 0.0) -> np.ndarray:
    """A read-only array of ``shape`` filled with ``scalar``, using one element of memory."""
    return np.broadcast_to(np.asarray(scalar), tuple(shape))


# ---------------------------------------------------------------- byte runs


def _selection(item: Any, length: int) -> tuple[int, int, int, bool]:
    """(lowest index, count, positive step, reversed) of a canonical entry."""
    if not isinstance(item, slice):
        return item, 1, 1, False
    start, stop, step = item.indices(length)
    count = len(range(start, stop, step))
    if count == 0:
        return 0, 0, 1, False
    if step > 0:
        return start, count, step, False
    return start + (count - 1) * step, count, -step, True


def basic_selections(
    items: Sequence[Any], shape: Sequence[int]
) -> tuple[list[tuple[int, int, int, bool]], tuple[int, ...]] | None:
    """(selections, result shape) of an index of integers, forward slices and at most one Ellipsis.

    The indices almost every read uses (``[..., t]``, ``[:, :, z]``,
    ``[10:20]``) go this short way, which costs a few microseconds instead
    of the canonical form's tens. Anything else gives None and takes the
    general way, which also raises numpy's errors: None (new axes), arrays,
    negative or zero steps, integers out of range, all-integer indices
    (numpy gives a scalar for those).
    """
    ndim = len(shape)
    ellipses = sum(1 for item in items if item is Ellipsis)
    if ellipses > 1 or len(items) - ellipses > ndim:
        return None
    selections: list[tuple[int, int, int, bool]] = []
    result: list[int] = []
    has_axes = ellipses == 1 or len(items) < ndim
    for item in items:
        if item is Ellipsis:
            for _ in range(ndim - (len(items) - 1)):
                length = shape[len(selections)]
                selections.append((0, length, 1, False))
                result.append(length)
            continue
        length = shape[len(selections)]
        if type(item) is slice:
            if item.step is not None and (not isinstance(item.step, int) or item.step <= 0):
                return None
            selection = _selection(item, length)
            selections.append(selection)
            result.append(selection[1])
            has_axes = True
        elif type(item) is int or isinstance(item, np.integer):
            index = int(item) + length if item < 0 else int(item)
            if not 0 <= index < length:
                return None
            selections.append((index, 1, 1, False))
        else:
            return None
    for length in shape[len(selections) :]:
        selections.append((0, length, 1, False))
        result.append(length)
    return (selections, tuple(result)) if has_axes else None


def _plan_runs(
    shape: tuple[int, ...], itemsize: int, order: str, selections: Sequence[tuple[int, int, int, bool]]
) -> tuple[int, int, list[list[int]]]:
    """(first byte, run length, [[count, byte stride], ...] fastest first) of a box."""
    axes = range(len(shape)) if order == "F" else range(len(shape) - 1, -1, -1)
    first, run, stride = 0, itemsize, itemsize
    grid: list[list[int]] = []
    for axis in axes:
        low, count, step, _ = selections[axis]
        first += low * stride
        gap_stride = step * stride
        stride *= shape[axis]
        if count == 1:
            continue
        if not grid and gap_stride == run:
            run *= count
        elif grid and gap_stride == grid[-1][0] * grid[-1][1]:
            grid[-1][0] *= count
        else:
            grid.append([count, gap_stride])
    return first, run, grid


def _offset_grid(axes: Sequence[Sequence[int]], strides: Sequence[int]) -> np.ndarray:
    """Offsets of every point of a grid, in file order (fastest axis varying fastest)."""
    offsets = np.zeros(1, dtype=np.int64)
    for (count, _), stride in zip(axes, strides):
        offsets = (np.arange(count, dtype=np.int64)[:, None] * stride + offsets[None, :]).ravel()
    return offsets


# ---------------------------------------------------------------- fancy


def _broadcasts_to_nothing(items: Sequence[Any]) -> bool:
    """Whether the index arrays among ``items`` broadcast to an empty selection."""
    shapes = []
    for item in items:
        if isinstance(item, (list, tuple, np.ndarray)):
            arr = np.asarray(item)
            if arr.dtype == bool:
                shapes.append((int(arr.sum()),) if arr.ndim else ())
            elif arr.ndim:
                shapes.append(arr.shape)
    try:
        return bool(shapes) and math.prod(np.broadcast_shapes(*shapes)) == 0
    except ValueError:  # they do not broadcast: numpy says so later
        return False


def _split_fancy(items: Sequence[Any], shape: tuple[int, ...]) -> tuple[list[Any], list[Any]]:
    """Split a fancy index into a basic bounding box and an index into that box.

    ``arr[items] == arr[box][rest]``. Integers become length-1 slices in the
    box and 0 in ``rest`` so that numpy places advanced-index axes exactly as
    it would for the original index.
    """
    box: list[Any] = []
    rest: list[Any] = []
    axis = 0
    fill = _ellipsis_fill(items, len(shape))
    # numpy checks no bounds of index arrays that broadcast to nothing
    unchecked = _broadcasts_to_nothing(items)
    for item in items:
        if item is Ellipsis:
            # keep it in ``rest``: even standing for no axes, it separates
            # advanced indices, which changes where numpy puts their axes
            box.extend([slice(None)] * fill)
            rest.append(Ellipsis)
            axis += fill
            continue
        if item is None or isinstance(item, (bool, np.bool_)):
            rest.append(item)
            continue
        if isinstance(item, slice):
            box.append(item)
            rest.append(slice(None))
            axis += 1
            continue
        index = _as_int(item)
        if index is not None:
            length = shape[axis]
            if not -length <= index < length:
                raise SlicerError(f"index {index} is out of bounds for axis {axis} with size {length}")
            index %= length
            box.append(slice(index, index + 1))
            rest.append(0)
            axis += 1
            continue
        if not isinstance(item, (list, tuple, np.ndarray)):
            raise SlicerError(_INVALID_INDEX)
        arr = np.asarray(item)
        if arr.dtype == bool and arr.ndim == 0:  # adds an axis, consumes none
            rest.append(arr)
            continue
        if arr.dtype == bool:
            lengths = shape[axis : axis + arr.ndim]
            if arr.shape != lengths:
                raise SlicerError(
                    f"boolean index did not match indexed array along axis {axis}; "
                    f"size of axis is {lengths} but size of corresponding boolean index is {arr.shape}"
                )
            hits = np.nonzero(arr)
            bounds = [(int(h.min()), int(h.max()) + 1) if h.size else (0, 0) for h in hits]
            box.extend(slice(low, high) for low, high in bounds)
            rest.append(arr[tuple(slice(low, high) for low, high in bounds)])
            axis += arr.ndim
            continue
        if arr.size == 0:
            arr = arr.astype(np.intp)
        if arr.dtype.kind not in "iu":
            raise SlicerError("arrays used as indices must be of integer (or boolean) type")
        length = shape[axis]
        if arr.size and not unchecked:
            low, high = int(arr.min()), int(arr.max())
            if low < -length or high >= length:
                bad = low if low < -length else high
                raise SlicerError(f"index {bad} is out of bounds for axis {axis} with size {length}")
            arr = np.where(arr < 0, arr + length, arr)
            low, high = int(arr.min()), int(arr.max())
            box.append(slice(low, high + 1))
            rest.append(arr - low)
        else:
            box.append(slice(0, 0))
            rest.append(arr)
        axis += 1
    return box, rest
