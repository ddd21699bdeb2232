"""Failures a user can cause are NivoxErrors that are also the builtin they stand for."""

from __future__ import annotations

import numpy as np
import pytest

import nivox
from nivox import errors


def image(shape=(4, 4, 4), affine=None, dtype=np.float32):
    return nivox.Nifti1Image(np.zeros(shape, dtype), np.eye(4) if affine is None else affine)


def test_get_fdata_of_rgb_data(tmp_path):
    rgb = np.zeros((2, 3, 4), dtype=[("R", "u1"), ("G", "u1"), ("B", "u1")])
    path = tmp_path / "rgb.nii"
    nivox.save(nivox.Nifti1Image(rgb, np.eye(4)), path)
    with pytest.raises(errors.ImageDataTypeError) as caught:
        nivox.load(path).get_fdata()
    assert isinstance(caught.value, TypeError) and str(path) in str(caught.value)
    # the stored values stay readable
    assert np.asanyarray(nivox.load(path).dataobj).dtype.names == ("R", "G", "B")


@pytest.mark.parametrize("index", [0, (slice(None), None), ([0, 1],), (..., 0, 0, 0, 0),
                                   (..., slice(None), ...)])
def test_invalid_slicer(index):
    with pytest.raises(errors.ImageIndexError) as caught:
        image().slicer[index]
    assert isinstance(caught.value, IndexError)


def test_slicer_step_zero():
    with pytest.raises(errors.NivoxError) as caught:
        image().slicer[::0]
    assert isinstance(caught.value, ValueError)


def test_concat_images_mismatch():
    with pytest.raises(errors.ImageMismatchError) as caught:
        nivox.concat_images([image(), image(affine=np.diag([2, 2, 2, 1]))])
    assert isinstance(caught.value, ValueError) and "Affine of image 1" in str(caught.value)
    with pytest.raises(errors.ImageMismatchError):
        nivox.concat_images([image(), image((4, 4, 5))])
    with pytest.raises(errors.InvalidArgumentError):
        nivox.concat_images([])


def test_get_fdata_of_a_shape_no_machine_can_address():
    class HugeArray:  # an array-like whose float64 copy could never be allocated
        shape = (2**31, 2**31, 2**31)
        dtype = np.dtype(np.uint8)
        ndim = 3

        def __array__(self, dtype=None, copy=None):
            raise AssertionError("must be refused before reading")

    img = nivox.Nifti2Image(np.zeros((1, 1, 1), np.uint8), np.eye(4))
    img._dataobj = HugeArray()
    with pytest.raises(errors.ImageDataError) as caught:
        img.get_fdata()
    assert isinstance(caught.value, ValueError) and "more than this machine" in str(caught.value)


def test_get_fdata_bad_arguments():
    with pytest.raises(errors.InvalidArgumentError):
        image().get_fdata(dtype=np.int16)
    with pytest.raises(errors.InvalidArgumentError):
        image().get_fdata(caching="sometimes")


def test_save_into_missing_folder_names_the_target(tmp_path):
    target = tmp_path / "no" / "such" / "folder" / "x.nii"
    with pytest.raises(errors.ImageFileNotFoundError) as caught:
        nivox.save(image(), target)
    assert isinstance(caught.value, FileNotFoundError)
    message = str(caught.value)
    assert str(target) in message and ".nivox-tmp" not in message
    assert not (tmp_path / "no").exists()


def test_from_url_without_a_server():
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/brain.nii"
    with pytest.raises(errors.RemoteFileError) as caught:
        nivox.Nifti1Image.from_url(url, timeout=2)
    assert isinstance(caught.value, OSError) and url in str(caught.value)


def test_get_fdata_without_a_file_map():
    img = image()
    img.file_map = None  # nibabel's API tests do this
    assert img.get_filename() is None
    assert img.get_fdata().shape == (4, 4, 4)
