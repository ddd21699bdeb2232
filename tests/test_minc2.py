"""MINC2 images: reading through h5py, the parallel chunk reader, and writing files nibabel and MINC tools read."""

from __future__ import annotations

import io
import pickle
import shutil
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest
from suites.image_api import ImageAPI
from suites.minc_files import check_minc_slicer, write_minc1, write_minc2
from suites.proxy_api import ProxyAPI
from suites.spatial_header_api import SpatialHeaderAPI

import nivox
from nivox import _h5chunks, _minc2write
from nivox.errors import ImageDataError, MincError, MissingDependencyError, NivoxError
from nivox.minc2 import Minc2File, Minc2Header, Minc2Image

h5py = pytest.importorskip("h5py")

MINC_SHAPES = [(2, 3, 4), (5, 4, 3, 2), (3, 1, 2, 1, 2), (40, 35, 3), (7,), (3, 4)]


class TestMinc2HeaderAPI(SpatialHeaderAPI):
    header_class = Minc2Header


class TestMinc2ImageAPI(ImageAPI):
    image_class = Minc2Image
    compressed_suffixes = ("",)  # HDF5 compresses inside the file

    @pytest.mark.parametrize("shape", MINC_SHAPES)
    def test_round_trip_shapes(self, tmp_path, shape):
        img, data = self.make_image(shape)
        loaded, _ = self.save_load(img, tmp_path)
        assert loaded.shape == shape
        assert np.array_equal(np.asanyarray(loaded.dataobj), data)
        assert np.allclose(loaded.affine, img.affine)

    def test_proxy_slicing_and_pickle(self, tmp_path):
        img, data = self.make_image((5, 4, 3, 2))
        loaded, _ = self.save_load(img, tmp_path)
        proxy = loaded.dataobj
        assert np.array_equal(proxy[1:4, ::2, -1], data[1:4, ::2, -1])
        assert np.array_equal(proxy[..., 1], data[..., 1])
        again = pickle.loads(pickle.dumps(loaded))
        assert np.array_equal(np.asanyarray(again.dataobj), data)

    def test_fewer_than_three_axes_keep_the_whole_affine(self, tmp_path):
        affine = np.array([[0, 2.0, 0, 1], [3, 0, 0, 2], [0, 0, -4, 3], [0, 0, 0, 1]])
        img = Minc2Image(np.arange(12, dtype=np.int16).reshape(3, 4), affine)
        img.to_filename(tmp_path / "flat.mnc")
        loaded = nivox.load(tmp_path / "flat.mnc")
        assert loaded.shape == (3, 4)
        assert np.allclose(loaded.affine, affine)
        with h5py.File(tmp_path / "flat.mnc") as handle:
            assert handle["minc-2.0/image/0/image"].attrs["dimorder"] == b"yspace,xspace"
            assert handle["minc-2.0/dimensions/zspace"].attrs["step"] == -4.0

    def test_slicer(self):
        check_minc_slicer(self)


class TestMinc2Proxy(ProxyAPI):
    def make_proxy(self, tmp_path):
        data = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
        path = write_minc2(tmp_path / "p.mnc", data, valid_range=[0, 100],
                           image_min=np.linspace(-1, 1, 4), image_max=np.linspace(2, 5, 4),
                           scale_dims=("zspace",), chunks=(1, 5, 3), compression="gzip")
        img = nivox.load(path)
        raw = np.clip(data, 0, 100) / 100
        imin = np.linspace(-1, 1, 4)[:, None, None]
        imax = np.linspace(2, 5, 4)[:, None, None]
        return img.dataobj, raw * (imax - imin) + imin

    def test_is_proxy_and_attributes(self, tmp_path):
        proxy, expected = self.make_proxy(tmp_path)
        assert nivox.is_proxy(proxy)
        assert proxy.shape == expected.shape and proxy.ndim == expected.ndim
        assert proxy.dtype == np.float64

    def test_unscaled_and_scaling(self, tmp_path):
        proxy, _ = self.make_proxy(tmp_path)
        raw = proxy.get_unscaled()
        assert raw.dtype == np.int16
        assert np.array_equal(raw, np.arange(raw.size).reshape(raw.shape))

    def test_reshape(self, tmp_path):
        proxy, expected = self.make_proxy(tmp_path)
        flat = nivox.arrayproxy.reshape_dataobj(proxy, (-1,))
        np.testing.assert_allclose(flat, expected.reshape(-1))  # MINC arrays are in C order

    def test_keep_file_open_reads_same(self, tmp_path):
        proxy, expected = self.make_proxy(tmp_path)
        again = nivox.minc1.MincImageArrayProxy(proxy.minc_file)
        np.testing.assert_allclose(again[..., 0], expected[..., 0])


