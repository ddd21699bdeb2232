import numpy as np
import pytest
from suites.header_api import HeaderAPI
from suites.image_api import ImageAPI

import nivox
from nivox.errors import HeaderDataError
from nivox.nifti1 import Nifti1Image
from nivox.nifti2 import Nifti2Header, Nifti2Image, Nifti2Pair, Nifti2PairHeader

NIFTI2_DTYPES = (np.uint8, np.int8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
                 np.uint64, np.float32, np.float64, np.complex64, np.complex128)


class TestNifti2HeaderAPI(HeaderAPI):
    header_class = Nifti2Header
    nibabel_class_name = "nifti2.Nifti2Header"
    supported_dtypes = NIFTI2_DTYPES


class TestNifti2PairHeaderAPI(HeaderAPI):
    header_class = Nifti2PairHeader
    nibabel_class_name = "nifti2.Nifti2PairHeader"
    supported_dtypes = NIFTI2_DTYPES


class TestNifti2ImageAPI(ImageAPI):
    image_class = Nifti2Image
    supports_bytes = True


class TestNifti2PairAPI(ImageAPI):
    image_class = Nifti2Pair
    compressed_suffixes = ("", ".gz")


def test_large_dims_allowed():
    hdr = Nifti2Header()
    hdr.set_data_shape((2**31, 2))
    assert hdr.get_data_shape() == (2**31, 2)


def test_layout_and_offset(tmp_path):
    img = Nifti2Image(np.arange(8, dtype=np.int16).reshape(2, 2, 2), np.eye(4))
    raw = img.to_bytes()
    assert int(np.frombuffer(raw[:4], "<i4")[0]) == 540
    assert raw[4:12] == b"n+2\x00\r\n\x1a\n"
    assert int(np.frombuffer(raw[168:176], "<i8")[0]) == 544  # vox_offset


def test_nibabel_reads_ours_and_we_read_theirs(tmp_path):
    nib = pytest.importorskip("nibabel")
    data = np.arange(120, dtype=np.float32).reshape(4, 5, 6)
    aff = np.diag([1.5, 2, 2.5, 1])
    ours = Nifti2Image(data, aff)
    ours.header.set_xyzt_units("mm", "sec")
    ours.to_filename(tmp_path / "o.nii.gz")
    theirs = nib.load(tmp_path / "o.nii.gz")
    assert type(theirs).__name__ == "Nifti2Image"
    assert theirs.header.binaryblock == Nifti2Image.from_filename(tmp_path / "o.nii.gz").header.binaryblock
    assert np.array_equal(theirs.get_fdata(), data)
    nib.save(nib.Nifti2Image(data, aff), tmp_path / "t.nii")
    loaded = nivox.load(tmp_path / "t.nii")
    assert type(loaded) is Nifti2Image
    assert np.allclose(loaded.affine, aff)
    assert nib.Nifti2Image(data, aff).to_bytes() == Nifti2Image(data, aff).to_bytes()


def test_load_tells_nifti1_from_nifti2(tmp_path):
    data = np.zeros((2, 2, 2), np.uint8)
    Nifti1Image(data, np.eye(4)).to_filename(tmp_path / "one.nii")
    Nifti2Image(data, np.eye(4)).to_filename(tmp_path / "two.nii")
    assert type(nivox.load(tmp_path / "one.nii")) is Nifti1Image
    assert type(nivox.load(tmp_path / "two.nii")) is Nifti2Image


def test_eol_check():
    nib = pytest.importorskip("nibabel")
    for eol in ([0, 0, 0, 0], [1, 2, 3, 4]):
        theirs = nib.Nifti2Header()
        theirs["eol_check"] = eol
        block = theirs.binaryblock
        assert Nifti2Header.diagnose_binaryblock(block) == nib.Nifti2Header.diagnose_binaryblock(block)
    with pytest.raises(HeaderDataError):
        Nifti2Header(block)
