"""Tests for nivox.processing, with nibabel.processing as the oracle."""

from __future__ import annotations

import inspect
import sys

import numpy as np
import pytest

import nivox
from nivox import processing as vp
from nivox.affines import AffineError
from nivox.errors import MissingDependencyError, NivoxError
from nivox.eulerangles import euler2mat

pytest.importorskip("scipy")
nib = pytest.importorskip("nibabel")
bp = pytest.importorskip("nibabel.processing")
from scipy import ndimage  # noqa: E402

RNG = np.random.default_rng(2024)


def _affine(kind: str) -> np.ndarray:
    aff = np.eye(4)
    if kind == "ras":
        aff[:3, :3] = np.diag([2.0, 2.5, 3.0])
    elif kind == "las":
        aff[:3, :3] = np.diag([-2.0, 2.0, 2.0])
    elif kind == "lsa":  # voxel axes run towards L, S, A
        aff[:3, :3] = [[-2.0, 0, 0], [0, 0, 3.0], [0, 2.5, 0]]
    elif kind == "oblique":
        aff[:3, :3] = euler2mat(0.3, 0.2, -0.1) @ np.diag([2.0, -3.0, 4.0])
    aff[:3, 3] = [5.0, -6.0, 7.0]
    return aff


AFFINES = ["ras", "las", "lsa", "oblique"]


def _data(shape, dtype) -> np.ndarray:
    return (RNG.random(shape) * 100).astype(dtype)


def _pair(data: np.ndarray, affine: np.ndarray):
    """The same image in nibabel and nivox."""
    return nib.Nifti1Image(data, affine), nivox.Nifti1Image(data, affine)


def _same(theirs, ours, exact: bool = False) -> None:
    assert ours.shape == theirs.shape
    assert np.allclose(ours.affine, theirs.affine)
    ours_data, their_data = np.asanyarray(ours.dataobj), np.asanyarray(theirs.dataobj)
    assert ours_data.dtype == their_data.dtype
    assert ours.get_data_dtype() == theirs.get_data_dtype()
    if exact:
        assert np.array_equal(ours_data, their_data)
    else:
        assert np.allclose(ours_data, their_data, rtol=1e-5, atol=1e-6)


class CountingArray:
    """Array-like dataobj that counts how often its data are read."""

    def __init__(self, arr: np.ndarray) -> None:
        self._arr = arr
        self.reads = 0
        self.shape, self.dtype, self.ndim = arr.shape, arr.dtype, arr.ndim

    def __array__(self, dtype=None, copy=None):
        self.reads += 1
        return self._arr if dtype is None else self._arr.astype(dtype)

    def __getitem__(self, item):
        self.reads += 1
        return self._arr[item]


# ---------------------------------------------------------------- small helpers


def test_signatures_match_nibabel():
    for name in ("resample_from_to", "resample_to_output", "smooth_image", "conform",
                 "adapt_affine", "fwhm2sigma", "sigma2fwhm"):
        ours = inspect.signature(getattr(vp, name)).parameters
        theirs = inspect.signature(getattr(bp, name)).parameters
        assert list(ours) == list(theirs), name
        for param in ours:
            default = theirs[param].default
            if isinstance(default, type):  # Nifti1Image of each library
                assert ours[param].default.__name__ == default.__name__
            else:
                assert ours[param].default == default, (name, param)


def test_fwhm_sigma():
    for value in (1, 2.5, np.array([1.0, 2.0, 8.0])):
        assert np.allclose(vp.fwhm2sigma(value), bp.fwhm2sigma(value))
        assert np.allclose(vp.sigma2fwhm(value), bp.sigma2fwhm(value))
        assert np.allclose(vp.sigma2fwhm(vp.fwhm2sigma(value)), value)
    # the defining property: the Gaussian is at half its peak at +-fwhm/2
    sigma = vp.fwhm2sigma(6.0)
    assert np.isclose(np.exp(-(3.0**2) / (2 * sigma**2)), 0.5)