# ---------------------------------------------------------------- reading


@pytest.mark.parametrize("libdeflate", [True, False], ids=["libdeflate", "zlib"])
def test_reads_what_h5py_reads_for_every_box(tmp_path, monkeypatch, libdeflate):
    from nivox._codecs import libdeflate as module

    if not libdeflate:
        monkeypatch.setattr(module, "available", lambda: False)
    rng = np.random.default_rng(3)
    data = rng.integers(-1000, 1000, size=(7, 33, 29)).astype(np.int16)
    for options in (dict(chunks=(2, 8, 8), compression="gzip"), dict(chunks=(3, 5, 7)),
                    dict(chunks=(1, 16, 16), compression="gzip", shuffle=True)):
        path = tmp_path / "c.mnc"
        with h5py.File(path, "w") as handle:
            dset = handle.create_dataset("d", data=data, **options)
            for _ in range(20):
                box = tuple(slice(int(a), min(int(a) + int(b), n), int(s)) for a, b, s, n in
                            zip(rng.integers(0, 5, 3), rng.integers(1, 25, 3), rng.integers(1, 4, 3), data.shape))
                assert np.array_equal(_h5chunks.read_box(dset, box, "c.mnc"), data[box]), (options, box)


def test_unwritten_chunks_read_as_fill(tmp_path):
    path = tmp_path / "f.mnc"
    with h5py.File(path, "w") as handle:
        dset = handle.create_dataset("d", shape=(4, 8, 8), dtype=np.int16, chunks=(1, 4, 4),
                                     compression="gzip", fillvalue=7)
        dset[0] = 3
        out = _h5chunks.read_box(dset, (slice(0, 4), slice(0, 8), slice(0, 8)), "f.mnc")
    assert (out[0] == 3).all() and (out[1:] == 7).all()


def test_damaged_chunk_is_a_minc_error(tmp_path):
    data = np.arange(16 * 16 * 4, dtype=np.int16).reshape(4, 16, 16)
    path = write_minc2(tmp_path / "d.mnc", data, chunks=(1, 8, 8), compression="gzip",
                       valid_range=[0, 1023], image_min=0.0, image_max=1023.0)
    with h5py.File(path, "r") as handle:
        offset = handle["minc-2.0/image/0/image"].id.get_chunk_info(5).byte_offset
    content = bytearray(path.read_bytes())
    content[offset + 4: offset + 40] = b"\xff" * 36
    path.write_bytes(bytes(content))
    with pytest.raises(MincError, match="d.mnc"):
        nivox.load(path).get_fdata()


def test_vector_dimension_displacement_grid(tmp_path):
    grid = np.random.default_rng(1).normal(size=(4, 5, 6, 3)).astype(np.float32)
    path = write_minc2(tmp_path / "grid.mnc", grid, dims=("zspace", "yspace", "xspace", "vector_dimension"),
                       steps=[2, 2, 2, 1], starts=[-4, -5, -6, 0])
    img = nivox.load(path)
    assert img.shape == (4, 5, 6, 3)
    assert np.array_equal(np.asanyarray(img.dataobj), grid)
    assert np.array_equal(img.affine, [[0, 0, 2, -6], [0, 2, 0, -5], [2, 0, 0, -4], [0, 0, 0, 1]])
    nib = pytest.importorskip("nibabel")
    nivox.save(img, tmp_path / "again.mnc")
    theirs = nib.load(tmp_path / "again.mnc")
    assert np.array_equal(theirs.get_fdata(), grid)
    assert np.allclose(theirs.affine, img.affine)
    with h5py.File(tmp_path / "again.mnc") as handle:
        assert handle["minc-2.0/image/0/image"].attrs["dimorder"] == b"zspace,yspace,xspace,vector_dimension"


