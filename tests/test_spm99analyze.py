"""Tests for SPM99 Analyze: scale factor, origin, the .mat sidecar, and agreement with nibabel."""

from __future__ import annotations

import gzip
import io
import logging
import os
import sys
import warnings

import numpy as np
import pytest

from nivox import _matfile
from nivox import spm99analyze as spm99
from nivox.analyze import AnalyzeHeader, AnalyzeImage
from nivox.errors import HeaderDataError, HeaderTypeError, ImageFileError, NivoxWarning
from nivox.fileholders import FileHolder
from nivox.spm99analyze import Spm99AnalyzeHeader, Spm99AnalyzeImage, SpmAnalyzeHeader

nib = pytest.importorskip("nibabel")
sio = pytest.importorskip("scipy.io")

RNG = np.random.default_rng(99)
SHIFT = np.eye(4)
SHIFT[:3, 3] = 1  # 1-based voxel -> 0-based voxel, as in SPM's 'mat'
FLIP_X = np.diag([-1.0, 1, 1, 1])


def _report(check, hdr, fix=False):
    report = check(hdr, fix=fix)[1]
    return report.problem_level, report.problem_msg, report.fix_msg


def _nib_header(hdr):
    """The nibabel header of the same class holding the same bytes."""
    klass = getattr(nib, type(hdr).__name__, None) or getattr(nib.spm99analyze, type(hdr).__name__)
    return klass(hdr.binaryblock, endianness=hdr.endianness, check=False)


def _random_affine(oblique=False):
    zooms = RNG.uniform(0.5, 4, size=3)
    affine = np.diag([-zooms[0], zooms[1], zooms[2], 1.0])
    if oblique:
        from nivox.eulerangles import euler2mat

        affine[:3, :3] = euler2mat(*RNG.uniform(-0.6, 0.6, size=3)) @ np.diag(zooms)
    affine[:3, 3] = RNG.uniform(-100, 100, size=3)
    return affine


# ---- header layout and defaults --------------------------------------------


def test_dtype_matches_nibabel():
    assert spm99.header_dtype == nib.spm99analyze.header_dtype
    assert SpmAnalyzeHeader.template_dtype == nib.spm99analyze.SpmAnalyzeHeader.template_dtype
    assert spm99.header_dtype.itemsize == 348
    assert spm99.header_dtype["origin"].shape == (5,)
    assert spm99.image_dimension_dtd == nib.spm99analyze.image_dimension_dtd
    assert spm99.data_history_dtd == nib.spm99analyze.data_history_dtd


@pytest.mark.parametrize("endian", ["<", ">"])
def test_default_header_bytes_match_nibabel(endian):
    ours = Spm99AnalyzeHeader(endianness=endian)
    theirs = nib.spm99analyze.Spm99AnalyzeHeader(endianness=endian)
    assert ours.binaryblock == theirs.binaryblock
    assert ours["scl_slope"] == 1
    assert ours["origin"].tolist() == [0] * 5


def test_class_flags_and_hierarchy():
    assert issubclass(Spm99AnalyzeHeader, AnalyzeHeader)
    assert Spm99AnalyzeHeader.has_data_slope and not Spm99AnalyzeHeader.has_data_intercept
    assert issubclass(Spm99AnalyzeImage, AnalyzeImage)
    assert Spm99AnalyzeImage.files_types == (("image", ".img"), ("header", ".hdr"), ("mat", ".mat"))
    assert Spm99AnalyzeImage.valid_exts == (".img", ".hdr")
    assert Spm99AnalyzeImage.has_affine and Spm99AnalyzeImage.makeable and Spm99AnalyzeImage.rw
    assert Spm99AnalyzeImage._meta_sniff_len == 348


# ---- scaling ------------------------------------------------------------------


