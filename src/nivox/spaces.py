"""Voxel spaces implied by affines: an output-aligned grid, and a slice inside a volume.

:func:`vox2out_vox` gives the grid that :func:`nivox.processing.resample_to_output`
resamples onto; :func:`slice2volume` embeds the coordinates of one 2D slice in
the volume it was taken from.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .affines import apply_affine
from .errors import InvalidArgumentError

__all__ = ["slice2volume", "vox2out_vox"]


def vox2out_vox(
    mapped_voxels: Any, voxel_sizes: Sequence[float] | ArrayLike | None = None
) -> tuple[tuple[int, ...], NDArray[np.float64]]:
    """Grid aligned with the output axes that holds every voxel of ``mapped_voxels``.

    Parameters
    ----------
    mapped_voxels : image or (shape, affine) pair
        The input voxel grid (up to 3D) and its affine to output space.
    voxel_sizes : sequence, optional
        One positive size per input axis: the diagonal of the output affine.
        None means 1 mm on every axis.

    Returns
    -------
    output_shape : tuple of int
        As many axes as the input shape.
    output_affine : (4, 4) ndarray
        Diagonal ``voxel_sizes`` (1 for missing axes) with the translation of
        the lowest output coordinate of any input voxel centre.
    """
    try:
        in_shape, in_affine = mapped_voxels.shape, mapped_voxels.affine
    except AttributeError:
        in_shape, in_affine = mapped_voxels
    in_shape = tuple(int(n) for n in in_shape)
    n_axes = len(in_shape)
    if n_axes > 3:
        raise InvalidArgumentError(f"vox2out_vox handles at most 3D grids, got shape {in_shape}")
    sizes = np.ones(3)
    if voxel_sizes is not None:
        given = np.asarray(voxel_sizes, dtype=np.float64).ravel()
        if len(given) != n_axes:
            raise InvalidArgumentError(
                f"voxel_sizes has {len(given)} values for a grid of shape {in_shape}; "
                "it needs one per axis"
            )
        if not np.all(given > 0):
            raise InvalidArgumentError(f"voxel_sizes must all be positive, got {list(given)}")
        sizes[:n_axes] = given
    full_shape = in_shape + (1,) * (3 - n_axes)
    corners = list(itertools.product(*[(0, n - 1) for n in full_shape]))
    world = apply_affine(in_affine, corners)
    low, high = world.min(axis=0), world.max(axis=0)
    out_shape = np.ceil((high - low) / sizes) + 1
    out_affine = np.diag([*sizes, 1.0])
    out_affine[:3, 3] = low
    return tuple(int(n) for n in out_shape[:n_axes]), out_affine


def slice2volume(index: int, axis: int, shape: Sequence[int] | None = None) -> NDArray[np.float64]:
    """Affine from the 2D coordinates of slice ``index`` along ``axis`` to the 3D volume's.

    Parameters
    ----------
    index : int
        Position of the slice along ``axis`` (not negative).
    axis : {0, 1, 2}
        The axis the slice was taken across.
    shape : sequence, optional
        Accepted for nibabel compatibility; unused.

    Returns
    -------
    slice_aff : (4, 3) ndarray
        Maps ``(i, j, 1)`` in the slice to ``(x, y, z, 1)`` in the volume.
    """
    if index < 0:
        raise InvalidArgumentError(f"slice index must not be negative, got {index}")
    if not 0 <= axis <= 2:
        raise InvalidArgumentError(f"axis must be 0, 1 or 2, got {axis}")
    kept = [col for col in range(4) if col != axis]
    slice_aff = np.eye(4)[:, kept]
    slice_aff[axis, -1] = index
    return slice_aff
