import numpy as np
import pytest

import nivox
from nivox.funcs import as_closest_canonical, concat_images, four_to_three, squeeze_image
from nivox.nifti1 import Nifti1Image
from nivox.orientations import OrientationError, aff2axcodes


def _img(shape, affine=None, dtype=np.int16):
    return Nifti1Image(np.arange(np.prod(shape), dtype=dtype).reshape(shape),
                       np.eye(4) if affine is None else affine)


def test_squeeze_image():
    assert squeeze_image(_img((2, 3, 4, 1, 1))).shape == (2, 3, 4)
    assert squeeze_image(_img((2, 3, 1))).shape == (2, 3, 1)  # spatial axes kept
    assert squeeze_image(_img((2, 3, 4, 1, 5))).shape == (2, 3, 4, 1, 5)


def test_concat_images_new_axis_and_existing_axis(tmp_path):
    a, b = _img((2, 3, 4)), _img((2, 3, 4))
    stacked = concat_images([a, b])
    assert stacked.shape == (2, 3, 4, 2)
    assert np.array_equal(stacked.dataobj[..., 1], b.dataobj)
    nivox.save(a, tmp_path / "a.nii.gz")
    from_files = concat_images([tmp_path / "a.nii.gz", b], axis=2)
    assert from_files.shape == (2, 3, 8)
    with pytest.raises(ValueError, match="Affine"):
        concat_images([a, _img((2, 3, 4), np.diag([2, 2, 2, 1]))])
    assert concat_images([a, _img((2, 3, 4), np.diag([2, 2, 2, 1]))], check_affines=False).shape == (2, 3, 4, 2)
    with pytest.raises(ValueError):
        concat_images([a, _img((2, 3, 5))])


def test_concat_matches_nibabel():
    nib = pytest.importorskip("nibabel")
    ours = concat_images([_img((2, 3, 4)), _img((2, 3, 4), dtype=np.float32)])
    theirs = nib.concat_images([nib.Nifti1Image(np.asanyarray(i.dataobj), np.eye(4))
                                for i in (_img((2, 3, 4)), _img((2, 3, 4), dtype=np.float32))])
    np.testing.assert_array_equal(np.asanyarray(ours.dataobj), np.asanyarray(theirs.dataobj))


def test_four_to_three():
    vols = four_to_three(_img((2, 3, 4, 3)))
    assert len(vols) == 3 and vols[2].shape == (2, 3, 4)
    with pytest.raises(ValueError):
        four_to_three(_img((2, 3, 4)))


@pytest.mark.parametrize("codes", [("L", "A", "S"), ("P", "S", "R"), ("I", "L", "P"), ("R", "A", "S")])
def test_as_closest_canonical(codes):
    # an affine whose voxel axes point along `codes`
    affine = np.eye(4)
    affine[:3, :3] = 0
    for axis, code in enumerate(codes):
        world = "LRPAIS".index(code) // 2
        affine[world, axis] = 1 if code in "RAS" else -1
    img = _img((2, 3, 4), affine)
    assert aff2axcodes(img.affine) == codes
    canonical = as_closest_canonical(img)
    assert aff2axcodes(canonical.affine) == ("R", "A", "S")
    # every voxel keeps its world position
    for ijk in [(0, 0, 0), (1, 2, 3)]:
        world = img.affine @ [*ijk, 1]
        new_ijk = np.linalg.solve(canonical.affine, world)[:3].round().astype(int)
        assert canonical.dataobj[tuple(new_ijk)] == img.dataobj[ijk]
    if codes == ("R", "A", "S"):
        assert canonical is img


def test_as_closest_canonical_enforce_diag():
    angle = np.pi / 8
    affine = np.eye(4)
    affine[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    with pytest.raises(OrientationError):
        as_closest_canonical(_img((2, 3, 4), affine), enforce_diag=True)


def test_concat_is_lazy_and_slices_match_numpy(tmp_path):
    from nivox.arrayproxy import is_proxy

    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 100, (3, 4, 5)).astype(np.int16) for _ in range(3)]
    paths = []
    for number, arr in enumerate(arrays):
        paths.append(tmp_path / f"v{number}.nii.gz")
        nivox.save(Nifti1Image(arr, np.eye(4)), paths[-1])
    stacked = concat_images(paths)
    assert is_proxy(stacked.dataobj) and not stacked.in_memory
    expected = np.stack(arrays, axis=-1)
    joined = concat_images(paths, axis=1)
    expected_joined = np.concatenate(arrays, axis=1)
    for key in [(Ellipsis, 1), (0,), (slice(None), 2, slice(1, 4), slice(None, None, -2)),
                (None, 1, Ellipsis), (Ellipsis, slice(2, 2)), (1, 2, 3, 0)]:
        np.testing.assert_array_equal(stacked.dataobj[key], expected[key])
    for key in [(slice(None), slice(3, 9)), (0, 7), (Ellipsis, 0), (slice(None), [0, 5])]:
        np.testing.assert_array_equal(joined.dataobj[key], expected_joined[key])
    np.testing.assert_array_equal(stacked.get_fdata(), expected)
    np.testing.assert_array_equal(np.asanyarray(joined.dataobj), expected_joined)
    nivox.save(stacked, tmp_path / "all.nii")
    np.testing.assert_array_equal(np.asanyarray(nivox.load(tmp_path / "all.nii").dataobj), expected)


def test_concat_reads_only_selected_pieces():
    class Counting:
        def __init__(self, arr):
            self.arr, self.reads = arr, 0
            self.shape, self.ndim = arr.shape, arr.ndim

        def __getitem__(self, key):
            self.reads += 1
            return self.arr[key]

        def __array__(self, dtype=None, copy=None):
            raise AssertionError("whole piece read")

    from nivox.funcs import ConcatProxy

    pieces = [Counting(np.full((2, 2), n)) for n in range(4)]
    proxy = ConcatProxy(pieces, None)
    before = [p.reads for p in pieces]
    assert proxy[..., 2].tolist() == [[2, 2], [2, 2]]
    assert [p.reads - b for p, b in zip(pieces, before)] == [0, 0, 1, 0]


def test_concat_images_with_empty_axes():
    from nivox import Nifti1Image
    from nivox.funcs import concat_images

    empty = Nifti1Image(np.zeros((0, 2, 1), np.int32), np.eye(4))
    assert concat_images([empty, empty], axis=1).shape == (0, 4, 1)
    assert concat_images([empty, empty]).get_fdata().shape == (0, 2, 1, 2)