@pytest.mark.parametrize("stored, expected", [
    (1, (1.0, None)), (2.5, (2.5, None)), (-3, (-3.0, None)),
    (0, (None, None)), (np.nan, (None, None)), (np.inf, (None, None)), (-np.inf, (None, None)),
])
def test_get_slope_inter(stored, expected):
    hdr = Spm99AnalyzeHeader()
    hdr["scl_slope"] = stored
    assert hdr.get_slope_inter() == expected
    nib_slope, nib_inter = _nib_header(hdr).get_slope_inter()
    assert (None if nib_slope is None else float(nib_slope), nib_inter) == expected


@pytest.mark.parametrize("slope, inter, stored", [
    (2, None, 2), (2, 0, 2), (2, np.nan, 2), (1, 0.0, 1), (None, None, np.nan), (np.nan, None, np.nan),
    ("4", None, 4),
])
def test_set_slope_inter(slope, inter, stored):
    hdr = Spm99AnalyzeHeader()
    hdr.set_slope_inter(slope, inter)
    np.testing.assert_equal(float(hdr["scl_slope"]), stored)


@pytest.mark.parametrize("slope, inter, error", [
    (0, None, HeaderDataError), (np.inf, None, HeaderDataError), (-np.inf, 0, HeaderDataError),
    (2, 1, HeaderTypeError), (None, -1, HeaderTypeError), (np.nan, np.inf, HeaderTypeError),
])
def test_set_slope_inter_refused(slope, inter, error):
    hdr = Spm99AnalyzeHeader()
    hdr["scl_slope"] = 7
    with pytest.raises(error):
        hdr.set_slope_inter(slope, inter)
    theirs = nib.spm99analyze.Spm99AnalyzeHeader()
    theirs["scl_slope"] = 7
    try:
        theirs.set_slope_inter(slope, inter)
    except Exception:
        pass
    # as nibabel: a refused slope leaves the field alone; a valid slope is stored
    # before a non-zero intercept is refused
    np.testing.assert_equal(float(hdr["scl_slope"]), float(theirs["scl_slope"]))
    with pytest.raises(Exception) as info:
        nib.spm99analyze.Spm99AnalyzeHeader().set_slope_inter(slope, inter)
    assert type(info.value).__name__ == error.__name__


# ---- origin -------------------------------------------------------------------


def test_origin_affine_examples():
    hdr = Spm99AnalyzeHeader()
    hdr.set_data_shape((3, 5, 7))
    hdr.set_zooms((2, 3, 4))
    # unset origin: the centre of the volume
    np.testing.assert_array_equal(hdr.get_origin_affine()[:3, 3], [2, -6, -12])
    hdr["origin"][:3] = [1, 2, 3]
    expected = np.array([[-2, 0, 0, 0], [0, 3, 0, -3], [0, 0, 4, -8], [0, 0, 0, 1]])
    np.testing.assert_array_equal(hdr.get_origin_affine(), expected)
    np.testing.assert_array_equal(hdr.get_best_affine(), expected)
    # voxel 'origin' (1-based) lands on world 0
    voxel = np.append(hdr["origin"][:3] - 1, 1)
    np.testing.assert_array_equal(hdr.get_best_affine() @ voxel, [0, 0, 0, 1])


def test_origin_affine_and_check_match_nibabel():
    theirs_cls = nib.spm99analyze.Spm99AnalyzeHeader
    for _ in range(400):
        hdr = Spm99AnalyzeHeader()
        ndim = int(RNG.integers(1, 5))
        shape = RNG.integers(0, 12, size=ndim)
        hdr["dim"][0] = ndim
        hdr["dim"][1 : ndim + 1] = shape
        hdr["pixdim"][1:4] = RNG.choice([-2.5, 0, 1, 1.5, 3], size=3)
        hdr["origin"] = RNG.integers(-15, 25, size=5) * RNG.integers(0, 2, size=5)
        theirs = _nib_header(hdr)
        np.testing.assert_array_equal(hdr.get_origin_affine(), theirs.get_origin_affine())
        np.testing.assert_array_equal(hdr.get_best_affine(), theirs.get_best_affine())
        for fix in (False, True):
            ours_report = _report(Spm99AnalyzeHeader._chk_origin, hdr.copy(), fix)
            assert ours_report == _report(theirs_cls._chk_origin, theirs.copy(), fix)