@pytest.mark.parametrize("n_dim", [1, 2, 3, 4, 5])
def test_adapt_affine(n_dim):
    aff = _affine("oblique")
    ours = vp.adapt_affine(aff, n_dim)
    assert np.array_equal(ours, bp.adapt_affine(aff, n_dim))
    assert ours.shape == ((4, n_dim + 1) if n_dim <= 3 else (n_dim + 1, n_dim + 1))


def test_missing_scipy(monkeypatch):
    img = nivox.Nifti1Image(np.zeros((2, 2, 2), np.float32), np.eye(4))
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.ndimage", None)
    for call in (lambda: vp.smooth_image(img, 3), lambda: vp.resample_to_output(img),
                 lambda: vp.resample_from_to(img, img)):
        with pytest.raises(MissingDependencyError, match=r"pip install nivox\[processing\]"):
            call()
    assert issubclass(MissingDependencyError, ImportError)


# ---------------------------------------------------------------- resample_from_to


@pytest.mark.parametrize("kind", AFFINES)
@pytest.mark.parametrize("dtype", [np.float32, np.int16, np.uint8])
@pytest.mark.parametrize("order", [0, 1, 3])
def test_resample_from_to_3d(kind, dtype, order):
    theirs_img, ours_img = _pair(_data((9, 10, 11), dtype), _affine(kind))
    target = np.diag([3.0, 2.0, 2.5, 1.0])
    target[:3, 3] = [-10, -20, -5]
    grid = ((8, 9, 10), target)
    ours = vp.resample_from_to(ours_img, grid, order=order)
    assert isinstance(ours, nivox.Nifti1Image)
    _same(bp.resample_from_to(theirs_img, grid, order=order), ours, exact=True)


@pytest.mark.parametrize("mode", ["constant", "nearest", "wrap", "mirror"])
def test_resample_from_to_modes_and_image_target(mode):
    theirs_img, ours_img = _pair(_data((9, 10, 11), np.float64), _affine("oblique"))
    theirs_to, ours_to = _pair(np.zeros((7, 8, 9), np.uint8), _affine("lsa"))
    _same(bp.resample_from_to(theirs_img, theirs_to, 3, mode, 7.5),
          vp.resample_from_to(ours_img, ours_to, 3, mode, 7.5))


def test_resample_from_to_out_class():
    data = _data((5, 6, 7), np.float32)
    ours_img = nivox.Nifti2Image(data, _affine("las"))
    grid = ((4, 4, 4), np.eye(4))
    assert type(vp.resample_from_to(ours_img, grid, out_class=None)) is nivox.Nifti2Image
    assert type(vp.resample_from_to(ours_img, grid)) is nivox.Nifti1Image


@pytest.mark.parametrize("mode", ["constant", "nearest", "wrap", "mirror"])
@pytest.mark.parametrize("order", [1, 3, 5])
def test_resample_from_to_4d(mode, order):
    theirs_img, ours_img = _pair(_data((9, 10, 11, 4), np.float32), _affine("oblique"))
    grid = ((7, 8, 9, 4), np.diag([2.0, 2.0, 2.0, 1.0]))
    _same(bp.resample_from_to(theirs_img, grid, order, mode),
          vp.resample_from_to(ours_img, grid, order, mode))


def test_resample_from_to_4d_changing_volume_count():
    theirs_img, ours_img = _pair(_data((6, 7, 8, 3), np.float32), _affine("ras"))
    for n_vols in (2, 5):
        grid = ((5, 6, 7, n_vols), np.eye(4))
        _same(bp.resample_from_to(theirs_img, grid), vp.resample_from_to(ours_img, grid))


@pytest.mark.parametrize("mode", ["constant", "reflect"])
def test_resample_from_to_4d_volumes_independent(mode):
    # A 3D grid for a 4D image (nibabel raises) resamples each volume alone. For
    # mode='reflect' this is also what nibabel's 4D path should give but does not:
    # scipy's reflect splines do not return the samples at the knots, so nibabel
    # mixes neighbouring volumes slightly.
    data = _data((8, 9, 10, 3), np.float64)
    aff = _affine("oblique")
    grid = ((6, 7, 8), np.diag([2.0, 2.0, 2.0, 1.0]))
    ours = vp.resample_from_to(nivox.Nifti1Image(data, aff), grid, order=5, mode=mode)
    assert ours.shape == (6, 7, 8, 3)
    for vol in range(3):
        theirs = bp.resample_from_to(nib.Nifti1Image(data[..., vol], aff), grid, 5, mode)
        assert np.allclose(np.asanyarray(ours.dataobj)[..., vol], theirs.dataobj, atol=1e-12)


