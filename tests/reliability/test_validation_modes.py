"""Validation modes: one setting (global, per block, per call) decides what header problems do."""

from __future__ import annotations

import logging
import threading
import warnings

import numpy as np
import pytest

import nivox
from nivox import validation
from nivox.errors import HeaderDataError, HeaderFixWarning, NivoxError
from nivox.nifti1 import Nifti1Header

nib = pytest.importorskip("nibabel")

DATA = np.arange(24, dtype=np.int16).reshape(2, 3, 4)


@pytest.fixture(autouse=True)
def _default_mode():
    validation.set_mode("warn")
    yield
    validation.set_mode("warn")


def _nifti_with(tmp_path, name="bad.nii", **fields):
    """A .nii of DATA whose header fields are then overwritten with ``fields``."""
    path = tmp_path / name
    nivox.Nifti1Image(DATA, np.eye(4)).to_filename(path)
    raw = bytearray(path.read_bytes())
    hdr = Nifti1Header(bytes(raw[:348]), check=False)
    for key, value in fields.items():
        if isinstance(value, tuple):
            hdr[key][value[0]] = value[1]
        else:
            hdr[key] = value
    raw[:348] = hdr.binaryblock
    path.write_bytes(bytes(raw))
    return path


def _load_quietly(path, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        img = nivox.load(path, **kwargs)
    return img, [w for w in caught if issubclass(w.category, HeaderFixWarning)]


# ---- the setting ------------------------------------------------------------------


def test_modes_global_block_and_nesting():
    assert validation.get_mode() == "warn"
    validation.set_mode("ignore")
    assert validation.get_mode() == "ignore"
    with validation.mode("raise"):
        assert validation.get_mode() == "raise"
        with validation.mode(None):  # None keeps what is in effect
            assert validation.get_mode() == "raise"
        with validation.mode("warn"):
            assert validation.get_mode() == "warn"
        assert validation.get_mode() == "raise"
    assert validation.get_mode() == "ignore"


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="'strict'"):
        validation.set_mode("strict")
    with pytest.raises(ValueError):
        with validation.mode("loud"):
            pass
    assert validation.get_mode() == "warn"


def test_block_mode_is_local_to_its_thread():
    entered, checked = threading.Event(), threading.Event()
    seen = {}

    def other_thread():
        entered.wait(5)
        seen["other"] = validation.get_mode()
        checked.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with validation.mode("raise"):
        entered.set()
        checked.wait(5)
        seen["here"] = validation.get_mode()
    worker.join()
    assert seen == {"here": "raise", "other": "warn"}


def test_global_mode_reaches_other_threads():
    validation.set_mode("ignore")
    seen = []
    worker = threading.Thread(target=lambda: seen.append(validation.get_mode()))
    worker.start()
    worker.join()
    assert seen == ["ignore"]


# ---- a fixable WARNING-level problem: zero voxel size ------------------------------


def test_warn_mode_fixes_warns_and_logs_with_the_file_name(tmp_path, caplog):
    path = _nifti_with(tmp_path, pixdim=(2, 0.0))
    with caplog.at_level(logging.DEBUG, logger="nivox.global"):
        img, caught = _load_quietly(path)
    assert img.header.get_zooms()[1] == 1  # fixed, as nibabel fixes it
    assert len(caught) == 1 and str(path) in str(caught[0].message)
    assert "pixdim[1,2,3] should be non-zero" in str(caught[0].message)
    assert [r.levelno for r in caplog.records if "pixdim" in r.getMessage()] == [30]
    assert all(str(path) in r.getMessage() for r in caplog.records)


