"""The image API of read-only formats (PAR/REC, ...), as a reusable pytest class.

A subclass sets ``image_class`` and implements ``example(tmp_path)``,
returning ``(path, expected_data, file_map_keys)``: a file of the format
written into ``tmp_path``, the array its ``dataobj`` must give, and nothing
else. The tests check what users do with a loaded image: lazy proxy,
caching, slicing, pickling, loading from file objects, converting to NIfTI,
sniffing, and that saving is refused clearly.
"""

from __future__ import annotations

import io
import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import nivox
from nivox.arrayproxy import is_proxy
from nivox.errors import ImageFileError
from nivox.fileholders import FileHolder


class ReadImageAPI:
    image_class: type = None  # set by the subclass

    def example(self, tmp_path):  # pragma: no cover - subclasses implement
        raise NotImplementedError

    def test_load_gives_class_and_lazy_proxy(self, tmp_path):
        path, expected = self.example(tmp_path)
        img = nivox.load(path)
        assert type(img) is self.image_class
        assert is_proxy(img.dataobj)
        assert not img.in_memory
        assert img.shape == expected.shape
        assert img.header.get_data_shape() == expected.shape
        assert img.affine.shape == (4, 4)
        assert img.get_filename() is not None

    def test_get_fdata_caching(self, tmp_path):
        path, expected = self.example(tmp_path)
        img = nivox.load(path)
        data = img.get_fdata()
        np.testing.assert_allclose(data, expected)
        assert img.in_memory
        assert img.get_fdata() is data
        as32 = img.get_fdata(dtype=np.float32)
        assert as32.dtype == np.float32
        np.testing.assert_allclose(as32, expected.astype(np.float32), rtol=1e-6)
        img.uncache()
        assert not img.in_memory
        assert img.get_fdata(caching="unchanged") is not data

    @pytest.mark.parametrize("index", [(0,), (-1,), (slice(None, None, 2),), (Ellipsis, 0),
                                       (slice(1, 3), None, slice(None, None, -1)), (0, 0, 0),
                                       (slice(None), [0, 2]), (Ellipsis, slice(-1, None))],
                             ids=["int", "neg", "step", "ellipsis", "newaxis-rev", "scalar", "fancy", "last"])
    def test_proxy_slicing_matches_numpy(self, tmp_path, index):
        path, expected = self.example(tmp_path)
        proxy = nivox.load(path).dataobj
        np.testing.assert_allclose(proxy[index], expected[index])

    def test_pickle_by_reference(self, tmp_path):
        path, expected = self.example(tmp_path)
        img = nivox.load(path)
        img.get_fdata()  # a cache must not travel
        payload = pickle.dumps(img)
        assert len(payload) < max(16384, expected.nbytes // 4)
        again = pickle.loads(payload)
        np.testing.assert_allclose(np.asarray(again.dataobj), expected)

    def test_threads_read_the_same(self, tmp_path):
        path, expected = self.example(tmp_path)
        proxy = nivox.load(path).dataobj
        slabs = [(Ellipsis, k) for k in range(expected.shape[-1])] * 3
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda s: proxy[s], slabs))
        for slab, result in zip(slabs, results):
            np.testing.assert_allclose(result, expected[slab])

    def test_from_file_objects(self, tmp_path):
        path, expected = self.example(tmp_path)
        names = self.image_class.filespec_to_file_map(path)
        file_map = {key: FileHolder(fileobj=io.BytesIO(open(holder.filename, "rb").read()))
                    for key, holder in names.items()}
        img = self.image_class.from_file_map(file_map)
        np.testing.assert_allclose(np.asarray(img.dataobj), expected)
        np.testing.assert_allclose(img.dataobj[..., -1], expected[..., -1])

    def test_convert_to_nifti(self, tmp_path):
        path, expected = self.example(tmp_path)
        img = nivox.load(path)
        target = tmp_path / "converted.nii"
        nivox.save(img, target)
        back = nivox.load(target)
        # saved in the image's stored dtype, scaled: values are quantised to that dtype's steps
        bits = 8 * img.get_data_dtype().itemsize
        step = (expected.max() - min(expected.min(), 0)) / (2 ** bits - 1)
        np.testing.assert_allclose(back.get_fdata(), expected, rtol=1e-5, atol=step)
        np.testing.assert_allclose(back.affine, img.affine, atol=1e-4)

    def test_saving_own_format_refused(self, tmp_path):
        path, _ = self.example(tmp_path)
        img = nivox.load(path)
        assert not self.image_class.rw
        with pytest.raises((NotImplementedError, ImageFileError)):
            img.to_filename(tmp_path / f"again{self.image_class.valid_exts[0]}")

    def test_path_maybe_image(self, tmp_path):
        path, _ = self.example(tmp_path)
        ok, sniff = self.image_class.path_maybe_image(path)
        assert ok
        assert self.image_class.path_maybe_image(path, sniff)[0]
        assert self.image_class.path_maybe_image(tmp_path / "x.nope")[0] is False

    def test_mmap_argument_checked(self, tmp_path):
        path, expected = self.example(tmp_path)
        for mmap in (True, False, "c", "r"):
            np.testing.assert_allclose(np.asarray(self.image_class.from_filename(path, mmap=mmap).dataobj),
                                       expected)
        with pytest.raises(ValueError):
            self.image_class.from_filename(path, mmap="w+")
        with pytest.raises(TypeError):
            self.image_class.from_filename(path, True)

    def test_slicer_keeps_affine(self, tmp_path):
        path, expected = self.example(tmp_path)
        img = nivox.load(path)
        sliced = img.slicer[1:3, ::2]
        np.testing.assert_allclose(np.asarray(sliced.dataobj), expected[1:3, ::2])
        np.testing.assert_allclose(sliced.affine[:3, 3], (img.affine @ [1, 0, 0, 1])[:3])

    def test_header_copy_equal(self, tmp_path):
        path, _ = self.example(tmp_path)
        header = nivox.load(path).header
        copy = header.copy()
        assert copy is not header
        assert copy.get_data_shape() == header.get_data_shape()
        assert copy.get_data_dtype() == header.get_data_dtype()
        # the image set its header's voxel sizes from the affine (float rounding), as nibabel's does
        np.testing.assert_allclose(copy.get_zooms(), header.get_zooms(), rtol=1e-12)
