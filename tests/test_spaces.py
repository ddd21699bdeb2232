import numpy as np
import pytest

from nivox.affines import apply_affine, from_matvec
from nivox.spaces import slice2volume, vox2out_vox


def test_vox2out_vox_identity_and_sizes():
    assert vox2out_vox(((2, 3, 4), np.eye(4)))[0] == (2, 3, 4)
    shape, aff = vox2out_vox(((2, 3, 4), np.eye(4)), (0.5, 1, 2))
    assert shape == (3, 3, 3)
    np.testing.assert_array_equal(aff, np.diag([0.5, 1, 2, 1]))


def test_vox2out_vox_covers_a_flipped_rotated_grid():
    rot = np.array([[0, -1, 0], [2, 0, 0], [0, 0, 3]])
    in_aff = from_matvec(rot, [10, 20, 30])
    shape, aff = vox2out_vox(((4, 5, 6), in_aff))
    corners = apply_affine(in_aff, np.array(np.meshgrid([0, 3], [0, 4], [0, 5])).reshape(3, -1).T)
    np.testing.assert_array_equal(aff[:3, 3], corners.min(axis=0))
    np.testing.assert_array_equal(np.array(shape) - 1, corners.max(axis=0) - corners.min(axis=0))


def test_vox2out_vox_image_and_low_dims():
    class Img:
        shape = (3, 4)
        affine = np.diag([2, 2, 2, 1])

    shape, aff = vox2out_vox(Img(), (1, 1))
    assert shape == (5, 7)
    assert aff[2, 2] == 1


@pytest.mark.parametrize("sizes", [(1, 1), (1, 0, 1), (1, -1, 1)])
def test_vox2out_vox_bad_sizes(sizes):
    with pytest.raises(ValueError):
        vox2out_vox(((2, 3, 4), np.eye(4)), sizes)


def test_vox2out_vox_refuses_4d():
    with pytest.raises(ValueError):
        vox2out_vox(((2, 3, 4, 5), np.eye(4)))


def test_slice2volume_maps_slice_coordinates():
    vol = np.arange(60).reshape(3, 4, 5)
    for axis in range(3):
        for index in range(vol.shape[axis]):
            aff = slice2volume(index, axis)
            assert aff.shape == (4, 3)
            sl = np.take(vol, index, axis=axis)
            i, j = 1, 2
            x, y, z, one = aff @ [i, j, 1]
            assert one == 1
            assert vol[int(x), int(y), int(z)] == sl[i, j]


@pytest.mark.parametrize(("index", "axis"), [(-1, 0), (0, -1), (0, 3)])
def test_slice2volume_errors(index, axis):
    with pytest.raises(ValueError):
        slice2volume(index, axis)
