import io

import numpy as np
import pytest
from suites.header_api import HeaderAPI
from suites.image_api import ImageAPI

import nivox
from nivox.nifti1 import Nifti1Extension, Nifti1Header, Nifti1Image, Nifti1Pair, Nifti1PairHeader

ALL_NIFTI_DTYPES = (np.uint8, np.int8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
                    np.uint64, np.float32, np.float64, np.complex64, np.complex128)


class TestNifti1HeaderAPI(HeaderAPI):
    header_class = Nifti1Header
    nibabel_class_name = "Nifti1Header"
    supported_dtypes = ALL_NIFTI_DTYPES


class TestNifti1PairHeaderAPI(HeaderAPI):
    header_class = Nifti1PairHeader
    nibabel_class_name = "nifti1.Nifti1PairHeader"
    supported_dtypes = ALL_NIFTI_DTYPES


class TestNifti1ImageAPI(ImageAPI):
    image_class = Nifti1Image
    storable_dtypes = (np.uint8, np.int8, np.int16, np.uint16, np.int32, np.uint32, np.float32,
                       np.float64, np.complex64)
    compressed_suffixes = ("", ".gz", ".bz2", ".zst")
    supports_bytes = True


class TestNifti1PairAPI(ImageAPI):
    image_class = Nifti1Pair
    compressed_suffixes = ("", ".gz")


def test_new_image_sform_aligned_qform_unknown():
    aff = np.array([[0, -2, 0, 10], [3, 0, 0, 20], [0, 0, 4, 30], [0, 0, 0, 1.0]])
    img = Nifti1Image(np.zeros((2, 3, 4), np.int16), aff)
    assert (int(img.header["sform_code"]), int(img.header["qform_code"])) == (2, 0)
    assert np.allclose(img.header.get_sform(), aff)
    assert np.allclose(img.header.get_qform(), aff, atol=1e-6)


def test_header_codes_kept_when_affine_is_the_sform():
    aff = np.diag([2, 3, 4, 1.0])
    hdr = Nifti1Header()
    hdr.set_qform(aff, code=1)
    hdr.set_sform(aff, code=4)
    img = Nifti1Image(np.zeros((2, 3, 4), np.int16), aff, hdr)
    assert (int(img.header["qform_code"]), int(img.header["sform_code"])) == (1, 4)
    img = Nifti1Image(np.zeros((2, 3, 4), np.int16), aff * 2, hdr)
    assert (int(img.header["qform_code"]), int(img.header["sform_code"])) == (0, 2)


def test_loaded_header_shows_no_scaling_or_offset(tmp_path):
    data = np.linspace(0, 34.5, 24, dtype=np.float32).reshape(2, 3, 4)
    img = Nifti1Image(data, np.eye(4))
    img.set_data_dtype(np.int16)
    img.to_filename(tmp_path / "s.nii")
    assert np.isnan(img.header["scl_slope"]) and img.header.get_data_offset() == 0
    loaded = nivox.load(tmp_path / "s.nii")
    assert loaded.header.get_slope_inter() == (None, None)
    assert loaded.header.get_data_offset() == 0
    assert loaded.dataobj.offset == 352
    assert loaded.dataobj.slope != 1
    assert np.allclose(loaded.get_fdata(), data, atol=loaded.dataobj.slope)


def test_int64_needs_explicit_dtype():
    data = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
    with pytest.raises(ValueError, match="int64"):
        Nifti1Image(data, np.eye(4))
    assert Nifti1Image(data, np.eye(4), dtype=np.int64).get_data_dtype() == np.int64
    compat = Nifti1Image(data, np.eye(4), dtype="compat")
    assert compat.get_data_dtype() == "compat"
    assert compat.get_data_dtype(finalize=True) == np.int32  # nibabel: int64 data become int32 under "compat"
    assert Nifti1Image(data * 10000, np.eye(4), dtype="smallest").get_data_dtype(finalize=True) == np.int32
    assert Nifti1Image(data.astype(float), np.eye(4), dtype="compat").get_data_dtype(finalize=True) == np.float32
    with pytest.raises(ValueError):
        Nifti1Image(data.astype(float), np.eye(4), dtype="smallest").get_data_dtype(finalize=True)


