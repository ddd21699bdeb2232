import io

import numpy as np
import pytest
from suites.header_api import HeaderAPI
from suites.image_api import ImageAPI

import nivox
from nivox.analyze import AnalyzeHeader, AnalyzeImage, data_type_codes
from nivox.errors import HeaderDataError, HeaderTypeError


class TestAnalyzeHeaderAPI(HeaderAPI):
    header_class = AnalyzeHeader
    nibabel_class_name = "AnalyzeHeader"


class TestAnalyzeImageAPI(ImageAPI):
    image_class = AnalyzeImage
    stores_affine = False
    storable_dtypes = (np.uint8, np.int16, np.int32, np.float32, np.float64)


def test_data_type_codes_match_nibabel():
    nib = pytest.importorskip("nibabel")
    theirs = nib.analyze.data_type_codes
    for code in theirs.value_set():
        assert data_type_codes.label[code] == theirs.label[code]
        assert data_type_codes.dtype[code] == theirs.dtype[code]


def test_int16_shape_limit():
    hdr = AnalyzeHeader()
    hdr.set_data_shape((32767,))
    with pytest.raises(HeaderDataError, match="does not fit"):
        hdr.set_data_shape((32768,))
    with pytest.raises(HeaderDataError):
        hdr.set_data_shape((-1, 2))


def test_unsupported_dtypes():
    hdr = AnalyzeHeader()
    for dtype in (np.int64, np.uint16, np.complex128, "complex"):
        with pytest.raises(HeaderDataError, match="not supported"):
            hdr.set_data_dtype(dtype)
    hdr.set_data_dtype("RGB")
    assert hdr.get_data_dtype().names == ("R", "G", "B")
    hdr.set_data_dtype(2)
    assert hdr.get_data_dtype() == np.uint8


def test_no_scaling_in_analyze():
    hdr = AnalyzeHeader()
    assert hdr.get_slope_inter() == (None, None)
    hdr.set_slope_inter(1.0, 0.0)
    hdr.set_slope_inter(np.nan, np.nan)
    with pytest.raises(HeaderTypeError):
        hdr.set_slope_inter(2.0)


def test_base_affine_matches_nibabel():
    nib = pytest.importorskip("nibabel")
    ours, theirs = AnalyzeHeader(), nib.AnalyzeHeader()
    for hdr in (ours, theirs):
        hdr.set_data_shape((4, 5, 6, 2))
        hdr.set_zooms((2, 3, 4, 1))
    assert np.allclose(ours.get_base_affine(), theirs.get_base_affine())


def test_checks_match_nibabel_messages():
    nib = pytest.importorskip("nibabel")
    hdr = nib.AnalyzeHeader()
    hdr["sizeof_hdr"] = 300
    hdr["bitpix"] = 8
    hdr["pixdim"][1] = -2
    hdr["pixdim"][2] = 0
    block = hdr.binaryblock
    assert AnalyzeHeader.diagnose_binaryblock(block) == nib.AnalyzeHeader.diagnose_binaryblock(block)
    fixed = AnalyzeHeader(block)  # fixed with logged warnings, not raised
    assert fixed["sizeof_hdr"] == 348 and fixed["bitpix"] == 32
    assert list(fixed["pixdim"][1:4]) == [2, 1, 1]


def test_unknown_datatype_raises():
    hdr = AnalyzeHeader()
    hdr["datatype"] = 3
    with pytest.raises(HeaderDataError, match="data code 3 not recognized"):
        AnalyzeHeader(hdr.binaryblock)


def test_pair_read_by_nibabel_and_back(tmp_path):
    nib = pytest.importorskip("nibabel")
    data = np.arange(60, dtype=np.int16).reshape(3, 4, 5)
    AnalyzeImage(data, np.diag([2, 3, 4, 1.0])).to_filename(tmp_path / "ours.img")
    theirs = nib.load(tmp_path / "ours.img")
    # a header without NIfTI magic is claimed by the SPM2 class first, in both libraries
    assert type(theirs).__name__ == type(nivox.load(tmp_path / "ours.img")).__name__ == "Spm2AnalyzeImage"
    assert np.array_equal(np.asanyarray(theirs.dataobj), data)
    assert theirs.header.binaryblock == nivox.load(tmp_path / "ours.hdr").header.binaryblock
    nib.save(nib.AnalyzeImage(data.astype(np.float32), np.eye(4)), tmp_path / "theirs.hdr")
    ours = AnalyzeImage.from_filename(tmp_path / "theirs.hdr")
    assert np.array_equal(ours.get_fdata(), data)


def test_float_to_int_needs_scaling_which_analyze_cannot_store(tmp_path):
    img = AnalyzeImage(np.linspace(0, 1, 24).reshape(2, 3, 4), np.eye(4))
    img.set_data_dtype(np.int16)
    with pytest.raises(ValueError):
        img.to_file_map(AnalyzeImage.make_file_map({"image": io.BytesIO(), "header": io.BytesIO()}))
