"""Euler angles in nibabel's convention, and conversions to other rotation forms.

The angles ``(z, y, x)`` are rotations, in radians, about fixed (extrinsic)
axes of a right-handed frame: first ``z`` about the z axis, then ``y`` about
the y axis, then ``x`` about the x axis. The matrix acts on column vectors, so
``euler2mat(z, y, x) == Rx @ Ry @ Rz``, which is::

    [[ cy*cz,             -cy*sz,              sy   ],
     [ cx*sz + sx*sy*cz,   cx*cz - sx*sy*sz,  -sx*cy],
     [ sx*sz - cx*sy*cz,   sx*cz + cx*sy*sz,   cx*cy]]

with ``cz = cos(z)``, ``sy = sin(y)`` and so on. Rotations are
counter-clockwise looking from the positive end of each axis towards the
origin.

:func:`euler2mat`, :func:`euler2quat` and :func:`mat2euler` broadcast over
arrays of angles or stacks of matrices.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .affines import AffineError
from .quaternions import angle_axis2mat, quat2angle_axis, quat2mat

__all__ = [
    "euler2mat",
    "mat2euler",
    "euler2quat",
    "quat2euler",
    "euler2angle_axis",
    "angle_axis2euler",
]


def euler2mat(z: ArrayLike = 0, y: ArrayLike = 0, x: ArrayLike = 0) -> NDArray[np.float64]:
    """Rotation matrix for rotations `z`, then `y`, then `x` (radians).

    Parameters
    ----------
    z, y, x : float or array-like
        Angles about the z, y and x axes; arrays broadcast together.

    Returns
    -------
    M : (..., 3, 3) ndarray
    """
    za, ya, xa = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (z, y, x)))
    cz, sz = np.cos(za), np.sin(za)
    cy, sy = np.cos(ya), np.sin(ya)
    cx, sx = np.cos(xa), np.sin(xa)
    rows = (
        (cy * cz, -cy * sz, sy),
        (cx * sz + sx * sy * cz, cx * cz - sx * sy * sz, -sx * cy),
        (sx * sz - cx * sy * cz, sx * cz + cx * sy * sz, cx * cy),
    )
    return np.stack([np.stack(row, axis=-1) for row in rows], axis=-2)


def mat2euler(M: ArrayLike, cy_thresh: float | None = None) -> tuple[Any, Any, Any]:
    """Euler angles ``(z, y, x)`` of rotation matrix `M`.

    Parameters
    ----------
    M : (..., 3, 3) array-like
    cy_thresh : None or float, optional
        Below this value of ``cos(y)`` the z and x rotations cannot be told
        apart (gimbal lock); all of their combined rotation is then given to
        z and x is 0. None means 4 machine epsilons of the input dtype.

    Returns
    -------
    z, y, x : float, or ndarray for a stack of matrices
    """
    m = np.asarray(M)
    if m.ndim < 2 or m.shape[-2:] != (3, 3):
        raise AffineError(f"rotation matrix must have shape (..., 3, 3), got {m.shape}")
    if cy_thresh is None:
        dtype = m.dtype if np.issubdtype(m.dtype, np.inexact) else np.dtype(np.float64)
        cy_thresh = 4 * float(np.finfo(dtype).eps)
    if m.dtype.kind in "bu":  # negation below must not wrap around
        m = m.astype(np.int64)
    # Negate before widening: integer -0 is +0, and atan2 sees the sign of zero.
    terms = (m[..., 0, 0], -m[..., 0, 1], m[..., 0, 2], m[..., 1, 0], m[..., 1, 1], -m[..., 1, 2])
    wide = np.result_type(m.dtype, np.float64)
    r11, neg_r12, r13, r21, r22, neg_r23 = (t.astype(wide) for t in terms)
    r33 = m[..., 2, 2].astype(wide)
    # cos(y) from the last column is accurate even where sin(y) is near 1
    cy = np.sqrt(r33 * r33 + neg_r23 * neg_r23)
    regular = cy > cy_thresh
    y = np.arctan2(r13, cy)
    z = np.where(regular, np.arctan2(neg_r12, r11), np.arctan2(r21, r22))
    x = np.where(regular, np.arctan2(neg_r23, r33), 0.0)
    if m.ndim == 2:
        return float(z), float(y), float(x)
    return z, y, x


def euler2quat(z: ArrayLike = 0, y: ArrayLike = 0, x: ArrayLike = 0) -> NDArray[np.float64]:
    """Quaternion ``(w, x, y, z)`` for rotations `z`, then `y`, then `x`.

    It is the product ``qx * qy * qz`` of the half-angle quaternions of the
    three single-axis rotations.

    Returns
    -------
    quat : (..., 4) ndarray
    """
    za, ya, xa = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) / 2.0 for a in (z, y, x)))
    cz, sz = np.cos(za), np.sin(za)
    cy, sy = np.cos(ya), np.sin(ya)
    cx, sx = np.cos(xa), np.sin(xa)
    return np.stack(
        [
            cx * cy * cz - sx * sy * sz,
            cx * sy * sz + cy * cz * sx,
            cx * cz * sy - sx * cy * sz,
            cx * cy * sz + sx * cz * sy,
        ],
        axis=-1,
    )


def quat2euler(q: ArrayLike) -> tuple[Any, Any, Any]:
    """Euler angles ``(z, y, x)`` of quaternion `q` (``w, x, y, z``)."""
    return mat2euler(quat2mat(q))


def euler2angle_axis(z: float = 0, y: float = 0, x: float = 0) -> tuple[float, NDArray[Any]]:
    """Angle and unit axis of the rotation `z`, then `y`, then `x`."""
    return quat2angle_axis(euler2quat(z, y, x))


def angle_axis2euler(
    theta: float, vector: ArrayLike, is_normalized: bool = False
) -> tuple[float, float, float]:
    """Euler angles ``(z, y, x)`` of a rotation of `theta` radians about `vector`."""
    z, y, x = mat2euler(angle_axis2mat(theta, vector, is_normalized))
    return z, y, x

