"""Tests for nivox.eulerangles, with nibabel as the oracle."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nivox import eulerangles as ne
from nivox import quaternions as nq
from nivox.affines import AffineError

nbe = pytest.importorskip("nibabel.eulerangles")

RNG = np.random.default_rng(99)
ANGLES = RNG.uniform(-np.pi, np.pi, size=(200, 3))

angle = st.floats(-np.pi + 1e-6, np.pi - 1e-6)
pitch = st.floats(-np.pi / 2 + 1e-3, np.pi / 2 - 1e-3)


def test_euler2mat_examples():
    assert np.array_equal(ne.euler2mat(), np.eye(3))
    zrot, yrot, xrot = 1.3, -0.1, 0.2
    M = ne.euler2mat(zrot, yrot, xrot)
    composed = ne.euler2mat(x=xrot) @ ne.euler2mat(0, yrot) @ ne.euler2mat(zrot)
    assert np.allclose(M, composed)
    # counter-clockwise, right-handed
    assert np.allclose(ne.euler2mat(z=np.pi / 2), [[0, -1, 0], [1, 0, 0], [0, 0, 1]])
    assert np.allclose(ne.euler2mat(y=np.pi / 2), [[0, 0, 1], [0, 1, 0], [-1, 0, 0]])
    assert np.allclose(ne.euler2mat(x=np.pi / 2), [[1, 0, 0], [0, 0, -1], [0, 1, 0]])


def test_euler2mat_single_axis_exact():
    # single-axis rotations are the plain cos/sin matrices, as in nibabel
    for kw in ({"z": 0.7}, {"y": -1.1}, {"x": 2.5}):
        assert np.array_equal(ne.euler2mat(**kw), nbe.euler2mat(**kw))


def test_euler2mat_matches_nibabel():
    for z, y, x in ANGLES:
        assert np.allclose(ne.euler2mat(z, y, x), nbe.euler2mat(z, y, x), rtol=0, atol=1e-15)
    assert ne.euler2mat(np.float32(1)).dtype == np.float64


def test_euler2mat_broadcasts():
    z, y, x = ANGLES.T
    stack = ne.euler2mat(z, y, x)
    assert stack.shape == (200, 3, 3)
    assert np.array_equal(stack[17], ne.euler2mat(z[17], y[17], x[17]))
    assert ne.euler2mat(z[:5], 0.3).shape == (5, 3, 3)


def test_euler2quat_matches_nibabel():
    assert np.array_equal(ne.euler2quat(), [1, 0, 0, 0])
    for z, y, x in ANGLES:
        q = ne.euler2quat(z, y, x)
        assert np.allclose(q, nbe.euler2quat(z, y, x), rtol=0, atol=1e-15)
        assert nq.nearly_equivalent(q, nq.mat2quat(ne.euler2mat(z, y, x)))
    z, y, x = ANGLES.T
    assert np.allclose(ne.euler2quat(z, y, x)[5], ne.euler2quat(*ANGLES[5]))


def test_mat2euler_matches_nibabel():
    for z, y, x in ANGLES:
        M = nbe.euler2mat(z, y, x)
        ours = ne.mat2euler(M)
        assert all(type(v) is float for v in ours)
        assert np.allclose(ours, nbe.mat2euler(M), rtol=0, atol=1e-12)
        assert np.allclose(ne.euler2mat(*ours), M)
    # signed zeros of the identity, as nibabel gives them
    assert np.array_equal(np.signbit(ne.mat2euler(np.eye(3))), [True, False, True])
    assert ne.mat2euler(np.diag([1, 1, -1])) == nbe.mat2euler(np.diag([1, 1, -1]))


def _gimbal_matrix(d, dtype):
    # y = pi/2 - d with cos(y) exactly d
    M = nbe.euler2mat(1, np.pi / 2 - d, 0.3)
    M[1, 2] = -np.sin(0.3) * d
    M[2, 2] = np.cos(0.3) * d
    return M.astype(dtype)


@pytest.mark.parametrize(
    ("dtype", "d"),
    [
        (np.float64, 1e-6),
        (np.float64, 9e-16),
        (np.float64, 8.8e-16),
        (np.float64, 0.0),
        (np.float32, 5e-7),
        (np.float32, 4.7e-7),
        (np.float32, 1e-9),
    ],
)
def test_mat2euler_gimbal_lock_threshold(dtype, d):
    M = _gimbal_matrix(d, dtype)
    ours, theirs = ne.mat2euler(M), nbe.mat2euler(M)
    assert np.allclose(ours, theirs, rtol=0, atol=1e-6)
    # in the degenerate branch, x is exactly 0 and z takes the whole turn
    assert (ours[2] == 0) == (theirs[2] == 0)
    assert np.allclose(ne.euler2mat(*ours), M, atol=1e-6)


def test_mat2euler_explicit_threshold():
    M = _gimbal_matrix(1e-5, np.float64)
    assert ne.mat2euler(M, cy_thresh=1e-4)[2] == 0
    assert ne.mat2euler(M, cy_thresh=1e-6)[2] != 0
    assert np.allclose(ne.mat2euler(M, 1e-4), nbe.mat2euler(M, 1e-4))


def test_mat2euler_stack_and_errors():
    mats = ne.euler2mat(*ANGLES.T)
    z, y, x = ne.mat2euler(mats)
    assert z.shape == (200,)
    assert np.allclose(np.stack([z, y, x], -1)[3], ne.mat2euler(mats[3]))
    for bad in (np.eye(4), np.eye(2), np.ones(9)):
        with pytest.raises(AffineError):
            ne.mat2euler(bad)


def test_quat_conversions_match_nibabel():
    quats = RNG.normal(size=(50, 4))
    for q in quats:
        assert np.allclose(ne.quat2euler(q), nbe.quat2euler(q), atol=1e-12)
    assert ne.quat2euler([1, 0, 0, 0]) == nbe.quat2euler([1, 0, 0, 0])
    for z, y, x in ANGLES[:50]:
        theta, vec = ne.euler2angle_axis(z, y, x)
        n_theta, n_vec = nbe.euler2angle_axis(z, y, x)
        assert theta == pytest.approx(n_theta)
        assert np.allclose(vec, n_vec)
        assert np.allclose(ne.angle_axis2euler(theta, vec), nbe.angle_axis2euler(theta, vec))
    theta, vec = ne.euler2angle_axis(0, 1.5, 0)
    assert theta == pytest.approx(1.5)
    assert np.allclose(vec, [0, 1, 0])
    assert np.allclose(ne.angle_axis2euler(0, [1, 0, 0]), 0)
    assert np.allclose(ne.angle_axis2euler(2, [0, 0, 4], is_normalized=False), (2, 0, 0))


@settings(max_examples=300, deadline=None)
@given(angle, pitch, angle)
def test_euler_round_trip(z, y, x):
    assert np.allclose(ne.mat2euler(ne.euler2mat(z, y, x)), (z, y, x), atol=1e-9)
    assert np.allclose(ne.quat2euler(ne.euler2quat(z, y, x)), (z, y, x), atol=1e-7)
    theta, vec = ne.euler2angle_axis(z, y, x)
    assert np.allclose(ne.euler2mat(*ne.angle_axis2euler(theta, vec)), ne.euler2mat(z, y, x))


@settings(max_examples=100, deadline=None)
@given(angle, st.sampled_from([np.pi / 2, -np.pi / 2]), angle)
def test_euler_round_trip_gimbal_lock(z, y, x):
    # angles are not unique here, but the rotation must survive the round trip
    M = ne.euler2mat(z, y, x)
    assert np.allclose(ne.euler2mat(*ne.mat2euler(M)), M, atol=1e-9)