def test_resample_from_to_errors():
    img = nivox.Nifti1Image(np.zeros((4, 5), np.float32), np.eye(4))
    with pytest.raises(AffineError, match="at least 3D"):
        vp.resample_from_to(img, ((4, 4, 4), np.eye(4)))
    img3 = nivox.Nifti1Image(np.zeros((4, 5, 6), np.float32), np.eye(4))
    with pytest.raises(ValueError, match="grid"):
        vp.resample_from_to(img3, ((4, 4, 4, 2), np.eye(4)))
    # a 2D target is a slice through the input (as nibabel allows)
    assert vp.resample_from_to(img3, ((4, 4), np.eye(4))).shape == (4, 4)


def test_resample_reads_data_once():
    arr = CountingArray(_data((6, 7, 8, 3), np.float32))
    img = nivox.Nifti1Image(arr, _affine("ras"))
    out = vp.resample_from_to(img, ((4, 5, 6), np.eye(4)), order=1)
    assert arr.reads == 1
    assert out.shape == (4, 5, 6, 3)
    assert np.asanyarray(out.dataobj).dtype == np.float32  # no float64 result


# ---------------------------------------------------------------- resample_to_output


@pytest.mark.parametrize("kind", AFFINES)
@pytest.mark.parametrize("voxel_sizes", [None, 2.5, (1.5, 2.0, 3.0)])
def test_resample_to_output(kind, voxel_sizes):
    theirs_img, ours_img = _pair(_data((9, 10, 11), np.float32), _affine(kind))
    ours = vp.resample_to_output(ours_img, voxel_sizes, order=1)
    _same(bp.resample_to_output(theirs_img, voxel_sizes, order=1), ours, exact=True)
    # the output grid is world aligned and covers every input voxel centre
    assert np.allclose(ours.affine[:3, :3], np.diag(np.broadcast_to(
        1.0 if voxel_sizes is None else voxel_sizes, 3)))


@pytest.mark.parametrize("voxel_sizes", [None, 2, (2.0, 3.0)])
def test_resample_to_output_2d(voxel_sizes):
    theirs_img, ours_img = _pair(_data((5, 6), np.float64), _affine("las"))
    _same(bp.resample_to_output(theirs_img, voxel_sizes),
          vp.resample_to_output(ours_img, voxel_sizes))


def test_resample_to_output_4d():
    data = _data((6, 7, 8, 2), np.float32)
    aff = _affine("lsa")
    ours = vp.resample_to_output(nivox.Nifti1Image(data, aff), 2.0, order=1)
    for vol in range(2):
        theirs = bp.resample_to_output(nib.Nifti1Image(data[..., vol], aff), 2.0, order=1)
        assert ours.shape[:3] == theirs.shape
        assert np.allclose(ours.affine, theirs.affine)
        assert np.allclose(np.asanyarray(ours.dataobj)[..., vol], theirs.dataobj)


def test_resample_to_output_errors():
    img = nivox.Nifti1Image(np.zeros((4, 5, 6), np.float32), np.eye(4))
    with pytest.raises(ValueError, match="positive"):
        vp.resample_to_output(img, (1, -1, 1))
    with pytest.raises(ValueError, match="3 values"):
        vp.resample_to_output(img, (1, 1))


# ---------------------------------------------------------------- smooth_image


@pytest.mark.parametrize("kind", AFFINES)
@pytest.mark.parametrize("fwhm", [4.0, [3.0, 5.0, 0.0], [6.0, 2.0, 4.0]])
@pytest.mark.parametrize("dtype", [np.float32, np.int16])
def test_smooth_image(kind, fwhm, dtype):
    theirs_img, ours_img = _pair(_data((9, 10, 11), dtype), _affine(kind))
    _same(bp.smooth_image(theirs_img, fwhm), vp.smooth_image(ours_img, fwhm), exact=True)


