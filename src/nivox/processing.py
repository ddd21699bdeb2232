"""Resampling, smoothing and conforming images, with ``scipy.ndimage``.

scipy is optional: it is imported by the functions that need it, and a missing
scipy raises :class:`~nivox.errors.MissingDependencyError` naming the
``nivox[processing]`` extra.

Results follow nibabel's (same interpolation calls, same output grids, same
dtypes). Where nibabel refuses a reasonable request these functions do the
natural thing instead:

* :func:`resample_from_to` takes a 3D target for an image with more than three
  dimensions and resamples every volume onto it;
* :func:`resample_to_output` works on 4D images the same way;
* :func:`smooth_image` measures FWHM along non-spatial axes in samples (nibabel
  divides by a number that depends on the affine's translation).

Images with more than three dimensions are interpolated one 3D volume at a
time: interpolating a spline at its knots returns the samples, so this equals
the N-d interpolation along an identity axis, while the float64 spline
coefficients scipy makes exist for one volume instead of the whole series.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .affines import AffineError, append_diag, rescale_affine, to_matvec
from .errors import InvalidArgumentError, MissingDependencyError
from .imageclasses import spatial_axes_first
from .nifti1 import Nifti1Image
from .orientations import axcodes2ornt, inv_ornt_aff, io_orientation, ornt_transform
from .spaces import vox2out_vox

__all__ = [
    "fwhm2sigma",
    "sigma2fwhm",
    "adapt_affine",
    "resample_from_to",
    "resample_to_output",
    "smooth_image",
    "conform",
]

# FWHM of a Gaussian in units of its standard deviation: 2 * sqrt(2 ln 2)
_FWHM_PER_SIGMA = np.sqrt(8 * np.log(2))


def _ndimage() -> Any:
    try:
        from scipy import ndimage
    except ImportError as exc:
        raise MissingDependencyError(
            "nivox.processing needs scipy; install it with `pip install nivox[processing]`"
        ) from exc
    return ndimage


def fwhm2sigma(fwhm: ArrayLike) -> Any:
    """Standard deviation of a Gaussian with full width at half maximum `fwhm` (scalar or array)."""
    return np.asarray(fwhm) / _FWHM_PER_SIGMA


def sigma2fwhm(sigma: ArrayLike) -> Any:
    """Full width at half maximum of a Gaussian with standard deviation `sigma` (scalar or array)."""
    return np.asarray(sigma) * _FWHM_PER_SIGMA


def adapt_affine(affine: ArrayLike, n_dim: int) -> NDArray[Any]:
    """Affine `affine` with its input (column) dimensions made `n_dim`.

    Missing input dimensions lose their columns; extra ones are appended as
    identity (unit step, zero offset) rows and columns.

    Parameters
    ----------
    affine : (N, M) array-like
        Usually (4, 4).
    n_dim : int
        Number of dimensions of the array the affine applies to.

    Returns
    -------
    adapted : ndarray
        ``(N, n_dim + 1)`` when dimensions are dropped, ``(N + k, n_dim + 1)``
        when ``k`` dimensions are added.
    """
    arr = np.asarray(affine)
    in_dims = arr.shape[1] - 1
    if n_dim == in_dims:
        return arr
    if n_dim < in_dims:
        return np.concatenate([arr[:, :n_dim], arr[:, -1:]], axis=1)
    extra = n_dim - in_dims
    return append_diag(arr, np.ones(extra), np.zeros(extra))


def _shape_affine(target: Any) -> tuple[tuple[int, ...], NDArray[Any]]:
    """(shape, affine) of an image-like object or of a ``(shape, affine)`` pair."""
    try:
        shape, affine = target.shape, target.affine
    except AttributeError:
        shape, affine = target
    return tuple(int(n) for n in shape), np.asarray(affine)


def _check_spatial_first(img: Any) -> None:
    if not spatial_axes_first(img):
        raise InvalidArgumentError(
            f"cannot tell which axes of {type(img).__name__} image {img.get_filename()!r} "
            "are spatial: its first three data axes are not the spatial ones"
        )


def resample_from_to(
    from_img: Any,
    to_vox_map: Any,
    order: int = 3,
    mode: str = "constant",
    cval: float = 0.0,
    out_class: type | None = Nifti1Image,
) -> Any:
    """Resample `from_img` onto the voxel grid `to_vox_map` (spline interpolation).

    Parameters
    ----------
    from_img : image
        Has ``dataobj``, ``affine``, ``header`` and ``shape``; at least 3D.
    to_vox_map : image or (shape, affine) pair
        Target grid. A 3D grid for an image with more dimensions resamples
        every volume (nibabel raises here).
    order : int, optional
        Spline order, 0 to 5 (see ``scipy.ndimage.affine_transform``).
    mode : str, optional
        How to fill points outside the input ('constant', 'nearest', 'reflect',
        'wrap', ...).
    cval : float, optional
        Fill value for ``mode='constant'``.
    out_class : None or image class, optional
        Class of the result; None means ``from_img.__class__``.

    Returns
    -------
    out_img : image
        Data of `from_img`'s dtype on the target grid, with the target affine
        and `from_img`'s header.
    """
    ndimage = _ndimage()
    _check_spatial_first(from_img)
    to_shape, to_affine = _shape_affine(to_vox_map)
    if out_class is None:
        out_class = from_img.__class__
    from_shape = tuple(from_img.shape)
    if len(from_shape) < 3:
        raise AffineError(f"from_img must be at least 3D, its shape is {from_shape}")
    kwargs = dict(order=order, mode=mode, cval=cval)
    if len(to_shape) < 3:
        # a lower-dimensional target (a slice): its voxels map into the input
        # grid without inverting the target's affine
        to_vox2from_vox = np.linalg.inv(adapt_affine(from_img.affine, len(from_shape))) @ \
            adapt_affine(to_affine, len(to_shape))
        rzs, trans = to_matvec(to_vox2from_vox)
        data = np.asanyarray(from_img.dataobj)
        out = ndimage.affine_transform(data, rzs, trans, to_shape, **kwargs)
        return out_class(out, to_affine, from_img.header)
    if len(to_shape) == 3:
        out_shape = to_shape + from_shape[3:]
    elif len(to_shape) == len(from_shape):
        out_shape = to_shape
    else:
        raise InvalidArgumentError(
            f"cannot resample an image of shape {from_shape} onto a grid of shape {to_shape}: "
            "the grid must be 3D or have as many dimensions as the image"
        )
    from_affine = adapt_affine(from_img.affine, 3)
    to_vox2from_vox = np.linalg.inv(from_affine) @ adapt_affine(to_affine, 3)
    data = np.asanyarray(from_img.dataobj)
    if len(from_shape) == 3 or out_shape[3:] != from_shape[3:]:
        # one call over all axes; when extra axes change length only this
        # N-d call gives nibabel's values
        rzs, trans = to_matvec(adapt_affine(to_vox2from_vox, len(out_shape)))
        out = ndimage.affine_transform(data, rzs, trans, out_shape, **kwargs)
    else:
        rzs, trans = to_matvec(to_vox2from_vox)
        out = np.empty(out_shape, dtype=data.dtype)
        for index in np.ndindex(*from_shape[3:]):
            volume = (Ellipsis, *index)
            out[volume] = ndimage.affine_transform(
                data[volume], rzs, trans, out_shape[:3], **kwargs
            )
    return out_class(out, to_affine, from_img.header)


def resample_to_output(
    in_img: Any,
    voxel_sizes: ArrayLike | None = None,
    order: int = 3,
    mode: str = "constant",
    cval: float = 0.0,
    out_class: type | None = Nifti1Image,
) -> Any:
    """Resample `in_img` onto a grid aligned with its world (output) axes.

    Parameters
    ----------
    in_img : image
        Has ``dataobj``, ``affine``, ``header`` and ``shape``. 1D and 2D images
        are treated as 3D with length-1 trailing axes; 4D images are resampled
        volume by volume (nibabel refuses them).
    voxel_sizes : None, scalar or sequence, optional
        Diagonal of the output affine. None means 1; a scalar applies to every
        axis of `in_img`; a sequence has one value per spatial axis of `in_img`
        (missing axes of 1D/2D images get 1).
    order, mode, cval, out_class
        As for :func:`resample_from_to`.

    Returns
    -------
    out_img : image
        The output affine is ``diag(voxel_sizes + [1])`` with a translation; the
        grid covers every voxel centre of `in_img`.
    """
    if out_class is None:
        out_class = in_img.__class__
    in_shape = tuple(in_img.shape)
    n_spatial = min(len(in_shape), 3)
    sizes = np.ones(3)
    if voxel_sizes is not None:
        given = np.asarray(voxel_sizes, dtype=np.float64)
        if given.ndim == 0:
            given = np.repeat(given, n_spatial)
        if len(in_shape) < 3 and given.shape == (3,):
            given = given[:n_spatial]  # sizes for the padded 3D grid, as nibabel accepts
        if given.shape != (n_spatial,):
            raise InvalidArgumentError(
                f"voxel_sizes must be a scalar or have {n_spatial} values for an image "
                f"of shape {in_shape}, got {voxel_sizes!r}"
            )
        if not np.all(given > 0):
            raise InvalidArgumentError(f"voxel_sizes must all be positive, got {voxel_sizes!r}")
        sizes[:n_spatial] = given
    if len(in_shape) < 3:
        data = np.asanyarray(in_img.dataobj).reshape(in_shape + (1,) * (3 - len(in_shape)))
        in_img = out_class(data, in_img.affine, in_img.header)
    grid = vox2out_vox((tuple(in_img.shape[:3]), adapt_affine(in_img.affine, 3)), sizes)
    return resample_from_to(in_img, grid, order, mode, cval, out_class)


def smooth_image(
    img: Any,
    fwhm: ArrayLike,
    mode: str = "nearest",
    cval: float = 0.0,
    out_class: type | None = Nifti1Image,
) -> Any:
    """Gaussian-smooth `img` along its voxel axes by `fwhm` millimetres.

    Parameters
    ----------
    img : image
        Has ``dataobj``, ``affine``, ``header`` and ``shape``.
    fwhm : scalar or sequence
        Full width at half maximum, in mm along the spatial voxel axes (voxel
        sizes come from the affine's column lengths, so oblique affines are
        measured correctly). A scalar smooths the spatial axes only; a sequence
        has one value per image axis, those past the third in samples.
    mode : str, optional
        How to extend the data past its edges (see
        ``scipy.ndimage.gaussian_filter``); 'nearest' keeps edge signal.
    cval : float, optional
        Fill value for ``mode='constant'``.
    out_class : None or image class, optional
        Class of the result; None means ``img.__class__``.

    Returns
    -------
    smoothed_img : image
        Data of `img`'s dtype, same affine and header.
    """
    ndimage = _ndimage()
    _check_spatial_first(img)
    if out_class is None:
        out_class = img.__class__
    shape = tuple(img.shape)
    n_dim = len(shape)
    fwhm_arr = np.asarray(fwhm, dtype=np.float64)
    if fwhm_arr.size == 1:
        per_axis = np.zeros(n_dim)
        per_axis[:3] = fwhm_arr.ravel()[0]
    elif fwhm_arr.shape == (n_dim,):
        per_axis = fwhm_arr
    else:
        raise InvalidArgumentError(
            f"fwhm must be a scalar or have {n_dim} values for an image of shape {shape}, "
            f"got {fwhm!r}"
        )
    n_spatial = min(n_dim, 3)
    steps = np.ones(n_dim)
    steps[:n_spatial] = np.sqrt(np.sum(np.asarray(img.affine)[:3, :n_spatial] ** 2, axis=0))
    if np.any((steps == 0) & (per_axis != 0)):
        raise InvalidArgumentError(f"affine has a zero-length voxel axis; cannot smooth by {fwhm!r} mm")
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.where(per_axis == 0, 0.0, fwhm2sigma(per_axis / steps))
    data = np.asanyarray(img.dataobj)
    smoothed = ndimage.gaussian_filter(data, sigma, mode=mode, cval=cval)
    return out_class(smoothed, img.affine, img.header)


def conform(
    from_img: Any,
    out_shape: tuple[int, ...] = (256, 256, 256),
    voxel_size: tuple[float, ...] = (1.0, 1.0, 1.0),
    order: int = 3,
    mode: str = "constant",
    cval: float = 0.0,
    orientation: str = "RAS",
    out_class: type | None = None,
) -> Any:
    """Resample a 3D image to shape `out_shape`, voxel sizes `voxel_size` and `orientation`.

    Like FreeSurfer's ``mri_convert --conform`` for shape, voxel size and axis
    order, without rescaling to uint8 (and RAS by default, not LIA). The new
    grid is that of the image reoriented to `orientation`, rescaled: it keeps
    that grid's direction cosines and the world position of its central voxel
    ``(shape - 1) // 2``. Data are sampled from `from_img` directly.

    Parameters
    ----------
    from_img : image
        3D image with ``dataobj``, ``affine``, ``header`` and ``shape``.
    out_shape : sequence of 3 ints, optional
    voxel_size : sequence of 3 floats, optional
        Voxel sizes in mm of the output axes, in output axis order.
    order, mode, cval
        As for :func:`resample_from_to`.
    orientation : str, optional
        Axis codes of the output, such as 'RAS' or 'LIA'.
    out_class : None or image class, optional
        Class of the result; None means ``from_img.__class__``.

    Returns
    -------
    out_img : image
    """
    if len(from_img.shape) != 3:
        raise InvalidArgumentError(f"Only 3D images are supported; image shape is {from_img.shape}")
    if len(out_shape) != 3:
        raise InvalidArgumentError(f"`out_shape` must have 3 values, got {out_shape!r}")
    if len(voxel_size) != 3:
        raise InvalidArgumentError(f"`voxel_size` must have 3 values, got {voxel_size!r}")
    if out_class is None:
        out_class = from_img.__class__
    # Only the geometry is reoriented: the data are sampled straight from
    # from_img, so no reoriented copy exists and the header stays from_img's.
    shape = tuple(from_img.shape)
    ornt = ornt_transform(io_orientation(from_img.affine), axcodes2ornt(orientation))
    reoriented_affine = from_img.affine @ inv_ornt_aff(ornt, shape)
    reoriented_shape = [0, 0, 0]
    for in_axis, out_axis in enumerate(ornt[:, 0]):
        reoriented_shape[out_axis] = shape[in_axis]
    target = rescale_affine(reoriented_affine, reoriented_shape, voxel_size, out_shape)
    return resample_from_to(from_img, (out_shape, target), order, mode, cval, out_class)
