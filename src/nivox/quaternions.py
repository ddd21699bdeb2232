"""Quaternions ``(w, x, y, z)`` and the rotations they stand for.

``w`` is the real part, ``(x, y, z)`` the vector part; this is the order NIfTI
uses for ``quatern_b/c/d`` (with ``w`` implied, see :func:`fillpositive`).
Rotation matrices act on column vectors: ``M @ v``.

Functions that take quaternions or matrices also accept stacks of them,
``(..., 4)`` or ``(..., 3, 3)``, and answer with a stack, so many rotations are
converted with one numpy call. Invalid input raises
:class:`nivox.affines.AffineError`, a ``ValueError``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .affines import AffineError

__all__ = [
    "FLOAT_EPS",
    "MAX_FLOAT",
    "fillpositive",
    "quat2mat",
    "mat2quat",
    "mult",
    "inverse",
    "eye",
    "norm",
    "isunit",
    "conjugate",
    "rotate_vector",
    "nearly_equivalent",
    "angle_axis2quat",
    "angle_axis2mat",
    "quat2angle_axis",
]

FLOAT_EPS: float = float(np.finfo(np.float64).eps)
# Widest float numpy offers here; fillpositive works in it because
# 1 - (x*x + y*y + z*z) loses most of its digits when w is small.
MAX_FLOAT: type = np.longdouble


def _float_array(a: ArrayLike) -> NDArray[np.floating[Any]]:
    arr = np.asarray(a)
    if not np.issubdtype(arr.dtype, np.inexact):
        arr = arr.astype(np.float64)
    return arr


def _check_last(arr: NDArray[Any], n: int, what: str) -> None:
    if arr.ndim == 0 or arr.shape[-1] != n:
        raise AffineError(f"{what} must have {n} values on its last axis, got shape {arr.shape}")


def _default_thresh(dtype: np.dtype, factor: int) -> float:
    # A few machine epsilons of the input's own precision: float32 values
    # from a NIfTI header carry float32 rounding, not float64 rounding.
    if np.issubdtype(dtype, np.inexact):
        return factor * float(np.finfo(dtype).eps)
    return factor * FLOAT_EPS


def fillpositive(xyz: ArrayLike, w2_thresh: float | None = None) -> NDArray[np.longdouble]:
    """Unit quaternion ``(w, x, y, z)`` with non-negative ``w`` from its vector part.

    Parameters
    ----------
    xyz : 3 element array-like
        ``x, y, z`` of the quaternion.
    w2_thresh : None or float, optional
        ``w**2 = 1 - (x*x + y*y + z*z)`` with magnitude below this is taken to
        be 0 (a 180 degree rotation), so rounding in ``xyz`` cannot make a
        valid rotation fail. None means 3 machine epsilons of the input dtype
        (of float64 for non-float input).

    Returns
    -------
    wxyz : (4,) ndarray of longdouble

    Raises
    ------
    AffineError
        If `xyz` does not have 3 values, or ``w**2`` is negative beyond the
        threshold (``|xyz| > 1``).
    """
    xyz_in = np.asarray(xyz)
    if xyz_in.shape != (3,):
        raise AffineError(f"xyz should have 3 values, got shape {xyz_in.shape}")
    if w2_thresh is None:
        w2_thresh = _default_thresh(xyz_in.dtype, 3)
    wxyz = np.empty(4, dtype=MAX_FLOAT)
    wxyz[1:] = xyz_in
    x, y, z = wxyz[1:]
    w2 = 1.0 - (x * x + y * y + z * z)
    if abs(w2) < abs(w2_thresh):
        wxyz[0] = 0
    elif w2 < 0:
        raise AffineError(
            f"quaternion vector part {xyz_in.tolist()} has squared length above 1 "
            f"(w2 = {float(w2):e}); it is not a rotation"
        )
    else:
        wxyz[0] = np.sqrt(w2)
    return wxyz


def quat2mat(q: ArrayLike) -> NDArray[np.floating[Any]]:
    """Rotation matrix for quaternion `q`.

    Non-unit quaternions are normalized; a quaternion of (nearly) zero norm
    gives the identity.

    Parameters
    ----------
    q : (..., 4) array-like
        ``w, x, y, z``.

    Returns
    -------
    M : (..., 3, 3) ndarray
        In the float type of `q` (float64 for integer input).
    """
    qa = _float_array(q)
    _check_last(qa, 4, "quaternion")
    w, x, y, z = np.moveaxis(qa, -1, 0)
    nq = w * w + x * x + y * y + z * z
    tiny = nq < FLOAT_EPS
    if qa.ndim == 1 and tiny:
        return np.eye(3)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(tiny, 0, 2.0 / nq).astype(qa.dtype)
    X, Y, Z = x * s, y * s, z * s
    wX, wY, wZ = w * X, w * Y, w * Z
    xX, xY, xZ = x * X, x * Y, x * Z
    yY, yZ, zZ = y * Y, y * Z, z * Z
    rows = (
        (1.0 - (yY + zZ), xY - wZ, xZ + wY),
        (xY + wZ, 1.0 - (xX + zZ), yZ - wX),
        (xZ - wY, yZ + wX, 1.0 - (xX + yY)),
    )
    return np.stack([np.stack(row, axis=-1) for row in rows], axis=-2).astype(qa.dtype, copy=False)


def mat2quat(M: ArrayLike) -> NDArray[np.float64]:
    """Quaternion closest to rotation matrix `M`, with ``w >= 0``.

    Uses Bar-Itzhack's method: the eigenvector of largest eigenvalue of a
    symmetric 4x4 matrix built from `M`, which tolerates a matrix that is not
    exactly orthogonal.

    Parameters
    ----------
    M : (..., 3, 3) array-like

    Returns
    -------
    q : (..., 4) ndarray of float64
    """
    m = np.asarray(M, dtype=np.float64)
    if m.ndim < 2 or m.shape[-2:] != (3, 3):
        raise AffineError(f"rotation matrix must have shape (..., 3, 3), got {m.shape}")
    if not np.all(np.isfinite(m)):
        raise AffineError("rotation matrix contains non-finite values")
    mxx, myx, mzx = m[..., 0, 0], m[..., 1, 0], m[..., 2, 0]
    mxy, myy, mzy = m[..., 0, 1], m[..., 1, 1], m[..., 2, 1]
    mxz, myz, mzz = m[..., 0, 2], m[..., 1, 2], m[..., 2, 2]
    # eigenvector order is (x, y, z, w); only the lower triangle is read
    zero = np.zeros_like(mxx)
    K = np.stack(
        [
            np.stack([mxx - myy - mzz, zero, zero, zero], axis=-1),
            np.stack([myx + mxy, myy - mxx - mzz, zero, zero], axis=-1),
            np.stack([mzx + mxz, mzy + myz, mzz - mxx - myy, zero], axis=-1),
            np.stack([mzy - myz, mxz - mzx, myx - mxy, mxx + myy + mzz], axis=-1),
        ],
        axis=-2,
    ) / 3.0
    vals, vecs = np.linalg.eigh(K, UPLO="L")
    best = np.take_along_axis(vecs, np.argmax(vals, axis=-1)[..., None, None], axis=-1)[..., 0]
    q = best[..., [3, 0, 1, 2]]
    return np.where(q[..., :1] < 0, -q, q)


def mult(q1: ArrayLike, q2: ArrayLike) -> NDArray[Any]:
    """Hamilton product ``q1 * q2`` (broadcasting over leading axes)."""
    a, b = np.asarray(q1), np.asarray(q2)
    _check_last(a, 4, "q1")
    _check_last(b, 4, "q2")
    w1, x1, y1, z1 = np.moveaxis(a, -1, 0)
    w2, x2, y2, z2 = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 + y1 * w2 + z1 * x2 - x1 * z2,
            w1 * z2 + z1 * w2 + x1 * y2 - y1 * x2,
        ],
        axis=-1,
    )


_CONJ_SIGNS = np.array([1.0, -1.0, -1.0, -1.0])


def conjugate(q: ArrayLike) -> NDArray[np.floating[Any]]:
    """Conjugate ``(w, -x, -y, -z)`` of quaternion `q` (float64 or wider)."""
    qa = np.asarray(q)
    _check_last(qa, 4, "quaternion")
    return qa * _CONJ_SIGNS


def norm(q: ArrayLike) -> Any:
    """Squared norm ``w*w + x*x + y*y + z*z`` of `q` (nibabel's meaning of norm)."""
    qa = np.asarray(q)
    _check_last(qa, 4, "quaternion")
    if qa.ndim == 1:
        return np.dot(qa, qa)
    return np.einsum("...i,...i->...", qa, qa)


def isunit(q: ArrayLike) -> bool:
    """True if `q` has norm 1 within ``np.allclose`` tolerance."""
    return bool(np.allclose(norm(q), 1))


def inverse(q: ArrayLike) -> NDArray[np.floating[Any]]:
    """Multiplicative inverse of `q`; NaN for the zero quaternion."""
    n = norm(q)
    with np.errstate(divide="ignore", invalid="ignore"):
        return conjugate(q) / np.asarray(n)[..., None]


def eye() -> NDArray[np.float64]:
    """Identity quaternion ``(1, 0, 0, 0)``."""
    return np.array([1.0, 0, 0, 0])


def rotate_vector(v: ArrayLike, q: ArrayLike) -> NDArray[np.floating[Any]]:
    """Vector `v` rotated by quaternion `q`, as ``q * (0, v) * conj(q)``.

    A non-unit `q` also scales `v` by its squared norm.

    Parameters
    ----------
    v : (..., 3) array-like
    q : (..., 4) array-like

    Returns
    -------
    vdash : (..., 3) ndarray of float64 (or wider)
    """
    va = np.asarray(v)
    _check_last(va, 3, "vector")
    vq = np.concatenate([np.zeros(va.shape[:-1] + (1,), dtype=np.float64), va], axis=-1)
    return mult(q, mult(vq, conjugate(q)))[..., 1:]


def nearly_equivalent(
    q1: ArrayLike, q2: ArrayLike, rtol: float = 1e-5, atol: float = 1e-8
) -> bool:
    """True if `q1` is close to `q2` or to ``-q2`` (the same rotation)."""
    a, b = np.asarray(q1), np.asarray(q2)
    return bool(np.allclose(a, b, rtol, atol) or np.allclose(a, -b, rtol, atol))


def _unit_axis(vector: ArrayLike, is_normalized: bool) -> NDArray[np.floating[Any]]:
    axis = _float_array(vector)
    if axis.shape != (3,):
        raise AffineError(f"rotation axis must have 3 values, got shape {axis.shape}")
    if is_normalized:
        return axis
    length = np.sqrt(np.dot(axis, axis))
    if length == 0:
        raise AffineError("rotation axis vector has zero length")
    return axis / length


def angle_axis2quat(theta: float, vector: ArrayLike, is_normalized: bool = False) -> NDArray[Any]:
    """Quaternion for a rotation of `theta` radians around `vector`.

    Parameters
    ----------
    theta : float
    vector : 3 element array-like
    is_normalized : bool, optional
        True if `vector` already has length 1 (it is then used as given).

    Returns
    -------
    quat : (4,) ndarray of float64
    """
    axis = _unit_axis(vector, is_normalized).astype(np.float64)
    half = theta / 2.0
    return np.concatenate([[math.cos(half)], axis * math.sin(half)])


def angle_axis2mat(theta: float, vector: ArrayLike, is_normalized: bool = False) -> NDArray[Any]:
    """Rotation matrix for `theta` radians around `vector` (Rodrigues' formula).

    Parameters
    ----------
    theta : float
    vector : 3 element array-like
    is_normalized : bool, optional
        True if `vector` already has length 1 (it is then used as given).

    Returns
    -------
    M : (3, 3) ndarray
    """
    x, y, z = _unit_axis(vector, is_normalized)
    c, s = np.cos(theta), np.sin(theta)
    C = 1 - c
    xs, ys, zs = x * s, y * s, z * s
    xC, yC, zC = x * C, y * C, z * C
    xyC, yzC, zxC = x * yC, y * zC, z * xC
    return np.array(
        [
            [x * xC + c, xyC - zs, zxC + ys],
            [xyC + zs, y * yC + c, yzC - xs],
            [zxC - ys, yzC + xs, z * zC + c],
        ]
    )


def quat2angle_axis(
    quat: ArrayLike, identity_thresh: float | None = None
) -> tuple[float, NDArray[Any]]:
    """Angle and axis of the rotation in quaternion `quat`.

    Parameters
    ----------
    quat : 4 element array-like
        ``w, x, y, z``; not normalized, ``|w|`` must not exceed 1.
    identity_thresh : None or float, optional
        A vector part shorter than this means the identity rotation. None
        means 3 machine epsilons of the input dtype.

    Returns
    -------
    theta : float
        Angle in radians.
    vector : (3,) ndarray
        Unit axis; ``[1, 0, 0]`` for the identity.
    """
    q = _float_array(quat)
    if q.shape != (4,):
        raise AffineError(f"quaternion must have 4 values, got shape {q.shape}")
    w, vec = q[0], q[1:]
    if identity_thresh is None:
        identity_thresh = _default_thresh(q.dtype, 3)
    len2 = np.dot(vec, vec)
    if len2 < identity_thresh**2:
        return 0.0, np.array([1.0, 0, 0])
    w_limit = 1 + 4 * float(np.finfo(q.dtype).eps)
    if not abs(w) <= w_limit:
        raise AffineError(f"quaternion w must lie in [-1, 1] for an angle, got {float(w)}")
    theta = 2 * math.acos(min(max(float(w), -1.0), 1.0))
    return theta, vec / np.sqrt(len2)
