"""Tests of ``nivox diff``: fields that differ, tolerances, data comparison and exit status 0/1/2."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from nivox.cli.diff import compare_data, values_agree
from nivox.cli.main import main
from nivox.testing import data_path

nib = pytest.importorskip("nibabel")

EXAMPLE4D = os.path.join(data_path, "example4d.nii.gz")
NIFTI2 = os.path.join(data_path, "example_nifti2.nii.gz")
AFFINE = np.array([[2.0, 0, 0, -10], [0, 2, 0, -12], [0, 0, 2.5, -8], [0, 0, 0, 1]])


def make(tmp_path, name, data=None, affine=AFFINE, **fields):
    """Save a float32 NIfTI made with nibabel; ``fields`` set header values."""
    if data is None:
        data = np.arange(4 * 5 * 6 * 2, dtype=np.float32).reshape(4, 5, 6, 2)
    img = nib.Nifti1Image(data, affine)
    for key, value in fields.items():
        img.header[key] = value
    path = str(tmp_path / name)
    nib.save(img, path)
    return path


def run_json(capsys, *args):
    status = main(["diff", "--json", *args])
    captured = capsys.readouterr()
    return status, json.loads(captured.out) if captured.out else None, captured.err


def test_same_file_matches(capsys):
    assert main(["diff", EXAMPLE4D, EXAMPLE4D, "--data"]) == 0
    assert capsys.readouterr().out == "files match\n"


def test_identical_copies_match(capsys, tmp_path):
    a, b = make(tmp_path, "a.nii"), make(tmp_path, "b.nii.gz")
    status, result, _ = run_json(capsys, a, b, "--data")
    assert status == 0 and result["match"] is True
    assert result["fields"] == {}
    assert result["data"][1] == {"agree": True, "differing_voxels": 0, "max_abs_diff": 0,
                                 "max_rel_diff": 0}


def test_changed_field_is_listed_with_labels(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")  # wide enough for the full names as headings
    a = make(tmp_path, "a.nii")
    b = make(tmp_path, "b.nii", descrip=b"other", intent_code=3)
    status, result, _ = run_json(capsys, a, b)
    assert status == 1 and result["match"] is False
    assert sorted(result["fields"]) == ["descrip", "intent_code"]
    assert result["fields"]["descrip"] == ["", "other"]
    assert result["labels"]["intent_code"] == ["none", "t test"]
    assert main(["diff", a, b]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["field", "1:", a, "2:", b]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert "'other'" in rows["descrip"] and "3 (t test)" in rows["intent_code"]


def test_float_tolerances(capsys, tmp_path):
    a = make(tmp_path, "a.nii", cal_max=2.0)
    b = make(tmp_path, "b.nii", cal_max=2.0 + 2e-5)
    assert main(["diff", "-q", a, b]) == 1
    assert main(["diff", "-q", "--atol", "1e-4", a, b]) == 0
    assert main(["diff", "-q", "--atol", "1e-6", a, b]) == 1
    assert main(["diff", "-q", "--rtol", "1e-4", a, b]) == 0  # 2e-5 / 2 = 1e-5 relative
    assert main(["diff", "-q", "--rtol", "1e-6", a, b]) == 1
    assert capsys.readouterr().out == ""


def test_tolerance_does_not_hide_integer_fields(capsys, tmp_path):
    a, b = make(tmp_path, "a.nii"), make(tmp_path, "b.nii", qform_code=2)
    status, result, _ = run_json(capsys, "--atol", "10", a, b)
    assert status == 1 and list(result["fields"]) == ["qform_code"]


def test_data_differences(capsys, tmp_path):
    data = np.arange(4 * 5 * 6 * 2, dtype=np.float32).reshape(4, 5, 6, 2) + 1
    other = data.copy()
    other[1, 2, 3, 1] += 0.5
    other[0, 0, 0, 0] = 1.25  # from 1: the largest relative change
    a, b = make(tmp_path, "a.nii", data), make(tmp_path, "b.nii", other)
    assert main(["diff", a, b]) == 0  # headers alone agree
    capsys.readouterr()
    status, result, _ = run_json(capsys, "--data", a, b)
    assert status == 1
    entry = result["data"][1]
    assert entry["differing_voxels"] == 2 and entry["agree"] is False
    assert entry["max_abs_diff"] == pytest.approx(0.5)
    assert entry["max_rel_diff"] == pytest.approx(0.25 / 1.25)
    assert main(["diff", "--data", "--atol", "0.5", a, b]) == 0
    capsys.readouterr()
    assert main(["diff", "--data", a, b]) == 1
    assert "2 voxels differ (max abs diff 0.5, max rel diff 0.2)" in capsys.readouterr().out


def test_nans_agree_only_in_the_same_places(capsys, tmp_path):
    data = np.ones((3, 3, 3), np.float32)
    data[1, 1, 1] = np.nan
    moved = np.ones((3, 3, 3), np.float32)
    moved[0, 1, 1] = np.nan
    a, b, c = (make(tmp_path, n, d) for n, d in [("a.nii", data), ("b.nii", data.copy()),
                                                  ("c.nii", moved)])
    assert main(["diff", "-q", "--data", a, b]) == 0
    status, result, _ = run_json(capsys, "--data", a, c, "--atol", "100")
    assert status == 1 and result["data"][1]["differing_voxels"] == 2


def test_shape_mismatch_and_three_files(capsys, tmp_path):
    a = make(tmp_path, "a.nii")
    b = make(tmp_path, "b.nii")
    c = make(tmp_path, "c.nii", np.zeros((4, 5, 6), np.float32))
    status, result, _ = run_json(capsys, "--data", a, b, c)
    assert status == 1
    assert result["data"][0] is None and result["data"][1]["agree"] is True
    assert result["data"][2]["agree"] is False and "shape" in result["data"][2]["reason"]
    assert result["fields"]["dim"][0] == result["fields"]["dim"][1] != result["fields"]["dim"][2]


def test_formats_differ_in_fields_and_absent_ones_show(capsys):
    status, result, _ = run_json(capsys, EXAMPLE4D, NIFTI2, os.path.join(data_path, "analyze.hdr"))
    assert status == 1
    assert result["fields"]["magic"] == ["n+1", "n+2", None]  # absent from Analyze
    assert result["fields"]["sizeof_hdr"] == [348, 540, 348]
    assert "affine" in result["fields"]


def test_ignore_fields(capsys, tmp_path):
    a, b = make(tmp_path, "a.nii"), make(tmp_path, "b.nii", descrip=b"x", cal_max=3.0)
    assert main(["diff", "-q", "--ignore", "descrip", a, b]) == 1
    assert main(["diff", "-q", "--ignore", "descrip,cal_max", a, b]) == 0


def test_affine_tolerance(capsys, tmp_path):
    a = make(tmp_path, "a.nii")
    shifted = AFFINE.copy()
    shifted[0, 3] += 1e-3
    b = make(tmp_path, "b.nii", affine=shifted)
    status, result, _ = run_json(capsys, a, b)
    assert status == 1 and "affine" in result["fields"] and "srow_x" in result["fields"]
    assert main(["diff", "-q", "--atol", "1e-2", a, b]) == 0


# ---- exit status 2 --------------------------------------------------------------------------


def test_unreadable_file_exit_2(capsys, tmp_path):
    missing = str(tmp_path / "missing.nii")
    assert main(["diff", EXAMPLE4D, missing]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"nivox: error: {missing}: No such file or directory\n"


def test_unreadable_data_exit_2(capsys, tmp_path):
    whole = open(EXAMPLE4D, "rb").read()
    cut = tmp_path / "cut.nii.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    assert main(["diff", EXAMPLE4D, str(cut)]) == 0  # the header is intact
    assert main(["diff", "--data", EXAMPLE4D, str(cut)]) == 2
    err = capsys.readouterr().err
    # one line naming the damaged file once (in front, or in the library's message)
    assert err.startswith("nivox: error: ") and err.count(str(cut)) == 1
    assert err.count("\n") == 1


def test_usage_errors_exit_2(capsys):
    assert main(["diff", EXAMPLE4D]) == 2
    assert "give two or more files" in capsys.readouterr().err
    assert main(["diff", "--atol", "-1", EXAMPLE4D, EXAMPLE4D]) == 2
    assert "tolerance must be >= 0" in capsys.readouterr().err


def test_help_documents_exit_status(capsys):
    assert main(["diff", "--help"]) == 0
    out = capsys.readouterr().out
    assert "exit status:" in out
    assert "0  the files match" in out and "1  the files differ" in out and "2  a file" in out


def test_subprocess_exit_codes(tmp_path):
    cmd = [sys.executable, "-m", "nivox.cli.main", "diff"]
    same = subprocess.run(cmd + [EXAMPLE4D, EXAMPLE4D], capture_output=True, text=True,
                          timeout=120)
    differ = subprocess.run(cmd + [EXAMPLE4D, NIFTI2], capture_output=True, text=True,
                            timeout=120)
    error = subprocess.run(cmd + [EXAMPLE4D, str(tmp_path / "x.nii")], capture_output=True,
                           text=True, timeout=120)
    assert (same.returncode, differ.returncode, error.returncode) == (0, 1, 2)
    assert same.stdout == "files match\n" and "sizeof_hdr" in differ.stdout
    assert error.stderr.count("\n") == 1 and "Traceback" not in error.stderr


# ---- pieces -----------------------------------------------------------------------------------


@pytest.mark.parametrize("a, b, atol, rtol, expected", [
    (np.float32(1.0), np.float64(1.0), 0, 0, True),
    (np.float32(np.nan), np.float32(np.nan), 0, 0, True),
    (np.float32(np.inf), np.float32(np.inf), 0, 0, True),
    (np.float32(np.inf), np.float32(-np.inf), 1e9, 1, False),
    (np.array([1.0, 2.0]), np.array([1.0, 2.001]), 0, 1e-3, True),
    (np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0]), 0, 0, False),
    (np.int16(3), np.int64(3), 0, 0, True),
    (np.int16(3), np.float32(3.0), 0, 0, True),
    (np.bytes_(b"abc"), np.bytes_(b"abc"), 0, 0, True),
    (np.bytes_(b"abc"), np.bytes_(b"abd"), 0, 0, False),
    (None, None, 0, 0, True),
    (None, np.int16(0), 0, 0, False),
])
def test_values_agree(a, b, atol, rtol, expected):
    assert values_agree(a, b, atol, rtol) is expected
    assert values_agree(b, a, atol, rtol) is expected  # symmetric


class VolumeOnlyImage:
    """A 4D image whose data object refuses whole-array reads."""

    def __init__(self, data):
        self.shape = data.shape
        self.dataobj = self
        self._data = data

    def __getitem__(self, key):
        part = self._data[key]
        assert part.ndim == 3
        return part

    def __array__(self, *args, **kwargs):
        raise AssertionError("read the whole 4D array")


def test_compare_data_reads_volume_by_volume():
    data = np.random.default_rng(0).normal(size=(3, 4, 5, 6))
    other = data.copy()
    other[..., 4] += 1
    results = compare_data([VolumeOnlyImage(data), VolumeOnlyImage(other)])
    assert results[1]["differing_voxels"] == 60
    assert results[1]["max_abs_diff"] == pytest.approx(1.0)


def test_corpus_diff(corpus, capsys):
    example = str(corpus / "nibabel/tests_data/example4d.nii.gz")
    nifti2 = str(corpus / "nibabel/tests_data/example_nifti2.nii.gz")
    assert main(["diff", "-q", "--data", example, example]) == 0
    status, result, _ = run_json(capsys, example, nifti2)
    assert status == 1 and result["fields"]["magic"] == ["n+1", "n+2"]


def test_text_fits_the_width_given():
    from nivox.cli.diff import format_text

    long_name = "/a/very/long/folder/name/that/goes/on/and/on/" * 2
    result = {
        "match": False,
        "files": [long_name + "one.nii.gz", long_name + "two.nii.gz"],
        "fields": {"dim_info": [57, 0], "affine": [[[1.5] * 4] * 4, [[2.5] * 4] * 4]},
        "labels": {},
    }
    wide = format_text(result, width=1000)
    assert wide.splitlines()[0].startswith("field") and long_name + "one.nii.gz" in wide
    narrow = format_text(result, width=80)
    lines = narrow.splitlines()
    assert max(len(line) for line in lines[2:]) <= 80  # all but the file names themselves
    # the files are numbered once above; short rows stay a table, long ones wrap below it
    assert lines[:2] == [f"1: {long_name}one.nii.gz", f"2: {long_name}two.nii.gz"]
    assert lines[2].split() == ["field", "1", "2"] and lines[3].split() == ["dim_info", "57", "0"]
    assert lines[4] == "affine" and lines[5].startswith("  1: [[1.5, 1.5")
    assert "".join(narrow.split()).count("1.5") == 16
