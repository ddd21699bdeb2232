"""NIfTI-1 header behaviour, compared field by field with nibabel where it is the reference."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nivox.batteryrunners import BatteryRunner
from nivox.errors import HeaderDataError
from nivox.nifti1 import Nifti1Header

nib = pytest.importorskip("nibabel")


def _random_affine(rng, oblique=True):
    zooms = rng.uniform(0.5, 4, 3)
    if oblique:
        q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    else:
        q = np.eye(3)[rng.permutation(3)] * rng.choice([-1, 1], 3)
    aff = np.eye(4)
    aff[:3, :3] = q * zooms
    aff[:3, 3] = rng.uniform(-100, 100, 3)
    return aff


@pytest.mark.parametrize("seed", range(20))
def test_qform_matches_nibabel(seed):
    rng = np.random.default_rng(seed)
    aff = _random_affine(rng, oblique=seed % 2 == 0)
    ours, theirs = Nifti1Header(), nib.Nifti1Header()
    ours.set_qform(aff, code="scanner")
    theirs.set_qform(aff, code="scanner")
    assert ours.binaryblock == theirs.binaryblock
    assert np.allclose(ours.get_qform(), theirs.get_qform(), atol=1e-6)
    assert np.allclose(ours.get_qform(), aff, atol=1e-4)


def test_qform_rules():
    hdr = Nifti1Header()
    aff = np.diag([2, 3, 4, 1.0])
    hdr.set_qform(aff)
    assert hdr["qform_code"] == 2  # default 'aligned' when unset
    hdr.set_qform(aff, code=3)
    hdr.set_qform(aff)
    assert hdr["qform_code"] == 3  # kept when set
    hdr.set_qform(None)
    assert hdr["qform_code"] == 0
    assert hdr.get_qform(coded=True) == (None, 0)
    shear = np.array([[1, 0.5, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]])
    with pytest.raises(HeaderDataError, match="Shears"):
        hdr.set_qform(shear, strip_shears=False)
    hdr.set_qform(aff, "talairach")
    assert hdr["qform_code"] == 3
    hdr["pixdim"][0] = 0.5
    with pytest.raises(HeaderDataError, match="qfac"):
        hdr.get_qform()


def test_left_handed_qform_uses_qfac():
    hdr = Nifti1Header()
    aff = np.diag([2.0, 3.0, -4.0, 1.0])
    hdr.set_qform(aff, 1)
    assert hdr["pixdim"][0] == -1
    assert np.allclose(hdr.get_qform(), aff)


def test_best_affine_priority():
    hdr = Nifti1Header()
    hdr.set_data_shape((4, 5, 6))
    hdr.set_qform(np.diag([2, 2, 2, 1.0]), 1)
    hdr.set_sform(np.diag([3, 3, 3, 1.0]), 1)
    assert hdr.get_best_affine()[0, 0] == 3
    hdr["sform_code"] = 0
    assert hdr.get_best_affine()[0, 0] == 2
    hdr["qform_code"] = 0
    assert np.allclose(hdr.get_best_affine(), nib.Nifti1Header.from_header(hdr).get_best_affine())


@pytest.mark.parametrize("code", ["alternating increasing", "alternating decreasing",
                                  "sequential increasing", "sequential decreasing",
                                  "alternating increasing 2", "alternating decreasing 2"])
@pytest.mark.parametrize("n_slices", [5, 6])
def test_slice_times_match_nibabel(code, n_slices):
    ours, theirs = Nifti1Header(), nib.Nifti1Header()
    for hdr in (ours, theirs):
        hdr.set_data_shape((2, 3, n_slices))
        hdr.set_dim_info(slice=2)
        hdr.set_slice_duration(0.1)
        hdr["slice_code"] = nib.nifti1.slice_order_codes.code[code]
    assert np.allclose(ours.get_slice_times(), theirs.get_slice_times())
    # and setting the times back gives the same fields
    fresh = Nifti1Header()
    fresh.set_data_shape((2, 3, n_slices))
    fresh.set_dim_info(slice=2)
    times = theirs.get_slice_times()
    fresh.set_slice_times(times)
    assert np.allclose(fresh.get_slice_times(), times)


def test_slice_times_with_untimed_ends():
    hdr = Nifti1Header()
    hdr.set_data_shape((2, 3, 6))
    hdr.set_dim_info(slice=2)
    hdr.set_slice_times([None, 0.0, 0.2, 0.1, 0.3, None])
    assert (int(hdr["slice_start"]), int(hdr["slice_end"])) == (1, 4)
    assert hdr.get_slice_times()[0] is None
    with pytest.raises(HeaderDataError):
        hdr.set_slice_times([0, None, 0.2, 0.1, 0.3, 0.4])
    with pytest.raises(HeaderDataError):
        hdr.set_slice_times([0, 0.5, 0.2, 0.1, 0.3, 0.4])


def test_slice_duration_needs_slice_dim():
    with pytest.raises(HeaderDataError):
        Nifti1Header().set_slice_duration(1)


def test_dim_info_and_units():
    hdr = Nifti1Header()
    hdr.set_dim_info(1, 0, 2)
    assert hdr.get_dim_info() == (1, 0, 2)
    assert int(hdr["dim_info"]) == int(nib.Nifti1Header()._structarr["dim_info"]) or True
    theirs = nib.Nifti1Header()
    theirs.set_dim_info(1, 0, 2)
    assert hdr["dim_info"] == theirs["dim_info"]
    with pytest.raises(HeaderDataError):
        hdr.set_dim_info(3)
    hdr.set_xyzt_units("mm", "sec")
    theirs.set_xyzt_units("mm", "sec")
    assert hdr["xyzt_units"] == theirs["xyzt_units"]
    assert hdr.get_xyzt_units() == ("mm", "sec")
    hdr.set_xyzt_units(t="msec")
    assert hdr.get_xyzt_units() == ("unknown", "msec")
    with pytest.raises(HeaderDataError):
        hdr.set_xyzt_units("sec")


def test_intent():
    hdr = Nifti1Header()
    hdr.set_intent("t test", (10,), name="my t")
    assert hdr.get_intent() == ("t test", (10.0,), "my t")
    assert hdr.get_intent("code") == (3, (10.0,), "my t")
    theirs = nib.Nifti1Header()
    theirs.set_intent("t test", (10,), name="my t")
    assert hdr.binaryblock == theirs.binaryblock
    with pytest.raises(HeaderDataError):
        hdr.set_intent("t test", (1, 2))
    # as nibabel: an unknown intent takes no parameters or all three
    with pytest.raises(HeaderDataError):
        hdr.set_intent(9999, (1, 2), allow_unknown=True)
    hdr.set_intent(9999, (1, 2, 3), allow_unknown=True)
    assert hdr.get_intent("code") == (9999, (), "")
    assert hdr.get_intent() == ("unknown code 9999", (), "")
    with pytest.raises(KeyError):
        hdr.set_intent("no intention", allow_unknown=True)


def test_slope_inter_rules():
    hdr = Nifti1Header()
    hdr.set_slope_inter(2, 1)
    assert hdr.get_slope_inter() == (2.0, 1.0)
    hdr.set_slope_inter(None)
    assert hdr.get_slope_inter() == (None, None)
    with pytest.raises(HeaderDataError):
        hdr.set_slope_inter(2.0)  # intercept NaN with a real slope
    with pytest.raises(HeaderDataError):
        hdr.set_slope_inter(0)
    hdr["scl_slope"] = 2
    hdr["scl_inter"] = np.nan
    with pytest.raises(HeaderDataError, match="invalid intercept"):
        hdr.get_slope_inter()
    hdr["scl_slope"] = np.inf
    assert hdr.get_slope_inter() == (None, None)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda h: h.__setitem__("vox_offset", 100),
        lambda h: h.__setitem__("vox_offset", 360),
        lambda h: h.__setitem__("vox_offset", -16),
        lambda h: (h.__setitem__("magic", b"ni1"), h.__setitem__("vox_offset", 8)),
        lambda h: h.__setitem__("magic", b"xx1"),
        lambda h: h.__setitem__("qform_code", 9),
        lambda h: h.__setitem__("sform_code", -1),
        lambda h: h["pixdim"].__setitem__(0, 0.5),
        lambda h: h["pixdim"].__setitem__(0, 0),
        lambda h: h.__setitem__("datatype", 3),
        lambda h: h.__setitem__("sizeof_hdr", 1),
    ],
)
def test_check_reports_match_nibabel(mutate):
    ours, theirs = Nifti1Header(), nib.Nifti1Header()
    mutate(ours)
    mutate(theirs)

    def summary(reports):
        return [(r.problem_level, r.problem_msg, r.fix_msg) for r in reports if r.problem_level]

    our_fixed, our_reports = BatteryRunner(Nifti1Header._get_checks()).check_fix(ours)
    their_fixed, their_reports = nib.batteryrunners.BatteryRunner(
        nib.Nifti1Header._get_checks()).check_fix(theirs)
    assert summary(our_reports) == summary(their_reports)
    assert our_fixed.binaryblock == their_fixed.binaryblock


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 20), min_size=1, max_size=7),
       st.sampled_from(["uint8", "int16", "float32", "float64", "int64", "complex64"]))
def test_shape_dtype_blocks_match_nibabel(shape, dtype):
    ours, theirs = Nifti1Header(), nib.Nifti1Header()
    for hdr in (ours, theirs):
        hdr.set_data_shape(shape)
        hdr.set_data_dtype(dtype)
    assert ours.binaryblock == theirs.binaryblock
    assert Nifti1Header(theirs.as_byteswapped().binaryblock).get_data_shape() == tuple(shape)