@pytest.mark.parametrize("mode", ["constant", "reflect", "wrap"])
def test_smooth_image_modes_4d(mode):
    theirs_img, ours_img = _pair(_data((7, 8, 9, 3), np.float32), _affine("oblique"))
    for fwhm in (5.0, [5.0, 4.0, 3.0, 0.0]):
        ours = vp.smooth_image(ours_img, fwhm, mode, 2.0)
        _same(bp.smooth_image(theirs_img, fwhm, mode, 2.0), ours, exact=True)
        # volumes are smoothed independently
        alone = vp.smooth_image(nivox.Nifti1Image(ours_img.dataobj[..., 1], ours_img.affine),
                                np.asarray(fwhm).ravel()[:3] if np.size(fwhm) > 1 else fwhm,
                                mode, 2.0)
        assert np.allclose(np.asanyarray(ours.dataobj)[..., 1], alone.dataobj)


def test_smooth_image_oblique_uses_voxel_lengths():
    # voxel sizes come from column lengths, so rotating the affine changes nothing
    data = _data((9, 10, 11), np.float64)
    straight = np.diag([2.0, 3.0, 4.0, 1.0])
    tilted = straight.copy()
    tilted[:3, :3] = euler2mat(0.5, -0.4, 0.3) @ straight[:3, :3]
    a = vp.smooth_image(nivox.Nifti1Image(data, straight), [4.0, 6.0, 8.0])
    b = vp.smooth_image(nivox.Nifti1Image(data, tilted), [4.0, 6.0, 8.0])
    assert np.allclose(a.dataobj, b.dataobj)
    sigma = vp.fwhm2sigma(2.0)  # 4/2 = 6/3 = 8/4 voxels
    assert np.allclose(a.dataobj, ndimage.gaussian_filter(data, sigma, mode="nearest"))


def test_smooth_image_time_axis_in_samples():
    data = _data((5, 6, 7, 8), np.float64)
    aff = _affine("ras")  # the translation must not matter (nibabel divides by its norm)
    ours = vp.smooth_image(nivox.Nifti1Image(data, aff), [0, 0, 0, 2.0])
    expected = ndimage.gaussian_filter(data, [0, 0, 0, vp.fwhm2sigma(2.0)], mode="nearest")
    assert np.allclose(ours.dataobj, expected)


