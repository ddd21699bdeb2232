"""MINC1 images: reading through scipy's netCDF reader, scaling, affines, and saving (as MINC2)."""

from __future__ import annotations

import io
import pickle
import sys
import threading

import numpy as np
import pytest
from suites.image_api import ImageAPI
from suites.minc_files import check_minc_slicer, write_minc1
from suites.proxy_api import ProxyAPI
from suites.spatial_header_api import SpatialHeaderAPI

import nivox
from nivox.errors import ImageFileError, MincError, MissingDependencyError, NivoxError
from nivox.minc1 import Minc1File, Minc1Header, Minc1Image, MincHeader, MincImageArrayProxy, open_netcdf

pytest.importorskip("scipy")

MINC_SHAPES = [(2, 3, 4), (5, 4, 3, 2), (3, 1, 2, 1, 2)]


def _minc1_from_image(img, path):
    """Write ``img`` (data in MINC file order, affine for those axes) as MINC1 with scipy."""
    data = np.asanyarray(img.dataobj)
    affine = img.affine
    columns = affine[:3, :3]
    steps = np.sqrt((columns**2).sum(axis=0))
    cosines = columns / steps
    starts = np.linalg.solve(cosines, affine[:3, 3])
    names = ["xspace", "yspace", "zspace"] + ["time", "vector_dimension"]
    identity = {}
    if data.dtype.kind in "iu":  # stored values are the real ones
        info = np.iinfo(data.dtype)
        identity = dict(valid_range=[info.min, info.max], image_min=info.min, image_max=info.max)
    return write_minc1(path, data, dims=tuple(names[: data.ndim]), **identity,
                       steps=list(steps) + [1.0] * (data.ndim - 3),
                       starts=list(starts) + [0.0] * (data.ndim - 3),
                       cosines=list(cosines.T) + [None] * (data.ndim - 3))


class TestMinc1HeaderAPI(SpatialHeaderAPI):
    header_class = Minc1Header


class TestMincHeaderAPI(SpatialHeaderAPI):
    header_class = MincHeader


class TestMinc1ImageAPI(ImageAPI):
    """The image API; files are made by scipy's netCDF writer, as nivox writes no MINC1."""

    image_class = Minc1Image
    compressed_suffixes = ("", ".gz", ".bz2")

    def save_load(self, img, tmp_path, suffix=""):
        path = _minc1_from_image(img, tmp_path / f"img.mnc{suffix}")
        return Minc1Image.from_filename(path), path

    @pytest.mark.parametrize("shape", MINC_SHAPES)
    def test_round_trip_shapes(self, tmp_path, shape):
        img, data = self.make_image(shape)
        loaded, _ = self.save_load(img, tmp_path)
        assert loaded.shape == shape
        assert np.array_equal(np.asanyarray(loaded.dataobj), data)
        assert np.allclose(loaded.affine, img.affine)

    def test_round_trip_dtypes(self, tmp_path):
        for dtype in self.storable_dtypes:
            img, data = self.make_image(dtype=dtype)
            loaded, _ = self.save_load(img, tmp_path)
            # MINC1 is big-endian; the header says so, as nibabel's does
            assert loaded.get_data_dtype() == np.dtype(dtype).newbyteorder(">")
            assert np.array_equal(np.asanyarray(loaded.dataobj), data)

    def test_filename_get_set(self, tmp_path):
        img, _ = self.make_image()
        target = tmp_path / "x.mnc"
        img.set_filename(str(target))
        assert img.get_filename() == str(target)
        img.to_filename(target)
        assert type(nivox.load(target)).__name__ == "Minc2Image"  # saving writes MINC2

    def test_file_map_in_memory(self):
        img, data = self.make_image()
        buffer = io.BytesIO()
        img.to_file_map(Minc1Image.make_file_map({"image": buffer}))  # MINC2 bytes
        buffer.seek(0)
        loaded = nivox.Minc2Image.from_file_map(nivox.Minc2Image.make_file_map({"image": buffer}))
        assert np.array_equal(np.asanyarray(loaded.dataobj), data)
        with pytest.raises(MincError):
            buffer.seek(0)
            Minc1Image.from_file_map(Minc1Image.make_file_map({"image": buffer}))

    def test_path_maybe_image(self, tmp_path):
        img, _ = self.make_image()
        _, path = self.save_load(img, tmp_path)
        ok, sniff = Minc1Image.path_maybe_image(path)
        assert ok
        assert Minc1Image.path_maybe_image(path, sniff)[0]
        assert not nivox.Minc2Image.path_maybe_image(path, sniff)[0]
        img.to_filename(tmp_path / "two.mnc")
        assert not Minc1Image.path_maybe_image(tmp_path / "two.mnc")[0]

    def test_save_over_own_file_keeps_image_usable(self, tmp_path):
        img, data = self.make_image()
        loaded, path = self.save_load(img, tmp_path)
        loaded.to_filename(path)  # now a MINC2 file
        assert np.array_equal(np.asanyarray(loaded.dataobj), data)
        again = nivox.load(path)
        assert type(again).__name__ == "Minc2Image"
        assert np.array_equal(np.asanyarray(again.dataobj), data)
        assert np.allclose(again.affine, loaded.affine)

    def test_slicer(self):
        check_minc_slicer(self)


