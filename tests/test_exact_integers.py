"""Beyond nibabel: whole-number float data saved to an integer type read back exactly.

nibabel scales such data to the integer type's full range, so a label 2 can come back as
2.00007 (nibabel#1069, #1001, #1344). nivox writes them with slope 1 and intercept 0 when every
value is a whole number the type holds; anything else is scaled as nibabel scales it, and a
slope/intercept the user set wins.
"""

from __future__ import annotations

import numpy as np
import pytest

import nivox
from nivox.arraywriters import whole_numbers_fit

nib = pytest.importorskip("nibabel")

LABELS = np.array([0, 1, 2, 17, 1000, 2, 3, 4], dtype=np.float64).reshape(2, 2, 2)


@pytest.mark.parametrize("klass", ["Nifti1Image", "Nifti1Pair", "Nifti2Image", "Spm99AnalyzeImage",
                                   "Spm2AnalyzeImage", "AnalyzeImage"])
@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.uint16])
def test_labels_read_back_exactly(tmp_path, klass, dtype):
    if not klass.startswith("Nifti") and dtype is np.uint16:
        pytest.skip("Analyze and SPM have no uint16")
    img = getattr(nivox, klass)(LABELS, np.eye(4))
    img.set_data_dtype(dtype)
    suffix = ".nii" if klass.endswith("Image") and klass.startswith("Nifti") else ".img"
    nivox.save(img, tmp_path / f"labels{suffix}")
    back = nib.load(tmp_path / f"labels{suffix}")
    np.testing.assert_array_equal(back.get_fdata(), LABELS)
    assert back.get_data_dtype() == dtype
    assert (float(back.dataobj.slope), float(back.dataobj.inter)) == (1.0, 0.0)


def test_nibabel_scales_the_same_labels(tmp_path):
    """The difference this feature makes: nibabel's own save changes the values."""
    img = nib.Nifti1Image(LABELS, np.eye(4))
    img.set_data_dtype(np.int16)
    nib.save(img, tmp_path / "theirs.nii")
    assert not np.array_equal(nib.load(tmp_path / "theirs.nii").get_fdata(), LABELS)


@pytest.mark.parametrize("data", [
    LABELS + 0.5,                              # not whole numbers
    LABELS * 100,                              # whole, but beyond int16
    np.where(LABELS == 17, np.nan, LABELS),    # NaN is not a whole number
])
def test_other_data_scaled_as_nibabel(tmp_path, data):
    for lib, name in ((nivox, "mine.nii"), (nib, "theirs.nii")):
        img = lib.Nifti1Image(data, np.eye(4))
        img.set_data_dtype(np.int16)
        lib.save(img, tmp_path / name)
    mine, theirs = nib.load(tmp_path / "mine.nii"), nib.load(tmp_path / "theirs.nii")
    assert (mine.dataobj.slope, mine.dataobj.inter) == (theirs.dataobj.slope, theirs.dataobj.inter)
    np.testing.assert_array_equal(mine.get_fdata(), theirs.get_fdata())


def test_explicit_scaling_wins(tmp_path):
    img = nivox.Nifti1Image(LABELS, np.eye(4))
    img.set_data_dtype(np.int16)
    img.header.set_slope_inter(0.5, 0)
    nivox.save(img, tmp_path / "explicit.nii")
    back = nib.load(tmp_path / "explicit.nii")
    assert (back.dataobj.slope, back.dataobj.inter) == (0.5, 0.0)
    np.testing.assert_array_equal(back.get_fdata(), LABELS * 0.5)


def test_whole_numbers_fit():
    assert whole_numbers_fit(np.array([-3.0, 0.0, 255.0], np.float32), np.int16)
    assert whole_numbers_fit(np.array([0.0, 255.0]), np.uint8)
    assert not whole_numbers_fit(np.array([-1.0, 255.0]), np.uint8)
    assert not whole_numbers_fit(np.array([0.0, 256.0]), np.uint8)
    assert not whole_numbers_fit(np.array([0.0, 0.25]), np.int16)
    assert not whole_numbers_fit(np.array([0.0, np.inf]), np.int16)
    assert not whole_numbers_fit(np.array([np.nan, 1.0]), np.int16)
    assert not whole_numbers_fit(np.array([1, 2], np.int16), np.int16)  # integers need no check
    assert not whole_numbers_fit(np.array([1.0, 2.0]), np.float32)
    assert not whole_numbers_fit(np.array([], np.float64), np.int16)
    big = np.zeros(3_000_000)  # spans several chunks; the last value decides
    big[-1] = 0.5
    assert not whole_numbers_fit(big, np.int32)
    big[-1] = 7
    assert whole_numbers_fit(big, np.int32)
