"""Points and homogeneous affine transforms.

An affine here is an ``(N+1, M+1)`` array: the top-left ``(N, M)`` block maps
``M`` input coordinates to ``N`` output coordinates, the last column holds the
translation, and the last row is ``[0, ..., 0, 1]``.

Where nibabel silently truncates (an integer matrix combined with a fractional
translation or diagonal), these functions promote to a dtype that can hold the
values instead; otherwise dtypes follow nibabel.
"""

from __future__ import annotations

from functools import reduce
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import ArgumentTypeError, NivoxError

__all__ = [
    "AffineError",
    "apply_affine",
    "to_matvec",
    "from_matvec",
    "append_diag",
    "dot_reduce",
    "voxel_sizes",
    "obliquity",
    "rescale_affine",
]


class AffineError(NivoxError, ValueError):
    """An affine (or rotation) that cannot be built, split or applied."""


def _as_2d(affine: ArrayLike, what: str = "affine") -> NDArray[Any]:
    arr = np.asarray(affine)
    if arr.ndim != 2:
        raise AffineError(f"{what} must be a 2D array, got shape {arr.shape}")
    return arr


def _lossless_dtype(base: np.dtype, extra: NDArray[Any]) -> np.dtype:
    # Keep the matrix dtype (nibabel's convention) unless the extra values
    # would be cut down by it, e.g. 9.5 stored into an integer affine.
    if np.can_cast(extra.dtype, base, casting="same_kind"):
        return base
    return np.result_type(base, extra.dtype)


def apply_affine(aff: ArrayLike, pts: ArrayLike, inplace: bool = False) -> NDArray[Any]:
    """Apply homogeneous affine `aff` to points `pts` (coordinates on the last axis).

    Parameters
    ----------
    aff : (N+1, M+1) array-like
        Homogeneous affine; a 3D transform is (4, 4).
    pts : (..., M) array-like
        Points, one per row of the last axis.
    inplace : bool, optional
        Write the result into `pts` when it is an array of the result's
        dtype and shape; otherwise a new array is returned.

    Returns
    -------
    transformed : (..., N) ndarray
    """
    aff = _as_2d(aff)
    pts_arr = np.asarray(pts)
    if pts_arr.ndim == 0 or pts_arr.shape[-1] != aff.shape[1] - 1:
        raise AffineError(
            f"points need a last axis of length {aff.shape[1] - 1} for an affine of "
            f"shape {aff.shape}, got points of shape {pts_arr.shape}"
        )
    rzs = aff[:-1, :-1]
    trans = aff[:-1, -1]
    out_dtype = np.result_type(aff, pts_arr)
    if (
        inplace
        and pts_arr is pts
        and out_dtype == pts_arr.dtype
        and rzs.shape[0] == rzs.shape[1]
        and pts_arr.flags.writeable
    ):
        # matmul buffers overlapping operands itself, so out= may alias pts.
        np.matmul(pts_arr, rzs.T, out=pts_arr)
        pts_arr += trans
        return pts_arr
    res = pts_arr @ rzs.T
    res += trans
    return res


def to_matvec(transform: ArrayLike) -> tuple[NDArray[Any], NDArray[Any]]:
    """Split homogeneous `transform` into its matrix and translation vector.

    Parameters
    ----------
    transform : (N+1, M+1) array-like

    Returns
    -------
    matrix : (N, M) ndarray
    vector : (N,) ndarray
    """
    arr = _as_2d(transform, "transform")
    return arr[:-1, :-1], arr[:-1, -1]


def from_matvec(matrix: ArrayLike, vector: ArrayLike | None = None) -> NDArray[Any]:
    """Join `matrix` and translation `vector` into a homogeneous transform.

    Parameters
    ----------
    matrix : (N, M) array-like
        Linear part.
    vector : None or (N,) array-like, optional
        Translation; None means zeros.

    Returns
    -------
    xform : (N+1, M+1) ndarray
    """
    mat = _as_2d(matrix, "matrix")
    nrows, ncols = mat.shape
    dtype = mat.dtype
    if vector is not None:
        vec = np.asarray(vector)
        if vec.shape not in ((nrows,), (nrows, 1)):
            raise AffineError(
                f"translation must have {nrows} values for a matrix of shape "
                f"{mat.shape}, got shape {vec.shape}"
            )
        dtype = _lossless_dtype(dtype, vec)
    xform = np.zeros((nrows + 1, ncols + 1), dtype=dtype)
    xform[:nrows, :ncols] = mat
    if vector is not None:
        xform[:nrows, ncols] = vec.reshape(nrows)
    xform[nrows, ncols] = 1
    return xform


