"""Tests of ``nivox describe``: output, JSON, statistics and errors, in-process and as a subprocess.

Values are checked against nibabel reading the same files (bundled examples and,
when NIVOX_CORPUS is set, real files from the corpus).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from nivox.cli.describe import describe_file, format_text, volume_stats
from nivox.cli.main import main
from nivox.testing import data_path

nib = pytest.importorskip("nibabel")

EXAMPLE4D = os.path.join(data_path, "example4d.nii.gz")
BUNDLED = ["example4d.nii.gz", "anatomical.nii", "analyze.hdr", "float32.nii.gz",
           "example_nifti2.nii.gz"]


def run_json(capsys, *args):
    status = main(["describe", "--json", *args])
    captured = capsys.readouterr()
    return status, json.loads(captured.out) if captured.out else None, captured.err


def nib_expected(path):
    """What describe should report, according to nibabel."""
    img = nib.load(path)
    return img, {
        "shape": list(img.shape),
        "dtype": np.dtype(img.get_data_dtype()).name,
        "zooms": [float(z) for z in img.header.get_zooms()],
        "orientation": "".join(nib.aff2axcodes(img.affine)),
        "affine": np.asarray(img.affine, dtype=float),
    }


def check_against_nibabel(record, path):
    img, expected = nib_expected(path)
    assert record["shape"] == expected["shape"]
    assert record["dtype"] == expected["dtype"]
    np.testing.assert_allclose(record["zooms"], expected["zooms"], rtol=1e-6)
    assert record["orientation"] == expected["orientation"]
    np.testing.assert_allclose(np.array(record["affine"], float), expected["affine"],
                               rtol=1e-6, atol=1e-5)
    for field in ("qform_code", "sform_code"):
        if field in img.header:
            assert record[field]["code"] == int(img.header[field])
    slope, inter = img.dataobj.slope, img.dataobj.inter
    assert record["scaling"]["slope"] == pytest.approx(slope)
    assert record["scaling"]["inter"] == pytest.approx(inter)
    return img


def check_stats_against_nibabel(stats, img):
    data = img.get_fdata()
    finite = data[np.isfinite(data)]
    assert stats["nan"] == int(np.isnan(data).sum())
    assert stats["inf"] == int(np.isinf(data).sum())
    if finite.size:
        assert stats["min"] == pytest.approx(finite.min())
        assert stats["max"] == pytest.approx(finite.max())
        assert stats["mean"] == pytest.approx(finite.mean(), rel=1e-9, abs=1e-9)


# ---- bundled example data ----------------------------------------------------


@pytest.mark.parametrize("fname", BUNDLED)
def test_json_matches_nibabel_on_bundled(capsys, fname):
    path = os.path.join(data_path, fname)
    if not os.path.exists(path):
        pytest.skip(f"{fname} not generated in this build")
    status, records, err = run_json(capsys, "--stats", path)
    assert status == 0 and err == ""
    (record,) = records
    assert record["file"] == path
    img = check_against_nibabel(record, path)
    check_stats_against_nibabel(record["stats"], img)


def test_default_is_bundled_example4d(capsys):
    status, records, _ = run_json(capsys)
    assert status == 0
    (record,) = records
    assert record["file"] == EXAMPLE4D
    assert record["format"] == "Nifti1Image"
    assert len(record["shape"]) == 4
    assert record["dtype"] == "int16"
    assert record["units"] == {"space": "mm", "time": "sec"}
    assert record["qform_code"] == {"code": 1, "label": "scanner"}
    assert record["sform_code"] == {"code": 2, "label": "aligned"}
    assert record["scaling"]["slope"] != 1  # the example is stored scaled
    assert record["intent"]["label"] == "none"
    assert "stats" not in record


def test_text_output_of_example(capsys):
    assert main(["describe", "--stats", EXAMPLE4D]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == EXAMPLE4D
    fields = {line.split()[0]: line.split(None, 1)[1] for line in lines[1:] if line[2] != " "}
    img, expected = nib_expected(EXAMPLE4D)
    assert fields["shape"] == " x ".join(str(n) for n in expected["shape"])
    assert fields["dtype"] == "int16 (little endian)"
    assert fields["zooms"].endswith("mm, 2 sec")
    assert fields["orientation"] == expected["orientation"]
    assert fields["qform_code"] == "scanner (1)"
    assert fields["sform_code"] == "aligned (2)"
    assert fields["scaling"].startswith("slope ")
    low, high = fields["range"].split(" .. ")
    data = img.get_fdata()
    assert float(low) == pytest.approx(data.min(), rel=1e-5)
    assert float(high) == pytest.approx(data.max(), rel=1e-5)
    # the affine takes four lines, the first beside its label
    assert sum(line.strip().startswith(("affine", "[")) for line in lines) == 4


def test_float_file_reports_nans_and_intent(capsys):
    path = os.path.join(data_path, "float32.nii.gz")
    status, (record,), _ = run_json(capsys, "--stats", path)
    assert status == 0
    assert record["dtype"] == "float32"
    assert record["intent"]["label"] == "t test"
    assert record["intent"]["params"] == [30]
    assert record["stats"]["nan"] > 0
    main(["describe", "--stats", path])
    out = capsys.readouterr().out
    assert "NaN" in out and "t test (30)" in out


def test_analyze_has_no_nifti_fields(capsys):
    path = os.path.join(data_path, "analyze.hdr")
    status, (record,), _ = run_json(capsys, path)
    assert status == 0
    assert record["format"].endswith("AnalyzeImage")  # plain, SPM99 or SPM2, as nibabel picks
    assert record["qform_code"] is None and record["intent"] is None
    main(["describe", path])
    out = capsys.readouterr().out
    assert "qform_code" not in out and "intent" not in out


def test_several_files_in_order(capsys):
    paths = [os.path.join(data_path, f) for f in ("anatomical.nii", "example4d.nii.gz")]
    status, records, _ = run_json(capsys, *paths)
    assert status == 0
    assert [r["file"] for r in records] == paths


# ---- statistics read one volume at a time ------------------------------------------


class VolumeOnlyProxy:
    """A 4D data object that serves one volume per request and refuses whole reads."""

    def __init__(self, data):
        self.data = data
        self.shape = data.shape
        self.requests = []

    def __getitem__(self, key):
        self.requests.append(key)
        part = self.data[key]
        assert part.ndim == 3, "describe asked for more than one volume"
        return part

    def __array__(self, *args, **kwargs):
        raise AssertionError("describe read the whole 4D array")


def test_volume_stats_iterate_volumes():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(4, 5, 6, 3, 2)).astype(np.float32)
    data[0, 0, 0, 1, 1] = np.nan
    data[1, 0, 0, 2, 0] = np.inf
    proxy = VolumeOnlyProxy(data)
    stats = volume_stats(proxy, data.shape)
    assert len(proxy.requests) == 6
    finite = data[np.isfinite(data)]
    assert stats["nan"] == 1 and stats["inf"] == 1
    assert stats["min"] == pytest.approx(finite.min())
    assert stats["max"] == pytest.approx(finite.max())
    assert stats["mean"] == pytest.approx(finite.astype(np.float64).mean())


def test_volume_stats_edge_cases():
    assert volume_stats(np.full((2, 2, 2), np.nan), (2, 2, 2)) == {
        "min": None, "max": None, "mean": None, "nan": 8, "inf": 0}
    ints = np.array([[[0, 65535]]], dtype=np.uint16)
    assert volume_stats(ints, ints.shape) == {"min": 0, "max": 65535, "mean": 32767.5,
                                              "nan": 0, "inf": 0}
    assert "error" in volume_stats(np.zeros((2, 2, 2), np.complex64), (2, 2, 2))


def test_format_text_without_affine_or_scaling():
    record = {
        "file": "x", "format": "Fake", "shape": [2, 3], "dtype": "uint8", "itemsize": 1,
        "byte_order": "little",
        "zooms": [1.5, 2], "units": {"space": None, "time": None}, "orientation": None,
        "affine": None, "qform_code": None, "sform_code": None, "intent": None,
        "scaling": {"slope": None, "inter": None},
    }
    text = format_text(record)
    assert text.splitlines() == ["x", "  format       Fake", "  shape        2 x 3",
                                 "  dtype        uint8", "  zooms        1.5 x 2",
                                 "  orientation  unknown", "  scaling      none"]


# ---- errors --------------------------------------------------------------------


def test_missing_file_one_line_exit_1(capsys, tmp_path):
    missing = str(tmp_path / "nothing.nii")
    assert main(["describe", missing]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"nivox: error: {missing}: No such file or directory\n"


def test_directory_one_line_exit_1(capsys, tmp_path):
    assert main([str(tmp_path)]) == 1
    assert capsys.readouterr().err == f"nivox: error: {tmp_path}: Is a directory, not an image file\n"


def test_not_an_image_one_line_exit_1(capsys, tmp_path):
    fake = tmp_path / "text.nii.gz"
    fake.write_text("./mask.nii.gz\n")
    assert main([str(fake)]) == 1
    err = capsys.readouterr().err
    # whether the library's message names the file or not, the line names it once
    assert err.startswith("nivox: error: ") and err.count(str(fake)) == 1
    assert err.count("\n") == 1 and "Traceback" not in err


def test_unknown_extension(capsys, tmp_path):
    odd = tmp_path / "data.xyz"
    odd.write_bytes(b"\0" * 400)
    assert main([str(odd)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nivox: error: ") and "'.xyz'" in err and err.count(str(odd)) == 1


def test_debug_shows_traceback(capsys, tmp_path):
    fake = tmp_path / "bad.nii"
    fake.write_bytes(b"not a nifti file at all" * 20)
    assert main(["describe", "--debug", str(fake)]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    last = err.rstrip().splitlines()[-1]
    assert last.startswith("nivox: error: ") and last.count(str(fake)) == 1


def test_good_files_still_described_when_one_fails(capsys, tmp_path):
    missing = str(tmp_path / "gone.nii")
    status, records, err = run_json(capsys, missing, EXAMPLE4D)
    assert status == 1
    assert [r["file"] for r in records] == [EXAMPLE4D]
    assert err == f"nivox: error: {missing}: No such file or directory\n"


def test_truncated_data_fails_only_with_stats(capsys, tmp_path):
    whole = open(os.path.join(data_path, "anatomical.nii"), "rb").read()
    cut = tmp_path / "cut.nii"
    cut.write_bytes(whole[: len(whole) // 2])
    assert main(["describe", str(cut)]) == 0  # header is intact
    capsys.readouterr()
    assert main(["describe", "--stats", str(cut)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nivox: error: ") and err.count(str(cut)) == 1
    assert err.count("\n") == 1


# ---- subprocess --------------------------------------------------------------------


def test_subprocess_json_and_exit_codes(tmp_path):
    cmd = [sys.executable, "-m", "nivox.cli.main"]
    proc = subprocess.run(cmd + ["describe", "--json", "--stats"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    (record,) = json.loads(proc.stdout)
    assert record["file"] == EXAMPLE4D and "stats" in record
    missing = str(tmp_path / "missing.nii.gz")
    proc = subprocess.run(cmd + [missing], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr == f"nivox: error: {missing}: No such file or directory\n"


# ---- corpus -------------------------------------------------------------------------

CORPUS_GOOD = [
    "nibabel/tests_data/example4d.nii.gz",
    "nibabel/tests_data/anatomical.nii",
    "nibabel/tests_data/functional.nii",
    "nibabel/tests_data/example_nifti2.nii.gz",
    "mricron/attention.nii.gz",
    "dipy/small_64D.nii",
    "fslpy/testdata/test_feat/1stlevel_realdata.feat/stats/cope1.nii.gz",
    "nipype/tpm_00.nii.gz",
]
# header-only files: describable, but reading their data must fail cleanly
CORPUS_HEADER_ONLY = [
    "nibabel/tests_data/nifti1.hdr",
    "nibabel/tests_data/analyze.hdr",
    "niworkflows/interfaces/tests/data/boldref.nii",
]
CORPUS_NOT_IMAGES = [
    "fslpy/testdata/test_feat/1stlevel_1.feat/mask.nii.gz",  # a text file
]


@pytest.mark.parametrize("relpath", CORPUS_GOOD)
def test_corpus_file_matches_nibabel(corpus, capsys, relpath):
    path = str(corpus / relpath)
    status, (record,), err = run_json(capsys, "--stats", path)
    assert status == 0, err
    img = check_against_nibabel(record, path)
    check_stats_against_nibabel(record["stats"], img)


@pytest.mark.parametrize("relpath", CORPUS_HEADER_ONLY)
def test_corpus_header_only(corpus, capsys, relpath):
    path = str(corpus / relpath)
    status, (record,), err = run_json(capsys, path)
    assert status == 0, err
    check_against_nibabel(record, path)
    assert main(["describe", "--stats", path]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nivox: error: ") and err.count(path) == 1
    assert err.count("\n") == 1
    if path.endswith(".hdr"):  # the missing file is the .img: the message must say so
        assert path[:-4] + ".img" in err


@pytest.mark.parametrize("relpath", CORPUS_NOT_IMAGES)
def test_corpus_not_images(corpus, relpath):
    path = str(corpus / relpath)
    proc = subprocess.run([sys.executable, "-m", "nivox.cli.main", path],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith("nivox: error: ") and proc.stderr.count(path) == 1
    assert proc.stderr.count("\n") == 1


def test_corpus_big_endian_reported(corpus, capsys):
    path = str(corpus / "nibabel/tests_data/analyze.hdr")
    _, (record,), _ = run_json(capsys, path)
    assert record["byte_order"] == "big"


def test_qform_orientation_shown_when_it_differs(capsys, tmp_path):
    nib = pytest.importorskip("nibabel")
    source = nib.load(os.path.join(data_path, "anatomical.nii"))
    flipped = source.affine.copy()
    flipped[2, 2] = -1
    header = source.header.copy()
    header.set_qform(flipped, 1)
    path = str(tmp_path / "qflip.nii")
    nib.save(nib.Nifti1Image(np.asanyarray(source.dataobj), source.affine, header), path)
    expected = "".join(nib.aff2axcodes(nib.load(path).header.get_qform()))
    status, records, _ = run_json(capsys, path)
    assert status == 0 and records[0]["qform_orientation"] == expected == "LAI"
    assert records[0]["orientation"] == "LAS"
    assert main([path]) == 0
    rows = [line.split(None, 2) for line in capsys.readouterr().out.splitlines()[1:]]
    assert ["qform", "orientation", "LAI (differs: tools reading the qform see this)"] in rows
    # a file whose qform agrees shows no such row
    assert main([os.path.join(data_path, "example4d.nii.gz")]) == 0
    assert "qform orientation" not in capsys.readouterr().out