def test_smooth_image_errors_and_class():
    img = nivox.Nifti2Image(np.zeros((4, 5, 6), np.float32), np.eye(4))
    with pytest.raises(ValueError, match="3 values"):
        vp.smooth_image(img, [1.0, 2.0])
    assert type(vp.smooth_image(img, 2, out_class=None)) is nivox.Nifti2Image
    flat = np.diag([1.0, 0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="zero-length"):
        vp.smooth_image(nivox.Nifti1Image(np.zeros((3, 3, 3)), flat), 2)


def test_smooth_reads_data_once():
    arr = CountingArray(_data((6, 7, 8), np.float32))
    out = vp.smooth_image(nivox.Nifti1Image(arr, np.eye(4)), 3)
    assert arr.reads == 1
    assert np.asanyarray(out.dataobj).dtype == np.float32


# ---------------------------------------------------------------- conform


@pytest.mark.parametrize("kind", AFFINES)
@pytest.mark.parametrize("orientation", ["RAS", "LPS", "LIA", "ASR"])
def test_conform(kind, orientation):
    theirs_img, ours_img = _pair(_data((9, 10, 11), np.float32), _affine(kind))
    args = ((10, 11, 12), (2.0, 2.5, 3.0))
    ours = vp.conform(ours_img, *args, order=1, orientation=orientation)
    theirs = bp.conform(theirs_img, *args, order=1, orientation=orientation)
    _same(theirs, ours, exact=True)
    assert nivox.aff2axcodes(ours.affine) == tuple(orientation)
    assert np.allclose(nivox.affines.voxel_sizes(ours.affine), args[1])


def test_conform_defaults_and_class():
    theirs_img, ours_img = _pair(_data((20, 22, 18), np.int16), _affine("las"))
    # default 256^3 grid at order 0 stays fast
    _same(bp.conform(theirs_img, order=0), vp.conform(ours_img, order=0), exact=True)
    two = nivox.Nifti2Image(_data((5, 6, 7), np.float32), _affine("ras"))
    assert type(vp.conform(two, (4, 4, 4))) is nivox.Nifti2Image
    assert type(vp.conform(two, (4, 4, 4), out_class=nivox.Nifti1Image)) is nivox.Nifti1Image


def test_conform_errors():
    img4 = nivox.Nifti1Image(np.zeros((3, 3, 3, 2), np.float32), np.eye(4))
    with pytest.raises(ValueError, match="3D"):
        vp.conform(img4, (4, 4, 4))
    img = nivox.Nifti1Image(np.zeros((3, 3, 3), np.float32), np.eye(4))
    with pytest.raises(ValueError, match="out_shape"):
        vp.conform(img, (4, 4))
    with pytest.raises(ValueError, match="voxel_size"):
        vp.conform(img, (4, 4, 4), (1, 1))
    with pytest.raises(NivoxError):
        vp.conform(img, (4, 4, 4), orientation="XYZ")


# ---------------------------------------------------------------- real files


@pytest.mark.parametrize("relpath", ["nibabel/tests_data/anatomical.nii",
                                     "nibabel/tests_data/functional.nii"])
def test_corpus(corpus, relpath):
    path = corpus / relpath
    if not path.exists():
        pytest.skip(f"{relpath} is not in the corpus")
    theirs_img, ours_img = nib.load(path), nivox.load(path)
    _same(bp.smooth_image(theirs_img, 6), vp.smooth_image(ours_img, 6))
    target = np.diag([3.0, 3.0, 3.0, 1.0])
    target[:3, 3] = -30
    grid = ((20, 24, 16) + ours_img.shape[3:], target)  # nibabel needs the volume axis
    _same(bp.resample_from_to(theirs_img, grid, order=1),
          vp.resample_from_to(ours_img, grid, order=1))
    if len(ours_img.shape) == 4:  # and nivox also takes the 3D grid
        _same(bp.resample_from_to(theirs_img, grid, order=1),
              vp.resample_from_to(ours_img, (grid[0][:3], target), order=1))
    if len(ours_img.shape) == 3:
        _same(bp.resample_to_output(theirs_img, 3.0), vp.resample_to_output(ours_img, 3.0))
        _same(bp.conform(theirs_img, (40, 40, 40), (2, 2, 2), orientation="LIA"),
              vp.conform(ours_img, (40, 40, 40), (2, 2, 2), orientation="LIA"))


def test_sigma_fwhm_on_sequences():
    from nivox.processing import fwhm2sigma, sigma2fwhm

    np.testing.assert_allclose(sigma2fwhm([1, 2, 3]), np.arange(1, 4) * 2.35482, rtol=1e-5)
    np.testing.assert_allclose(fwhm2sigma(sigma2fwhm((0.5, 4))), [0.5, 4])


def test_resample_onto_a_2d_slice_and_2d_to_output():
    pytest.importorskip("scipy")
    from nivox import Nifti1Image
    from nivox.processing import resample_from_to, resample_to_output

    data = np.arange(24, dtype="int32").reshape((2, 3, 4))
    img = Nifti1Image(data, np.eye(4))
    slice_img = Nifti1Image(data[:, :, 0], np.eye(4))
    np.testing.assert_array_equal(resample_from_to(img, slice_img).dataobj, data[:, :, 0])
    np.testing.assert_array_equal(resample_from_to(img, (slice_img.shape, np.eye(4))).dataobj,
                                  data[:, :, 0])
    flat = Nifti1Image(data[0], np.eye(4))
    for sizes in (None, 1, (1, 1), (1, 1, 1)):
        out = resample_to_output(flat, sizes)
        assert out.shape == (3, 4, 1)
        np.testing.assert_array_equal(out.dataobj, data[0][..., None])