def test_chk_origin_report():
    hdr = Spm99AnalyzeHeader()
    hdr.set_data_shape((4, 6, 8))
    hdr["origin"][:3] = [2, 3, 4]
    assert _report(Spm99AnalyzeHeader._chk_origin, hdr) == (0, "", "")
    hdr["origin"][:3] = [8, 3, 4]  # twice the first dimension
    assert _report(Spm99AnalyzeHeader._chk_origin, hdr) == (
        20, "very large origin values relative to dims", "")
    fixed = hdr.copy()
    assert _report(Spm99AnalyzeHeader._chk_origin, fixed, fix=True) == (
        20, "very large origin values relative to dims", "leaving as set, ignoring for affine")
    assert fixed["origin"].tolist() == [8, 3, 4, 0, 0]  # left as set ...
    np.testing.assert_array_equal(fixed.get_origin_affine()[:3, 3], [1.5, -2.5, -3.5])  # ... ignored
    assert "very large origin" in Spm99AnalyzeHeader.diagnose_binaryblock(hdr.binaryblock)


def test_bad_origin_logged_not_raised(caplog):
    hdr = Spm99AnalyzeHeader()
    hdr.set_data_shape((4, 6, 8))
    hdr["origin"][:3] = [-4, 1, 1]
    with caplog.at_level(logging.DEBUG, logger="nivox.global"):
        read = Spm99AnalyzeHeader(hdr.binaryblock)
    assert read["origin"][0] == -4
    assert any("very large origin" in message for message in caplog.messages)


def test_set_origin_from_affine_matches_nibabel():
    theirs = nib.spm99analyze.Spm99AnalyzeHeader()
    hdr = Spm99AnalyzeHeader()
    for _ in range(300):
        affine = np.eye(4)
        affine[:3, :] = RNG.normal(size=(3, 4)) * RNG.uniform(0.2, 20)
        hdr.set_origin_from_affine(affine)
        theirs.set_origin_from_affine(affine)
        assert hdr["origin"].tolist() == theirs["origin"].tolist()
    # exact whole-voxel translations survive the division
    for zoom in (0.3, 1.1, 2.7):
        for origin in (-5, 1, 17):
            affine = np.diag([zoom, zoom, zoom, 1])
            affine[:3, 3] = -zoom * (origin - 1)
            hdr.set_origin_from_affine(affine)
            theirs.set_origin_from_affine(affine)
            assert hdr["origin"].tolist() == theirs["origin"].tolist()


def test_set_origin_from_affine_examples():
    hdr = Spm99AnalyzeHeader()
    hdr["origin"][3:] = [5, 6]
    hdr.set_origin_from_affine([[-2, 0, 0, -1], [0, 3, 0, -1.5], [0, 0, 4, -6], [0, 0, 0, 1]])
    # 1.5, 1.5, 2.5 truncate; untouched 4th and 5th entries
    assert hdr["origin"].tolist() == [1, 1, 2, 5, 6]


@pytest.mark.parametrize("affine", [np.eye(3), np.diag([1, 1, 1, 1.0])[:3]])
def test_set_origin_from_affine_needs_4x4(affine):
    with pytest.raises(HeaderDataError, match="4x4"):
        Spm99AnalyzeHeader().set_origin_from_affine(affine)


def test_set_origin_from_affine_refuses_overflow():
    # nibabel wraps this around int16 silently; an origin that cannot be stored is refused
    affine = np.diag([-2, 3, 4, 1.0])
    affine[0, 3] = 1e6
    hdr = Spm99AnalyzeHeader()
    with pytest.raises(HeaderDataError, match="int16"):
        hdr.set_origin_from_affine(affine)
    assert hdr["origin"].tolist() == [0] * 5


