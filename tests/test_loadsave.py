import os

import numpy as np
import pytest

import nivox
from nivox.errors import ImageFileError, ImageFileNotFoundError
from nivox.loadsave import guessed_image_type, load_as
from nivox.nifti1 import Nifti1Image, Nifti1Pair


def _img(dtype=np.int16):
    return Nifti1Image(np.arange(24, dtype=dtype).reshape(2, 3, 4), np.eye(4))


def test_missing_file(tmp_path):
    with pytest.raises(ImageFileNotFoundError, match="nope.nii"):
        nivox.load(tmp_path / "nope.nii")
    with pytest.raises(FileNotFoundError):
        nivox.load(tmp_path / "nope.nii")


def test_empty_and_unknown_files(tmp_path):
    (tmp_path / "empty.nii").write_bytes(b"")
    with pytest.raises(ImageFileError, match="Empty file"):
        nivox.load(tmp_path / "empty.nii")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(ImageFileError, match="x.txt"):
        nivox.load(tmp_path / "x.txt")
    (tmp_path / "text.nii").write_bytes(b"not an image at all " * 40)
    with pytest.raises(ImageFileError, match="text.nii"):
        nivox.load(tmp_path / "text.nii")


def test_pathlike_and_str(tmp_path):
    nivox.save(_img(), tmp_path / "a.nii")
    assert isinstance(nivox.load(str(tmp_path / "a.nii")), Nifti1Image)
    assert isinstance(nivox.load(tmp_path / "a.nii"), Nifti1Image)
    assert guessed_image_type(tmp_path / "a.nii") is Nifti1Image


def test_save_converts_to_the_extension(tmp_path):
    img = _img()
    nivox.save(img, tmp_path / "a.img")
    assert type(nivox.load(tmp_path / "a.img")) is Nifti1Pair
    assert sorted(os.listdir(tmp_path)) == ["a.hdr", "a.img"]
    with pytest.raises(ImageFileError, match="file type"):
        nivox.save(img, tmp_path / "a.weird")


def test_save_to_analyze_from_nifti_keeps_data(tmp_path):
    img = _img()
    pair = nivox.analyze.AnalyzeImage.from_image(img)
    pair.to_filename(tmp_path / "an.hdr")
    loaded = nivox.load(tmp_path / "an.hdr")
    assert np.array_equal(np.asanyarray(loaded.dataobj), np.asanyarray(img.dataobj))


def test_save_passes_keywords(tmp_path):
    img = Nifti1Image(np.linspace(0, 1, 24).reshape(2, 3, 4), np.eye(4))
    nivox.save(img, tmp_path / "a.nii", dtype=np.int16)
    assert nivox.load(tmp_path / "a.nii").get_data_dtype() == np.int16


def test_load_as_and_module_helpers(tmp_path):
    nivox.save(_img(), tmp_path / "a.nii")
    assert type(nivox.nifti1.load(tmp_path / "a.nii")) is Nifti1Image
    with pytest.raises(ImageFileError):
        load_as((Nifti1Pair,), tmp_path / "a.nii")
    nivox.nifti2.save(_img(), tmp_path / "b.nii")
    assert type(nivox.load(tmp_path / "b.nii")).__name__ == "Nifti2Image"


def test_kwargs_reach_the_proxy(tmp_path):
    nivox.save(_img(), tmp_path / "a.nii")
    img = nivox.load(tmp_path / "a.nii", mmap=False, keep_file_open=True)
    assert np.array_equal(np.asanyarray(img.dataobj), np.arange(24).reshape(2, 3, 4))
    with pytest.raises(ValueError):
        nivox.load(tmp_path / "a.nii", mmap="x")


def test_expired_read_img_data():
    with pytest.raises(nivox.errors.ExpiredDeprecationError):
        nivox.loadsave.read_img_data(None)


def test_load_errors_say_why(tmp_path):
    (tmp_path / "link.nii.gz").write_bytes(b"./mask.nii.gz\n")  # a text stand-in named .gz
    with pytest.raises(ImageFileError, match="named .gz but is not a gzip file"):
        nivox.load(tmp_path / "link.nii.gz")
    (tmp_path / "t.nii").write_bytes(b"x" * 400)
    with pytest.raises(ImageFileError, match="no header of Nifti1Image/Cifti2Image/Nifti2Image"):
        nivox.load(tmp_path / "t.nii")
    (tmp_path / "t.foo").write_bytes(b"x" * 400)
    with pytest.raises(ImageFileError, match="no image format uses the extension '.foo'"):
        nivox.load(tmp_path / "t.foo")


def test_unknown_extension_error_lists_the_formats_read(tmp_path):
    from nivox.imageclasses import FORMATS

    odd = tmp_path / "brain.xyz"
    odd.write_bytes(b"\0" * 400)
    with pytest.raises(ImageFileError) as load_error:
        nivox.load(odd)
    img = nivox.Nifti1Image(np.zeros((2, 2, 2), np.float32), np.eye(4))
    with pytest.raises(ImageFileError) as save_error:
        nivox.save(img, tmp_path / "out.xyz")
    assert not (tmp_path / "out.xyz").exists()
    for message in (str(load_error.value), str(save_error.value)):
        assert "'.xyz'" in message and "nivox reads" in message
        for entry in FORMATS:
            assert all(ext in message for ext in entry.extensions)
        assert ".gz" in message


def test_signature_matches_extension(tmp_path):
    from nivox.loadsave import _signature_matches_extension

    good, bad = tmp_path / "good.nii.gz", tmp_path / "bad.nii.BZ2"
    good.write_bytes(b"\x1f\x8b rest")
    bad.write_bytes(b"not bzip2")
    assert _signature_matches_extension(tmp_path / "plain.nii") == (True, "")
    assert _signature_matches_extension(good) == (True, "")
    ok, msg = _signature_matches_extension(bad)
    assert not ok and "is not a bz2 file" in msg and "bad.nii.BZ2" in msg
    ok, msg = _signature_matches_extension(tmp_path / "missing.gz")
    assert not ok and msg.startswith("Could not read")
