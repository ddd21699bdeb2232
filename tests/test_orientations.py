"""Tests for nivox.orientations, with nibabel as the oracle."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nivox import orientations as no
from nivox.affines import apply_affine
from nivox.errors import ExpiredDeprecationError, NivoxError
from nivox.eulerangles import euler2mat
from nivox.orientations import OrientationError

nbo = pytest.importorskip("nibabel.orientations")

RNG = np.random.default_rng(48)
PERMS = list(itertools.permutations(range(3)))
FLIPS = list(itertools.product((1, -1), repeat=3))
# every axis permutation with every combination of flips: 6 * 8 = 48
ORNTS = [np.column_stack([perm, flips]).astype(float) for perm in PERMS for flips in FLIPS]


def ornt_affine(ornt: np.ndarray, zooms=(2.0, 3.0, 4.0), shift=(10.0, -20.0, 30.0)) -> np.ndarray:
    """Affine whose voxel axis i runs along world axis ornt[i, 0], direction ornt[i, 1]."""
    aff = np.eye(4)
    aff[:3, :3] = 0
    for in_ax, (out_ax, flip) in enumerate(ornt):
        aff[int(out_ax), in_ax] = flip * zooms[in_ax]
    aff[:3, 3] = shift
    return aff


def oblique_affines(n: int) -> list[np.ndarray]:
    affs = []
    for _ in range(n):
        aff = np.eye(4)
        rot = euler2mat(*RNG.uniform(-np.pi, np.pi, 3))
        aff[:3, :3] = rot * RNG.uniform(0.5, 3, 3)
        if RNG.random() < 0.5:
            aff[:3, :3] += RNG.normal(0, 0.3, (3, 3))  # shear
        aff[:3, 3] = RNG.normal(0, 50, 3)
        affs.append(aff)
    return affs


def test_error_class():
    assert issubclass(OrientationError, NivoxError)
    assert issubclass(OrientationError, ValueError)


# ---------------------------------------------------------------- io_orientation / aff2axcodes


@pytest.mark.parametrize("ornt", ORNTS, ids=lambda o: "".join(no.ornt2axcodes(o)))
def test_io_orientation_all_48(ornt):
    aff = ornt_affine(ornt)
    ours = no.io_orientation(aff)
    assert ours.dtype == np.float64
    assert np.array_equal(ours, ornt)
    assert np.array_equal(ours, nbo.io_orientation(aff))
    codes = no.aff2axcodes(aff)
    assert codes == nbo.aff2axcodes(aff)
    assert np.array_equal(no.axcodes2ornt(codes), ornt)
    # a small rotation does not change the answer
    tilted = aff.copy()
    tilted[:3, :3] = euler2mat(0.1, -0.2, 0.15) @ aff[:3, :3]
    assert np.array_equal(no.io_orientation(tilted), ornt)
    assert np.array_equal(no.io_orientation(tilted), nbo.io_orientation(tilted))


def test_io_orientation_oblique_matches_nibabel():
    for aff in oblique_affines(400):
        for a in (aff, aff.astype(np.float32)):
            assert np.array_equal(no.io_orientation(a), nbo.io_orientation(a))
            assert no.aff2axcodes(a) == nbo.aff2axcodes(a)


def test_io_orientation_45_degree_ties_match_nibabel():
    for perm in PERMS:
        for angle in (np.pi / 4, -np.pi / 4, 3 * np.pi / 4):
            for axis in range(3):
                aff = np.eye(4)
                angles = [0.0, 0.0, 0.0]
                angles[axis] = angle
                aff[:3, :3] = euler2mat(*angles)[:, list(perm)]
                assert np.array_equal(no.io_orientation(aff), nbo.io_orientation(aff))
    aff = np.eye(4)
    aff[:3, :3] = 1
    assert np.array_equal(no.io_orientation(aff), nbo.io_orientation(aff))


@pytest.mark.parametrize("q_p", [(2, 3), (3, 2), (4, 3), (3, 4), (1, 3), (3, 1), (5, 5)])
def test_io_orientation_non_square_matches_nibabel(q_p):
    q, p = q_p
    for i in range(150):
        aff = np.eye(q + 1, p + 1)
        aff[:q, :p] = RNG.normal(size=(q, p))
        aff[q, p] = 1
        if i % 3 == 0:
            aff[:q, RNG.integers(p)] = 0
        if i % 5 == 0:
            aff[:q, :p] = np.round(aff[:q, :p])
        ours = no.io_orientation(aff)
        assert ours.shape == (p, 2)
        assert np.array_equal(ours, nbo.io_orientation(aff), equal_nan=True)
        # every kept input axis has its own output axis
        kept = ours[~np.isnan(ours[:, 0]), 0]
        assert len(set(kept)) == len(kept)


def test_io_orientation_degenerate():
    assert np.all(np.isnan(no.io_orientation(np.zeros((4, 4)))))
    assert np.array_equal(no.io_orientation(np.diag([1, 1, 1e-20, 1])), [[0, 1], [1, 1], [2, 1]])
    assert np.array_equal(no.io_orientation(np.eye(4, dtype=int)), [[0, 1], [1, 1], [2, 1]])
    assert no.io_orientation(np.eye(1)).shape == (0, 2)  # nibabel fails here
    # an input axis with no world extent is dropped
    aff = np.diag([2.0, 0, 3, 1])
    assert np.array_equal(no.io_orientation(aff), nbo.io_orientation(aff), equal_nan=True)
    assert no.aff2axcodes(aff) == ("R", None, "S")
    with pytest.raises(OrientationError, match="non-finite"):
        no.io_orientation(np.full((4, 4), np.nan))
    with pytest.raises(OrientationError):
        no.io_orientation([1, 2, 3])


@pytest.mark.parametrize("tol", [None, 0, 1e-9, 1e-6])
def test_io_orientation_tol(tol):
    aff = np.eye(4)
    aff[:3, 1] = [1, 1e-7, 0]  # nearly parallel to axis 0
    assert np.array_equal(no.io_orientation(aff, tol), nbo.io_orientation(aff, tol))
    assert no.aff2axcodes(aff, tol=tol) == nbo.aff2axcodes(aff, tol=tol)


def test_aff2axcodes_labels():
    aff = [[0, 1, 0, 10], [-1, 0, 0, 20], [0, 0, 1, 30], [0, 0, 0, 1]]
    labels = (("L", "R"), ("B", "F"), ("D", "U"))
    assert no.aff2axcodes(aff, labels) == ("B", "R", "U")
    assert no.aff2axcodes(np.eye(3)) == ("R", "A")
    assert no.aff2axcodes(np.eye(5), labels=("LR", "PA", "IS", "xy")) == ("R", "A", "S", "y")
    with pytest.raises(OrientationError, match="no labels"):
        no.aff2axcodes(np.eye(5))


# ---------------------------------------------------------------- codes


def test_ornt2axcodes():
    assert no.ornt2axcodes([[1, 1], [0, -1], [2, 1]], (("L", "R"), ("B", "F"), ("D", "U"))) == (
        "F",
        "L",
        "U",
    )
    assert no.ornt2axcodes([[0, 1], [1, -1], [np.nan, np.nan]]) == ("R", "P", None)
    assert no.ornt2axcodes(np.zeros((0, 2))) == ()
    assert no.ornt2axcodes([[0, -1]], labels=["ab"]) == ("a",)
    for bad, match in (
        ([[0, 1], [1, 0], [2, 1]], "direction"),
        ([[0, 1], [1, np.nan]], "direction"),
        ([[0.5, 1]], "non-integer"),
        ([[-1, 1]], "negative"),
        ([[3, 1]], "no labels"),
        ([[0, 1, 1]], "shape"),
    ):
        with pytest.raises(OrientationError, match=match):
            no.ornt2axcodes(bad)


def test_axcodes2ornt():
    assert np.array_equal(
        no.axcodes2ornt(("F", "L", "U"), (("L", "R"), ("B", "F"), ("D", "U"))),
        [[1, 1], [0, -1], [2, 1]],
    )
    for codes in ("RAS", "LPI", "SAR", "RA", "RRS", "RLS", ""):
        ours = no.axcodes2ornt(codes)
        assert np.array_equal(ours, nbo.axcodes2ornt(codes))
        assert ours.shape == (len(codes), 2)
    assert np.array_equal(
        no.axcodes2ornt(("R", None, "S")), [[0, 1], [np.nan, np.nan], [2, 1]], equal_nan=True
    )
    for bad in ("RAS?", "ras", ("RAS",)):
        with pytest.raises(OrientationError, match="not in the label set"):
            no.axcodes2ornt(bad)
    with pytest.raises(OrientationError, match="duplicate"):
        no.axcodes2ornt("FLU", (("L", "R"), ("B", "F"), ("D", "L")))
    with pytest.raises(OrientationError, match="pair"):
        no.axcodes2ornt("RAS", (("L", "R", "X"), ("P", "A"), ("I", "S")))


@settings(max_examples=100, deadline=None)
@given(st.permutations(list(range(5))), st.lists(st.sampled_from([1, -1]), min_size=5, max_size=5))
def test_axcodes_round_trip(perm, flips):
    labels = (("L", "R"), ("P", "A"), ("I", "S"), ("x", "X"), ("y", "Y"))
    ornt = np.column_stack([perm, flips]).astype(float)
    codes = no.ornt2axcodes(ornt, labels)
    assert np.array_equal(no.axcodes2ornt(codes, labels), ornt)


# ---------------------------------------------------------------- transforms on arrays


@pytest.mark.parametrize("ornt", ORNTS, ids=lambda o: "".join(no.ornt2axcodes(o)))
def test_apply_orientation_and_inverse_all_48(ornt):
    shape = (2, 3, 4, 2)
    arr = np.arange(np.prod(shape)).reshape(shape)
    t_arr = no.apply_orientation(arr, ornt)
    assert np.array_equal(t_arr, nbo.apply_orientation(arr, ornt))
    assert np.shares_memory(t_arr, arr)  # a view, not a copy
    inv = no.inv_ornt_aff(ornt, shape)
    assert np.array_equal(inv, nbo.inv_ornt_aff(ornt, shape))
    # the inverse affine maps every voxel of t_arr to the same voxel of arr
    idx = np.indices(t_arr.shape[:3]).reshape(3, -1).T
    src = apply_affine(inv, idx).astype(int)
    assert np.array_equal(t_arr[tuple(idx.T)], arr[tuple(src.T)])


def test_reorient_to_canonical_recipe():
    # what as_closest_canonical does: data and affine end up RAS+
    for ornt in ORNTS:
        aff = ornt_affine(ornt)
        shape = (4, 5, 6)
        data = RNG.normal(size=shape)
        to_ras = no.io_orientation(aff)
        new_data = no.apply_orientation(data, to_ras)
        new_aff = aff @ no.inv_ornt_aff(to_ras, shape)
        assert no.aff2axcodes(new_aff) == ("R", "A", "S")
        rzs = new_aff[:3, :3]
        assert np.all(np.diag(rzs) > 0)
        assert np.array_equal(rzs, np.diag(np.diag(rzs)))
        # the same world point holds the same value
        vox = np.array([1, 2, 3])
        world = apply_affine(aff, vox)
        new_vox = np.round(apply_affine(np.linalg.inv(new_aff), world)).astype(int)
        assert new_data[tuple(new_vox)] == data[tuple(vox)]


def test_apply_orientation_errors():
    arr = np.zeros((2, 3, 4))
    with pytest.raises(OrientationError, match="fewer"):
        no.apply_orientation(arr, [[0, 1], [1, 1], [2, 1], [3, 1]])
    with pytest.raises(OrientationError, match="drop"):
        no.apply_orientation(arr, [[0, -1], [1, 1], [np.nan, np.nan]])
    with pytest.raises(OrientationError, match="twice"):
        no.apply_orientation(arr, [[0, -1], [1, 1], [1, 1]])
    with pytest.raises(OrientationError, match="permutation"):
        no.apply_orientation(arr, [[0, 1], [2, 1]])
    # fewer orientation rows than dimensions: trailing axes untouched
    out = no.apply_orientation(np.arange(24).reshape(2, 3, 4), [[0, -1], [1, 1]])
    assert np.array_equal(out, np.arange(24).reshape(2, 3, 4)[::-1])
    transposed = no.apply_orientation([[1, 2], [3, 4]], [[1, 1], [0, 1]])
    assert np.array_equal(transposed, [[1, 3], [2, 4]])


def test_inv_ornt_aff_edge_cases():
    ornt = [[0, -1], [1, -1], [2, -1]]
    assert np.array_equal(no.inv_ornt_aff(ornt, (2, 3, 4, 5)), nbo.inv_ornt_aff(ornt, (2, 3, 4, 5)))
    assert np.array_equal(no.inv_ornt_aff(np.zeros((0, 2)), ()), [[1.0]])
    with pytest.raises(OrientationError, match="dropped"):
        no.inv_ornt_aff([[0, -1], [1, -1], [np.nan, np.nan]], (2, 3, 4))
    with pytest.raises(OrientationError, match="fewer"):
        no.inv_ornt_aff(ornt, (2, 3))


def test_ornt_transform_all_pairs():
    shape = (2, 3, 4)
    ras = ORNTS[0]
    for start in ORNTS:
        aff = ornt_affine(start)
        # the orientation of an affine is already the transform to RAS+
        assert np.array_equal(no.ornt_transform(start, ras), start)
        for end in ORNTS:
            trans = no.ornt_transform(start, end)
            assert trans.dtype == np.int64
            assert np.array_equal(trans, nbo.ornt_transform(start, end))
            # data in `start` orientation, transformed, has affine in `end` orientation
            new_aff = aff @ no.inv_ornt_aff(trans, shape)
            assert np.array_equal(no.io_orientation(new_aff), end)


def test_ornt_transform_errors():
    ras = [[0, 1], [1, 1], [2, 1]]
    with pytest.raises(OrientationError, match="same shape"):
        no.ornt_transform(ras, [[1, -1], [0, 1]])
    with pytest.raises(OrientationError, match="NaN"):
        no.ornt_transform([[0, 1], [1, 1], [np.nan, np.nan]], ras)
    with pytest.raises(OrientationError, match="same set"):
        no.ornt_transform(ras, [[0, 1], [1, 1], [3, 1]])
    with pytest.raises(OrientationError, match="twice"):
        no.ornt_transform(ras, [[0, 1], [0, 1], [2, 1]])  # nibabel returns garbage
    with pytest.raises(OrientationError, match="shape"):
        no.ornt_transform([[0, 1, 1], [1, 1, 1]], [[0, 1, 1], [1, 1, 1]])


def test_flip_axis_expired():
    with pytest.raises(ExpiredDeprecationError, match="numpy.flip"):
        no.flip_axis(np.zeros(3))
