"""Tests of ``nivox ls``: rows against nibabel, header-only reading, stats columns, errors, corpus."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from nivox.arrayproxy import ArrayProxy
from nivox.cli.ls import format_table, list_file
from nivox.cli.main import main
from nivox.testing import data_path

nib = pytest.importorskip("nibabel")

BUNDLED = ["analyze.hdr", "anatomical.nii", "example4d.nii.gz", "example_nifti2.nii.gz",
           "float32.nii.gz"]
EXAMPLE4D = os.path.join(data_path, "example4d.nii.gz")


def run_json(capsys, *args):
    status = main(["ls", "--json", *args])
    captured = capsys.readouterr()
    return status, json.loads(captured.out), captured.err


def check_row(record):
    img = nib.load(record["file"])
    assert record["type"] == type(img).__name__
    if type(img).__name__ == "Cifti2Image":  # axes instead of voxel sizes
        assert record["shape"] == list(img.shape)
        assert record["dtype"] == np.dtype(img.get_data_dtype()).name
        assert [a["length"] for a in record["surface"]["axes"]] == list(img.shape)
        return
    assert record["shape"] == list(img.shape)
    assert record["dtype"] == np.dtype(img.get_data_dtype()).name
    np.testing.assert_allclose(record["zooms"], img.header.get_zooms(), rtol=1e-6)
    for field in ("qform_code", "sform_code"):
        if field in img.header:
            assert record[field]["code"] == int(img.header[field])
            assert record[field]["label"] == img.header.get_value_label(field)
        else:
            assert record[field] is None
    if hasattr(img.header, "get_xyzt_units"):
        space, time = img.header.get_xyzt_units()
        assert record["units"]["space"] == (None if space == "unknown" else space)
        assert record["units"]["time"] == (None if time == "unknown" else time)
    return img


def test_folder_rows_match_nibabel(capsys):
    status, records, err = run_json(capsys, data_path)
    assert status == 0 and err == ""
    # a folder lists each image once: the Analyze pair by its header
    assert [os.path.basename(r["file"]) for r in records] == BUNDLED
    for record in records:
        check_row(record)
        assert "stats" not in record


def test_glob_is_expanded_in_order(capsys):
    status, records, _ = run_json(capsys, os.path.join(data_path, "*.nii*"))
    assert status == 0
    assert [os.path.basename(r["file"]) for r in records] == [
        "anatomical.nii", "example4d.nii.gz", "example_nifti2.nii.gz", "float32.nii.gz"]


def test_default_is_current_folder(capsys, monkeypatch):
    monkeypatch.chdir(data_path)
    status, records, _ = run_json(capsys)
    assert [os.path.basename(r["file"]) for r in records] == BUNDLED


def test_text_table(capsys):
    files = [os.path.join(data_path, f) for f in ("analyze.hdr", "example4d.nii.gz")]
    assert main(["ls", *files]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["file", "type", "dtype", "shape", "zooms", "units", "qform",
                                "sform"]
    analyze, example = (line.split() for line in lines[1:])
    assert analyze[0] == files[0] and analyze[2:] == ["int16", "20x24x16", "2x2x2", "-", "-", "-"]
    assert example == [files[1], "Nifti1Image", "int16", "40x48x20x3", "3x3x4x2", "mm,sec",
                       "scanner", "aligned"]
    # columns line up: every row's dtype starts where the heading's does
    start = lines[0].index("dtype")
    assert all(line[start:].startswith(("int16", "dtype")) for line in lines)


def test_no_heading(capsys):
    assert main(["ls", "--no-heading", EXAMPLE4D]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(EXAMPLE4D)


def test_header_fields_are_the_stored_values(capsys):
    status, (record,), _ = run_json(capsys, "-H", "scl_slope,descrip,no_such", EXAMPLE4D)
    assert status == 0
    with nib.openers.ImageOpener(EXAMPLE4D) as f:
        raw = nib.Nifti1Header.from_fileobj(f)
    assert record["fields"]["scl_slope"] == pytest.approx(float(raw["scl_slope"]))
    assert record["fields"]["descrip"] == raw["descrip"].item().decode()
    assert record["fields"]["no_such"] is None
    main(["ls", "-H", "descrip", EXAMPLE4D])
    assert "nivox example 4D" in capsys.readouterr().out


# ---- reading headers only -----------------------------------------------------------------


@pytest.fixture
def no_data_reads(monkeypatch):
    """Make every way of reading data through ArrayProxy fail."""
    def refuse(*args, **kwargs):
        raise AssertionError("ls read image data")

    for name in ("__array__", "__getitem__", "get_unscaled", "_read", "_get_scaled", "_memmap"):
        monkeypatch.setattr(ArrayProxy, name, refuse)


def test_ls_never_reads_data(capsys, no_data_reads):
    status, records, err = run_json(capsys, "-H", "scl_slope", data_path)
    assert status == 0, err
    assert len(records) == len(BUNDLED)
    assert main(["ls", data_path]) == 0
    # the guard is real: --stats has to read, and fails under it
    assert main(["ls", "--stats", EXAMPLE4D]) == 1
    assert "ls read image data" in capsys.readouterr().err


def test_header_only_files_list_but_stats_fail(capsys, tmp_path):
    whole = open(os.path.join(data_path, "anatomical.nii"), "rb").read()
    cut = tmp_path / "cut.nii"
    cut.write_bytes(whole[:400])  # header and a little data
    status, (record,), _ = run_json(capsys, str(cut))
    assert status == 0 and record["shape"] == [48, 56, 40]
    assert main(["ls", "--stats", str(cut)]) == 1
    err = capsys.readouterr().err
    # one line naming the file once (in front, or in the library's message)
    assert err.startswith("nivox: error: ") and err.count(str(cut)) == 1
    assert err.splitlines()[1:] == [
        "nivox ls: skipped 1 of 1 file that could not be read (reasons above)"]


# ---- stats columns ----------------------------------------------------------------------------


@pytest.mark.parametrize("fname", BUNDLED)
def test_stats_columns_match_numpy(capsys, fname):
    path = os.path.join(data_path, fname)
    status, (record,), _ = run_json(capsys, "--stats", path)
    assert status == 0
    data = nib.load(path).get_fdata()
    finite = data[np.isfinite(data)]
    stats = record["stats"]
    assert stats["nan"] == int(np.isnan(data).sum())
    assert stats["min"] == pytest.approx(finite.min())
    assert stats["max"] == pytest.approx(finite.max())
    assert stats["mean"] == pytest.approx(finite.mean(), rel=1e-9)


def test_stats_table_columns(capsys):
    path = os.path.join(data_path, "float32.nii.gz")
    assert main(["ls", "-s", path]) == 0
    heading, row = capsys.readouterr().out.splitlines()
    assert heading.split()[-4:] == ["min", "max", "mean", "nan"]
    data = nib.load(path).get_fdata()
    assert row.split()[-1] == str(int(np.isnan(data).sum()))
    assert float(row.split()[-4]) == pytest.approx(np.nanmin(data), rel=1e-5)


def test_format_table_right_aligns_numbers():
    record = list_file(os.path.join(data_path, "anatomical.nii"), stats=True)
    wide = dict(record, file="long-name.nii", stats=dict(record["stats"], nan=12345))
    lines = format_table([record, wide], stats=True).splitlines()
    assert len({len(line) for line in lines}) == 1  # all end at the right edge
    assert lines[1].endswith(" 0") and lines[2].endswith("12345")


# ---- errors and processes --------------------------------------------------------------------


def test_bad_files_reported_good_files_listed(capsys, tmp_path):
    missing = str(tmp_path / "missing.nii")
    text = tmp_path / "notes.nii.gz"
    text.write_text("not an image")
    status, records, err = run_json(capsys, missing, EXAMPLE4D, str(text))
    assert status == 1
    assert [r["file"] for r in records] == [EXAMPLE4D]
    lines = err.splitlines()
    assert lines[0] == f"nivox: error: {missing}: No such file or directory"
    assert lines[1].startswith("nivox: error: ") and lines[1].count(str(text)) == 1
    assert lines[2:] == ["nivox ls: skipped 2 of 3 files that could not be read (reasons above)"]
    assert "Traceback" not in err


def test_subprocess_json(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "nivox.cli.main", "ls", "--json",
                           os.path.join(data_path, "*.nii.gz"), str(tmp_path / "x.nii")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert [os.path.basename(r["file"]) for r in json.loads(proc.stdout)] == [
        "example4d.nii.gz", "example_nifti2.nii.gz", "float32.nii.gz"]
    assert proc.stderr == (f"nivox: error: {tmp_path / 'x.nii'}: No such file or directory\n"
                           "nivox ls: skipped 1 of 4 files that could not be read (reasons above)\n")


# ---- corpus ---------------------------------------------------------------------------------


def test_corpus_rows_match_nibabel(corpus, capsys):
    status, records, err = run_json(capsys, str(corpus / "**" / "*.nii*"),
                                    str(corpus / "**" / "*.hdr"))
    # the corpus holds one text file named .nii.gz; everything else lists
    bad = [line for line in err.splitlines() if line.startswith("nivox: error: ")]
    assert err.splitlines()[-1].startswith("nivox ls: skipped 1 of ")
    assert status == 1 and len(bad) == 1 and "1stlevel_1.feat/mask.nii.gz" in bad[0]
    assert len(records) >= 50
    for record in records:
        check_row(record)


def test_corpus_listing_reads_no_data(corpus, capsys, no_data_reads):
    status, records, _ = run_json(capsys, str(corpus / "mricron"), str(corpus / "dipy"))
    assert status == 0 and len(records) >= 10


def test_recursive_listing_and_closing_counts(tmp_path, capsys):
    import shutil

    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    shutil.copy(EXAMPLE4D, tmp_path / "top.nii.gz")
    shutil.copy(EXAMPLE4D, tmp_path / "sub" / "deeper" / "inner.nii.gz")
    (tmp_path / "sub" / "notes.txt").write_text("not an image")
    (tmp_path / "sub" / "broken.nii").write_text("not an image either" * 30)
    status, records, err = run_json(capsys, str(tmp_path))
    assert status == 0 and [os.path.basename(r["file"]) for r in records] == ["top.nii.gz"]
    assert err == ""  # the subfolder is not entered without -r
    status, records, err = run_json(capsys, "-r", str(tmp_path))
    assert status == 1
    assert sorted(os.path.basename(r["file"]) for r in records) == ["inner.nii.gz", "top.nii.gz"]
    lines = err.splitlines()
    assert lines[0].startswith("nivox: error: ") and "broken.nii" in lines[0]
    assert lines[-1] == ("nivox ls: skipped 1 of 3 files that could not be read (reasons above); "
                         "ignored 1 file in folders with no image extension (.txt)")


def test_heading_printed_when_nothing_was_readable(tmp_path, capsys):
    assert main(["ls", str(tmp_path / "missing.nii")]) == 1
    out = capsys.readouterr().out
    assert out.split() == ["file", "type", "dtype", "shape", "zooms", "units", "qform", "sform"]
