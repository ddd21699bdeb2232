"""Axis orientations of affines, and reorienting arrays to match them.

An *orientation* ``ornt`` is a ``(p, 2)`` array with one row per input (voxel)
axis: ``ornt[i, 0]`` is the output (world) axis that input axis ``i`` runs
along, and ``ornt[i, 1]`` is ``1`` if it runs the same way or ``-1`` if it runs
the opposite way. A row of NaN marks an input axis with no output axis of its
own. *Axis codes* name the positive end of each voxel axis with labels, by
default ``('L', 'R'), ('P', 'A'), ('I', 'S')``, so RAS+ is ``('R', 'A', 'S')``.

Reorienting an image to the closest canonical (RAS+) orientation is::

    ornt = io_orientation(affine)
    data = apply_orientation(data, ornt)
    affine = affine @ inv_ornt_aff(ornt, shape)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import ExpiredDeprecationError, NivoxError

__all__ = [
    "OrientationError",
    "io_orientation",
    "ornt_transform",
    "apply_orientation",
    "inv_ornt_aff",
    "flip_axis",
    "aff2axcodes",
    "axcodes2ornt",
    "ornt2axcodes",
]

_RAS_LABELS = (("L", "R"), ("P", "A"), ("I", "S"))

# A polar factor column whose entries are all within this of zero points
# nowhere: its input axis was dropped by the rank cut.
_ZERO_COLUMN_ATOL = 1e-8


class OrientationError(NivoxError, ValueError):
    """An orientation that is malformed or cannot be used as asked."""


def io_orientation(affine: ArrayLike, tol: float | None = None) -> NDArray[np.float64]:
    """Closest output axis, and direction, for each input axis of `affine`.

    The linear part, with each column scaled to unit length, is replaced by
    its closest orthogonal matrix (polar decomposition, so shears do not
    decide the answer). Input axes are then served in order of how strongly
    they point along any output axis; each takes the still-free output axis
    it is most parallel to.

    Parameters
    ----------
    affine : (q+1, p+1) array-like
        Affine from ``p`` input axes to ``q`` output axes.
    tol : None or float, optional
        Singular values of the normalized linear part at or below this count as
        zero. None means ``S.max() * max(p, q) * eps``.

    Returns
    -------
    ornt : (p, 2) ndarray of float64
        NaN rows for input axes left without an output axis (when ``p > q``
        or the affine is rank deficient).
    """
    aff = np.asarray(affine)
    if aff.ndim != 2:
        raise OrientationError(f"affine must be a 2D array, got shape {aff.shape}")
    if aff.dtype not in (np.float32, np.float64):  # the types LAPACK's SVD takes
        aff = aff.astype(np.float64)
    q, p = aff.shape[0] - 1, aff.shape[1] - 1
    ornt = np.full((max(p, 0), 2), np.nan)
    if p <= 0 or q <= 0:
        return ornt
    rzs = aff[:q, :p]
    if not np.all(np.isfinite(rzs)):
        raise OrientationError("affine contains non-finite values; its orientation is undefined")
    zooms = np.sqrt(np.sum(rzs * rzs, axis=0))
    zooms[zooms == 0] = 1
    u, s, vt = np.linalg.svd(rzs / zooms, full_matrices=False)
    if tol is None:
        tol = s.max() * max(p, q) * np.finfo(s.dtype).eps
    keep = s > tol
    polar = u[:, keep] @ vt[keep]
    order = np.argsort(-np.abs(polar).max(axis=0), kind="stable")
    # Each input axis claims one output axis; zeroing the claimed row keeps
    # later (weaker) input axes off it. p is tiny, so the loop is cheap.
    for in_ax in order:
        col = polar[:, in_ax]
        if np.all(np.abs(col) <= _ZERO_COLUMN_ATOL):
            continue
        out_ax = int(np.argmax(np.abs(col)))
        ornt[in_ax] = out_ax, (1 if col[out_ax] > 0 else -1)
        polar[out_ax, :] = 0
    return ornt


def _as_ornt(ornt: ArrayLike, name: str = "orientation") -> NDArray[np.float64]:
    arr = np.asarray(ornt, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise OrientationError(f"{name} must have shape (n, 2), got {arr.shape}")
    return arr


def _check_complete(arr: NDArray[np.float64], name: str) -> NDArray[np.intp]:
    """Validate an orientation without dropped axes; return its integer axes."""
    if np.isnan(arr).any():
        raise OrientationError(f"{name} has dropped (NaN) axes: {arr.tolist()}")
    axes = arr[:, 0]
    if np.any(axes != np.round(axes)) or np.any(axes < 0):
        raise OrientationError(f"{name} axes must be non-negative integers: {axes.tolist()}")
    if np.any(np.abs(arr[:, 1]) != 1):
        raise OrientationError(f"{name} directions must be 1 or -1: {arr[:, 1].tolist()}")
    int_axes = axes.astype(np.intp)
    if len(set(int_axes.tolist())) != int_axes.size:  # (np.unique would import numpy.ma: ~0.1 s)
        raise OrientationError(f"{name} uses an output axis twice: {int_axes.tolist()}")
    return int_axes


def ornt_transform(start_ornt: ArrayLike, end_ornt: ArrayLike) -> NDArray[np.int64]:
    """Orientation that turns arrays in `start_ornt` into arrays in `end_ornt`.

    Parameters
    ----------
    start_ornt, end_ornt : (n, 2) array-like
        Orientations over the same set of output axes.

    Returns
    -------
    ornt : (n, 2) ndarray of int64
        Feed to :func:`apply_orientation` on an array oriented as `start_ornt`.
    """
    start = _as_ornt(start_ornt, "start_ornt")
    end = _as_ornt(end_ornt, "end_ornt")
    if start.shape != end.shape:
        raise OrientationError(
            f"orientations must have the same shape, got {start.shape} and {end.shape}"
        )
    start_axes = _check_complete(start, "start_ornt")
    end_axes = _check_complete(end, "end_ornt")
    if not np.array_equal(np.sort(start_axes), np.sort(end_axes)):
        raise OrientationError(
            f"start_ornt axes {start_axes.tolist()} and end_ornt axes "
            f"{end_axes.tolist()} are not the same set of output axes"
        )
    # where each output axis sits in the end orientation
    end_index = np.empty(int(end_axes.max()) + 1 if end_axes.size else 0, dtype=np.int64)
    end_index[end_axes] = np.arange(end_axes.size)
    result = np.empty(start.shape, dtype=np.int64)
    result[:, 0] = end_index[start_axes]
    result[:, 1] = start[:, 1] * end[result[:, 0], 1]
    return result


def apply_orientation(arr: ArrayLike, ornt: ArrayLike) -> NDArray[Any]:
    """Flip and transpose the first axes of `arr` as `ornt` says.

    Input axis ``i`` is flipped if ``ornt[i, 1] == -1`` and becomes output
    axis ``ornt[i, 0]``. Axes beyond ``len(ornt)`` are kept in place.

    Parameters
    ----------
    arr : array-like
        With at least ``len(ornt)`` dimensions.
    ornt : (n, 2) array-like
        Orientation without dropped axes, a permutation of ``0 .. n-1``.

    Returns
    -------
    t_arr : ndarray
        A view of `arr` where `arr` is an ndarray.
    """
    data = np.asarray(arr)
    orientation = _as_ornt(ornt)
    n = orientation.shape[0]
    if data.ndim < n:
        raise OrientationError(
            f"data array has {data.ndim} dimensions, fewer than the orientation's {n}"
        )
    if np.isnan(orientation).any():
        raise OrientationError("cannot drop axes when applying an orientation to data")
    axes = _check_complete(orientation, "orientation")
    if np.any(axes >= n):
        raise OrientationError(f"orientation axes must be a permutation of 0..{n - 1}")
    flips = tuple(np.flatnonzero(orientation[:, 1] == -1))
    if flips:
        data = np.flip(data, axis=flips)
    perm = np.argsort(axes)
    return data.transpose(tuple(perm) + tuple(range(n, data.ndim)))


def inv_ornt_aff(ornt: ArrayLike, shape: Sequence[int] | ArrayLike) -> NDArray[np.float64]:
    """Affine from voxel indices of the reoriented array back to the original's.

    If ``tarr = apply_orientation(arr, ornt)``, then the voxel at index ``y``
    in ``tarr`` is the voxel at ``apply_affine(inv_ornt_aff(ornt, arr.shape), y)``
    in ``arr``; so ``affine @ inv_ornt_aff(ornt, arr.shape)`` is the affine of
    ``tarr``.

    Parameters
    ----------
    ornt : (p, 2) array-like
    shape : sequence of int
        Shape of the original array; only its first ``p`` values are used.

    Returns
    -------
    transform : (p+1, p+1) ndarray of float64
    """
    orientation = _as_ornt(ornt)
    p = orientation.shape[0]
    if np.isnan(orientation).any():
        raise OrientationError("cannot invert an orientation with dropped (NaN) axes")
    axes = _check_complete(orientation, "orientation")
    if np.any(axes >= p):
        raise OrientationError(f"orientation axes must be a permutation of 0..{p - 1}")
    dims = np.asarray(shape, dtype=np.float64).ravel()
    if dims.size < p:
        raise OrientationError(f"shape {tuple(shape)} has fewer than {p} dimensions")
    flips = orientation[:, 1]
    transform = np.zeros((p + 1, p + 1))
    transform[np.arange(p), axes] = flips
    transform[:p, p] = np.where(flips < 0, dims[:p] - 1, 0)
    transform[p, p] = 1
    return transform


def flip_axis(arr: ArrayLike, axis: int = 0) -> NDArray[Any]:
    """Removed in nibabel 5.0; use ``numpy.flip(arr, axis)``.

    Raises
    ------
    ExpiredDeprecationError
        Always.
    """
    raise ExpiredDeprecationError(
        "flip_axis was deprecated in nibabel 3.2 and removed in 5.0; "
        "use numpy.flip(arr, axis) instead"
    )


def _check_labels(labels: Sequence[Sequence[Any]] | None) -> tuple[tuple[Any, Any], ...]:
    if labels is None:
        return _RAS_LABELS
    pairs = []
    for pair in labels:
        pair = tuple(pair)
        if len(pair) != 2:
            raise OrientationError(f"each label entry must be a (negative, positive) pair: {pair}")
        pairs.append(pair)
    return tuple(pairs)


def ornt2axcodes(
    ornt: ArrayLike, labels: Sequence[Sequence[Any]] | None = None
) -> tuple[Any, ...]:
    """Axis codes (labels of the positive ends) for orientation `ornt`.

    Parameters
    ----------
    ornt : (n, 2) array-like
    labels : None or sequence of (2,) sequences, optional
        ``(negative end, positive end)`` labels per output axis; None means
        ``(('L', 'R'), ('P', 'A'), ('I', 'S'))``.

    Returns
    -------
    axcodes : tuple
        One label per input axis; None for dropped axes.
    """
    pairs = _check_labels(labels)
    orientation = _as_ornt(ornt)
    codes: list[Any] = []
    for axis, direction in orientation:
        if np.isnan(axis):
            codes.append(None)
            continue
        if axis != int(axis) or axis < 0:
            raise OrientationError(f"non-integer or negative axis number {axis}")
        if direction not in (1, -1):
            raise OrientationError(f"direction should be -1 or 1, got {direction}")
        if axis >= len(pairs):
            raise OrientationError(
                f"axis {int(axis)} has no labels; labels cover {len(pairs)} axes"
            )
        codes.append(pairs[int(axis)][1 if direction == 1 else 0])
    return tuple(codes)


def axcodes2ornt(
    axcodes: Sequence[Any], labels: Sequence[Sequence[Any]] | None = None
) -> NDArray[np.float64]:
    """Orientation for axis codes `axcodes` (inverse of :func:`ornt2axcodes`).

    Parameters
    ----------
    axcodes : sequence
        One label per input axis, such as ``'RAS'`` or ``('L', 'P', None)``;
        None marks a dropped axis.
    labels : None or sequence of (2,) sequences, optional
        As for :func:`ornt2axcodes`.

    Returns
    -------
    ornt : (n, 2) ndarray of float64
    """
    pairs = _check_labels(labels)
    lookup: dict[Any, tuple[int, int]] = {}
    for axis, (neg, pos) in enumerate(pairs):
        for label, direction in ((neg, -1), (pos, 1)):
            if label in lookup or label is None:
                raise OrientationError(f"duplicate or None label {label!r} in {pairs}")
            lookup[label] = (axis, direction)
    codes = list(axcodes)
    unknown = [code for code in codes if code is not None and code not in lookup]
    if unknown:
        raise OrientationError(
            f"axis codes {unknown} are not in the label set {[lab for p in pairs for lab in p]}"
        )
    ornt = np.full((len(codes), 2), np.nan)
    for row, code in enumerate(codes):
        if code is not None:
            ornt[row] = lookup[code]
    return ornt


def aff2axcodes(
    aff: ArrayLike,
    labels: Sequence[Sequence[Any]] | None = None,
    tol: float | None = None,
) -> tuple[Any, ...]:
    """Axis codes of the voxel axes of affine `aff`, e.g. ``('R', 'A', 'S')``.

    Parameters
    ----------
    aff : (q+1, p+1) array-like
    labels : None or sequence of (2,) sequences, optional
        As for :func:`ornt2axcodes`.
    tol : None or float, optional
        As for :func:`io_orientation`.

    Returns
    -------
    axcodes : tuple
        None for input axes without an output axis.
    """
    return ornt2axcodes(io_orientation(aff, tol), labels)