class TestMinc1Proxy(ProxyAPI):
    def make_proxy(self, tmp_path):
        data = np.arange(4 * 5 * 6, dtype=np.uint8).reshape(4, 5, 6)
        path = write_minc1(tmp_path / "p.mnc", data, valid_range=[0, 200],
                           image_min=np.linspace(-1, 1, 4), image_max=np.linspace(2, 5, 4),
                           scale_dims=("zspace",))
        img = nivox.load(path)
        return img.dataobj, _expected_scaled(data, [0, 200], np.linspace(-1, 1, 4), np.linspace(2, 5, 4))

    def test_is_proxy_and_attributes(self, tmp_path):
        proxy, expected = self.make_proxy(tmp_path)
        assert nivox.is_proxy(proxy)
        assert proxy.shape == expected.shape and proxy.ndim == expected.ndim
        assert proxy.dtype == np.float64

    def test_unscaled_and_scaling(self, tmp_path):
        proxy, expected = self.make_proxy(tmp_path)
        raw = proxy.get_unscaled()
        assert raw.dtype == np.uint8
        assert np.array_equal(raw, np.arange(raw.size).reshape(raw.shape))

    def test_reshape(self, tmp_path):
        proxy, expected = self.make_proxy(tmp_path)
        flat = nivox.arrayproxy.reshape_dataobj(proxy, (-1,))
        np.testing.assert_allclose(flat, expected.reshape(-1))  # MINC arrays are in C order

    def test_keep_file_open_reads_same(self, tmp_path):
        proxy, expected = self.make_proxy(tmp_path)
        again = MincImageArrayProxy(proxy.minc_file)
        np.testing.assert_allclose(again[..., 0], expected[..., 0])


def _expected_scaled(raw, valid, imin, imax):
    raw = np.clip(raw.astype(np.float64), *valid)
    shape = (-1,) + (1,) * (raw.ndim - 1)
    imin = np.asarray(imin, dtype=np.float64).reshape(shape)
    imax = np.asarray(imax, dtype=np.float64).reshape(shape)
    return (raw - valid[0]) / (valid[1] - valid[0]) * (imax - imin) + imin


def test_per_slice_scaling_and_valid_range(tmp_path):
    raw = np.array([[[0, 10], [250, 255]], [[5, 100], [200, 255]]], dtype=np.uint8)
    path = write_minc1(tmp_path / "s.mnc", raw, valid_range=[10, 250], image_min=[0.0, -5.0],
                       image_max=[1.0, 5.0], scale_dims=("zspace",))
    img = nivox.load(path)
    expected = _expected_scaled(raw, [10, 250], [0.0, -5.0], [1.0, 5.0])
    np.testing.assert_allclose(img.get_fdata(), expected, rtol=1e-12)
    np.testing.assert_allclose(img.dataobj[1], expected[1], rtol=1e-12)
    np.testing.assert_allclose(img.dataobj[:, 1, ::-1], expected[:, 1, ::-1], rtol=1e-12)
    assert img.get_fdata()[0, 0, 0] == 0.0  # 0 is clipped to the valid minimum 10


def test_two_scaling_dimensions(tmp_path):
    raw = np.arange(2 * 3 * 4 * 5, dtype=np.int16).reshape(2, 3, 4, 5)
    imin = np.arange(6, dtype=np.float64).reshape(2, 3)
    imax = imin + 10
    path = write_minc1(tmp_path / "t.mnc", raw, dims=("time", "zspace", "yspace", "xspace"),
                       valid_range=[0, 119], image_min=imin, image_max=imax, scale_dims=("time", "zspace"))
    img = nivox.load(path)
    expected = raw / 119 * 10 + imin[..., None, None]
    np.testing.assert_allclose(img.get_fdata(), expected)
    np.testing.assert_allclose(img.dataobj[1, :, 2], expected[1, :, 2])
    np.testing.assert_allclose(img.dataobj[:, [0, 2]], expected[:, [0, 2]])
    assert not nivox.imageclasses.spatial_axes_first(img)