# ---- header conversions -------------------------------------------------------


def test_from_analyze_header_keeps_geometry():
    analyze = AnalyzeHeader()
    analyze.set_data_shape((4, 5, 6))
    analyze.set_zooms((1, 2, 3))
    analyze.set_data_dtype(np.int16)
    hdr = Spm99AnalyzeHeader.from_header(analyze)
    assert type(hdr) is Spm99AnalyzeHeader
    assert hdr.get_data_shape() == (4, 5, 6) and hdr.get_zooms() == (1, 2, 3)
    assert hdr.get_data_dtype() == np.dtype(np.int16)
    assert hdr["origin"].tolist() == [0] * 5


def test_from_spm99_header_is_copy():
    hdr = Spm99AnalyzeHeader()
    hdr["origin"][:3] = [1, 2, 3]
    hdr["scl_slope"] = 4
    copied = Spm99AnalyzeHeader.from_header(hdr)
    assert copied == hdr and copied is not hdr
    copied["origin"][0] = 9
    assert hdr["origin"][0] == 1


# ---- images: the .mat sidecar --------------------------------------------------


def _bytes_map():
    return {key: FileHolder(fileobj=io.BytesIO()) for key, _ in Spm99AnalyzeImage.files_types}


def _small_image(klass=Spm99AnalyzeImage, affine=None, dtype=np.int16):
    data = np.arange(24, dtype=dtype).reshape(2, 3, 4)
    return klass(data, np.diag([-2.0, 3, 4, 1]) if affine is None else affine)


def test_mat_written_with_both_variables(tmp_path):
    affine = _random_affine(oblique=True)
    img = _small_image(affine=affine)
    img.to_filename(tmp_path / "a.img")
    assert sorted(os.listdir(tmp_path)) == ["a.hdr", "a.img", "a.mat"]
    stored = sio.loadmat(tmp_path / "a.mat")
    np.testing.assert_allclose(stored["mat"] @ SHIFT, affine)
    np.testing.assert_allclose(stored["M"], FLIP_X @ stored["mat"])


def test_mat_bytes_match_nibabel(tmp_path):
    affine = _random_affine(oblique=True)
    data = RNG.integers(-100, 100, size=(3, 4, 5)).astype(np.int16)
    Spm99AnalyzeImage(data, affine).to_filename(tmp_path / "ours.img")
    nib.Spm99AnalyzeImage(data, affine).to_filename(tmp_path / "theirs.img")
    assert (tmp_path / "ours.mat").read_bytes() == (tmp_path / "theirs.mat").read_bytes()


def test_no_mat_without_affine():
    file_map = _bytes_map()
    img = Spm99AnalyzeImage(np.zeros((2, 3, 4), np.int16), None)
    img.to_file_map(file_map)
    assert file_map["mat"].fileobj.getvalue() == b""
    assert len(file_map["header"].fileobj.getvalue()) == 348
    back = Spm99AnalyzeImage.from_file_map(file_map)
    np.testing.assert_array_equal(back.affine, back.header.get_origin_affine())


def test_round_trip_in_memory():
    affine = _random_affine(oblique=True)
    file_map = _bytes_map()
    _small_image(affine=affine).to_file_map(file_map)
    back = Spm99AnalyzeImage.from_file_map(file_map)
    np.testing.assert_allclose(back.affine, affine)
    np.testing.assert_array_equal(np.asanyarray(back.dataobj), np.arange(24).reshape(2, 3, 4))


def test_file_map_without_mat_entry():
    file_map = _bytes_map()
    img = _small_image()
    with pytest.raises(ImageFileError, match="'mat'"):
        img.to_file_map({key: file_map[key] for key in ("image", "header")})
    img.to_file_map(file_map)
    back = Spm99AnalyzeImage.from_file_map({key: file_map[key] for key in ("image", "header")})
    np.testing.assert_array_equal(back.affine, back.header.get_best_affine())


