"""Regression tests: what a NIfTI file was given survives conversion and saving.

Each test names the bug it guards against (issue 11) and, where nibabel is the reference,
checks nivox against it.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import nivox
from nivox.errors import HeaderDataError, NivoxError, UnknownCodeError
from nivox.testing import data_path

nib = pytest.importorskip("nibabel")

ANATOMICAL = os.path.join(data_path, "anatomical.nii")
LAS = np.array([[-2.0, 0, 0, 90], [0, 2.0, 0, -126], [0, 0, 2.5, -72], [0, 0, 0, 1]])
QFORM_FIELDS = ("qform_code", "sform_code", "quatern_b", "quatern_c", "quatern_d", "qoffset_x",
                "qoffset_y", "qoffset_z", "pixdim")


def _qform_fields(header):
    return {field: np.asarray(header[field]).tolist() for field in QFORM_FIELDS}


# ---- the qform flip (pixdim[0] = -1 lost in class conversions) ------------------------------


@pytest.mark.parametrize("klass", ["Nifti1Pair", "Nifti2Image", "Nifti2Pair", "Nifti1Image"])
def test_from_image_keeps_left_handed_qform(klass):
    img = nivox.load(ANATOMICAL)
    assert img.header["pixdim"][0] == -1 and int(img.header["qform_code"]) == 0
    converted = getattr(nivox, klass).from_image(img)
    theirs = getattr(nib, klass).from_image(nib.load(ANATOMICAL))
    assert converted.header["pixdim"][0] == -1
    assert _qform_fields(converted.header) == _qform_fields(theirs.header)
    np.testing.assert_allclose(converted.header.get_qform(), img.header.get_qform())


@pytest.mark.parametrize("suffix", [".hdr", ".img", ".nii"])
def test_save_keeps_stored_code0_qform(tmp_path, suffix):
    img = nivox.load(ANATOMICAL)
    target = tmp_path / f"copy{suffix}"
    nivox.save(img, target)
    back = nib.load(target)
    assert _qform_fields(back.header) == _qform_fields(nib.load(ANATOMICAL).header)


# ---- codes rewritten when saving Class(data, img.affine, img.header) --------------------------


def _qform_only_file(tmp_path):
    img = nib.Nifti1Image(np.arange(60, dtype=np.int16).reshape(3, 4, 5), None)
    img.set_qform(LAS, code="scanner")
    img.set_sform(None, code=0)
    path = tmp_path / "qform_only.nii"
    nib.save(img, path)
    return path


def test_rebuilt_image_keeps_codes_1_0(tmp_path):
    loaded = nivox.load(_qform_only_file(tmp_path))
    rebuilt = nivox.Nifti1Image(np.asanyarray(loaded.dataobj), loaded.affine, loaded.header)
    nivox.save(rebuilt, tmp_path / "again.nii")
    back = nib.load(tmp_path / "again.nii")
    assert (int(back.header["qform_code"]), int(back.header["sform_code"])) == (1, 0)


def test_new_affine_resets_codes_as_nibabel(tmp_path):
    path = _qform_only_file(tmp_path)
    moved = LAS.copy()
    moved[:3, 3] += 10
    for lib, name in ((nivox, "mine.nii"), (nib, "theirs.nii")):
        loaded = lib.load(path)
        lib.save(lib.Nifti1Image(np.asanyarray(loaded.dataobj), moved, loaded.header), tmp_path / name)
    mine, theirs = nib.load(tmp_path / "mine.nii").header, nib.load(tmp_path / "theirs.nii").header
    assert _qform_fields(mine) == _qform_fields(theirs)
    assert (int(mine["qform_code"]), int(mine["sform_code"])) == (0, 2)


def test_zooms_kept_with_sheared_sform(tmp_path):
    sheared = LAS.copy()
    sheared[0, 1] = 0.4
    img = nib.Nifti1Image(np.zeros((3, 4, 5), np.float32), None)
    img.header.set_zooms((2.0, 2.0, 2.5))
    img.set_qform(LAS, code="scanner")
    img.set_sform(sheared, code="aligned")
    nib.save(img, tmp_path / "sheared.nii")
    loaded = nivox.load(tmp_path / "sheared.nii")
    nivox.save(loaded, tmp_path / "saved.nii")
    np.testing.assert_array_equal(nib.load(tmp_path / "saved.nii").header["pixdim"],
                                  nib.load(tmp_path / "sheared.nii").header["pixdim"])


def test_new_image_without_header_gets_both_forms():
    img = nivox.Nifti1Image(np.zeros((2, 3, 4), np.float32), np.eye(4))
    assert (int(img.header["qform_code"]), int(img.header["sform_code"])) == (0, 2)
    assert np.array_equal(img.header.get_qform(), np.eye(4))


# ---- scaling and offsets the user set ---------------------------------------------------------


def test_set_slope_inter_honoured_by_save(tmp_path):
    data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    img = nivox.Nifti1Image(data, np.eye(4))
    img.header.set_slope_inter(2, 10)
    nivox.save(img, tmp_path / "scaled.nii")
    back = nib.load(tmp_path / "scaled.nii")
    assert (back.dataobj.slope, back.dataobj.inter) == (2.0, 10.0)
    np.testing.assert_array_equal(back.get_fdata(), data * 2 + 10)
    assert img.header.get_slope_inter() == (2.0, 10.0)  # the image keeps what the user set


def test_user_vox_offset_honoured(tmp_path):
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    img = nivox.Nifti1Image(data, np.eye(4))
    img.header.set_data_offset(1024)
    nivox.save(img, tmp_path / "offset.nii")
    back = nib.load(tmp_path / "offset.nii")
    assert back.dataobj.offset == 1024
    np.testing.assert_array_equal(back.get_fdata(), data)
    assert img.header.get_data_offset() == 1024
    img.header.set_data_offset(100)  # inside the header: refused
    with pytest.raises(HeaderDataError):
        nivox.save(img, tmp_path / "low.nii")


def test_data_to_fileobj_records_scaling():
    import io

    hdr = nivox.Nifti1Header()
    hdr.set_data_shape((2, 3))
    hdr.set_data_dtype(np.int16)
    data = np.linspace(0, 1, 6).reshape(2, 3)
    buffer = io.BytesIO()
    hdr.data_to_fileobj(data, buffer)
    slope, _ = hdr.get_slope_inter()
    assert slope is not None and slope != 1
    np.testing.assert_allclose(hdr.data_from_fileobj(buffer), data, atol=slope)


# ---- header API -------------------------------------------------------------------------------


def test_set_data_shape_resets_dropped_zooms():
    hdr = nivox.Nifti1Header()
    hdr.set_data_shape((2, 3, 4, 5))
    hdr.set_zooms((2, 2, 2, 3.0))  # a TR
    hdr.set_data_shape((2, 3, 4))
    assert hdr["pixdim"][4] == 1
    hdr.set_data_shape((2, 3, 4, 5))
    assert hdr.get_zooms() == (2, 2, 2, 1)


def test_xform_none_sets_code():
    hdr = nivox.Nifti1Header()
    hdr.set_qform(LAS, code="scanner")
    stored = hdr.get_qform()
    hdr.set_qform(None, code="talairach")
    hdr.set_sform(None, code=4)
    assert (int(hdr["qform_code"]), int(hdr["sform_code"])) == (3, 4)
    np.testing.assert_array_equal(hdr.get_qform(), stored)  # values untouched
    hdr.set_qform(None)
    assert int(hdr["qform_code"]) == 0


@pytest.mark.parametrize("call", [
    lambda h: h.set_qform(np.eye(4), 7),
    lambda h: h.set_sform(np.eye(4), -1),
    lambda h: h.set_intent("no intention"),
    lambda h: h.set_intent(32767),
    lambda h: h.set_xyzt_units("furlong"),
])
def test_unknown_codes_raise_keyerror(call):
    hdr = nivox.Nifti1Header()
    with pytest.raises(KeyError) as caught:
        call(hdr)
    assert isinstance(caught.value, (UnknownCodeError, NivoxError))
    assert "'" not in str(caught.value)[:1]  # a message, not a quoted key


def test_get_qform_refuses_negative_pixdim():
    hdr = nivox.Nifti1Header()
    hdr["pixdim"][1:4] = (1, -1, 1)
    with pytest.raises(HeaderDataError):
        hdr.get_qform()


def test_dtype_aliases_as_nibabel(tmp_path):
    data = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
    img = nivox.Nifti1Image(data, np.eye(4), dtype="compat")
    nivox.save(img, tmp_path / "compat.nii")
    assert img.get_data_dtype() == "compat"  # stays an alias, as in nibabel
    assert nib.load(tmp_path / "compat.nii").get_data_dtype() == np.int32
    mask = nivox.Nifti1Image(data.astype(np.float32), np.eye(4), dtype="mask")
    assert mask.get_data_dtype() == np.uint8
    with pytest.raises(ValueError):
        nivox.Nifti1Header().set_data_dtype(int)


# ---- FreeSurfer large vectors -----------------------------------------------------------------


def test_long_vector_round_trip(tmp_path):
    data = np.arange(40000, dtype=np.float32).reshape(40000, 1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nivox.save(nivox.Nifti1Image(data, np.eye(4)), tmp_path / "vec.nii")
        theirs = nib.load(tmp_path / "vec.nii")
    assert theirs.header["dim"][1] == -1 and theirs.header["glmin"] == 40000
    np.testing.assert_array_equal(theirs.get_fdata(), data)
    mine = nivox.load(tmp_path / "vec.nii")
    assert mine.shape == (40000, 1, 1)
    np.testing.assert_array_equal(mine.get_fdata(), data)


def test_ico7_shape():
    hdr = nivox.Nifti1Header()
    hdr.set_data_shape((163842, 1, 1, 2))
    assert tuple(hdr["dim"][1:5]) == (27307, 1, 6, 2)
    assert hdr.get_data_shape() == (163842, 1, 1, 2)
    hdr2 = nivox.Nifti2Header()  # 64-bit dims: stored as given
    hdr2.set_data_shape((163842, 1, 1))
    assert tuple(hdr2["dim"][1:4]) == (163842, 1, 1)


def test_long_vector_without_length_refused():
    hdr = nivox.Nifti1Header()
    hdr.set_data_shape((-1, 1, 1))
    with pytest.raises(HeaderDataError):
        hdr.get_data_shape()
