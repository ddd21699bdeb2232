"""Tests for SPM2 Analyze: calibration scaling, NIfTI exclusion, round trips and the corpus."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

import nivox
from nivox import spm2analyze as spm2
from nivox.errors import HeaderDataError, HeaderTypeError
from nivox.spm2analyze import Spm2AnalyzeHeader, Spm2AnalyzeImage
from nivox.spm99analyze import Spm99AnalyzeHeader, Spm99AnalyzeImage

nib = pytest.importorskip("nibabel")

RNG = np.random.default_rng(2)


def _nib_header(hdr):
    return nib.Spm2AnalyzeHeader(hdr.binaryblock, endianness=hdr.endianness, check=False)


def _as_floats(pair):
    return tuple(None if v is None else float(v) for v in pair)


def test_dtype_and_classes():
    assert spm2.header_dtype == nib.spm2analyze.header_dtype
    assert spm2.image_dimension_dtd == nib.spm2analyze.image_dimension_dtd
    assert spm2.header_dtype.itemsize == 348
    assert issubclass(Spm2AnalyzeHeader, Spm99AnalyzeHeader)
    assert issubclass(Spm2AnalyzeImage, Spm99AnalyzeImage)
    assert Spm2AnalyzeImage.header_class is Spm2AnalyzeHeader
    assert Spm2AnalyzeHeader.has_data_slope and not Spm2AnalyzeHeader.has_data_intercept
    assert Spm2AnalyzeHeader().binaryblock == nib.Spm2AnalyzeHeader().binaryblock
    assert Spm2AnalyzeImage.files_types == nib.Spm2AnalyzeImage.files_types


@pytest.mark.parametrize("fields, expected", [
    ({}, (1.0, 0.0)),
    ({"scl_slope": 2}, (2.0, 0.0)),
    ({"scl_slope": 2, "scl_inter": 3}, (2.0, 3.0)),
    ({"scl_slope": 2, "scl_inter": np.nan}, (2.0, 0.0)),
    ({"scl_slope": 2, "scl_inter": np.inf}, (2.0, 0.0)),
    ({"scl_slope": 0}, (None, None)),
    ({"scl_slope": 0, "cal_max": 10, "cal_min": 0, "glmax": 5, "glmin": 0}, (2.0, 0.0)),
    ({"scl_slope": np.nan, "cal_max": 6, "cal_min": 0, "glmax": 5, "glmin": 2}, (2.0, -4.0)),
    ({"scl_slope": np.inf, "cal_max": 10, "cal_min": 2, "glmax": 5, "glmin": 1}, (2.0, 0.0)),
    ({"scl_slope": 0, "cal_max": 2, "cal_min": 10, "glmax": 5, "glmin": 1}, (-2.0, 12.0)),
    ({"scl_slope": 0, "cal_max": 10, "cal_min": 2, "glmax": 5, "glmin": 1, "scl_inter": 7}, (2.0, 0.0)),
    ({"scl_slope": 0, "cal_max": 10, "cal_min": 10, "glmax": 5, "glmin": 1}, (None, None)),
    ({"scl_slope": 0, "cal_max": 10, "cal_min": 2, "glmax": 5, "glmin": 5}, (None, None)),
    ({"scl_slope": -np.inf}, (None, None)),
])
def test_get_slope_inter_matches_nibabel(fields, expected):
    hdr = Spm2AnalyzeHeader()
    for key, value in fields.items():
        hdr[key] = value
    ours = hdr.get_slope_inter()
    theirs = _as_floats(_nib_header(hdr).get_slope_inter())
    if expected[0] is None:
        assert ours == theirs == expected
    else:
        assert ours == pytest.approx(expected)
        assert ours == theirs


def test_get_slope_inter_random_matches_nibabel():
    for _ in range(300):
        hdr = Spm2AnalyzeHeader()
        hdr["scl_slope"] = RNG.choice([0, np.nan, np.inf, 1, -2.5, 0.125])
        hdr["scl_inter"] = RNG.choice([0, np.nan, 3, -1.5])
        hdr["cal_max"], hdr["cal_min"] = RNG.choice([0, 1, 10, -4.5], size=2)
        hdr["glmax"], hdr["glmin"] = RNG.choice([0, 1, 255, -32768], size=2)
        assert hdr.get_slope_inter() == _as_floats(_nib_header(hdr).get_slope_inter())


def test_full_int32_stored_range_does_not_overflow():
    # nibabel subtracts glmin from glmax in int32 and gets -1 here
    hdr = Spm2AnalyzeHeader()
    hdr["scl_slope"] = 0
    hdr["cal_max"], hdr["cal_min"] = 1, 0
    hdr["glmax"], hdr["glmin"] = 2**31 - 1, -(2**31)
    slope, inter = hdr.get_slope_inter()
    assert slope == pytest.approx(1 / (2.0**32 - 1))
    assert inter == pytest.approx(2.0**31 / (2.0**32 - 1))


def test_non_finite_calibration_means_no_scaling():
    # nibabel returns NaN/inf scaling here, turning every voxel into NaN/inf
    hdr = Spm2AnalyzeHeader()
    hdr["scl_slope"] = 0
    hdr["cal_min"], hdr["glmax"], hdr["glmin"] = 2, 5, 1
    for cal_max in (np.nan, np.inf):
        hdr["cal_max"] = cal_max
        assert hdr.get_slope_inter() == (None, None)


def test_set_slope_inter_clears_intercept():
    hdr = Spm2AnalyzeHeader()
    hdr["scl_inter"] = 3
    hdr.set_slope_inter(2.0)
    assert hdr.get_slope_inter() == (2.0, 0.0)
    hdr["scl_inter"] = 3
    hdr.set_slope_inter(None, None)
    assert np.isnan(hdr["scl_slope"]) and hdr["scl_inter"] == 0
    with pytest.raises(HeaderTypeError):
        hdr.set_slope_inter(2, 1)
    with pytest.raises(HeaderDataError):
        hdr.set_slope_inter(0)


def test_stale_intercept_not_written(tmp_path):
    # a header carrying an intercept must not offset newly scaled data
    hdr = Spm2AnalyzeHeader()
    hdr["scl_slope"], hdr["scl_inter"] = 2, 3
    data = np.linspace(-10, 100, 24).reshape(2, 3, 4)
    img = Spm2AnalyzeImage(data, np.eye(4), hdr)
    img.set_data_dtype(np.int16)
    img.to_filename(tmp_path / "a.img")
    back = Spm2AnalyzeImage.load(tmp_path / "a.img")
    np.testing.assert_allclose(back.get_fdata(), data, atol=110 / 32767)


def _block(magic=None, endian="<"):
    block = Spm2AnalyzeHeader(endianness=endian).binaryblock
    return block if magic is None else block[:344] + magic


@pytest.mark.parametrize("magic, expected", [
    (None, True), (b"ni1\x00", False), (b"n+1\x00", False), (b"n+2\x00", True),
    (b"ni1\x01", True), (b"NI1\x00", True), (b"\x00\x00\x00\x00", True),
])
def test_may_contain_header(magic, expected):
    for endian in "<>":
        block = _block(magic, endian)
        assert Spm2AnalyzeHeader.may_contain_header(block) is expected
        assert nib.Spm2AnalyzeHeader.may_contain_header(block) is expected
    # SPM99 (like Analyze) does not look at the magic
    assert Spm99AnalyzeHeader.may_contain_header(_block(magic))


def test_may_contain_header_size_rules():
    block = _block()
    assert not Spm2AnalyzeHeader.may_contain_header(block[:347])
    assert Spm2AnalyzeHeader.may_contain_header(block + b"extra")
    assert not Spm2AnalyzeHeader.may_contain_header(np.int32(540).tobytes() + block[4:])


def test_from_spm99_header_keeps_origin_and_slope():
    spm99_hdr = Spm99AnalyzeHeader()
    spm99_hdr.set_data_shape((3, 4, 5))
    spm99_hdr["origin"][:3] = [1, 2, 3]
    spm99_hdr["scl_slope"] = 3
    hdr = Spm2AnalyzeHeader.from_header(spm99_hdr)
    theirs = nib.Spm2AnalyzeHeader.from_header(_nib99(spm99_hdr))
    assert hdr["origin"].tolist() == theirs["origin"].tolist() == [1, 2, 3, 0, 0]
    assert hdr.get_slope_inter() == (3.0, 0.0) == theirs.get_slope_inter()


def _nib99(hdr):
    return nib.Spm99AnalyzeHeader(hdr.binaryblock, endianness=hdr.endianness, check=False)


@pytest.mark.parametrize("case", range(6))
def test_round_trips_with_nibabel(tmp_path, case):
    shape = tuple(int(n) for n in RNG.integers(1, 6, size=3 + case % 2))
    data = (RNG.normal(size=shape) * 30).astype(np.float32)
    affine = np.diag([-RNG.uniform(1, 3), RNG.uniform(1, 3), RNG.uniform(1, 3), 1])
    affine[:3, 3] = RNG.uniform(-50, 50, size=3)
    ours = Spm2AnalyzeImage(data, affine)
    ours.set_data_dtype(np.int16 if case % 3 else np.float32)
    ours.to_filename(tmp_path / "ours.img")
    theirs = nib.Spm2AnalyzeImage(data, affine)
    theirs.set_data_dtype(ours.get_data_dtype())
    theirs.to_filename(tmp_path / "theirs.img")
    for name in ("ours", "theirs"):
        read_ours = Spm2AnalyzeImage.load(tmp_path / f"{name}.img")
        read_theirs = nib.load(tmp_path / f"{name}.img")
        assert type(read_theirs).__name__ == "Spm2AnalyzeImage"
        np.testing.assert_allclose(read_ours.affine, affine)
        np.testing.assert_array_equal(read_ours.affine, read_theirs.affine)
        np.testing.assert_array_equal(read_ours.get_fdata(), read_theirs.get_fdata())
    for ext in (".hdr", ".img", ".mat"):
        assert (tmp_path / f"ours{ext}").read_bytes() == (tmp_path / f"theirs{ext}").read_bytes()


def test_nivox_load_picks_spm2_like_nibabel(tmp_path):
    affine = np.array([[0, -2.0, 0, 10], [1.5, 0, 0, -20], [0, 0, 3, 5], [0, 0, 0, 1]])
    Spm99AnalyzeImage(np.ones((2, 3, 4), np.int16), affine).to_filename(tmp_path / "x.img")
    ours = nivox.load(tmp_path / "x.hdr")
    assert type(ours) is Spm2AnalyzeImage
    assert type(nib.load(tmp_path / "x.hdr")).__name__ == "Spm2AnalyzeImage"
    np.testing.assert_allclose(ours.affine, affine)


def test_module_load_save(tmp_path):
    img = Spm2AnalyzeImage(np.ones((2, 3, 4), np.uint8), np.diag([2.0, 2, 2, 1]))
    spm2.save(img, tmp_path / "x.img")
    back = spm2.load(tmp_path / "x.img")
    assert type(back) is Spm2AnalyzeImage
    np.testing.assert_array_equal(back.affine, img.affine)


# ---- the corpus of real files ------------------------------------------------------


def _corpus_headers():
    root = os.environ.get("NIVOX_CORPUS")
    if not root:
        return []
    return sorted(p for p in Path(root).rglob("*") if p.name.lower().endswith((".hdr", ".hdr.gz")))


def test_corpus_available():
    if not os.environ.get("NIVOX_CORPUS"):
        pytest.skip("NIVOX_CORPUS is not set: real SPM/Analyze files not checked")
    assert _corpus_headers(), "no .hdr files found under NIVOX_CORPUS"


@pytest.mark.parametrize("path", _corpus_headers(), ids=lambda p: p.name)
def test_corpus_file_matches_nibabel(path):
    try:
        theirs = nib.load(path)
    except Exception as err:  # nibabel cannot read it: nothing to compare with
        pytest.skip(f"nibabel cannot load {path.name}: {err}")
    name = type(theirs).__name__
    if name not in ("Spm2AnalyzeImage", "Spm99AnalyzeImage"):
        pytest.skip(f"nibabel reads {path.name} as {name}, not SPM Analyze")
    klass = {"Spm2AnalyzeImage": Spm2AnalyzeImage, "Spm99AnalyzeImage": Spm99AnalyzeImage}[name]
    ours = klass.load(path)
    assert type(nivox.load(path)) is klass
    raw = _read_maybe_gz(path)
    disk_ours = klass.header_class(raw)
    disk_theirs = theirs.header_class(raw)
    assert disk_ours.binaryblock == disk_theirs.binaryblock
    assert disk_ours.endianness == disk_theirs.endianness
    for key in disk_ours.keys():
        np.testing.assert_array_equal(disk_ours[key], disk_theirs[key])
    assert _as_floats(disk_ours.get_slope_inter()) == _as_floats(disk_theirs.get_slope_inter())
    np.testing.assert_array_equal(ours.affine, theirs.affine)
    assert ours.shape == theirs.shape
    assert ours.get_data_dtype() == theirs.get_data_dtype()
    image_file = theirs.file_map["image"].filename
    if not os.path.exists(image_file):
        pytest.skip(f"{path.name}: header and affine match; no image file {os.path.basename(image_file)} "
                    "to compare data")
    np.testing.assert_array_equal(ours.get_fdata(), theirs.get_fdata())


def _read_maybe_gz(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fobj:
        return fobj.read(348)