def test_vector_first_and_dimension_variable_missing(tmp_path):
    grid = np.arange(3 * 2 * 3 * 4, dtype=np.float64).reshape(3, 2, 3, 4)
    path = write_minc2(tmp_path / "v.mnc", grid, dims=("vector_dimension", "zspace", "yspace", "xspace"))
    with h5py.File(path, "a") as handle:
        del handle["minc-2.0/dimensions/vector_dimension"]
    img = nivox.load(path)
    assert img.shape == (3, 2, 3, 4)
    assert np.array_equal(img.get_fdata(), grid)


def test_irregular_spatial_dimension(tmp_path):
    data = np.zeros((3, 2, 2), np.float32)
    even = write_minc2(tmp_path / "even.mnc", data, spacing={"zspace": "irregular"},
                       coords={"zspace": [1.0, 3.0, 5.0]})
    assert np.allclose(nivox.load(even).affine[:3, 0], [0, 0, 2])
    uneven = write_minc2(tmp_path / "uneven.mnc", data, spacing={"zspace": "irregular"},
                         coords={"zspace": [1.0, 3.0, 7.0]})
    with pytest.raises(MincError, match="uneven.mnc.*irregularly spaced.*not support"):
        nivox.load(uneven)
    missing = write_minc2(tmp_path / "missing.mnc", data, spacing={"zspace": "irregular"},
                          coords={"zspace": [1.0, 3.0]})
    with pytest.raises(MincError, match="missing.mnc.*positions are missing"):
        nivox.load(missing)


def test_invalid_spacing_warns_and_reads_as_regular(tmp_path):
    path = write_minc2(tmp_path / "bad.mnc", np.zeros((2, 2, 2), np.float32),
                       dim_attrs={"xspace": {"spacing": np.bytes_(b"xspace")}})
    with pytest.warns(UserWarning, match="bad.mnc.*spacing"):
        nivox.load(path)


@pytest.mark.parametrize("change, message", [
    (lambda h: h["minc-2.0/image/0/image"].attrs.__setitem__("valid_range", [0, 1e6]), "valid_range"),
    (lambda h: h["minc-2.0/image/0/image"].attrs.__setitem__("dimorder", np.bytes_(b"zspace,yspace")),
     "dimorder"),
    (lambda h: h["minc-2.0/dimensions/xspace"].attrs.__setitem__("step", np.bytes_(b"wide")), "step"),
    (lambda h: h["minc-2.0/dimensions/yspace"].attrs.__setitem__("direction_cosines", [1.0, 0]),
     "direction_cosines"),
    (lambda h: h["minc-2.0/dimensions/zspace"].attrs.__setitem__("start", np.nan), "start"),
    (lambda h: h.__delitem__("minc-2.0/image"), "not a readable MINC2"),
    (lambda h: h["minc-2.0/image/0/image-max"].attrs.__setitem__("dimorder", np.bytes_(b"yspace")),
     "image-min/image-max"),
])
def test_contradicting_attributes_raise_minc_error(tmp_path, change, message):
    data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    path = write_minc2(tmp_path / "c.mnc", data, valid_range=[0, 23], image_min=[0, 1],
                       image_max=[10, 11], scale_dims=("zspace",))
    with h5py.File(path, "a") as handle:
        change(handle)
    with pytest.raises(MincError, match=f"c.mnc.*{message}"):
        nivox.load(path).get_fdata()


def test_image_claiming_more_than_the_file_holds(tmp_path):
    path = tmp_path / "huge.mnc"
    with h5py.File(path, "w") as handle:
        root = handle.create_group("minc-2.0")
        image = root.create_group("image/0").create_dataset(
            "image", shape=(4096, 4096, 4096), dtype=np.int16, chunks=(1, 64, 64), compression="gzip")
        image.attrs["dimorder"] = np.bytes_(b"zspace,yspace,xspace")
        root.create_group("dimensions")
    with pytest.raises(MincError, match="huge.mnc.*claims"):
        nivox.load(path)