def _saved_pair(tmp_path, klass=Spm99AnalyzeImage):
    img = _small_image(klass)
    img.header["origin"][:3] = [2, 2, 2]
    img.to_filename(tmp_path / "a.img")
    return tmp_path / "a.img", tmp_path / "a.mat"


def test_header_affine_when_no_mat(tmp_path):
    img_path, mat_path = _saved_pair(tmp_path)
    mat_path.unlink()
    back = Spm99AnalyzeImage.load(img_path)
    np.testing.assert_array_equal(back.affine, back.header.get_origin_affine())
    np.testing.assert_array_equal(back.affine, nib.Spm99AnalyzeImage.load(img_path).affine)


def test_empty_mat_ignored(tmp_path):
    img_path, mat_path = _saved_pair(tmp_path)
    mat_path.write_bytes(b"")
    back = Spm99AnalyzeImage.load(img_path)
    np.testing.assert_array_equal(back.affine, back.header.get_origin_affine())


def test_reads_M_with_x_flip(tmp_path):
    img_path, mat_path = _saved_pair(tmp_path)
    M = np.vstack([RNG.normal(size=(3, 4)), [0, 0, 0, 1]])
    sio.savemat(mat_path, {"M": M})
    back = Spm99AnalyzeImage.load(img_path)
    np.testing.assert_allclose(back.affine, FLIP_X @ M @ SHIFT)
    np.testing.assert_allclose(back.affine, nib.Spm99AnalyzeImage.load(img_path).affine)


def test_mat_preferred_over_M(tmp_path):
    img_path, mat_path = _saved_pair(tmp_path)
    mat = _random_affine()
    sio.savemat(mat_path, {"M": np.eye(4), "mat": mat})
    np.testing.assert_allclose(Spm99AnalyzeImage.load(img_path).affine, mat @ SHIFT)


def test_3d_mat_uses_first_and_warns(tmp_path):
    img_path, mat_path = _saved_pair(tmp_path)
    first, second = _random_affine(), _random_affine()
    sio.savemat(mat_path, {"mat": np.stack([first, second], axis=2)})
    with pytest.warns(NivoxWarning, match="More than one affine") as record:
        back = Spm99AnalyzeImage.load(img_path)
    assert str(mat_path) in str(record[0].message)
    np.testing.assert_allclose(back.affine, first @ SHIFT)
    with pytest.warns(UserWarning):
        np.testing.assert_allclose(nib.Spm99AnalyzeImage.load(img_path).affine, back.affine)


