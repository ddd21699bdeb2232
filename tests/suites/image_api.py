"""The image API every format class must honour, as a reusable pytest class.

A format's test module subclasses ``ImageAPI`` and sets ``image_class`` (and
``compressed_ext`` etc. where the defaults do not fit). Every behaviour here
is part of the nibabel image model that users' code relies on.
"""

from __future__ import annotations

import io
import pickle
import warnings

import numpy as np
import pytest

import nivox
from nivox.arrayproxy import is_proxy
from nivox.errors import ExpiredDeprecationError, ImageFileError

rng = np.random.default_rng(20261122)


class ImageAPI:
    image_class: type = None  # set by the subclass
    storable_dtypes: tuple = (np.uint8, np.int16, np.int32, np.float32, np.float64)
    example_shapes: tuple = ((2, 3, 4), (5, 4, 3, 2))
    compressed_suffixes: tuple = ("", ".gz", ".bz2")
    supports_bytes: bool = False
    stores_affine: bool = True  # Analyze keeps only voxel sizes

    # ---- helpers -----------------------------------------------------------

    @property
    def ext(self) -> str:
        return self.image_class.valid_exts[0]

    def make_image(self, shape=(2, 3, 4), dtype=np.int16, affine=None):
        data = (rng.random(shape) * 100).astype(dtype)
        if affine is None:
            affine = np.diag([2.0, 3.0, 4.0, 1.0])
            affine[:3, 3] = [-10, 20, 5]
        return self.image_class(data, affine), data

    def save_load(self, img, tmp_path, suffix=""):
        path = tmp_path / f"img{self.ext}{suffix}"
        img.to_filename(path)
        return self.image_class.from_filename(path), path

    # ---- construction ------------------------------------------------------

    def test_construct_shape_ndim_affine(self):
        img, data = self.make_image((2, 3, 4))
        assert img.shape == (2, 3, 4)
        assert img.ndim == 3
        assert img.affine.dtype == np.float64
        assert img.header.get_data_shape() == (2, 3, 4)
        assert img.get_data_dtype() == np.int16
        assert img.dataobj is data  # no copy of an array handed in

    def test_affine_none_and_bad_affine(self):
        data = np.zeros((2, 3, 4), np.int16)
        assert self.image_class(data, None).affine is None
        with pytest.raises(ValueError):
            self.image_class(data, np.eye(3))

    def test_zooms_follow_affine(self):
        img, _ = self.make_image()
        assert np.allclose(img.header.get_zooms()[:3], (2, 3, 4))

    def test_slicing_the_image_itself_refused(self):
        img, _ = self.make_image()
        with pytest.raises(TypeError, match="slicer"):
            img[0]

    def test_expired_apis_name_replacement(self):
        img, _ = self.make_image()
        for call, hint in ((img.get_data, "get_fdata"), (img.get_affine, "affine"),
                           (img.get_header, "header"), (img.get_shape, "shape")):
            with pytest.raises(ExpiredDeprecationError, match=hint):
                call()
        with pytest.raises(ExpiredDeprecationError, match="from_file_map"):
            self.image_class.from_files({})
        with pytest.raises(ExpiredDeprecationError, match="filespec_to_file_map"):
            self.image_class.filespec_to_files("x")
        with pytest.raises(ExpiredDeprecationError, match="to_file_map"):
            img.to_files()
        with pytest.raises(ExpiredDeprecationError, match="to_filename"):
            img.to_filespec("x")

    # ---- get_fdata and caching -----------------------------------------------

    def test_get_fdata_caching_in_memory(self):
        img, data = self.make_image(dtype=np.int16)
        first = img.get_fdata()
        assert first.dtype == np.float64
        assert np.array_equal(first, data)
        assert img.get_fdata() is first
        # another dtype is not served from the float64 cache
        as32 = img.get_fdata(dtype=np.float32)
        assert as32.dtype == np.float32
        assert img.get_fdata(dtype=np.float32) is as32  # now cached as float32
        img.uncache()
        unchanged = img.get_fdata(caching="unchanged")
        assert img.get_fdata(caching="unchanged") is not unchanged
        with pytest.raises(ValueError):
            img.get_fdata(caching="sometimes")
        with pytest.raises(ValueError):
            img.get_fdata(dtype=np.int16)

    def test_proxy_image_in_memory_and_uncache(self, tmp_path):
        img, data = self.make_image()
        loaded, _ = self.save_load(img, tmp_path)
        assert is_proxy(loaded.dataobj)
        assert not loaded.in_memory
        fdata = loaded.get_fdata()
        assert loaded.in_memory
        assert np.allclose(fdata, data)
        loaded.uncache()
        assert not loaded.in_memory
        assert loaded.get_fdata(caching="unchanged") is not fdata
        assert not loaded.in_memory

    # ---- saving and loading --------------------------------------------------

    @pytest.mark.parametrize("shape", [(2, 3, 4), (5, 4, 3, 2), (7,), (3, 1, 2, 1, 2)])
    def test_round_trip_shapes(self, tmp_path, shape):
        img, data = self.make_image(shape)
        loaded, _ = self.save_load(img, tmp_path)
        assert loaded.shape == shape
        assert np.array_equal(np.asanyarray(loaded.dataobj), data)
        if self.stores_affine:
            assert np.allclose(loaded.affine, img.affine)
        else:
            assert np.allclose(np.abs(np.diag(loaded.affine))[: min(3, len(shape))],
                               np.abs(np.diag(img.affine))[: min(3, len(shape))])

    def test_round_trip_dtypes(self, tmp_path):
        for dtype in self.storable_dtypes:
            img, data = self.make_image(dtype=dtype)
            loaded, _ = self.save_load(img, tmp_path)
            assert loaded.get_data_dtype() == np.dtype(dtype)
            assert np.array_equal(np.asanyarray(loaded.dataobj), data)

    def test_compressed_round_trips(self, tmp_path):
        img, data = self.make_image()
        for suffix in self.compressed_suffixes:
            loaded, path = self.save_load(img, tmp_path, suffix)
            assert np.array_equal(loaded.get_fdata(), data), suffix
            assert isinstance(nivox.load(path), self.image_class)

    def test_filename_get_set(self, tmp_path):
        img, _ = self.make_image()
        assert img.get_filename() is None
        target = tmp_path / f"x{self.ext}"
        img.set_filename(str(target))
        assert img.get_filename() == str(target)
        img.to_filename(target)
        assert self.image_class.from_filename(target).get_filename() == str(target)

    def test_wrong_extension(self, tmp_path):
        img, _ = self.make_image()
        with pytest.raises(ImageFileError):
            img.to_filename(tmp_path / "x.weird")

    def test_file_map_in_memory(self):
        img, data = self.make_image()
        buffers = {key: io.BytesIO() for key, _ in self.image_class.files_types}
        file_map = self.image_class.make_file_map(buffers)
        img.to_file_map(file_map)
        for key in buffers:
            buffers[key].seek(0)
        loaded = self.image_class.from_file_map(self.image_class.make_file_map(buffers))
        assert np.array_equal(np.asanyarray(loaded.dataobj), data)

    def test_bytes(self):
        img, data = self.make_image()
        if not self.supports_bytes:
            assert not hasattr(img, "to_bytes") or len(self.image_class.files_types) > 1
            return
        again = self.image_class.from_bytes(img.to_bytes())
        assert np.array_equal(np.asanyarray(again.dataobj), data)
        assert img.to_bytes() == again.to_bytes()

    def test_from_image_and_instance_to_filename(self, tmp_path):
        img, data = self.make_image()
        copy = self.image_class.from_image(img)
        assert copy is not img
        assert np.array_equal(np.asanyarray(copy.dataobj), data)
        target = tmp_path / f"inst{self.ext}"
        self.image_class.instance_to_filename(img, target)
        assert np.array_equal(np.asanyarray(nivox.load(target).dataobj), data)

    def test_path_maybe_image(self, tmp_path):
        img, _ = self.make_image()
        target = tmp_path / f"maybe{self.ext}"
        img.to_filename(target)
        ok, sniff = self.image_class.path_maybe_image(target)
        assert ok
        ok, _ = self.image_class.path_maybe_image(target, sniff)
        assert ok
        assert self.image_class.path_maybe_image(tmp_path / "x.nope")[0] is False

    def test_mmap_and_keep_file_open_options(self, tmp_path):
        img, data = self.make_image()
        _, path = self.save_load(img, tmp_path)
        for mmap in (True, False, "c", "r"):
            loaded = self.image_class.from_filename(path, mmap=mmap)
            assert np.array_equal(np.asanyarray(loaded.dataobj), data)
        with pytest.raises(ValueError):
            self.image_class.from_filename(path, mmap="w+")
        for keep in (None, True, False):
            loaded = self.image_class.from_filename(path, keep_file_open=keep)
            assert np.array_equal(np.asanyarray(loaded.dataobj), data)
        with pytest.raises(ValueError):
            self.image_class.from_filename(path, keep_file_open="yes")

    def test_proxy_slicing_and_pickle(self, tmp_path):
        img, data = self.make_image((5, 4, 3, 2))
        loaded, _ = self.save_load(img, tmp_path, ".gz")
        proxy = loaded.dataobj
        assert np.array_equal(proxy[1:4, ::2, -1], data[1:4, ::2, -1])
        assert np.array_equal(proxy[..., 1], data[..., 1])
        again = pickle.loads(pickle.dumps(loaded))
        assert np.array_equal(np.asanyarray(again.dataobj), data)

    def test_slicer(self):
        img, data = self.make_image((5, 4, 3, 2))
        sliced = img.slicer[1:4, ::2]
        assert sliced.shape == (3, 2, 3, 2)
        assert np.array_equal(np.asanyarray(sliced.dataobj), data[1:4, ::2])
        # voxel (0, 0, 0) of the slice is voxel (1, 0, 0) of the original
        assert np.allclose(sliced.affine[:3, 3], (img.affine @ [1, 0, 0, 1])[:3])
        assert np.allclose(sliced.affine[:3, 1], img.affine[:3, 1] * 2)
        with pytest.raises(IndexError):
            img.slicer[0]
        with pytest.raises(IndexError):
            img.slicer[2:2]

    def test_save_over_own_file_keeps_image_usable(self, tmp_path):
        img, data = self.make_image()
        loaded, path = self.save_load(img, tmp_path)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            loaded.to_filename(path)
        assert np.array_equal(np.asanyarray(loaded.dataobj), data)
        assert np.array_equal(np.asanyarray(nivox.load(path).dataobj), data)

    def test_set_data_dtype_aliases(self):
        img, _ = self.make_image()
        for alias in (np.float32, "float32", np.dtype("f4")):
            img.set_data_dtype(alias)
            assert img.get_data_dtype() == np.float32