def test_oblique_affine_and_defaults(tmp_path):
    cosines = [(0.99705, 0, 0.076719), (0, 1, 0), (-0.076719, 0, 0.99705)]
    raw = np.zeros((2, 3, 4), np.int16)
    path = write_minc1(tmp_path / "o.mnc", raw, dims=("xspace", "yspace", "zspace"),
                       steps=[-0.9, 2, 6.5], starts=[105.5, -10, -61.9], cosines=cosines)
    img = nivox.load(path)
    rotation = np.array(cosines).T
    expected = np.eye(4)
    expected[:3, :3] = rotation * [-0.9, 2, 6.5]
    expected[:3, 3] = rotation @ [105.5, -10, -61.9]
    np.testing.assert_allclose(img.affine, expected)
    np.testing.assert_allclose(img.header.get_zooms(), (0.9, 2.0, 6.5), rtol=1e-4)  # from the affine
    bare = nivox.load(write_minc1(tmp_path / "d.mnc", raw))  # no attributes: MINC defaults
    assert np.array_equal(bare.affine, [[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]])


def test_a_slice_gets_the_missing_axis_from_its_dimension_variable(tmp_path):
    from scipy.io import netcdf_file

    path = write_minc1(tmp_path / "slice.mnc", np.zeros((3, 4), np.int16), dims=("yspace", "xspace"),
                       steps=[2, 3], starts=[10, 20])
    with netcdf_file(path, "a") as nc:  # where the slice lies: an unused zspace variable
        nc.createDimension("zspace", 1)
        zspace = nc.createVariable("zspace", "i", ())
        zspace.step = 5.0
        zspace.start = -7.0
    img = nivox.load(path)
    assert img.shape == (3, 4)
    assert np.array_equal(img.affine, [[0, 3, 0, 20], [2, 0, 0, 10], [0, 0, 5, -7], [0, 0, 0, 1]])


def test_missing_image_min_max_default_to_unit_range(tmp_path):
    raw = np.array([0, 127, 255], np.uint8).reshape(1, 1, 3)
    img = nivox.load(write_minc1(tmp_path / "n.mnc", raw))
    np.testing.assert_allclose(img.get_fdata().ravel(), [0, 127 / 255, 1])


def test_float_data_are_not_scaled(tmp_path):
    raw = np.linspace(-3, 3, 24, dtype=np.float32).reshape(2, 3, 4)
    img = nivox.load(write_minc1(tmp_path / "f.mnc", raw, image_min=0.0, image_max=1.0))
    assert img.get_data_dtype() == np.dtype(">f4")
    assert np.array_equal(np.asanyarray(img.dataobj), raw)
    assert img.dataobj[0].dtype.isnative


def test_irregular_spacing(tmp_path):
    raw = np.zeros((3, 2, 2), np.int16)
    even = write_minc1(tmp_path / "even.mnc", raw, spacing={"zspace": "irregular"},
                       coords={"zspace": [4.0, 6.5, 9.0]}, steps=[99, 1, 1])
    img = nivox.load(even)
    np.testing.assert_allclose(img.affine[:3, 0], [0, 0, 2.5])  # positions evenly spaced
    assert img.affine[2, 3] == 4.0
    uneven = write_minc1(tmp_path / "uneven.mnc", raw, spacing={"zspace": "irregular"},
                         coords={"zspace": [0.0, 1.0, 5.0]})
    with pytest.raises(MincError, match="irregularly spaced.*uneven.mnc|uneven.mnc.*irregularly spaced"):
        nivox.load(uneven)
    time = write_minc1(tmp_path / "time.mnc", np.zeros((3, 2, 2, 2), np.int16),
                       dims=("time", "zspace", "yspace", "xspace"), spacing={"time": "irregular"},
                       coords={"time": [0.0, 1.0, 5.0]})
    assert nivox.load(time).shape == (3, 2, 2, 2)  # irregular time: no affine needed


def test_compressed_and_in_memory(tmp_path):
    data = np.arange(60, dtype=np.int16).reshape(3, 4, 5)
    for suffix in (".gz", ".bz2"):
        path = write_minc1(tmp_path / f"c.mnc{suffix}", data, valid_range=[0, 59], image_min=0.0,
                           image_max=59.0)
        img = nivox.load(path)
        assert isinstance(img, Minc1Image)
        np.testing.assert_allclose(img.get_fdata(), data)
        again = pickle.loads(pickle.dumps(img))
        np.testing.assert_allclose(again.get_fdata(), data)
    stream = io.BytesIO((tmp_path / "plain.mnc").write_bytes(b"") or
                        write_minc1(tmp_path / "plain.mnc", data).read_bytes())
    img = Minc1Image.from_file_map(Minc1Image.make_file_map({"image": stream}))
    assert img.shape == (3, 4, 5)
    assert len(pickle.dumps(img)) < 4 * data.nbytes + 8192  # the file's bytes, once


