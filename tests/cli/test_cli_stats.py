"""Tests of ``nivox stats``: values against numpy, masks, exact streamed percentiles, laziness."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nivox.cli.main import main
from nivox.cli.stats import image_stats, select_ranks, stream_stats
from nivox.testing import data_path

nib = pytest.importorskip("nibabel")

BUNDLED = ["analyze.hdr", "anatomical.nii", "example4d.nii.gz", "example_nifti2.nii.gz",
           "float32.nii.gz"]
ANATOMICAL = os.path.join(data_path, "anatomical.nii")
EXAMPLE4D = os.path.join(data_path, "example4d.nii.gz")
QS = [0, 2.5, 5, 25, 50, 75, 95, 100]


def run_json(capsys, *args):
    status = main(["stats", "--json", *args])
    captured = capsys.readouterr()
    return status, json.loads(captured.out) if captured.out else None, captured.err


def check_against_numpy(record, values, qs=QS):
    values = np.asarray(values, dtype=np.float64).ravel()
    finite = values[np.isfinite(values)]
    assert record["count"] == finite.size
    assert record["nan"] == int(np.isnan(values).sum())
    assert record["inf"] == int(np.isinf(values).sum())
    assert record["min"] == pytest.approx(finite.min(), rel=1e-6)
    assert record["max"] == pytest.approx(finite.max(), rel=1e-6)
    assert record["mean"] == pytest.approx(finite.mean(), rel=1e-9, abs=1e-9)
    assert record["std"] == pytest.approx(finite.std(), rel=1e-9, abs=1e-9)
    expected = np.percentile(finite, qs)
    for q, value in zip(qs, expected):
        assert record["percentiles"][f"{q:g}"] == pytest.approx(value, rel=1e-6, abs=1e-6), q


@pytest.mark.parametrize("fname", BUNDLED)
def test_bundled_against_numpy(capsys, fname):
    path = os.path.join(data_path, fname)
    status, (record,), err = run_json(capsys, "-p", ",".join(map(str, QS)), path)
    assert status == 0 and err == ""
    img = nib.load(path)
    assert record["shape"] == list(img.shape)
    check_against_numpy(record, img.get_fdata())


def test_default_percentiles_and_text(capsys):
    assert main(["stats", EXAMPLE4D]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == EXAMPLE4D
    rows = {line.split()[0]: line.split(None, 1)[1] for line in lines[1:]}
    assert rows["shape"] == "40 x 48 x 20 x 3 (3 volumes)"
    assert [k for k in rows if k.startswith("p")] == ["p5", "p25", "p50", "p75", "p95"]
    data = nib.load(EXAMPLE4D).get_fdata()
    assert float(rows["p50"]) == pytest.approx(np.median(data), rel=1e-5)
    assert float(rows["std"]) == pytest.approx(data.std(), rel=1e-5)
    assert rows["values"] == f"{data.size} finite, 0 NaN, 0 inf"


def test_no_percentiles(capsys):
    status, (record,), _ = run_json(capsys, "-p", "", ANATOMICAL)
    assert status == 0 and "percentiles" not in record


def test_bad_percentiles_are_usage_errors(capsys):
    assert main(["stats", "-p", "101", ANATOMICAL]) == 2
    assert "0..100" in capsys.readouterr().err
    assert main(["stats", "-p", "x", ANATOMICAL]) == 2


# ---- masks -------------------------------------------------------------------------------------


@pytest.fixture
def mask_file(tmp_path):
    img = nib.load(ANATOMICAL)
    mask = (img.get_fdata() > 100).astype(np.uint8)
    path = str(tmp_path / "mask.nii.gz")
    nib.save(nib.Nifti1Image(mask, img.affine), path)
    return path, mask.astype(bool), img


def test_mask_volume_and_stats_inside(capsys, mask_file):
    path, mask, img = mask_file
    status, (record,), _ = run_json(capsys, "--mask", path, ANATOMICAL)
    assert status == 0
    voxels = int(mask.sum())
    assert record["mask"] == {"file": path, "voxels": voxels,
                              "volume_mm3": pytest.approx(voxels * abs(np.linalg.det(img.affine[:3, :3])))}
    check_against_numpy(record, img.get_fdata()[mask], [5, 25, 50, 75, 95])
    main(["stats", "-m", path, ANATOMICAL])
    assert f"mask    {voxels} voxels" in capsys.readouterr().out


def test_3d_mask_on_4d_image(capsys, tmp_path):
    img = nib.load(EXAMPLE4D)
    data = img.get_fdata()
    mask = data[..., 0] > np.median(data[..., 0])
    path = str(tmp_path / "m.nii")
    nib.save(nib.Nifti1Image(mask.astype(np.int16)[..., None], img.affine), path)  # 4D, 1 long
    status, (record,), _ = run_json(capsys, "--mask", path, EXAMPLE4D)
    assert status == 0
    zooms = img.header.get_zooms()[:3]
    assert record["mask"]["volume_mm3"] == pytest.approx(mask.sum() * np.prod(zooms), rel=1e-5)
    check_against_numpy(record, data[mask], [5, 25, 50, 75, 95])


def test_mask_on_another_grid_is_refused(capsys, tmp_path):
    img = nib.load(ANATOMICAL)
    shifted = img.affine.copy()
    shifted[0, 3] += 5
    moved = str(tmp_path / "moved.nii")
    nib.save(nib.Nifti1Image(np.ones(img.shape, np.uint8), shifted), moved)
    small = str(tmp_path / "small.nii")
    nib.save(nib.Nifti1Image(np.ones((4, 4, 4), np.uint8), img.affine), small)
    for mask, problem in ((moved, "affine differs"), (small, "does not match")):
        assert main(["stats", "--mask", mask, ANATOMICAL]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"nivox: error: {mask}: mask ") and problem in err
        assert err.count("\n") == 1


# ---- streaming ------------------------------------------------------------------------------------


class VolumeOnlyImage:
    """A 4D image whose data object refuses whole-array reads and counts volume reads."""

    def __init__(self, data):
        self.shape = data.shape
        self.dataobj = self
        self._data = data
        self.reads = 0

    def __getitem__(self, key):
        part = self._data[key]
        assert part.ndim == 3, "read more than one volume"
        self.reads += 1
        return part

    def __array__(self, *args, **kwargs):
        raise AssertionError("read the whole 4D array")


@pytest.mark.parametrize("dtype", [np.int16, np.float32, np.float64])
def test_4d_statistics_read_one_volume_at_a_time(dtype):
    rng = np.random.default_rng(1)
    data = (rng.normal(size=(5, 6, 7, 4)) * 1000).astype(dtype)
    if data.dtype.kind == "f":
        data[0, 0, 0, 1] = np.nan
        data[1, 0, 0, 2] = -np.inf
    img = VolumeOnlyImage(data)
    record = image_stats(img, percentiles=QS)
    check_against_numpy(record, data)
    # one pass for the moments, then one per 16 bits of the keys
    passes = 1 + {np.int16: 1, np.float32: 2, np.float64: 4}[dtype]
    assert img.reads <= 4 * passes


def test_mask_applies_to_every_volume():
    data = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    mask = np.zeros((2, 3, 4), bool)
    mask[1, 2, :2] = True
    record = image_stats(VolumeOnlyImage(data), mask, percentiles=[50])
    check_against_numpy(record, data[mask], [50])


def test_all_nan_and_empty():
    record = stream_stats(lambda: iter([np.full((2, 2), np.nan)]), percentiles=[50])
    assert record == {"count": 0, "nan": 4, "inf": 0, "min": None, "max": None, "mean": None,
                      "std": None, "percentiles": {"50": None}}


def test_complex_refused(capsys, tmp_path):
    path = str(tmp_path / "c.nii")
    nib.save(nib.Nifti1Image(np.ones((2, 2, 2), np.complex64), np.eye(4)), path)
    assert main(["stats", path]) == 1
    assert capsys.readouterr().err == f"nivox: error: {path}: no statistics for complex64 data\n"


DTYPES = st.sampled_from([np.int8, np.uint8, np.int16, np.uint16, np.int32, np.int64,
                          np.uint64, np.float16, np.float32, np.float64])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_select_ranks_is_exact(data):
    dtype = np.dtype(data.draw(DTYPES))
    values = data.draw(hnp.arrays(dtype, st.integers(1, 60),
                                  elements=hnp.from_dtype(dtype, allow_nan=False)))
    pieces = data.draw(st.integers(1, 4))
    ranks = sorted(set(data.draw(st.lists(st.integers(0, values.size - 1), min_size=1,
                                          max_size=5))))
    bounds = data.draw(st.sampled_from([None, (values.min(), values.max())]))
    found = select_ranks(lambda: iter(np.array_split(values, pieces)), ranks, dtype, bounds)
    expected = [v.item() for v in np.sort(values)[ranks]]  # exact Python ints and floats
    assert found == expected


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("values", [[1.0, -0.0, 0.0], [-0.0, 0.0, -1.0], [0.0, -0.0]])
def test_select_ranks_with_both_zeros_inside_bounds(values, dtype):
    # min() and max() report 0.0 for -0.0 too; the ranks must still see every value
    values = np.array(values, dtype)
    bounds = (values.min(), values.max())
    found = select_ranks(lambda: iter([values]), range(values.size), np.dtype(dtype), bounds)
    assert found == np.sort(values).tolist()


# ---- errors, processes, corpus -----------------------------------------------------------


def test_bad_file_among_good(capsys, tmp_path):
    missing = str(tmp_path / "none.nii")
    status, records, err = run_json(capsys, ANATOMICAL, missing)
    assert status == 1 and [r["file"] for r in records] == [ANATOMICAL]
    assert err == f"nivox: error: {missing}: No such file or directory\n"


def test_subprocess(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "nivox.cli.main", "stats", "--json", "-p", "50",
                           EXAMPLE4D], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stderr == ""
    (record,) = json.loads(proc.stdout)
    assert record["percentiles"]["50"] == pytest.approx(np.median(nib.load(EXAMPLE4D).get_fdata()))


CORPUS_FILES = [
    "nibabel/tests_data/functional.nii",
    "nibabel/tests_data/example4d.nii.gz",
    "dipy/small_64D.nii",
    "fslpy/testdata/test_feat/1stlevel_realdata.feat/stats/zstat1.nii.gz",
    "mricron/attention.nii.gz",
    "niworkflows/data/sentinel.nii.gz",
]


@pytest.mark.parametrize("relpath", CORPUS_FILES)
def test_corpus_against_numpy(corpus, capsys, relpath):
    path = str(corpus / relpath)
    status, (record,), err = run_json(capsys, "-p", ",".join(map(str, QS)), path)
    assert status == 0, err
    check_against_numpy(record, nib.load(path).get_fdata())


def test_corpus_mask_volume(corpus, capsys):
    path = str(corpus / "mricron/HarvardOxford-cort-maxprob-thr0-1mm.nii.gz")
    status, (record,), _ = run_json(capsys, "-p", "", "--mask", path, path)
    assert status == 0
    img = nib.load(path)
    voxels = int(np.count_nonzero(np.asanyarray(img.dataobj)))
    assert record["mask"]["voxels"] == voxels
    assert record["mask"]["volume_mm3"] == pytest.approx(voxels * np.prod(img.header.get_zooms()))