def test_extensions_round_trip(tmp_path):
    img = Nifti1Image(np.zeros((2, 2, 2), np.uint8), np.eye(4))
    img.header.extensions.append(Nifti1Extension("comment", b"hello nivox"))
    img.header.extensions.append(Nifti1Extension(123, b"\x00\x01unknown code"))
    img.to_filename(tmp_path / "e.nii")
    loaded = nivox.load(tmp_path / "e.nii")
    assert [e.get_code() for e in loaded.header.extensions] == [6, 123]
    assert loaded.header.extensions[0].get_content() == b"hello nivox"
    assert loaded.dataobj.offset == 352 + loaded.header.extensions.get_sizeondisk()
    nib = pytest.importorskip("nibabel")
    theirs = nib.load(tmp_path / "e.nii")
    assert [e.get_code() for e in theirs.header.extensions] == [6, 123]


def test_save_conversions_single_pair(tmp_path):
    data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    img = Nifti1Image(data, np.eye(4))
    nivox.save(img, tmp_path / "p.img")
    pair = nivox.load(tmp_path / "p.hdr")
    assert type(pair) is Nifti1Pair
    assert pair.header["magic"] == b"ni1"
    nivox.save(pair, tmp_path / "s.nii.gz")
    single = nivox.load(tmp_path / "s.nii.gz")
    assert type(single) is Nifti1Image
    assert np.array_equal(np.asanyarray(single.dataobj), data)


def test_bytes_identical_to_nibabel_output(tmp_path):
    nib = pytest.importorskip("nibabel")
    data = np.arange(60, dtype=np.int16).reshape(3, 4, 5)
    aff = np.diag([2, 3, 4, 1.0])
    aff[:3, 3] = [-10, 5, 3]
    ours = Nifti1Image(data, aff).to_bytes()
    theirs = nib.Nifti1Image(data, aff).to_bytes()
    assert ours == theirs


def test_qform_sform_image_setters_update_affine():
    img = Nifti1Image(np.zeros((2, 3, 4), np.int16), np.eye(4))
    new = np.diag([2, 2, 2, 1.0])
    img.set_sform(new, code="scanner")
    assert np.allclose(img.affine, new)
    assert img.get_sform(coded=True)[1] == 1
    img.set_qform(np.diag([3, 3, 3, 1.0]), code=1, update_affine=False)
    assert np.allclose(img.affine, new)


def test_as_reoriented_moves_dim_info():
    img = Nifti1Image(np.zeros((2, 3, 4), np.int16), np.eye(4))
    img.header.set_dim_info(freq=0, phase=1, slice=2)
    reoriented = img.as_reoriented([[2, 1], [1, 1], [0, 1]])
    assert reoriented.shape == (4, 3, 2)
    assert reoriented.header.get_dim_info() == (2, 1, 0)


def test_in_memory_bytes_from_file_map():
    bio = io.BytesIO()
    img = Nifti1Image(np.ones((2, 2, 2), np.float32), np.eye(4))
    img.to_file_map({"image": nivox.fileholders.FileHolder(fileobj=bio)})
    assert Nifti1Image.from_bytes(bio.getvalue()).get_fdata().sum() == 8


def test_from_file_map_takes_validation_mode():
    from nivox.errors import HeaderDataError

    img = Nifti1Image(np.zeros((2, 2, 2), np.uint8), np.eye(4))
    img.header["qform_code"] = 9  # fixable (level 30): warns by default, raises in 'raise' mode
    raw = img.to_bytes()
    bio = io.BytesIO(raw)
    with pytest.raises(HeaderDataError, match="qform_code"):
        Nifti1Image.from_file_map(Nifti1Image.make_file_map({"image": bio}), validation="raise")
    bio.seek(0)
    loaded = Nifti1Image.from_file_map(Nifti1Image.make_file_map({"image": bio}), validation="ignore")
    assert loaded.header["qform_code"] == 0