def test_3d_mat_holding_one_affine_is_silent(tmp_path):
    img_path, mat_path = _saved_pair(tmp_path)
    only = _random_affine()
    sio.savemat(mat_path, {"mat": only[:, :, None]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = Spm99AnalyzeImage.load(img_path)
    np.testing.assert_allclose(back.affine, only @ SHIFT)


@pytest.mark.parametrize("content, match", [
    ({"other": np.eye(4)}, 'no "mat" or "M"'),
    ({"mat": np.eye(3)}, "4x4"),
    ({"mat": np.ones((2, 4, 4))}, "4x4"),
])
def test_unusable_mat_raises_naming_file(tmp_path, content, match):
    img_path, mat_path = _saved_pair(tmp_path)
    sio.savemat(mat_path, content)
    with pytest.raises(ImageFileError, match=match) as info:
        Spm99AnalyzeImage.load(img_path)
    assert str(mat_path) in str(info.value)


def test_garbage_mat_raises_naming_file(tmp_path):
    img_path, mat_path = _saved_pair(tmp_path)
    mat_path.write_bytes(b"this is not MATLAB" * 20)
    with pytest.raises(ImageFileError, match="a.mat"):
        Spm99AnalyzeImage.load(img_path)


@pytest.mark.parametrize("fmt", ["4", "5"])
def test_reads_scipy_written_mat(tmp_path, fmt):
    img_path, mat_path = _saved_pair(tmp_path)
    mat = _random_affine(oblique=True)
    sio.savemat(mat_path, {"mat": mat}, format=fmt)
    np.testing.assert_allclose(Spm99AnalyzeImage.load(img_path).affine, mat @ SHIFT)


def test_v5_mat_without_scipy_warns_and_uses_header(tmp_path, monkeypatch):
    img_path, mat_path = _saved_pair(tmp_path)
    sio.savemat(mat_path, {"mat": _random_affine()}, format="5")
    monkeypatch.setitem(sys.modules, "scipy.io", None)
    with pytest.warns(NivoxWarning, match=r"pip install nivox\[spm\]") as record:
        back = Spm99AnalyzeImage.load(img_path)
    assert str(mat_path) in str(record[0].message)
    np.testing.assert_array_equal(back.affine, back.header.get_origin_affine())


def test_v4_mat_needs_no_scipy(tmp_path, monkeypatch):
    img_path, _ = _saved_pair(tmp_path)
    monkeypatch.setitem(sys.modules, "scipy.io", None)
    monkeypatch.setitem(sys.modules, "scipy", None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = Spm99AnalyzeImage.load(img_path)
    np.testing.assert_allclose(back.affine, np.diag([-2.0, 3, 4, 1]))


def test_compressed_pair_has_compressed_mat(tmp_path):
    affine = _random_affine(oblique=True)
    _small_image(affine=affine).to_filename(tmp_path / "a.img.gz")
    assert sorted(os.listdir(tmp_path)) == ["a.hdr.gz", "a.img.gz", "a.mat.gz"]
    stored = _matfile.read_mat(gzip.decompress((tmp_path / "a.mat.gz").read_bytes()))
    np.testing.assert_allclose(stored["mat"] @ SHIFT, affine)
    np.testing.assert_allclose(Spm99AnalyzeImage.load(tmp_path / "a.img.gz").affine, affine)
    np.testing.assert_allclose(nib.Spm99AnalyzeImage.load(tmp_path / "a.img.gz").affine, affine)


def test_module_load_save(tmp_path):
    img = _small_image()
    spm99.save(img, tmp_path / "x.hdr")
    back = spm99.load(tmp_path / "x.hdr")
    assert isinstance(back, Spm99AnalyzeImage)
    np.testing.assert_array_equal(back.affine, img.affine)


def test_save_over_loaded_image_keeps_data(tmp_path):
    img = _small_image(dtype=np.float32)
    img.to_filename(tmp_path / "a.img")
    back = Spm99AnalyzeImage.load(tmp_path / "a.img")
    new_affine = _random_affine(oblique=True)
    Spm99AnalyzeImage(back.dataobj, new_affine, back.header).to_filename(tmp_path / "a.img")
    again = Spm99AnalyzeImage.load(tmp_path / "a.img")
    np.testing.assert_allclose(again.affine, new_affine)
    np.testing.assert_array_equal(again.get_fdata(), np.arange(24).reshape(2, 3, 4))


# ---- differential round trips with nibabel --------------------------------------


_DTYPES = [np.uint8, np.int16, np.int32, np.float32, np.float64]


def _random_case():
    shape = tuple(int(n) for n in RNG.integers(1, 7, size=int(RNG.integers(3, 5))))
    dtype = _DTYPES[int(RNG.integers(len(_DTYPES)))]
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        data = RNG.integers(max(info.min, -1000), min(info.max, 1000), size=shape).astype(dtype)
    else:
        data = (RNG.normal(size=shape) * 50).astype(dtype)
    return data, _random_affine(oblique=bool(RNG.integers(2)))


def _compare_headers(ours, theirs):
    assert ours.binaryblock == theirs.binaryblock
    for key in ours.keys():
        np.testing.assert_array_equal(ours[key], theirs[key])


@pytest.mark.parametrize("case", range(8))
def test_nivox_writes_nibabel_reads(tmp_path, case):
    data, affine = _random_case()
    ours = Spm99AnalyzeImage(data, affine)
    if case % 2 and data.dtype.kind == "f":
        ours.set_data_dtype(np.int16)  # float data stored with a scale factor
    ours.to_filename(tmp_path / "a.img")
    theirs = nib.load(tmp_path / "a.img")
    np.testing.assert_allclose(theirs.affine, affine, atol=1e-12)
    tolerance = 0 if ours.get_data_dtype() == data.dtype else np.abs(data).max() / 32767
    np.testing.assert_allclose(theirs.get_fdata(), data, atol=tolerance, rtol=0)
    disk = Spm99AnalyzeHeader.from_fileobj(open(tmp_path / "a.hdr", "rb"))
    _compare_headers(disk, nib.spm99analyze.Spm99AnalyzeHeader.from_fileobj(open(tmp_path / "a.hdr", "rb")))


@pytest.mark.parametrize("case", range(8))
def test_nibabel_writes_nivox_reads(tmp_path, case):
    data, affine = _random_case()
    theirs = nib.Spm99AnalyzeImage(data, affine)
    if case % 2 and data.dtype.kind == "f":
        theirs.set_data_dtype(np.int16)
    theirs.to_filename(tmp_path / "a.img")
    expected = nib.Spm99AnalyzeImage.load(tmp_path / "a.img")
    ours = Spm99AnalyzeImage.load(tmp_path / "a.img")
    np.testing.assert_array_equal(ours.affine, expected.affine)
    np.testing.assert_array_equal(ours.get_fdata(), expected.get_fdata())
    assert ours.get_data_dtype() == expected.get_data_dtype()
    assert ours.dataobj.slope == expected.dataobj.slope
    assert ours.header.get_slope_inter() == expected.header.get_slope_inter()
    disk = open(tmp_path / "a.hdr", "rb").read()
    _compare_headers(Spm99AnalyzeHeader(disk), nib.spm99analyze.Spm99AnalyzeHeader(disk))


def test_same_header_bytes_as_nibabel(tmp_path):
    data = (RNG.normal(size=(4, 5, 6)) * 100).astype(np.float64)
    affine = _random_affine()
    for lib, name in ((spm99, "ours"), (nib.spm99analyze, "theirs")):
        img = lib.Spm99AnalyzeImage(data, affine)
        img.set_data_dtype(np.int16)
        img.to_filename(tmp_path / f"{name}.img")
    assert (tmp_path / "ours.hdr").read_bytes() == (tmp_path / "theirs.hdr").read_bytes()
    assert (tmp_path / "ours.img").read_bytes() == (tmp_path / "theirs.img").read_bytes()


def test_big_endian_header_with_origin(tmp_path):
    hdr = nib.spm99analyze.Spm99AnalyzeHeader(endianness=">")
    hdr.set_data_shape((5, 6, 7))
    hdr.set_data_dtype(np.int16)
    hdr.set_zooms((2, 2, 3))
    hdr["origin"][:3] = [3, 4, 2]
    hdr["scl_slope"] = 0.5
    data = RNG.integers(-500, 500, size=(5, 6, 7)).astype(">i2")
    with open(tmp_path / "be.hdr", "wb") as fobj:
        hdr.write_to(fobj)
    (tmp_path / "be.img").write_bytes(data.tobytes(order="F"))
    ours = Spm99AnalyzeImage.load(tmp_path / "be.img")
    assert ours.header.endianness == ">"
    np.testing.assert_array_equal(ours.affine, hdr.get_origin_affine())
    np.testing.assert_array_equal(ours.get_fdata(), data * 0.5)
