"""Tests for nivox.affines, with nibabel as the oracle."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nivox import affines as na
from nivox.affines import AffineError
from nivox.errors import NivoxError

nba = pytest.importorskip("nibabel.affines")

RNG = np.random.default_rng(7)
AFF = np.array([[0, 2, 0, 10], [3, 0, 0, 11], [0, 0, 4, 12], [0, 0, 0, 1]])
PTS = np.array([[1, 2, 3], [2, 3, 4], [4, 5, 6], [6, 7, 8]])


def random_affine(n: int = 3, dtype=np.float64) -> np.ndarray:
    aff = np.eye(n + 1)
    aff[:n, :] = RNG.normal(size=(n, n + 1)) * 3
    return aff.astype(dtype)


def test_error_class():
    assert issubclass(AffineError, NivoxError)
    assert issubclass(AffineError, ValueError)


# ---------------------------------------------------------------- apply_affine


def test_apply_affine_examples():
    expected = np.array([[14, 14, 24], [16, 17, 28], [20, 23, 36], [24, 29, 44]])
    out = na.apply_affine(AFF, PTS)
    assert np.array_equal(out, expected)
    assert out.dtype == np.int64
    assert np.array_equal(na.apply_affine(AFF, PTS.reshape(2, 2, 3)), expected.reshape(2, 2, 3))
    assert np.array_equal(na.apply_affine(AFF, [1, 2, 3]), [14, 14, 24])


@pytest.mark.parametrize(
    ("aff_dtype", "pts_dtype"),
    [
        (np.float64, np.float64),
        (np.float32, np.float32),
        (np.float32, np.int64),
        (np.int64, np.float32),
        (np.int64, np.int16),
        (np.float64, np.float32),
    ],
)
def test_apply_affine_matches_nibabel(aff_dtype, pts_dtype):
    for shape in [(3,), (10, 3), (2, 5, 3), (0, 3), (2, 0, 3)]:
        aff = random_affine().astype(aff_dtype)
        pts = (RNG.normal(size=shape) * 10).astype(pts_dtype)
        ours, theirs = na.apply_affine(aff, pts), nba.apply_affine(aff, pts)
        assert ours.dtype == theirs.dtype
        assert ours.shape == theirs.shape
        assert np.allclose(ours, theirs, rtol=1e-6)


def test_apply_affine_other_dimensions():
    aff2 = random_affine(2)
    pts = RNG.normal(size=(6, 2))
    assert np.allclose(na.apply_affine(aff2, pts), nba.apply_affine(aff2, pts))
    # non-square: 3 inputs to 2 outputs (nibabel does not handle this)
    aff = np.array([[1.0, 0, 0, 5], [0, 2, 1, 6], [0, 0, 0, 1]])
    assert np.allclose(na.apply_affine(aff, [[1, 1, 1], [0, 0, 0]]), [[6, 9], [5, 6]])


def test_apply_affine_inplace():
    pts = PTS.astype(float)
    out = na.apply_affine(AFF, pts, inplace=True)
    assert out is pts
    assert np.array_equal(pts, nba.apply_affine(AFF, PTS))
    # Fortran order and strided views are updated in place too
    for pts in (np.asfortranarray(PTS.astype(float)), np.arange(24.0).reshape(2, 4, 3)[:, ::2]):
        expected = nba.apply_affine(AFF, pts.copy())
        assert na.apply_affine(AFF, pts, inplace=True) is pts
        assert np.array_equal(pts, expected)
    # dtype that cannot hold the result: fresh array, input untouched
    pts = PTS.copy()
    out = na.apply_affine(AFF + 0.5, pts, inplace=True)
    assert out is not pts and out.dtype == np.float64
    assert np.array_equal(pts, PTS)
    # not inplace: input untouched
    pts = PTS.astype(float)
    na.apply_affine(AFF, pts)
    assert np.array_equal(pts, PTS)


def test_apply_affine_errors():
    with pytest.raises(AffineError, match="last axis of length 3"):
        na.apply_affine(AFF, [[1, 2]])
    with pytest.raises(AffineError):
        na.apply_affine(AFF, 1.0)
    with pytest.raises(AffineError, match="2D"):
        na.apply_affine(np.ones(4), [1, 2, 3])


# ---------------------------------------------------------------- to_matvec / from_matvec


def test_to_matvec():
    aff = np.diag([2, 3, 4, 1])
    aff[:3, 3] = [9, 10, 11]
    mat, vec = na.to_matvec(aff)
    assert np.array_equal(mat, np.diag([2, 3, 4]))
    assert np.array_equal(vec, [9, 10, 11])
    mat[0, 0] = 7  # views, as in nibabel
    assert aff[0, 0] == 7
    mat, vec = na.to_matvec(np.ones((4, 3)))
    assert mat.shape == (3, 2) and vec.shape == (3,)
    with pytest.raises(AffineError):
        na.to_matvec([1, 2])


def test_from_matvec():
    out = na.from_matvec(np.diag([2, 3, 4]), [9, 10, 11])
    assert np.array_equal(out, [[2, 0, 0, 9], [0, 3, 0, 10], [0, 0, 4, 11], [0, 0, 0, 1]])
    assert out.dtype == np.int64
    out = na.from_matvec(np.diag([2, 3, 4]))
    assert np.array_equal(out, np.diag([2, 3, 4, 1]))
    out = na.from_matvec(np.ones((2, 3)), [1, 2])
    assert np.array_equal(out, nba.from_matvec(np.ones((2, 3)), [1, 2]))
    # float32 matrix keeps its dtype with integer or float64 translations
    f32 = np.diag([2, 3, 4]).astype(np.float32)
    assert na.from_matvec(f32, [9, 10, 11]).dtype == np.float32
    assert na.from_matvec(f32, np.array([9.5, 10, 11])).dtype == np.float32
    assert na.from_matvec([[1]]).tolist() == [[1, 0], [0, 1]]


def test_from_matvec_does_not_truncate():
    # nibabel would store 9 here; an affine must not lose its translation
    out = na.from_matvec(np.diag([2, 3, 4]), [9.5, 10, 11])
    assert out.dtype == np.float64
    assert out[0, 3] == 9.5


def test_from_matvec_errors():
    with pytest.raises(AffineError, match="2 values"):
        na.from_matvec(np.ones((2, 3)), [1, 2, 3])
    for bad in (2, [1, 2, 3]):
        with pytest.raises(AffineError, match="2D"):
            na.from_matvec(bad)


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.data())
def test_matvec_round_trip(n_out, n_in, data):
    mat = data.draw(arrays(np.float64, (n_out, n_in), elements=finite))
    vec = data.draw(arrays(np.float64, n_out, elements=finite))
    xform = na.from_matvec(mat, vec)
    assert np.array_equal(xform, nba.from_matvec(mat, vec))
    mat2, vec2 = na.to_matvec(xform)
    assert np.array_equal(mat2, mat)
    assert np.array_equal(vec2, vec)
    assert np.array_equal(na.from_matvec(mat2, vec2), xform)


# ---------------------------------------------------------------- append_diag / dot_reduce


def test_append_diag_matches_nibabel():
    aff = np.eye(4)
    aff[:3, :3] = np.arange(9).reshape((3, 3))
    cases = [
        (aff, [9, 10], [99, 100]),
        (aff, 9, 99),
        (aff, [9, 10], ()),
        (aff, [], ()),
        (np.eye(4, dtype=int), [9, 10], ()),
        (np.eye(4, dtype=np.float32), [9, 10], ()),
        (np.ones((4, 3)), [9, 10], ()),
        (np.arange(9).reshape(3, 3), [9], ()),
        (np.array([[1, 0, 5], [0, 0, 1]]), [9], ()),
    ]
    for a, steps, starts in cases:
        ours, theirs = na.append_diag(a, steps, starts), nba.append_diag(a, steps, starts)
        assert ours.dtype == theirs.dtype
        assert np.array_equal(ours, theirs)


def test_append_diag_promotes_instead_of_truncating():
    out = na.append_diag(np.eye(4, dtype=int), [9.5, 10], [0.25, 0])
    assert out.dtype == np.float64
    assert out[3, 3] == 9.5 and out[3, 5] == 0.25


def test_append_diag_errors():
    with pytest.raises(AffineError, match="same length"):
        na.append_diag(np.eye(4), [9, 10], [1])
    with pytest.raises(AffineError):
        na.append_diag(np.eye(4), [[9, 10]])


def test_dot_reduce():
    a, b, c = (RNG.normal(size=(3, 3)) for _ in range(3))
    assert np.allclose(na.dot_reduce(a, b, c), a @ (b @ c))
    assert np.allclose(na.dot_reduce(a, b, c), nba.dot_reduce(a, b, c))
    assert na.dot_reduce(a) is a
    assert na.dot_reduce([1, 2], [3, 4]) == 11
    with pytest.raises(TypeError):  # as nibabel; also a NivoxError
        na.dot_reduce()
    with pytest.raises(NivoxError):
        na.dot_reduce()


# ---------------------------------------------------------------- voxel sizes, obliquity, rescale


def test_voxel_sizes():
    assert np.array_equal(na.voxel_sizes(np.diag([2, 3, 4, 1])), [2, 3, 4])
    assert na.voxel_sizes(np.diag([2, 3, 4, 1]).astype(np.float32)).dtype == np.float32
    for _ in range(20):
        aff = random_affine()
        assert np.allclose(na.voxel_sizes(aff), nba.voxel_sizes(aff))
    assert np.allclose(na.voxel_sizes(np.ones((3, 5))), np.sqrt(2))
    # lists are accepted (nibabel needs an array)
    as_list = [[0, -2, 0, 1], [3, 0, 0, 1], [0, 0, 4, 5], [0, 0, 0, 1]]
    assert np.allclose(na.voxel_sizes(as_list), [3, 2, 4])


def _rot_z(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    aff = np.eye(4)
    aff[:2, :2] = [[c, -s], [s, c]]
    return aff


def test_obliquity():
    assert np.array_equal(na.obliquity(np.diag([2, 3, 4, 1])), [0, 0, 0])
    assert np.array_equal(na.obliquity(np.diag([-2, 3, -4, 1])), [0, 0, 0])
    assert np.allclose(na.obliquity(_rot_z(0.3)), [0.3, 0.3, 0])
    assert np.allclose(na.obliquity(_rot_z(0.3)[:, [1, 0, 2, 3]]), [0.3, 0.3, 0])
    assert na.obliquity(_rot_z(0.3).astype(np.float32)).dtype == np.float32
    for _ in range(20):
        aff = random_affine()
        assert np.allclose(na.obliquity(aff), nba.obliquity(aff))
    assert np.allclose(na.obliquity(np.ones((3, 5))), np.pi / 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.all(np.isnan(na.obliquity(np.diag([2, 0, 4, 1]))))


@pytest.mark.parametrize("new_shape", [None, (5, 5, 5), (64, 33, 2)])
def test_rescale_affine_matches_nibabel(new_shape):
    for aff in (np.diag([2, 3, 4, 1]), _rot_z(0.3), random_affine(), _rot_z(1).astype(np.float32)):
        for shape, zooms in (((10, 20, 30), (1, 1, 1)), ((9, 8, 7), (1, 2, 3)), ((10, 20, 30), 2)):
            ours = na.rescale_affine(aff, shape, zooms, new_shape)
            theirs = nba.rescale_affine(aff, shape, zooms, new_shape)
            assert ours.dtype == theirs.dtype
            assert np.allclose(ours, theirs)


def test_rescale_affine_keeps_centre_and_directions():
    aff = random_affine()
    shape, new_shape = np.array([11, 20, 7]), np.array([30, 3, 8])
    out = na.rescale_affine(aff, shape, (0.5, 2, 3), new_shape)
    assert np.allclose(na.voxel_sizes(out), [0.5, 2, 3])
    assert np.allclose(
        na.apply_affine(out, (new_shape - 1) // 2), na.apply_affine(aff, (shape - 1) // 2)
    )
    cosines = aff[:3, :3] / na.voxel_sizes(aff)
    assert np.allclose(out[:3, :3] / na.voxel_sizes(out), cosines)
    # works for other dimensions too (nibabel assumes 3D)
    out2 = na.rescale_affine(np.diag([2.0, 3, 1]), (10, 20), (1, 1))
    assert np.allclose(out2, [[1, 0, 4], [0, 1, 18], [0, 0, 1]])


def test_rescale_affine_errors():
    with pytest.raises(AffineError, match="zero-length"):
        na.rescale_affine(np.diag([2, 0, 4, 1]), (10, 20, 30), (1, 1, 1))
    with pytest.raises(AffineError, match="shape"):
        na.rescale_affine(np.diag([2, 3, 4, 1]), (10, 20), (1, 1, 1))
    with pytest.raises(AffineError, match="zooms"):
        na.rescale_affine(np.diag([2, 3, 4, 1]), (10, 20, 30), (1, 1))
    with pytest.raises(AffineError, match="square"):
        na.rescale_affine(np.ones((4, 3)), (10, 20), (1, 1))
