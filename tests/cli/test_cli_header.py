"""Tests of ``nivox header``: every stored field against nibabel's reading of the same bytes."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from nivox.cli.main import main
from nivox.testing import data_path

nib = pytest.importorskip("nibabel")

BUNDLED = ["analyze.hdr", "anatomical.nii", "example4d.nii.gz", "example_nifti2.nii.gz",
           "float32.nii.gz"]
EXAMPLE4D = os.path.join(data_path, "example4d.nii.gz")


def run_json(capsys, path):
    status = main(["header", "--json", path])
    captured = capsys.readouterr()
    return status, json.loads(captured.out) if captured.out else None, captured.err


def nib_raw_header(path):
    """nibabel's header as stored in the file (not the loaded image's, which resets scaling)."""
    img = nib.load(path)
    if type(img).__name__ == "Cifti2Image":
        img = nib.Nifti2Image.from_filename(path)
    with nib.openers.ImageOpener(img.file_map.get("header", img.file_map["image"]).filename) as f:
        return img.header_class.from_fileobj(f)


def same_value(ours, theirs):
    theirs = np.asarray(theirs)
    if theirs.dtype.kind == "S":
        return ours == theirs.item().decode("latin-1")
    if theirs.dtype.kind == "f":
        ours_arr = np.array(ours, dtype=float)
        return ours_arr.shape == theirs.shape and np.allclose(ours_arr, theirs, rtol=1e-6,
                                                              atol=0, equal_nan=True)
    return np.array_equal(np.array(ours), theirs)


def check_fields(record, path):
    raw = nib_raw_header(path)
    assert list(record["fields"]) == list(raw.keys())
    for name in raw.keys():
        value = record["fields"][name]
        if value is None:  # JSON null: a non-finite float
            assert not np.all(np.isfinite(raw[name])), name
            continue
        assert same_value(value, raw[name]), (name, value, raw[name])
    for name in ("datatype", "qform_code", "sform_code", "intent_code", "slice_code"):
        if name in raw:
            assert record["labels"][name] == raw.get_value_label(name)
    return raw


@pytest.mark.parametrize("fname", BUNDLED)
def test_fields_match_nibabel(capsys, fname):
    path = os.path.join(data_path, fname)
    status, record, err = run_json(capsys, path)
    assert status == 0 and err == ""
    assert record["file"] == path
    raw = check_fields(record, path)
    assert record["header"] == type(raw).__name__ or record["format"].endswith("AnalyzeImage")


def test_stored_scaling_is_shown_not_the_reset_one(capsys):
    status, record, _ = run_json(capsys, EXAMPLE4D)
    loaded = nib.load(EXAMPLE4D)
    assert record["fields"]["scl_slope"] == pytest.approx(float(loaded.dataobj.slope))
    assert record["fields"]["scl_inter"] == pytest.approx(float(loaded.dataobj.inter))
    assert record["fields"]["vox_offset"] == loaded.dataobj.offset


def test_packed_fields_and_extensions(capsys):
    status, record, _ = run_json(capsys, EXAMPLE4D)
    img = nib.load(EXAMPLE4D)
    space, time = img.header.get_xyzt_units()
    assert record["labels"]["xyzt_units"] == f"space {space}, time {time}"
    freq, phase, slice_ = img.header.get_dim_info()
    assert record["labels"]["dim_info"] == f"freq {freq}, phase {phase}, slice {slice_}"
    assert record["extensions"] == [
        {"code": int(e.get_code()), "label": nib.nifti1.extension_codes.label[e.get_code()],
         "size": e.get_sizeondisk()} for e in img.header.extensions]
    assert record["byte_order"] == "little"


def test_text_output(capsys):
    assert main(["header", EXAMPLE4D]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{EXAMPLE4D}  (Nifti1Header, little endian)"
    fields = {line.split()[0]: line.split(None, 1)[1] for line in lines[1:]}
    raw = nib_raw_header(EXAMPLE4D)
    assert fields["datatype"] == "4  (int16)"
    assert fields["qform_code"] == "1  (scanner)"
    assert fields["descrip"] == "'nivox example 4D'"
    assert fields["scl_slope"] == str(raw["scl_slope"])  # numpy's shortest float32 text
    assert fields["dim"] == "[" + ", ".join(str(n) for n in raw["dim"]) + "]"
    assert fields["extension"].startswith("code 6 (comment)")
    assert len(fields) == len(raw.keys()) + 1


def test_nan_fields(capsys, tmp_path):
    img = nib.Nifti1Image(np.zeros((2, 2, 2), np.float32), np.eye(4))
    img.header["cal_max"] = np.nan
    img.header["cal_min"] = -np.inf
    path = str(tmp_path / "nan.nii")
    nib.save(img, path)
    status, record, _ = run_json(capsys, path)
    assert record["fields"]["cal_max"] is None and record["fields"]["cal_min"] is None
    main(["header", path])
    out = capsys.readouterr().out
    assert "cal_max         nan" in out and "cal_min         -inf" in out


def test_errors(capsys, tmp_path):
    missing = str(tmp_path / "gone.nii")
    assert main(["header", missing]) == 1
    assert capsys.readouterr().err == f"nivox: error: {missing}: No such file or directory\n"
    assert main(["header", str(tmp_path)]) == 1
    assert "Is a directory" in capsys.readouterr().err
    assert main(["header", "--debug", missing]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.splitlines()[-1].startswith(f"nivox: error: {missing}")


def test_subprocess():
    proc = subprocess.run([sys.executable, "-m", "nivox.cli.main", "header", "--json",
                           os.path.join(data_path, "analyze.hdr")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["fields"]["dim"][:4] == [3, 20, 24, 16]


CORPUS_FILES = [
    "nibabel/tests_data/analyze.hdr",  # big endian
    "nibabel/tests_data/nifti1.hdr",
    "nibabel/tests_data/nifti2.hdr",
    "nibabel/tests_data/example4d.nii.gz",
    "nibabel/tests_data/row_major.dconn.nii",
    "mricron/attention.nii.gz",
    "dipy/S0_10slices.nii.gz",
]


@pytest.mark.parametrize("relpath", CORPUS_FILES)
def test_corpus_fields_match_nibabel(corpus, capsys, relpath):
    path = str(corpus / relpath)
    status, record, err = run_json(capsys, path)
    assert status == 0, err
    check_fields(record, path)
    if relpath.endswith("analyze.hdr"):
        assert record["byte_order"] == "big"