def test_not_hdf5_and_truncated(tmp_path):
    data = np.arange(1000, dtype=np.int16).reshape(10, 10, 10)
    path = write_minc2(tmp_path / "t.mnc", data)
    content = path.read_bytes()
    (tmp_path / "cut.mnc").write_bytes(content[: len(content) // 2])
    with pytest.raises(NivoxError, match="cut.mnc"):
        np.asanyarray(nivox.load(tmp_path / "cut.mnc").dataobj)
    (tmp_path / "fake.mnc").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    with pytest.raises(MincError, match="fake.mnc"):
        nivox.load(tmp_path / "fake.mnc")


def test_pickle_carries_no_hdf5_handle_and_threads(tmp_path):
    data = np.arange(16 * 40 * 40, dtype=np.int16).reshape(16, 40, 40)
    img = Minc2Image(data, np.eye(4))
    img.to_filename(tmp_path / "p.mnc")
    loaded = nivox.load(tmp_path / "p.mnc")
    payload = pickle.dumps(loaded.dataobj)
    assert len(payload) < 1024 and b"p.mnc" in payload
    proxy = pickle.loads(payload)
    assert proxy.minc_file._mincfile is not loaded.dataobj.minc_file._mincfile
    out = [None] * 16
    threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, proxy[i])) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(np.array_equal(out[i], data[i]) for i in range(16))


def test_in_memory_file_map(tmp_path):
    data = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
    buffer = io.BytesIO()
    Minc2Image(data, np.eye(4)).to_file_map(Minc2Image.make_file_map({"image": buffer}))
    assert buffer.getvalue()[:4] == b"\x89HDF"
    buffer.seek(0)
    loaded = Minc2Image.from_file_map(Minc2Image.make_file_map({"image": buffer}))
    assert np.array_equal(np.asanyarray(loaded.dataobj), data)
    assert np.array_equal(pickle.loads(pickle.dumps(loaded)).get_fdata(), data)


def test_missing_h5py_names_the_extra(tmp_path, monkeypatch):
    Minc2Image(np.zeros((2, 2, 2), np.uint8), np.eye(4)).to_filename(tmp_path / "x.mnc")
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(MissingDependencyError, match=r"nivox\[minc\]"):
        nivox.load(tmp_path / "x.mnc")


# ---------------------------------------------------------------- writing


def test_layout_minc_tools_expect(tmp_path):
    data = np.arange(40 * 50 * 3, dtype=np.int16).reshape(40, 50, 3)
    affine = np.diag([-2.0, 3, 4, 1])
    affine[:3, 3] = [10, -20, 30]
    Minc2Image(data, affine).to_filename(tmp_path / "l.mnc")
    with h5py.File(tmp_path / "l.mnc") as handle:
        root = handle["minc-2.0"]
        assert set(root) == {"dimensions", "image", "info"}
        assert {"ident", "minc_version", "history"} <= set(root.attrs)
        image = root["image/0/image"]
        assert image.chunks == (20, 25, 3)  # at most 32 per axis, split evenly
        assert image.compression == "gzip" and image.compression_opts == 4
        assert image.attrs["dimorder"] == b"xspace,yspace,zspace"
        assert image.attrs["complete"] == b"true_"
        tid = image.attrs.get_id("complete").get_type()
        assert tid.get_size() == 6 and tid.get_strpad() == h5py.h5t.STR_NULLTERM  # libminc's strings
        xspace = root["dimensions/xspace"]
        assert xspace.attrs["step"] == -2.0 and xspace.attrs["length"] == 40
        assert np.allclose(xspace.attrs["direction_cosines"], [1, 0, 0])
        assert xspace.attrs["spacing"] == b"regular__" and xspace.attrs["vartype"] == b"dimension____"
        assert root["image/0/image-max"].attrs["vartype"] == b"var_attribute"
    Minc2Image(data, affine).to_filename(tmp_path / "raw.mnc", compresslevel=0)
    with h5py.File(tmp_path / "raw.mnc") as handle:
        assert handle["minc-2.0/image/0/image"].chunks is None
    Minc2Image(data, affine).to_filename(tmp_path / "nine.mnc", compresslevel=9)
    with h5py.File(tmp_path / "nine.mnc") as handle:
        assert handle["minc-2.0/image/0/image"].compression_opts == 9


def test_same_image_same_bytes(tmp_path):
    img = Minc2Image(np.arange(24, dtype=np.float32).reshape(2, 3, 4), np.eye(4))
    img.to_filename(tmp_path / "a.mnc")
    img.to_filename(tmp_path / "b.mnc")
    assert (tmp_path / "a.mnc").read_bytes() == (tmp_path / "b.mnc").read_bytes()


