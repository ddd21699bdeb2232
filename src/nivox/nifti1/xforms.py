"""NIfTI qform and sform: the two ways a NIfTI header places voxels in the world.

The qform is a rotation (a unit quaternion whose first element is implied),
voxel sizes, a handedness flag ``qfac`` (pixdim[0]) and an offset. The sform is
a general 3x4 affine stored row by row. Both carry a code saying which space
the coordinates are in.
"""

from __future__ import annotations

import numpy as np

from ..errors import HeaderDataError
from ..quaternions import fillpositive, mat2quat, quat2mat

__all__ = ["qform_affine", "qform_parameters", "sform_affine"]

# Quaternion (b, c, d) stored as float32 rarely have |b,c,d| <= 1 exactly;
# a w^2 this close below zero is rounding, so treat it as zero.
QUATERNION_THRESHOLD = -np.finfo(np.float32).eps * 3


def qform_affine(
    bcd: np.ndarray,
    zooms: np.ndarray,
    qfac: float,
    offset: np.ndarray,
    threshold: float = QUATERNION_THRESHOLD,
) -> np.ndarray:
    """The 4x4 affine of a qform.

    Parameters
    ----------
    bcd : (3,) quaternion b, c, d (w is computed, non-negative)
    zooms : (3,) voxel sizes (pixdim[1:4]); their sign is ignored as the standard says
    qfac : -1 or 1 (0 is read as 1, as readers commonly do)
    offset : (3,) translation
    threshold : how far below zero w**2 may be and still count as rounding
    """
    if qfac == 0:
        qfac = 1
    if qfac not in (-1, 1):
        raise HeaderDataError("qfac (pixdim[0]) should be 1 or -1")
    quat = fillpositive(np.asarray(bcd, dtype=np.float64), threshold)
    rotation = quat2mat(quat)
    scales = np.abs(np.asarray(zooms, dtype=np.float64)).copy()
    scales[2] *= qfac
    affine = np.eye(4)
    affine[:3, :3] = rotation * scales  # scales columns
    affine[:3, 3] = offset
    return affine


def qform_parameters(
    affine: np.ndarray, strip_shears: bool = True
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Quaternion (b, c, d), voxel sizes, qfac and offset that best represent ``affine``.

    A qform cannot hold shears; with ``strip_shears`` the nearest rotation
    (polar decomposition) is used, otherwise shears raise HeaderDataError.
    """
    affine = np.asarray(affine, dtype=np.float64)
    offset = affine[:3, 3].copy()
    rzs = affine[:3, :3]
    zooms = np.sqrt(np.sum(rzs * rzs, axis=0))
    zooms[zooms == 0] = 1  # a collapsed axis: keep a valid rotation
    rotation = rzs / zooms
    qfac = 1.0
    if np.linalg.det(rotation) < 0:
        rotation = rotation.copy()
        rotation[:, 2] *= -1
        qfac = -1.0
    # nearest orthonormal matrix, which is the rotation itself when there is no shear
    left, _, right = np.linalg.svd(rotation)
    nearest = left @ right
    if not strip_shears and not np.allclose(nearest, rotation):
        raise HeaderDataError("Shears in affine and `strip_shears` is False")
    quat = mat2quat(nearest)
    if quat[0] < 0:  # w is stored implicitly as non-negative
        quat = -quat
    return np.asarray(quat[1:]), zooms, qfac, offset


def sform_affine(srow_x: np.ndarray, srow_y: np.ndarray, srow_z: np.ndarray) -> np.ndarray:
    """The 4x4 affine from the three stored sform rows."""
    affine = np.eye(4)
    affine[0] = srow_x
    affine[1] = srow_y
    affine[2] = srow_z
    return affine