def test_pickle_by_reference_and_threads(tmp_path):
    data = np.arange(8 * 9 * 10, dtype=np.int16).reshape(8, 9, 10)
    path = write_minc1(tmp_path / "r.mnc", data, valid_range=[0, 719], image_min=np.zeros(8),
                       image_max=np.full(8, 719.0), scale_dims=("zspace",))
    img = nivox.load(path)
    payload = pickle.dumps(img.dataobj)
    assert len(payload) < 1024 and b"r.mnc" in payload
    proxy = pickle.loads(payload)
    results = [None] * 8

    def read(i):
        results[i] = proxy[i]

    threads = [threading.Thread(target=read, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i in range(8):
        np.testing.assert_allclose(results[i], data[i])


def test_bad_files_raise_minc_error_naming_file(tmp_path):
    junk = tmp_path / "junk.mnc"
    junk.write_bytes(b"CDF\x01" + b"\xff" * 60)
    with pytest.raises(MincError, match="junk.mnc"):
        Minc1Image.from_filename(junk)
    with pytest.raises(ImageFileError, match="junk.mnc"):
        nivox.load(junk)
    no_image = tmp_path / "noimage.mnc"
    from scipy.io import netcdf_file

    with netcdf_file(no_image, "w") as nc:
        nc.createDimension("x", 2)
        nc.createVariable("other", "i", ("x",))[:] = [1, 2]
    with pytest.raises(MincError, match="noimage.mnc.*'image'"):
        nivox.load(no_image)
    outside = write_minc1(tmp_path / "range.mnc", np.zeros((2, 2, 2), np.uint8), valid_range=[-5, 300])
    with pytest.raises(MincError, match="range.mnc.*valid_range"):
        nivox.load(outside).get_fdata()
    four = write_minc1(tmp_path / "four.mnc", np.zeros((2, 2, 2, 2), np.uint8),
                       dims=("xspace", "yspace", "zspace", "tspace"))
    with pytest.raises(MincError, match="four.mnc.*spatial"):
        nivox.load(four)
    assert issubclass(MincError, NivoxError) and issubclass(MincError, ValueError)


def test_a_huge_length_field_reads_nothing_huge(tmp_path):
    path = write_minc1(tmp_path / "ok.mnc", np.zeros((2, 2, 2), np.uint8))
    content = bytearray(path.read_bytes())
    # the length of the first dimension name, made absurd
    content[12:16] = (2**31 - 1).to_bytes(4, "big")
    bad = tmp_path / "bad.mnc"
    bad.write_bytes(bytes(content))
    with pytest.raises(MincError, match="bad.mnc"):
        open_netcdf(str(bad), str(bad))


@pytest.mark.filterwarnings("ignore:Cannot close a netcdf_file")  # scipy's, at garbage collection
def test_minc1file_takes_an_open_netcdf(tmp_path):
    from nivox.externals.netcdf import netcdf_file

    data = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = write_minc1(tmp_path / "f.mnc", data, image_min=0.0, image_max=23.0, valid_range=[0, 23])
    minc = Minc1File(netcdf_file(path, "r"))
    assert minc.get_data_shape() == (2, 3, 4)
    np.testing.assert_allclose(minc.get_scaled_data((1, slice(None), 2)), data[1, :, 2])


def test_missing_scipy_names_the_extra(tmp_path, monkeypatch):
    path = write_minc1(tmp_path / "x.mnc", np.zeros((2, 2, 2), np.uint8))
    monkeypatch.setitem(sys.modules, "scipy.io", None)
    with pytest.raises(MissingDependencyError, match=r"nivox\[minc\]"):
        Minc1Image.from_filename(path)


def test_registered_and_sniffed(tmp_path):
    rows = [row for row in nivox.imageclasses.FORMATS if ".mnc" in row.extensions]
    assert [row.class_name for row in rows] == ["Minc1Image", "Minc2Image"]
    assert all(row.extra == "minc" for row in rows)
    path = write_minc1(tmp_path / "x.mnc", np.zeros((2, 2, 2), np.uint8))
    assert nivox.loadsave.guessed_image_type(path) is Minc1Image


def test_scaling_on_all_cores_gives_the_same_values(tmp_path, monkeypatch):
    from nivox import _mincdims

    raw = np.random.default_rng(6).integers(0, 255, size=(9, 7, 5)).astype(np.uint8)
    path = write_minc1(tmp_path / "p.mnc", raw, valid_range=[3, 250], image_min=np.linspace(-2, 2, 9),
                       image_max=np.linspace(5, 9, 9), scale_dims=("zspace",))
    serial = nivox.load(path).get_fdata()
    monkeypatch.setattr(_mincdims, "PARALLEL_SCALE_SIZE", 1)
    img = nivox.load(path)
    assert np.array_equal(img.get_fdata(), serial)
    assert np.array_equal(img.dataobj[2:8, ::-1], serial[2:8, ::-1])
