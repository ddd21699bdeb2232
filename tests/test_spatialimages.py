"""SpatialHeader / SpatialImage base behaviour, independent of any file format."""

import io

import numpy as np
import pytest

from nivox.errors import HeaderDataError
from nivox.spatialimages import SpatialFirstSlicer, SpatialHeader, SpatialImage, supported_np_types


def test_header_defaults_and_setters():
    hdr = SpatialHeader()
    assert hdr.get_data_dtype() == np.float32
    assert hdr.get_data_shape() == (0,)
    hdr.set_data_shape((2, 3))
    assert hdr.get_zooms() == (1.0, 1.0)
    hdr.set_zooms((2, 3))
    hdr.set_data_shape((2, 3, 4))
    assert hdr.get_zooms() == (2.0, 3.0, 1.0)  # existing zooms kept, new axes 1
    with pytest.raises(HeaderDataError):
        hdr.set_zooms((1, 2))
    with pytest.raises(HeaderDataError):
        hdr.set_data_dtype("nonsense-dtype")


def test_header_equality_copy_from_header():
    hdr = SpatialHeader(np.int16, (2, 3, 4), (1, 2, 3))
    other = hdr.copy()
    assert other == hdr and other is not hdr
    other.set_zooms((1, 1, 1))
    assert other != hdr
    assert SpatialHeader.from_header(hdr) == hdr
    assert SpatialHeader.from_header(None) == SpatialHeader()


def test_base_affine_centres_and_flips_x():
    hdr = SpatialHeader(np.int16, (3, 5, 7), (2, 3, 4))
    aff = hdr.get_base_affine()
    centre = aff @ [1, 2, 3, 1]
    assert np.allclose(centre[:3], 0)
    assert aff[0, 0] == -2


def test_data_to_from_fileobj():
    hdr = SpatialHeader(np.int16, (2, 3, 4))
    data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    bio = io.BytesIO()
    hdr.data_to_fileobj(data, bio)
    assert bio.getvalue() == data.tobytes(order="F")
    bio.seek(0)
    assert np.array_equal(hdr.data_from_fileobj(bio), data)


def test_image_updates_header_from_data_and_affine():
    data = np.zeros((2, 3, 4, 5), np.uint8)
    img = SpatialImage(data, np.diag([2, 3, 4, 1]))
    assert img.header.get_data_shape() == (2, 3, 4, 5)
    assert img.header.get_zooms() == (2, 3, 4, 1)
    assert img.get_data_dtype() == np.uint8
    # a header passed in keeps its dtype
    img = SpatialImage(data, None, SpatialHeader(np.float64))
    assert img.get_data_dtype() == np.float64


def test_from_image_copies_extra_not_data():
    img = SpatialImage(np.zeros((2, 2, 2)), np.eye(4), extra={"a": 1})
    new = SpatialImage.from_image(img)
    assert new.dataobj is img.dataobj
    assert new.extra == {"a": 1} and new.extra is not img.extra


def test_slicer_negative_step_keeps_world_positions():
    data = np.arange(5 * 4 * 3).reshape(5, 4, 3)
    aff = np.diag([2.0, 3.0, 4.0, 1.0])
    aff[:3, 3] = [10, 20, 30]
    img = SpatialImage(data, aff)
    sliced = img.slicer[::-1, 1:, ::2]
    # every voxel of the slice sits where the voxel it came from sat (nibabel 5.4 gets
    # reversed axes wrong: it leaves the origin at the old first voxel)
    for i, j, k in np.ndindex(sliced.shape):
        src = (4 - i, 1 + j, 2 * k)
        assert sliced.dataobj[i, j, k] == data[src]
        assert np.allclose(sliced.affine @ [i, j, k, 1], aff @ [*src, 1])


def test_slicer_refuses_what_breaks_the_affine():
    img = SpatialImage(np.zeros((4, 4, 4, 2)), np.eye(4))
    with pytest.raises(IndexError, match="Scalar"):
        img.slicer[1]
    with pytest.raises(IndexError, match="New axis"):
        img.slicer[None]
    with pytest.raises(IndexError, match="fancy"):
        img.slicer[[0, 1]]
    with pytest.raises(IndexError, match="Empty"):
        img.slicer[2:2]
    with pytest.raises(ValueError):
        img.slicer[::0]
    assert img.slicer[..., 1].shape == (4, 4, 4)
    assert img.slicer[:, :, :, None].shape == (4, 4, 4, 1, 2)
    with pytest.raises(ValueError):
        SpatialFirstSlicer(object())


def test_supported_np_types():
    types = supported_np_types(SpatialHeader())
    assert np.float32 in types and np.int16 in types