def test_save_from_nifti_and_resave_keeps_values(tmp_path):
    nib = pytest.importorskip("nibabel")
    data = np.random.default_rng(0).normal(size=(6, 7, 8, 2)).astype(np.float32)
    affine = np.array([[0.9, 0.1, 0, -10], [0, -2, 0.2, 20], [0.1, 0, 3, 5], [0, 0, 0, 1]])
    nifti = nivox.Nifti1Image(data, affine)
    nivox.save(nifti, tmp_path / "from_nifti.mnc")
    loaded = nivox.load(tmp_path / "from_nifti.mnc")
    assert isinstance(loaded, Minc2Image)
    assert np.array_equal(loaded.get_fdata(), data)
    assert np.allclose(loaded.affine, affine)
    theirs = nib.load(tmp_path / "from_nifti.mnc")
    assert np.array_equal(theirs.get_fdata(), data) and np.allclose(theirs.affine, affine)
    # scaled to int16 per slice: close, and nibabel agrees exactly with nivox
    nifti.set_data_dtype(np.int16)
    nivox.save(nifti, tmp_path / "scaled.mnc")
    ours, theirs = nivox.load(tmp_path / "scaled.mnc"), nib.load(tmp_path / "scaled.mnc")
    assert ours.get_data_dtype() == np.int16
    assert np.array_equal(ours.get_fdata(), theirs.get_fdata())
    assert np.abs(ours.get_fdata() - data).max() < np.ptp(data) / 30000
    # a loaded MINC1 file saved again keeps stored values, per-slice scaling and affine
    raw = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    minc1 = write_minc1(tmp_path / "one.mnc", raw, valid_range=[2, 50], image_min=[0, 1, 2],
                        image_max=[5, 6, 9], scale_dims=("zspace",), steps=[2, 3, 4], starts=[1, 2, 3])
    source = nivox.load(minc1)
    nivox.save(source, tmp_path / "two.mnc")
    again = nivox.load(tmp_path / "two.mnc")
    assert isinstance(again, Minc2Image)
    assert np.array_equal(again.dataobj.get_unscaled(), raw)
    assert np.array_equal(again.get_fdata(), source.get_fdata())
    assert np.array_equal(nib.load(tmp_path / "two.mnc").get_fdata(), source.get_fdata())
    assert np.allclose(again.affine, source.affine)