def append_diag(aff: ArrayLike, steps: ArrayLike, starts: ArrayLike = ()) -> NDArray[Any]:
    """Extend `aff` with new axes of scale `steps` and translation `starts`.

    Parameters
    ----------
    aff : (N, M) array-like
        Homogeneous affine.
    steps : scalar or sequence
        Diagonal entries for the new axes.
    starts : scalar or sequence, optional
        Translations for the new axes; empty means zeros.

    Returns
    -------
    aff_plus : (N+L, M+L) ndarray
        With ``L = len(steps)``.
    """
    arr = _as_2d(aff)
    step_arr = np.atleast_1d(np.asarray(steps))
    start_arr = np.atleast_1d(np.asarray(starts))
    if step_arr.ndim != 1:
        raise AffineError(f"steps must be a scalar or 1D sequence, got shape {step_arr.shape}")
    n_new = step_arr.size
    if start_arr.size == 0:
        start_arr = np.zeros(n_new, dtype=arr.dtype)
    if start_arr.shape != (n_new,):
        raise AffineError(
            f"starts must have the same length as steps ({n_new}), got shape {start_arr.shape}"
        )
    dtype = _lossless_dtype(_lossless_dtype(arr.dtype, step_arr), start_arr)
    nrows, ncols = arr.shape
    old_out, old_in = nrows - 1, ncols - 1
    out = np.zeros((nrows + n_new, ncols + n_new), dtype=dtype)
    out[:old_out, :old_in] = arr[:old_out, :old_in]
    out[:old_out, -1] = arr[:old_out, -1]
    new_rows = np.arange(old_out, old_out + n_new)
    out[new_rows, np.arange(old_in, old_in + n_new)] = step_arr
    out[new_rows, -1] = start_arr
    out[-1, -1] = 1
    return out


def dot_reduce(*args: ArrayLike) -> NDArray[Any]:
    """Matrix product of all arguments, evaluated right to left.

    ``dot_reduce(A, B, C)`` is ``A.dot(B.dot(C))``.
    """
    if not args:
        raise ArgumentTypeError("dot_reduce needs at least one array")  # a TypeError, as in nibabel
    return reduce(lambda right, left: np.dot(left, right), reversed(args))


def voxel_sizes(affine: ArrayLike) -> NDArray[Any]:
    """Length of each input (voxel) axis in output (world) units.

    These are the Euclidean norms of the columns of ``affine[:-1, :-1]``.

    Parameters
    ----------
    affine : (N+1, M+1) array-like

    Returns
    -------
    vox_sizes : (M,) ndarray
    """
    rzs = _as_2d(affine)[:-1, :-1]
    return np.sqrt(np.sum(rzs * rzs, axis=0))


def obliquity(affine: ArrayLike) -> NDArray[Any]:
    """Angle, in radians, between each world axis and its closest voxel axis.

    This is AFNI's measure of obliquity: for every world axis, the arccosine of
    the largest absolute direction cosine over the voxel axes.

    Parameters
    ----------
    affine : (N+1, M+1) array-like

    Returns
    -------
    angles : (N,) ndarray
        NaN where a voxel axis has zero length.
    """
    arr = _as_2d(affine)
    vs = voxel_sizes(arr)
    with np.errstate(invalid="ignore", divide="ignore"):
        best_cosines = np.abs(arr[:-1, :-1] / vs).max(axis=1)
    # rounding can push a cosine just above 1 for a cardinal axis
    return np.arccos(np.minimum(best_cosines, 1))


def rescale_affine(
    affine: ArrayLike,
    shape: ArrayLike,
    zooms: ArrayLike,
    new_shape: ArrayLike | None = None,
) -> NDArray[Any]:
    """Affine with voxel sizes `zooms` and the same rotations, shears and centre.

    The world position of the central voxel (``(shape - 1) // 2``) of the
    original grid is kept at the central voxel of the new grid.

    Parameters
    ----------
    affine : (N+1, N+1) array-like
    shape : (N,) array-like
        Grid shape of `affine`.
    zooms : (N,) array-like or scalar
        Voxel sizes of the new affine.
    new_shape : (N,) array-like, optional
        Grid shape of the new affine; defaults to `shape`.

    Returns
    -------
    affine : (N+1, N+1) ndarray
    """
    arr = _as_2d(affine)
    ndim = arr.shape[0] - 1
    if arr.shape != (ndim + 1, ndim + 1):
        raise AffineError(f"rescale_affine needs a square affine, got shape {arr.shape}")
    # As in nibabel the result takes the type of affine * zooms, so a float32
    # affine with a scalar zoom stays float32 while integer input becomes float64.
    zoom_arr = np.asarray(zooms)
    float_type = np.result_type(arr, zooms if zoom_arr.ndim == 0 else zoom_arr, np.float16)
    if not np.issubdtype(float_type, np.floating):
        float_type = np.dtype(np.float64)
    zoom_arr = zoom_arr.astype(float_type)
    shape_arr = np.asarray(shape)
    new_shape_arr = shape_arr if new_shape is None else np.asarray(new_shape)
    for name, value in (("shape", shape_arr), ("new_shape", new_shape_arr), ("zooms", zoom_arr)):
        if value.shape != (ndim,) and not (name == "zooms" and value.ndim == 0):
            raise AffineError(f"{name} needs {ndim} values for affine of shape {arr.shape}")
    sizes = voxel_sizes(arr)
    if np.any(sizes == 0):
        raise AffineError("cannot rescale an affine with a zero-length voxel axis")
    rzs_out = arr[:-1, :-1].astype(float_type) * zoom_arr / sizes
    centre_world = apply_affine(arr, (shape_arr - 1) // 2)
    trans_out = centre_world - rzs_out @ ((new_shape_arr - 1) // 2)
    return from_matvec(rzs_out, trans_out.astype(float_type))
