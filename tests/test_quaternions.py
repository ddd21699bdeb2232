"""Tests for nivox.quaternions, with nibabel as the oracle."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nivox import quaternions as nq
from nivox.affines import AffineError
from nivox.errors import NivoxError

nbq = pytest.importorskip("nibabel.quaternions")

RNG = np.random.default_rng(20240601)


def random_unit_quats(n: int) -> np.ndarray:
    q = RNG.normal(size=(n, 4))
    return q / np.linalg.norm(q, axis=1, keepdims=True)


finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
quat_strategy = arrays(np.float64, 4, elements=finite).filter(lambda q: np.dot(q, q) > 1e-6)


# ---------------------------------------------------------------- fillpositive


def test_fillpositive_examples():
    assert np.array_equal(nq.fillpositive([0, 0, 0]), [1, 0, 0, 0])
    wxyz = nq.fillpositive([1, 0, 0])
    assert np.array_equal(wxyz, [0, 1, 0, 0])
    assert np.dot(wxyz, wxyz) == 1
    assert wxyz.dtype == np.longdouble


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int16, np.longdouble])
def test_fillpositive_matches_nibabel_bitwise(dtype):
    xyz = RNG.uniform(-0.57, 0.57, size=(200, 3)).astype(dtype)
    if dtype == np.int16:
        xyz = np.array([[0, 0, 0], [1, 0, 0], [0, -1, 0], [0, 0, 1]], dtype)
    for row in xyz:
        ours, theirs = nq.fillpositive(row), nbq.fillpositive(row)
        assert ours.dtype == theirs.dtype
        assert np.array_equal(ours, theirs)


def _near_unit_xyz(dtype, excess):
    # vector part whose squared length is 1 + excess, rounded to dtype
    v = np.array([0.6, 0.8, 0.0])
    v = v * np.sqrt(1 + excess)
    return v.astype(dtype)


@pytest.mark.parametrize(
    ("dtype", "excess"),
    [
        (np.float32, 0.0),
        (np.float32, 1e-7),  # float32 rounding of a unit vector: accepted
        (np.float32, -1e-7),
        (np.float32, 1e-5),  # too far: rejected
        (np.float64, 0.0),
        (np.float64, 2e-16),
        (np.float64, 1e-9),
        (np.float64, -1e-13),
    ],
)
def test_fillpositive_tolerance_matches_nibabel(dtype, excess):
    xyz = _near_unit_xyz(dtype, excess)
    try:
        expected = nbq.fillpositive(xyz)
    except ValueError:
        with pytest.raises(AffineError, match="not a rotation"):
            nq.fillpositive(xyz)
    else:
        assert np.array_equal(nq.fillpositive(xyz), expected)


def test_fillpositive_float32_header_values():
    # quatern values as stored in a float32 NIfTI header for a 180 degree turn
    xyz = np.array([0.0, 0.0, 1.0000001], dtype=np.float32)
    assert np.array_equal(nq.fillpositive(xyz), [0, 0, 0, 1.0000001192092896])
    # the same value as float64 is outside the float64 tolerance
    with pytest.raises(AffineError):
        nq.fillpositive(xyz.astype(np.float64))


@pytest.mark.parametrize("thresh", [1e-5, -1e-5, 1e-6, -1e-7, 0, 0.01])
def test_fillpositive_explicit_threshold(thresh):
    for xyz in ([0.6, 0.8, 1e-3], [0.6, 0.795, 0]):
        try:
            expected = nbq.fillpositive(xyz, w2_thresh=thresh)
        except ValueError:
            with pytest.raises(AffineError):
                nq.fillpositive(xyz, w2_thresh=thresh)
        else:
            assert np.array_equal(nq.fillpositive(xyz, w2_thresh=thresh), expected)


def test_fillpositive_small_positive_w2_is_zeroed():
    assert nq.fillpositive([0.6, 0.795, 0], w2_thresh=0.01)[0] == 0
    assert nq.fillpositive([0.6, 0.795, 0], w2_thresh=0.001)[0] > 0


def test_fillpositive_errors():
    for bad in ([0.1, 0.2], [[0.1, 0.2, 0.3]], 0.5):
        with pytest.raises(AffineError, match="3 values"):
            nq.fillpositive(bad)
    with pytest.raises(ValueError):
        nq.fillpositive([1, 1, 1])
    with pytest.raises(AffineError):
        nq.fillpositive([0.5, np.inf, 0])
    assert np.isnan(nq.fillpositive([0.6, 0.8, np.nan])[0])


# ---------------------------------------------------------------- quat2mat / mat2quat


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.longdouble, np.int32])
def test_quat2mat_matches_nibabel_bitwise(dtype):
    quats = RNG.normal(size=(100, 4))
    if dtype == np.int32:
        quats = RNG.integers(-3, 4, size=(100, 4))
    for q in quats.astype(dtype):
        ours, theirs = nq.quat2mat(q), nbq.quat2mat(q)
        assert ours.dtype == theirs.dtype
        assert np.array_equal(ours, theirs)


def test_quat2mat_examples():
    assert np.array_equal(nq.quat2mat([1, 0, 0, 0]), np.eye(3))
    assert np.allclose(nq.quat2mat([0, 1, 0, 0]), np.diag([1, -1, -1]))
    # non-unit quaternions are normalized
    assert np.allclose(nq.quat2mat([2, 0, 0, 0]), np.eye(3))
    # (nearly) zero quaternion: identity, not NaN
    for q in ([0, 0, 0, 0], [1e-8, 0, 0, 0], np.zeros(4, np.float32)):
        out = nq.quat2mat(q)
        assert np.array_equal(out, np.eye(3))
        assert out.dtype == np.float64


def test_quat2mat_stack():
    quats = RNG.normal(size=(2, 5, 4))
    quats[1, 2] = 0
    stacked = nq.quat2mat(quats)
    assert stacked.shape == (2, 5, 3, 3)
    for idx in np.ndindex(2, 5):
        assert np.array_equal(stacked[idx], nq.quat2mat(quats[idx]))
    assert nq.quat2mat(quats.astype(np.float32)).dtype == np.float32


def test_quat2mat_bad_shape():
    for bad in ([1, 0, 0], [[1, 0, 0]], 1.0):
        with pytest.raises(AffineError):
            nq.quat2mat(bad)


def test_mat2quat_examples():
    assert np.allclose(nq.mat2quat(np.eye(3)), [1, 0, 0, 0])
    for axis in range(3):
        diag = -np.ones(3)
        diag[axis] = 1
        expected = np.zeros(4)
        expected[axis + 1] = 1
        assert np.allclose(nq.mat2quat(np.diag(diag)), expected)


def test_mat2quat_matches_nibabel():
    for q in random_unit_quats(200):
        mat = nbq.quat2mat(q)
        noisy = mat + RNG.normal(0, 1e-4, (3, 3))
        for m in (mat, noisy, mat.astype(np.float32), mat * 2):
            ours = nq.mat2quat(m)
            assert ours.dtype == np.float64
            assert np.allclose(ours, nbq.mat2quat(m), atol=1e-12)
            assert ours[0] >= 0


def test_mat2quat_stack_and_errors():
    mats = nbq.quat2mat(random_unit_quats(1)[0])[None].repeat(6, axis=0).reshape(2, 3, 3, 3)
    out = nq.mat2quat(mats)
    assert out.shape == (2, 3, 4)
    assert np.allclose(out, nq.mat2quat(mats[0, 0]))
    with pytest.raises(AffineError, match="non-finite"):
        nq.mat2quat(np.full((3, 3), np.nan))
    for bad in (np.eye(4), np.eye(2), np.ones(9)):
        with pytest.raises(AffineError, match="shape"):
            nq.mat2quat(bad)


@settings(max_examples=200, deadline=None)
@given(quat_strategy)
def test_quat_mat_round_trip(q):
    mat = nq.quat2mat(q)
    assert np.allclose(mat @ mat.T, np.eye(3), atol=1e-10)
    assert np.isclose(np.linalg.det(mat), 1)
    back = nq.mat2quat(mat)
    assert nq.nearly_equivalent(back, q / np.sqrt(np.dot(q, q)), atol=1e-7)
    assert np.allclose(nq.quat2mat(back), mat, atol=1e-10)


# ---------------------------------------------------------------- algebra


def test_mult_matches_nibabel_and_dtypes():
    for q1, q2 in zip(RNG.normal(size=(50, 4)), RNG.normal(size=(50, 4))):
        assert np.allclose(nq.mult(q1, q2), nbq.mult(q1, q2))
    assert np.array_equal(nq.mult([1, 2, 3, 4], [5, 6, 7, 8]), [-60, 12, 30, 24])
    assert nq.mult([1, 2, 3, 4], [5, 6, 7, 8]).dtype.kind == "i"
    f32 = np.array([1, 2, 3, 4], np.float32)
    assert nq.mult(f32, f32).dtype == np.float32


def test_mult_is_hamilton_product():
    i, j, k = np.eye(4)[1:]
    assert np.array_equal(nq.mult(i, j), k)
    assert np.array_equal(nq.mult(j, i), -k)
    assert np.array_equal(nq.mult(i, i), [-1, 0, 0, 0])


def test_mult_broadcasts():
    q1 = RNG.normal(size=(7, 4))
    q2 = RNG.normal(size=4)
    out = nq.mult(q1, q2)
    assert out.shape == (7, 4)
    assert np.allclose(out[3], nq.mult(q1[3], q2))
    with pytest.raises(AffineError):
        nq.mult([1, 2, 3], [1, 2, 3, 4])


def test_conjugate_norm_inverse_eye():
    q = np.array([1.0, 2, 3, 4])
    assert np.array_equal(nq.conjugate(q), [1, -2, -3, -4])
    assert nq.conjugate(q.astype(np.float32)).dtype == np.float64
    assert nq.norm(q) == 30
    assert nq.norm([2.0, 0, 0, 0]) == 4
    assert nq.norm(q.astype(np.float32)).dtype == np.float32
    assert np.allclose(nq.inverse(q), nbq.inverse(q))
    assert np.allclose(nq.mult(q, nq.inverse(q)), nq.eye())
    assert np.all(np.isnan(nq.inverse([0, 0, 0, 0])))
    assert np.array_equal(nq.eye(), [1, 0, 0, 0])
    stack = RNG.normal(size=(3, 4))
    assert np.allclose(nq.norm(stack), [nq.norm(s) for s in stack])
    assert np.allclose(nq.mult(stack, nq.inverse(stack)), nq.eye())
    with pytest.raises(AffineError):
        nq.conjugate([1, 2, 3])


@pytest.mark.parametrize(
    "q",
    [[1, 0, 0, 0], [0.6, 0.8, 0, 0], [1 + 4e-6, 0, 0, 0], [1 + 6e-6, 0, 0, 0], [1.001, 0, 0, 0]],
)
def test_isunit_matches_nibabel(q):
    assert nq.isunit(q) is nbq.isunit(q)
    assert nq.isunit(np.float32(q)) is nbq.isunit(np.float32(q))


def test_rotate_vector():
    assert np.allclose(nq.rotate_vector([1, 2, 3], [0, 1, 0, 0]), [1, -2, -3])
    # a non-unit quaternion scales by its squared norm, as in nibabel
    assert np.allclose(nq.rotate_vector([1, 2, 3], [2, 0, 0, 0]), [4, 8, 12])
    for q, v in zip(random_unit_quats(50), RNG.normal(size=(50, 3))):
        ours = nq.rotate_vector(v, q)
        assert np.allclose(ours, nbq.rotate_vector(v, q))
        assert np.allclose(ours, nq.quat2mat(q) @ v)
    vs = RNG.normal(size=(4, 3))
    q = random_unit_quats(1)[0]
    assert np.allclose(nq.rotate_vector(vs, q), vs @ nq.quat2mat(q).T)
    with pytest.raises(AffineError):
        nq.rotate_vector([1, 2], q)


def test_nearly_equivalent():
    q1 = [1, 0, 0, 0]
    assert not nq.nearly_equivalent(q1, [0, 1, 0, 0])
    assert nq.nearly_equivalent(q1, [1, 0, 0, 0])
    assert nq.nearly_equivalent(q1, [-1, 0, 0, 0])
    assert not nq.nearly_equivalent(q1, [1, 1e-4, 0, 0])
    assert nq.nearly_equivalent(q1, [1, 1e-4, 0, 0], atol=1e-3)
    assert not nq.nearly_equivalent(q1, [2, 0, 0, 0])


# ---------------------------------------------------------------- angle / axis


def test_angle_axis2quat_and_mat_match_nibabel():
    for theta, axis in zip(RNG.uniform(-7, 7, 50), RNG.normal(size=(50, 3))):
        for normed in (False, True):
            assert np.allclose(
                nq.angle_axis2quat(theta, axis, normed), nbq.angle_axis2quat(theta, axis, normed)
            )
            assert np.allclose(
                nq.angle_axis2mat(theta, axis, normed), nbq.angle_axis2mat(theta, axis, normed)
            )
        from_quat = nq.quat2mat(nq.angle_axis2quat(theta, axis))
        assert np.allclose(from_quat, nq.angle_axis2mat(theta, axis))
    assert np.allclose(nq.angle_axis2quat(np.pi, [1, 0, 0]), [0, 1, 0, 0])
    assert np.allclose(nq.angle_axis2mat(np.pi / 2, [0, 0, 2]), [[0, -1, 0], [1, 0, 0], [0, 0, 1]])
    f32 = nq.angle_axis2mat(np.float32(1), np.array([1, 0, 0], np.float32))
    assert f32.dtype == np.float32


def test_angle_axis_errors():
    for func in (nq.angle_axis2quat, nq.angle_axis2mat):
        with pytest.raises(AffineError, match="zero length"):
            func(1, [0, 0, 0])
        with pytest.raises(AffineError, match="3 values"):
            func(1, [1, 0])


def test_quat2angle_axis_examples():
    theta, vec = nq.quat2angle_axis([0, 1, 0, 0])
    assert np.isclose(theta, np.pi)
    assert np.array_equal(vec, [1, 0, 0])
    theta, vec = nq.quat2angle_axis([1, 0, 0, 0])
    assert theta == 0.0 and type(theta) is float
    assert np.array_equal(vec, [1, 0, 0])


@pytest.mark.parametrize(
    ("quat", "dtype", "thresh"),
    [
        ([0.5, 2, 0, 0], np.float64, None),
        ([-1, 2, 0, 0], np.float64, None),
        ([1, 0, 1e-15, 0], np.float64, None),
        ([1, 0, 1e-16, 0], np.float64, None),
        ([1, 0, 1e-4, 0], np.float64, 1e-6),
        ([1, 0, 1e-4, 0], np.float64, 1e-3),
        ([1, 0, 4e-7, 0], np.float32, None),
        ([1, 0, 3e-7, 0], np.float32, None),
        ([0.5, 0, 1, 0], np.float32, None),
        ([0.5, 0, 1, 0], np.longdouble, None),
        ([1, 0, 1, 0], np.int32, None),
        ([1, 2, 3, 4], np.float64, None),
    ],
)
def test_quat2angle_axis_matches_nibabel(quat, dtype, thresh):
    q = np.array(quat, dtype)
    theta, vec = nq.quat2angle_axis(q, thresh)
    n_theta, n_vec = nbq.quat2angle_axis(q, thresh)
    assert theta == pytest.approx(n_theta)
    assert vec.dtype == n_vec.dtype
    assert np.allclose(vec, n_vec)


def test_quat2angle_axis_round_trip():
    for q in random_unit_quats(100):
        theta, vec = nq.quat2angle_axis(q)
        assert nq.nearly_equivalent(nq.angle_axis2quat(theta, vec), q)


def test_quat2angle_axis_errors():
    with pytest.raises(AffineError, match=r"\[-1, 1\]"):
        nq.quat2angle_axis([1.5, 1, 0, 0])
    with pytest.raises(AffineError):
        nq.quat2angle_axis([1, 0, 0])
    # float32 rounding just above 1 is tolerated (nibabel raises here)
    theta, _ = nq.quat2angle_axis(np.array([1.0000001, 1e-3, 0, 0], np.float32))
    assert theta == 0.0


def test_error_class():
    assert issubclass(AffineError, NivoxError)
    assert issubclass(AffineError, ValueError)