def test_failed_save_leaves_the_old_file(tmp_path):
    target = tmp_path / "keep.mnc"
    Minc2Image(np.ones((2, 2, 2), np.int16), np.eye(4)).to_filename(target)
    before = target.read_bytes()
    with pytest.raises(ImageDataError, match="complex"):
        nivox.save(nivox.Nifti1Image(np.ones((2, 2, 2), np.complex64), np.eye(4)), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.mnc"]


def test_chunks_compressed_in_parallel_match_h5py(tmp_path, monkeypatch):
    data = np.random.default_rng(2).integers(0, 500, size=(33, 70, 65)).astype(np.uint16)
    Minc2Image(data, np.eye(4)).to_filename(tmp_path / "p.mnc")
    with h5py.File(tmp_path / "p.mnc") as handle:
        assert np.array_equal(handle["minc-2.0/image/0/image"][()], data)
    monkeypatch.setattr(_h5chunks, "PARALLEL_MIN_CHUNKS", 10**9)  # h5py alone
    assert np.array_equal(nivox.load(tmp_path / "p.mnc").dataobj[3:30, ::3, 64], data[3:30, ::3, 64])


@pytest.mark.skipif(shutil.which("mincinfo") is None, reason="MINC tools are not installed")
def test_minc_tools_read_what_nivox_writes(tmp_path):
    data = np.random.default_rng(4).normal(size=(10, 11, 12)).astype(np.float32)
    affine = np.diag([2.0, -3.0, 4.0, 1.0])
    affine[:3, 3] = [-10, 15, 20]
    img = nivox.Nifti1Image(data, affine)
    img.set_data_dtype(np.int16)
    nivox.save(img, tmp_path / "t.mnc")
    info = subprocess.run(["mincinfo", str(tmp_path / "t.mnc")], capture_output=True, text=True, check=True)
    assert "xspace" in info.stdout and "short" in info.stdout
    stats = subprocess.run(["mincstats", "-quiet", "-mean", str(tmp_path / "t.mnc")], capture_output=True,
                           text=True, check=True)
    assert float(stats.stdout) == pytest.approx(nivox.load(tmp_path / "t.mnc").get_fdata().mean(), rel=1e-6)


def test_nothing_unexpected_is_warned(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Minc2Image(np.zeros((2, 3, 4), np.float32), np.eye(4)).to_filename(tmp_path / "w.mnc")
        nivox.load(tmp_path / "w.mnc").get_fdata()


def test_minc2file_takes_an_open_h5py_file(tmp_path):
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    Minc2Image(data, np.eye(4)).to_filename(tmp_path / "o.mnc")
    minc = Minc2File(h5py.File(tmp_path / "o.mnc", "r"))
    assert minc.get_data_shape() == (2, 3, 4)
    assert np.array_equal(minc.get_scaled_data((slice(None), 1)), data[:, 1])
    assert _minc2write.DEFAULT_LEVEL == 4


def test_slice_reads_only_the_chunks_it_touches(tmp_path, monkeypatch):
    monkeypatch.setattr(_h5chunks, "PARALLEL_MIN_CHUNKS", 1)
    data = np.arange(8 * 64 * 64, dtype=np.int16).reshape(8, 64, 64)
    Minc2Image(data, np.eye(4)).to_filename(tmp_path / "c.mnc")  # chunks (8, 32, 32)
    with h5py.File(tmp_path / "c.mnc") as handle:
        dset = handle["minc-2.0/image/0/image"]

        class Counting:
            """The dataset, counting the chunks fetched."""

            def __init__(self):
                self.fetched = []
                self.id = self

            def __getattr__(self, name):
                return getattr(dset, name)

            def __getitem__(self, key):
                return dset[key]

            def read_direct_chunk(self, origin):
                self.fetched.append(origin)
                return dset.id.read_direct_chunk(origin)

            def get_create_plist(self):
                return dset.id.get_create_plist()

        counting = Counting()
        filters = _h5chunks.filters(dset)
        box = (slice(0, 8), slice(0, 64), slice(40, 41))
        out = _h5chunks.read_box(counting, box, "c.mnc", filters)
        assert np.array_equal(out, data[box])
        assert sorted(counting.fetched) == [(0, 0, 32), (0, 32, 32)]


def test_cli_convert_to_minc_scales_per_slice(tmp_path):
    from nivox.cli.convert import convert

    data = np.linspace(0, 1, 4 * 5 * 6).reshape(4, 5, 6)
    nivox.save(nivox.Nifti1Image(data.astype(np.float32), np.eye(4)), tmp_path / "in.nii")
    convert(str(tmp_path / "in.nii"), str(tmp_path / "out.mnc"), np.dtype(np.uint8))
    out = nivox.load(tmp_path / "out.mnc")
    assert out.get_data_dtype() == np.uint8
    assert np.abs(out.get_fdata() - data).max() < 0.01


def test_invalid_spacing_follows_the_validation_mode(tmp_path):
    path = write_minc2(tmp_path / "odd.mnc", np.zeros((2, 2, 2), np.float32),
                       dim_attrs={"yspace": {"spacing": np.bytes_(b"sideways")}})
    with pytest.raises(MincError, match="odd.mnc.*spacing"):
        nivox.load(path, validation="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nivox.load(path, validation="ignore").shape == (2, 2, 2)


def test_rewrite_into_the_file_object_it_was_read_from():
    import io

    import numpy as np

    import nivox
    from nivox.fileholders import FileHolder

    data = np.arange(24, dtype="i4").reshape((2, 3, 4))
    file_map = {"image": FileHolder(fileobj=io.BytesIO())}
    img = nivox.Minc2Image(data, np.eye(4))
    img.file_map = file_map
    img.to_file_map()
    again = nivox.Minc2Image.from_file_map(file_map)
    again.to_file_map()  # into the same BytesIO, which holds the file just read
    np.testing.assert_array_equal(nivox.Minc2Image.from_file_map(file_map).get_fdata(), data)