def test_warn_mode_gives_nibabel_result(tmp_path):
    path = _nifti_with(tmp_path, pixdim=(2, 0.0))
    ours, _ = _load_quietly(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = nib.load(path)
    assert ours.header.binaryblock == theirs.header.binaryblock
    np.testing.assert_array_equal(ours.affine, theirs.affine)
    np.testing.assert_array_equal(np.asanyarray(ours.dataobj), np.asanyarray(theirs.dataobj))


def test_raise_mode_raises_naming_the_file(tmp_path):
    path = _nifti_with(tmp_path, pixdim=(2, 0.0))
    with pytest.raises(HeaderDataError, match=f"^{path}: pixdim"):
        nivox.load(path, validation="raise")
    validation.set_mode("raise")
    with pytest.raises(HeaderDataError):
        nivox.load(path)
    with validation.mode("warn"), pytest.warns(HeaderFixWarning):  # a block overrides the global mode
        assert nivox.load(path).shape == DATA.shape


def test_ignore_mode_fixes_silently(tmp_path, caplog):
    path = _nifti_with(tmp_path, pixdim=(2, 0.0))
    with caplog.at_level(logging.INFO, logger="nivox.global"):
        img, caught = _load_quietly(path, validation="ignore")
    assert caught == [] and caplog.records == []
    warned, _ = _load_quietly(path)
    assert img.header.binaryblock == warned.header.binaryblock  # modes never change fixes


def test_per_call_mode_beats_global_and_block(tmp_path):
    path = _nifti_with(tmp_path, pixdim=(2, 0.0))
    validation.set_mode("ignore")
    with validation.mode("ignore"):
        with pytest.raises(HeaderDataError):
            nivox.Nifti1Image.from_filename(path, validation="raise")
        with pytest.raises(HeaderDataError):
            nivox.Nifti1Image.from_bytes(path.read_bytes(), validation="raise")
    assert validation.get_mode() == "ignore"


# ---- other levels --------------------------------------------------------------------


def test_info_level_problem_never_raises_or_warns(tmp_path, caplog):
    path = _nifti_with(tmp_path, pixdim=(0, 0.0))  # qfac 0: level 20
    with caplog.at_level(logging.DEBUG, logger="nivox.global"):
        img, caught = _load_quietly(path, validation="raise")
    assert caught == []
    assert img.header["pixdim"][0] == 1
    assert any(r.levelno == 20 and "qfac" in r.getMessage() for r in caplog.records)


def test_error_level_fixed_problem_raises_in_warn_but_recovers_in_ignore(tmp_path):
    # vox_offset below 352 in a .nii: nibabel raises (level 40) even though the fix is known
    path = _nifti_with(tmp_path, vox_offset=100)
    with pytest.raises(HeaderDataError, match=f"{path}: vox offset 100 too low"):
        nivox.load(path)
    with pytest.raises(nib.spatialimages.HeaderDataError):
        nib.load(path)
    img, caught = _load_quietly(path, validation="ignore")
    assert caught == []
    np.testing.assert_array_equal(np.asanyarray(img.dataobj), DATA)


@pytest.mark.parametrize("mode", validation.MODES)
def test_unfixable_problem_raises_in_every_mode(tmp_path, mode):
    path = _nifti_with(tmp_path, datatype=3)  # no such NIfTI type
    with pytest.raises(HeaderDataError, match=f"{path}: data code 3 not recognized"):
        nivox.load(path, validation=mode)


@pytest.mark.parametrize("mode", validation.MODES)
def test_unreadable_layout_raises_in_every_mode(tmp_path, mode):
    path = _nifti_with(tmp_path, dim=(2, -3))
    with pytest.raises(HeaderDataError, match=r"dim\[2\] is -3"):
        nivox.load(path, validation=mode)


def test_check_fix_error_level_argument_still_wins():
    hdr = Nifti1Header()
    hdr["sizeof_hdr"] = 1  # level 30, fixed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Nifti1Header(hdr.binaryblock).check_fix()
        with pytest.raises(HeaderDataError, match="sizeof_hdr"):
            Nifti1Header(hdr.binaryblock, check=False).check_fix(error_level=30)


def test_header_made_outside_a_load_has_no_file_name():
    hdr = Nifti1Header()
    hdr["datatype"] = 3
    with pytest.raises(HeaderDataError) as caught:
        Nifti1Header(hdr.binaryblock)
    assert str(caught.value) == "data code 3 not recognized"


def test_class_from_file_map_takes_the_mode(tmp_path):
    path = tmp_path / "a.img"
    nivox.AnalyzeImage(DATA, np.eye(4)).to_filename(path)
    raw = bytearray((tmp_path / "a.hdr").read_bytes())
    hdr = nivox.AnalyzeHeader(bytes(raw), check=False)
    hdr["pixdim"][1] = 0
    (tmp_path / "a.hdr").write_bytes(hdr.binaryblock)
    file_map = nivox.AnalyzeImage.filespec_to_file_map(path)
    with pytest.raises(HeaderDataError, match="a.hdr: pixdim"):
        nivox.AnalyzeImage.from_file_map(file_map, validation="raise")
    with pytest.raises(HeaderDataError):
        nivox.Spm2AnalyzeImage.from_file_map(
            nivox.Spm2AnalyzeImage.filespec_to_file_map(path), validation="raise")
    assert nivox.AnalyzeImage.from_file_map(file_map, validation="ignore").header.get_zooms()[0] == 1


def test_every_load_error_is_a_nivox_error_naming_the_file(tmp_path):
    path = _nifti_with(tmp_path, vox_offset=float("nan"))
    with pytest.raises(NivoxError, match=str(path)) as caught, pytest.warns(HeaderFixWarning, match="vox offset"):
        nivox.load(path)
    assert isinstance(caught.value, ValueError)  # still what nibabel users catch
