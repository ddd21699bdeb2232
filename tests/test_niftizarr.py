"""NIfTI-Zarr (``.nii.zarr``): round trips, laziness, remote stores, hostile stores, and interop.

Oracles: the ``nifti-zarr`` package (import name ``niizarr``, the reference
converter), ``ome-zarr-models`` and plain zarr-python for the OME metadata,
and nibabel for the corpus differential test.
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import os
import pickle
import shutil
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from suites.image_api import ImageAPI
from suites.proxy_api import ProxyAPI

import nivox
from nivox.errors import (
    ImageFileError,
    ImageFileNotFoundError,
    MissingDependencyError,
    NivoxError,
    NivoxWarning,
)
from nivox.nifti1 import Nifti1Image
from nivox.nifti2 import Nifti2Header, Nifti2Image

zarr = pytest.importorskip("zarr")
from nivox.niftizarr import NiftiZarrImage, NiftiZarrProxy

RNG = np.random.default_rng(15)


def _affine():
    affine = np.array([[-1.5, 0.1, 0, 90], [0, 2, 0.2, -120], [0.1, 0, 2.5, -70], [0, 0, 0, 1]])
    return affine


def _image(shape=(6, 7, 8), dtype=np.int16, klass=Nifti1Image):
    data = (RNG.random(shape) * 100).astype(dtype)
    img = klass(data, _affine())
    img.header.set_xyzt_units("mm", "sec")
    return img, data


# ---------------------------------------------------------------- shared suites


class TestNiftiZarrImageAPI(ImageAPI):
    image_class = NiftiZarrImage
    compressed_suffixes = ("",)

    # a store is a directory of files: no single stream to write into or read from
    def test_file_map_in_memory(self):
        img, _ = self.make_image()
        file_map = self.image_class.make_file_map({"image": io.BytesIO()})
        with pytest.raises(ImageFileError, match="not a file object"):
            img.to_file_map(file_map)
        with pytest.raises(ImageFileError, match="not a file object"):
            self.image_class.from_file_map(file_map)

    def test_bytes(self):
        img, _ = self.make_image()
        with pytest.raises(ImageFileError, match="not a file object"):
            img.to_bytes()

    def test_proxy_slicing_and_pickle(self, tmp_path):
        img, data = self.make_image((5, 4, 3, 2))
        loaded, _ = self.save_load(img, tmp_path)  # no compressed suffix: Zarr compresses chunks
        proxy = loaded.dataobj
        assert np.array_equal(proxy[1:4, ::2, -1], data[1:4, ::2, -1])
        assert np.array_equal(proxy[..., 1], data[..., 1])
        again = pickle.loads(pickle.dumps(loaded))
        assert np.array_equal(np.asanyarray(again.dataobj), data)


class TestNiftiZarrProxyAPI(ProxyAPI):
    def make_proxy(self, tmp_path):
        data = np.arange(4 * 5 * 6 * 2, dtype=np.int16).reshape(4, 5, 6, 2) - 50
        img = Nifti1Image(data, np.eye(4))
        img.header.set_slope_inter(0.5, 3.0)
        nivox.save(img, tmp_path / "p.nii.zarr", chunks=2)
        proxy = nivox.load(tmp_path / "p.nii.zarr").dataobj
        return proxy, data * 0.5 + 3.0


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.uint16, np.int32, np.uint32,
                                   np.int64, np.uint64, np.float32, np.float64, np.complex64,
                                   np.complex128])
def test_dtypes_round_trip_exactly(tmp_path, dtype):
    data = (RNG.random((5, 4, 3)) * 100).astype(dtype)
    img = Nifti1Image(data, _affine(), dtype=dtype)
    nivox.save(img, tmp_path / "d.nii.zarr")
    back = nivox.load(tmp_path / "d.nii.zarr")
    assert isinstance(back, NiftiZarrImage) and isinstance(back, Nifti1Image)
    assert back.get_data_dtype() == np.dtype(dtype)
    assert np.asarray(back.dataobj).dtype == np.dtype(dtype)
    np.testing.assert_array_equal(np.asarray(back.dataobj), data)
    np.testing.assert_allclose(back.affine, img.affine, rtol=1e-6)


def test_rgb_round_trip(tmp_path):
    rgb = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1")])
    data = np.zeros((4, 3, 2), rgb)
    for name in "RGB":
        data[name] = RNG.integers(0, 255, data.shape)
    nivox.save(Nifti1Image(data, np.eye(4)), tmp_path / "c.nii.zarr", levels=2)
    back = nivox.load(tmp_path / "c.nii.zarr")
    assert back.get_data_dtype() == rgb
    np.testing.assert_array_equal(np.asarray(back.dataobj), data)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(st.integers(1, 9), min_size=1, max_size=5),
       dtype=st.sampled_from([np.uint8, np.int16, np.float32, np.float64]),
       levels=st.integers(1, 3), chunk=st.integers(1, 5))
def test_hypothesis_round_trip(tmp_path_factory, shape, dtype, levels, chunk):
    folder = tmp_path_factory.mktemp("h")
    data = (RNG.random(shape) * 50).astype(dtype)
    img = Nifti1Image(data, _affine(), dtype=dtype)
    nivox.save(img, folder / "h.nii.zarr", levels=levels, chunks=chunk)
    back = nivox.load(folder / "h.nii.zarr")
    assert back.shape == data.shape
    np.testing.assert_array_equal(np.asarray(back.dataobj), data)
    np.testing.assert_allclose(back.affine, img.affine, rtol=1e-6)
    group = zarr.open_group(str(folder / "h.nii.zarr"), mode="r")
    datasets = group.attrs["ome"]["multiscales"][0]["datasets"]
    assert [d["path"] for d in datasets] == [str(n) for n in range(levels)]
    # levels written slab by slab equal the whole array halved level after level
    from nivox import _zarrstore

    expected = group["0"][...]
    for level in range(1, levels):
        expected = _zarrstore.downsample(expected, _zarrstore.pooled_axes(expected.shape), False)
        np.testing.assert_array_equal(group[str(level)][...], expected)
    index = tuple(slice(None, None, k + 1) for k in range(len(shape)))
    np.testing.assert_array_equal(back.dataobj[index], data[index])


def test_header_fields_kept(tmp_path):
    img, _ = _image((6, 7, 8, 3))
    hdr = img.header
    hdr["descrip"] = b"a description"
    hdr["intent_name"] = b"name"
    hdr.set_dim_info(0, 1, 2)
    hdr["slice_duration"] = 0.1
    hdr.set_qform(_affine(), code="scanner")
    hdr.set_sform(_affine(), code="mni")
    hdr.set_zooms((1.5, 2.0, 2.5, 3.0))
    nivox.save(img, tmp_path / "h.nii.zarr")
    back = nivox.load(tmp_path / "h.nii.zarr")
    for key in ("descrip", "intent_name", "dim_info", "slice_duration", "qform_code", "sform_code",
                "quatern_b", "quatern_c", "quatern_d", "srow_x", "srow_y", "srow_z", "pixdim",
                "xyzt_units", "dim", "datatype", "bitpix"):
        np.testing.assert_array_equal(back.header[key], img.header[key], err_msg=key)
    # what a .nii of the same image would hold, up to the data offset
    nii = Nifti1Image.from_bytes(img.to_bytes())
    assert back.header.binaryblock[:108] == nii.header.binaryblock[:108]


def test_scaling_stored_in_header_applied_by_proxy(tmp_path):
    data = RNG.random((5, 6, 7)) * 1000 - 300
    img = Nifti1Image(data, np.eye(4), dtype=np.int16)
    nivox.save(img, tmp_path / "s.nii.zarr")
    nivox.save(img, tmp_path / "s.nii")
    zimg, nimg = nivox.load(tmp_path / "s.nii.zarr"), nivox.load(tmp_path / "s.nii")
    assert zimg.dataobj.slope == nimg.dataobj.slope and zimg.dataobj.inter == nimg.dataobj.inter
    assert zimg.dataobj.slope != 1.0
    np.testing.assert_array_equal(zimg.get_fdata(), nimg.get_fdata())
    np.testing.assert_array_equal(zimg.dataobj.get_unscaled(), nimg.dataobj.get_unscaled())
    raw = zarr.open_group(str(tmp_path / "s.nii.zarr"), mode="r")["0"]
    assert raw.dtype == np.int16  # the stored values, scaled on reading


def test_scaled_proxy_copied_without_rescaling(tmp_path):
    img = Nifti1Image(np.arange(60, dtype=np.int16).reshape(3, 4, 5), np.eye(4))
    img.header.set_slope_inter(0.25, -2)
    nivox.save(img, tmp_path / "a.nii.gz")
    loaded = nivox.load(tmp_path / "a.nii.gz")
    nivox.save(loaded, tmp_path / "a.nii.zarr")
    back = nivox.load(tmp_path / "a.nii.zarr")
    assert (back.dataobj.slope, back.dataobj.inter) == (0.25, -2)
    np.testing.assert_array_equal(back.dataobj.get_unscaled(), loaded.dataobj.get_unscaled())


def test_nifti2_header_stays_nifti2(tmp_path):
    img, data = _image((4, 5, 6), klass=Nifti2Image)
    nivox.save(img, tmp_path / "n2.nii.zarr")
    back = nivox.load(tmp_path / "n2.nii.zarr")
    assert type(back.header) is Nifti2Header
    raw = np.asarray(zarr.open_group(str(tmp_path / "n2.nii.zarr"), mode="r")["nifti"][...])
    assert raw.size == 540 and int(raw[:4].view("<i4")[0]) == 540
    np.testing.assert_array_equal(np.asarray(back.dataobj), data)


def test_long_axis_needs_nifti2(tmp_path):
    data = np.arange(40000, dtype=np.uint8).reshape(40000, 1, 1)
    nivox.save(Nifti1Image(data, np.eye(4)), tmp_path / "long.nii.zarr", chunks=4096)
    back = nivox.load(tmp_path / "long.nii.zarr")
    assert type(back.header) is Nifti2Header
    np.testing.assert_array_equal(back.dataobj[39990:], data[39990:])


def test_extensions_kept(tmp_path):
    from nivox.nifti1 import Nifti1Extension

    img, _ = _image()
    img.header.extensions.append(Nifti1Extension("comment", b"hello zarr"))
    nivox.save(img, tmp_path / "e.nii.zarr")
    back = nivox.load(tmp_path / "e.nii.zarr")
    assert len(back.header.extensions) == 1
    assert back.header.extensions[0].get_content() == b"hello zarr"


def test_levels_are_halved_means_with_matching_affines(tmp_path):
    data = np.arange(8 * 6 * 4, dtype=np.float32).reshape(8, 6, 4)
    img = Nifti1Image(data, _affine())
    nivox.save(img, tmp_path / "l.nii.zarr", levels=3, chunks=2)
    level1 = nivox.load(tmp_path / "l.nii.zarr", level=1)
    assert level1.shape == (4, 3, 2)
    expected = data.reshape(4, 2, 3, 2, 2, 2).mean(axis=(1, 3, 5))
    np.testing.assert_allclose(np.asarray(level1.dataobj), expected, rtol=1e-6)
    # voxel (0, 0, 0) of level 1 sits at the centre of level-0 voxels 0..1 on each axis
    np.testing.assert_allclose(level1.affine[:3, 3], (_affine() @ [0.5, 0.5, 0.5, 1])[:3])
    np.testing.assert_allclose(level1.affine[:3, :3], _affine()[:3, :3] * 2)
    assert nivox.load(tmp_path / "l.nii.zarr", level=2).shape == (2, 1, 1)
    with pytest.raises(NivoxError, match="no level 3"):
        nivox.load(tmp_path / "l.nii.zarr", level=3)


def test_label_levels_keep_label_values(tmp_path):
    data = np.zeros((4, 4, 4), np.int16)
    data[:3, :3, :3] = 7
    data[3:, 3:, 3:] = 2
    img = Nifti1Image(data, np.eye(4))
    img.header.set_intent("label")
    nivox.save(img, tmp_path / "lab.nii.zarr", levels=2)
    low = np.asarray(nivox.load(tmp_path / "lab.nii.zarr", level=1).dataobj)
    assert set(np.unique(low)) <= {0, 2, 7}
    assert low[0, 0, 0] == 7


def test_more_than_five_dimensions_refused(tmp_path):
    img = Nifti1Image(np.zeros((2, 2, 2, 1, 1, 2), np.uint8), np.eye(4))
    with pytest.raises(ImageFileError, match="1 to 5 dimensions"):
        nivox.save(img, tmp_path / "six.nii.zarr")
    assert not (tmp_path / "six.nii.zarr").exists()


# ---------------------------------------------------------------- laziness


def test_slice_reads_only_chunks_it_touches(tmp_path, monkeypatch):
    data = np.arange(16 * 16 * 16, dtype=np.int16).reshape(16, 16, 16)
    nivox.save(Nifti1Image(data, np.eye(4)), tmp_path / "c.nii.zarr", chunks=4)
    img = nivox.load(tmp_path / "c.nii.zarr")
    keys = []
    original = zarr.storage.LocalStore.get

    async def counting_get(self, key, *args, **kwargs):
        keys.append(key)
        return await original(self, key, *args, **kwargs)

    monkeypatch.setattr(zarr.storage.LocalStore, "get", counting_get)
    np.testing.assert_array_equal(img.dataobj[5, 0:4, 2:6], data[5, 0:4, 2:6])
    chunk_keys = [k for k in keys if "c/" in k]
    # x=5 in chunk 1, y 0:4 in chunk 0, z 2:6 in chunks 0 and 1 (Zarr order z, y, x)
    assert sorted(chunk_keys) == ["0/c/0/0/1", "0/c/1/0/1"], keys
    assert img.dataobj is not None and not img.in_memory


def test_volume_list_reads_only_the_span_of_volumes(tmp_path, monkeypatch):
    data = np.arange(4 * 4 * 4 * 6, dtype=np.int16).reshape(4, 4, 4, 6)
    nivox.save(Nifti1Image(data, np.eye(4)), tmp_path / "v.nii.zarr", chunks=4)
    img = nivox.load(tmp_path / "v.nii.zarr")
    keys = []
    original = zarr.storage.LocalStore.get

    async def counting_get(self, key, *args, **kwargs):
        keys.append(key)
        return await original(self, key, *args, **kwargs)

    monkeypatch.setattr(zarr.storage.LocalStore, "get", counting_get)
    for index in [(Ellipsis, [3, 1]), (slice(None), slice(1, 3), slice(None), [-3, 1])]:
        keys.clear()
        np.testing.assert_array_equal(img.dataobj[index], data[index])
        volumes = {int(k.split("/")[2]) for k in keys if "c/" in k}
        assert volumes == {1, 2, 3}, keys
    # other fancy indices are applied to the whole array, still correctly
    mask = np.zeros(6, bool)
    mask[[0, 5]] = True
    np.testing.assert_array_equal(img.dataobj[..., mask], data[..., mask])
    np.testing.assert_array_equal(img.dataobj[[0, 1], :, [2, 3]], data[[0, 1], :, [2, 3]])
    with pytest.raises(IndexError):
        img.dataobj[..., [6]]


def test_proxy_pickles_by_reference(tmp_path):
    img, data = _image((20, 20, 20), np.float64)
    nivox.save(img, tmp_path / "p.nii.zarr")
    proxy = nivox.load(tmp_path / "p.nii.zarr").dataobj
    payload = pickle.dumps(proxy)
    assert len(payload) < 1000 < data.nbytes
    np.testing.assert_array_equal(pickle.loads(payload)[3], data[3])
    assert isinstance(pickle.loads(payload), NiftiZarrProxy)


def test_to_dask_chunks_follow_zarr_chunks(tmp_path):
    pytest.importorskip("dask")
    img, data = _image((10, 9, 8, 3), np.float32)
    nivox.save(img, tmp_path / "d.nii.zarr", chunks=(4, 5, 8))
    arr = nivox.to_dask(nivox.load(tmp_path / "d.nii.zarr"))
    assert arr.chunks == ((4, 4, 2), (5, 4), (8,), (1, 1, 1))
    np.testing.assert_array_equal(arr.compute(), data)


# ---------------------------------------------------------------- where stores live


def test_memory_and_file_urls(tmp_path):
    pytest.importorskip("fsspec")
    img, data = _image((5, 6, 7, 2))
    nivox.save(img, "memory://nivox-tests/m.nii.zarr")
    back = nivox.load("memory://nivox-tests/m.nii.zarr")
    assert back.get_filename() == "memory://nivox-tests/m.nii.zarr"
    np.testing.assert_array_equal(back.dataobj[..., 1], data[..., 1])
    again = pickle.loads(pickle.dumps(back.dataobj))
    np.testing.assert_array_equal(np.asarray(again), data)
    if pytest.importorskip("dask"):
        np.testing.assert_array_equal(nivox.to_dask(back).compute(), data)
    url = (tmp_path / "f.nii.zarr").as_uri()
    nivox.save(img, url)
    assert (tmp_path / "f.nii.zarr" / "zarr.json").is_file()
    np.testing.assert_array_equal(np.asarray(nivox.load(url).dataobj), data)


def test_url_save_replaces_and_failed_save_leaves_no_image(monkeypatch):
    fsspec = pytest.importorskip("fsspec")
    from nivox import _zarrstore

    url = "memory://nivox-tests/replace.nii.zarr"
    img, _ = _image((4, 4, 4))
    nivox.save(img, url, levels=2)
    nivox.save(img, url)
    fs = fsspec.filesystem("memory")
    assert sorted(p.rsplit("/", 1)[1] for p in fs.ls("/nivox-tests/replace.nii.zarr", detail=False)) \
        == ["0", "nifti", "zarr.json"]

    def broken(*args, **kwargs):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(_zarrstore, "downsample", broken)
    with pytest.raises(RuntimeError):
        nivox.save(img, url, levels=2)
    with pytest.raises(ImageFileError, match="replace.nii.zarr.*multiscales"):
        nivox.load(url)  # the OME metadata comes last: no half-written image


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def http_folder(tmp_path):
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_store(http_folder):
    pytest.importorskip("aiohttp")
    folder, base = http_folder
    img, data = _image((9, 8, 7, 2), np.float32)
    nivox.save(img, folder / "web.nii.zarr", levels=2, chunks=4)
    remote = nivox.load(f"{base}/web.nii.zarr")
    np.testing.assert_allclose(remote.affine, img.affine, rtol=1e-6)
    np.testing.assert_array_equal(remote.dataobj[2:5, :, 3, 1], data[2:5, :, 3, 1])
    assert nivox.load(f"{base}/web.nii.zarr", level=1).shape == (4, 4, 3, 2)
    with pytest.raises(NivoxError, match="missing.nii.zarr"):
        nivox.load(f"{base}/missing.nii.zarr")


def test_s3_store_on_a_local_moto_server():
    pytest.importorskip("s3fs")
    boto3 = pytest.importorskip("boto3")
    moto_server = pytest.importorskip("moto.server")
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="k", aws_secret_access_key="s",
                     region_name="us-east-1").create_bucket(Bucket="bucket")
        options = {"key": "k", "secret": "s",
                   "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"}}
        img, data = _image((5, 6, 7, 2))
        nivox.save(img, "s3://bucket/sub-01.nii.zarr", storage_options=options, levels=2)
        back = nivox.load("s3://bucket/sub-01.nii.zarr", storage_options=options)
        np.testing.assert_array_equal(back.dataobj[..., 1], data[..., 1])
        np.testing.assert_allclose(back.affine, img.affine, rtol=1e-6)
        again = pickle.loads(pickle.dumps(back.dataobj))  # carries the storage options
        np.testing.assert_array_equal(np.asarray(again), data)
        with pytest.raises(NivoxError, match="s3://bucket/none.nii.zarr"):
            nivox.load("s3://bucket/none.nii.zarr", storage_options=options)
    finally:
        server.stop()


# ---------------------------------------------------------------- atomic saves


def test_save_over_existing_store_replaces_it(tmp_path):
    target = tmp_path / "r.nii.zarr"
    first, _ = _image((4, 4, 4))
    nivox.save(first, target, levels=2)
    second, data = _image((3, 3, 3), np.float32)
    nivox.save(second, target)
    back = nivox.load(target)
    np.testing.assert_array_equal(np.asarray(back.dataobj), data)
    assert not (target / "1").exists()  # the old store's level 1 went with it
    assert [p.name for p in tmp_path.iterdir()] == ["r.nii.zarr"]


def test_failed_save_leaves_old_store(tmp_path, monkeypatch):
    from nivox import _zarrstore

    target = tmp_path / "k.nii.zarr"
    old, data = _image((4, 4, 4))
    nivox.save(old, target)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(_zarrstore, "downsample", broken)
    new, _ = _image((4, 4, 4), np.float32)
    with pytest.raises(RuntimeError, match="disk full"):
        nivox.save(new, target, levels=2)
    np.testing.assert_array_equal(np.asarray(nivox.load(target).dataobj), data)
    assert [p.name for p in tmp_path.iterdir()] == ["k.nii.zarr"]


def test_save_through_own_proxy(tmp_path):
    target = tmp_path / "o.nii.zarr"
    img, data = _image((5, 5, 5))
    nivox.save(img, target)
    loaded = nivox.load(target)
    nivox.save(loaded, target, levels=2)
    np.testing.assert_array_equal(np.asarray(nivox.load(target).dataobj), data)


# ---------------------------------------------------------------- hostile stores


def _store(tmp_path, name="bad.nii.zarr"):
    img, _ = _image((4, 4, 4))
    path = tmp_path / name
    nivox.save(img, path, chunks=2)
    return path


def _edit_json(path, change):
    meta = json.loads(path.read_text())
    change(meta)
    path.write_text(json.dumps(meta))


def test_missing_store(tmp_path):
    with pytest.raises(ImageFileNotFoundError, match="nope.nii.zarr"):
        nivox.load(tmp_path / "nope.nii.zarr")
    (tmp_path / "empty.nii.zarr").mkdir()
    with pytest.raises(NivoxError, match="empty.nii.zarr"):
        nivox.load(tmp_path / "empty.nii.zarr")


@pytest.mark.parametrize("damage", ["garbage-json", "no-multiscales", "bad-axes", "escaping-path",
                                    "short-nifti", "huge-nifti", "nifti-not-header",
                                    "shape-mismatch", "huge-shape", "huge-chunks", "missing-level",
                                    "few-axes"])
def test_hostile_store_gives_named_error(tmp_path, damage):
    path = _store(tmp_path)
    group_json = path / "zarr.json"
    ms = lambda meta: meta["attributes"]["ome"]["multiscales"][0]
    if damage == "garbage-json":
        group_json.write_text("{not json")
    elif damage == "no-multiscales":
        _edit_json(group_json, lambda m: m["attributes"].pop("ome"))
    elif damage == "bad-axes":
        _edit_json(group_json, lambda m: ms(m).__setitem__("axes", [{"name": "q"}] * 3))
    elif damage == "escaping-path":
        _edit_json(group_json, lambda m: ms(m)["datasets"][0].__setitem__("path", "../../etc"))
    elif damage == "short-nifti":
        _edit_json(path / "nifti" / "zarr.json", lambda m: m.update(shape=[100], chunk_grid={
            "name": "regular", "configuration": {"chunk_shape": [100]}}))
    elif damage == "huge-nifti":
        _edit_json(path / "nifti" / "zarr.json", lambda m: m.update(shape=[2**40], chunk_grid={
            "name": "regular", "configuration": {"chunk_shape": [2**40]}}))
    elif damage == "nifti-not-header":
        zarr.open_array(str(path / "nifti"), mode="r+")[:4] = np.frombuffer(b"XXXX", np.uint8)
    elif damage == "shape-mismatch":
        _edit_json(path / "0" / "zarr.json", lambda m: m.update(shape=[4, 4, 5]))
    elif damage == "huge-shape":
        _edit_json(path / "0" / "zarr.json", lambda m: m.update(shape=[2**40, 2**40, 2**40]))
    elif damage == "huge-chunks":
        _edit_json(path / "0" / "zarr.json", lambda m: m["chunk_grid"]["configuration"].update(
            chunk_shape=[2**20, 2**20, 2**20]))
    elif damage == "missing-level":
        shutil.rmtree(path / "0")
    elif damage == "few-axes":
        _edit_json(group_json, lambda m: ms(m).__setitem__("axes", ms(m)["axes"][:2]))
    with pytest.raises(NivoxError) as info:
        nivox.load(path)
    assert "bad.nii.zarr" in str(info.value)
    assert isinstance(info.value, ValueError | OSError)


def test_huge_level_claimed_by_lower_level_is_not_allocated(tmp_path):
    path = _store(tmp_path)
    nivox.save(nivox.load(path), path, levels=2)
    _edit_json(path / "1" / "zarr.json", lambda m: m.update(shape=[2**21, 2**21, 2**21]))
    img = nivox.load(path, level=1)  # lazy: nothing read yet
    with pytest.raises(NivoxError, match="bad.nii.zarr"):
        np.asarray(img.dataobj)


def test_zarr_imported_only_when_used():
    import subprocess
    import sys

    code = ("import sys, nivox; nivox.NiftiZarrImage; import nivox.niftizarr, nivox._niftizarr_write; "
            "print('zarr' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.stdout.strip() == "False"


def test_missing_zarr_names_the_extra(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "zarr", None)
    img, _ = _image()
    with pytest.raises(MissingDependencyError, match=r"nivox\[zarr\]"):
        nivox.save(img, tmp_path / "z.nii.zarr")


# ---------------------------------------------------------------- command line


def test_convert_both_ways(tmp_path):
    from nivox.cli.convert import convert

    img, data = _image((6, 7, 8, 2), np.float32)
    nivox.save(img, tmp_path / "in.nii.gz")
    convert(str(tmp_path / "in.nii.gz"), str(tmp_path / "mid.nii.zarr"), levels=2)
    assert (tmp_path / "mid.nii.zarr" / "1").is_dir()
    convert(str(tmp_path / "mid.nii.zarr"), str(tmp_path / "out.nii.gz"))
    out = nivox.load(tmp_path / "out.nii.gz")
    np.testing.assert_array_equal(out.get_fdata(), data)
    np.testing.assert_allclose(out.affine, img.affine, rtol=1e-6)
    with pytest.warns(NivoxWarning, match="rescaled"):
        convert(str(tmp_path / "in.nii.gz"), str(tmp_path / "i16.nii.zarr"), dtype=np.dtype("int16"))
    narrowed = nivox.load(tmp_path / "i16.nii.zarr")
    assert narrowed.get_data_dtype() == np.int16 and narrowed.dataobj.slope != 1
    np.testing.assert_allclose(narrowed.get_fdata(), data, atol=narrowed.dataobj.slope)


def test_convert_command_and_progress(tmp_path, monkeypatch):
    from nivox.cli import convert as convert_module
    from nivox.cli.main import main

    img, _ = _image((64, 64, 40, 2), np.int16)
    nivox.save(img, tmp_path / "in.nii.gz")
    seen = []

    class Recorder(convert_module.Progress):
        def advance(self, steps=1, label=None):
            super().advance(steps, label)
            seen.append((self.done, self.total))

    monkeypatch.setattr(convert_module, "Progress", Recorder)
    assert main(["convert", str(tmp_path / "in.nii.gz"), str(tmp_path / "c.nii.zarr")]) == 0
    assert seen and seen[-1][0] == seen[-1][1] == 2  # one slab of 64 planes per volume
    assert main(["convert", str(tmp_path / "in.nii.gz"), str(tmp_path / "c.nii.zarr")]) != 0
    assert main(["convert", "--force", str(tmp_path / "in.nii.gz"), str(tmp_path / "c.nii.zarr")]) == 0


def test_other_commands_take_a_store(tmp_path, capsys):
    from nivox.cli.main import main

    img, _ = _image((6, 7, 8))
    img.header.set_slope_inter(2.0, 1.0)
    nivox.save(img, tmp_path / "s.nii.zarr")
    assert main(["header", str(tmp_path / "s.nii.zarr")]) == 0
    out = capsys.readouterr().out
    assert "scl_slope" in out and "2.0" in out  # the stored header, scaling included
    assert main(["ls", str(tmp_path / "s.nii.zarr")]) == 0
    assert "NiftiZarrImage" in capsys.readouterr().out
    assert main(["ls", str(tmp_path)]) == 0  # a folder holding a store lists the store
    assert "s.nii.zarr" in capsys.readouterr().out


# ---------------------------------------------------------------- interoperability


@pytest.mark.parametrize("zarr_format", [3, 2])
def test_reference_reads_ours(tmp_path, zarr_format):
    niizarr = pytest.importorskip("niizarr")
    img, _ = _image((10, 9, 8, 2), np.int16)
    img.header.set_qform(_affine(), code="scanner")
    img.header["descrip"] = b"from nivox"
    nivox.save(img, tmp_path / "ours.nii.zarr", levels=2, zarr_format=zarr_format)
    group = zarr.open_group(str(tmp_path / "ours.nii.zarr"), mode="r")
    assert group.metadata.zarr_format == zarr_format
    if zarr_format == 2:
        assert group.attrs["multiscales"][0]["version"] == "0.4"
        assert (tmp_path / "ours.nii.zarr" / "0" / "0" / "0" / "0" / "0").is_file()  # nested chunks
        models = pytest.importorskip("ome_zarr_models")
        assert type(models.open_ome_zarr(group)).__name__ == "Image"
    theirs = niizarr.zarr2nii(str(tmp_path / "ours.nii.zarr"))
    ours = nivox.load(tmp_path / "ours.nii.zarr")
    assert bytes(theirs.header.binaryblock) == bytes(ours.header.binaryblock)
    np.testing.assert_allclose(theirs.header.get_best_affine(), ours.affine)
    np.testing.assert_array_equal(np.asarray(theirs.dataobj), np.asarray(ours.dataobj))
    low = niizarr.zarr2nii(str(tmp_path / "ours.nii.zarr"), level=1)
    ours_low = nivox.load(tmp_path / "ours.nii.zarr", level=1)
    np.testing.assert_allclose(low.header.get_best_affine(), ours_low.affine, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(low.dataobj), np.asarray(ours_low.dataobj))


@pytest.mark.parametrize("zarr_version", [2, 3])
def test_we_read_the_reference(tmp_path, zarr_version):
    niizarr = pytest.importorskip("niizarr")
    nib = pytest.importorskip("nibabel")
    data = (RNG.random((12, 10, 9, 2)) * 1000).astype(np.int16)
    source = nib.Nifti1Image(data, _affine())
    source.header.set_qform(_affine(), code=1)
    source.header.set_slope_inter(2.0, -5.0)
    nib.save(source, tmp_path / "src.nii")
    source = nib.load(tmp_path / "src.nii")
    niizarr.nii2zarr(source, str(tmp_path / "theirs.nii.zarr"), chunk=4, nb_levels=2,
                     zarr_version=zarr_version)
    ours = nivox.load(tmp_path / "theirs.nii.zarr")
    theirs = niizarr.zarr2nii(str(tmp_path / "theirs.nii.zarr"))
    np.testing.assert_allclose(ours.affine, source.affine, rtol=1e-6)
    np.testing.assert_array_equal(ours.get_fdata(), source.get_fdata())
    assert (ours.dataobj.slope, ours.dataobj.inter) == (2.0, -5.0)
    for key in ("dim", "pixdim", "qform_code", "sform_code", "srow_x", "descrip", "xyzt_units"):
        np.testing.assert_array_equal(ours.header[key], source.header[key], err_msg=key)
    low = nivox.load(tmp_path / "theirs.nii.zarr", level=1)
    their_low = niizarr.zarr2nii(str(tmp_path / "theirs.nii.zarr"), level=1)
    np.testing.assert_allclose(low.affine, their_low.header.get_best_affine(), atol=1e-5)
    # the reference gives lower levels as stored values beside the header's scaling
    np.testing.assert_array_equal(low.dataobj.get_unscaled(), np.asarray(their_low.dataobj))
    assert theirs.shape == ours.shape


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_plain_ome_zarr_gets_a_header_from_ome(tmp_path, zarr_format):
    data = (RNG.random((2, 5, 6, 7)) * 100).astype(np.uint16)  # c, z, y, x
    path = tmp_path / "plain.ome.zarr"
    group = zarr.open_group(str(path), mode="w", zarr_format=zarr_format)
    group.create_array("0", shape=data.shape, dtype=data.dtype, chunks=(1, 3, 3, 3))[...] = data
    axes = [{"name": "c", "type": "channel"}] + [
        {"name": n, "type": "space", "unit": "micrometer"} for n in "zyx"]
    entry = {"axes": axes, "datasets": [{"path": "0", "coordinateTransformations": [
        {"type": "scale", "scale": [1.0, 3.0, 2.0, 0.5]},
        {"type": "translation", "translation": [0.0, 10.0, 20.0, 30.0]}]}]}
    if zarr_format == 3:
        group.attrs["ome"] = {"version": "0.5", "multiscales": [entry]}
    else:
        group.attrs["multiscales"] = [dict(entry, version="0.4")]
    img = nivox.load(path)
    assert img.shape == (7, 6, 5, 1, 2)  # x, y, z, t, c
    np.testing.assert_array_equal(np.asarray(img.dataobj), data.transpose(3, 2, 1, 0)[:, :, :, None, :])
    expected = np.array([[0.5, 0, 0, 30], [0, 2, 0, 20], [0, 0, 3, 10], [0, 0, 0, 1]])
    np.testing.assert_allclose(img.affine, expected)
    assert img.header.get_xyzt_units()[0] == "micron"
    nivox.save(img, tmp_path / "now.nii.zarr")  # and it becomes a NIfTI-Zarr store
    np.testing.assert_array_equal(np.asarray(nivox.load(tmp_path / "now.nii.zarr").dataobj),
                                  np.asarray(img.dataobj))


def test_ome_metadata_valid_for_zarr_and_ome_tools(tmp_path):
    img, data = _image((10, 9, 8, 3), np.float32)
    img.header.set_zooms((1.5, 2.0, 2.5, 0.8))
    nivox.save(img, tmp_path / "o.nii.zarr", levels=2)
    group = zarr.open_group(str(tmp_path / "o.nii.zarr"), mode="r")
    assert group.metadata.zarr_format == 3
    ome = group.attrs["ome"]
    assert ome["version"] == "0.5"
    entry = ome["multiscales"][0]
    assert [a["name"] for a in entry["axes"]] == ["t", "z", "y", "x"]
    assert entry["axes"][1]["unit"] == "millimeter" and entry["axes"][0]["unit"] == "second"
    assert entry["datasets"][0]["coordinateTransformations"][0]["scale"] == [1.0, 2.5, 2.0, 1.5]
    assert entry["coordinateTransformations"][0]["scale"][0] == pytest.approx(0.8)
    level0 = group["0"]
    assert level0.shape == (3, 8, 9, 10) and level0.metadata.dimension_names == ("t", "z", "y", "x")
    np.testing.assert_array_equal(level0[...], data.transpose(3, 2, 1, 0))
    header = group["nifti"]
    assert header.dtype == np.uint8 and header.shape == (348,) and header.chunks == (348,)
    assert header.attrs["NIIFormat"] == "n+1" and header.attrs["Dim"] == [10, 9, 8, 3]
    models = pytest.importorskip("ome_zarr_models")
    opened = models.open_ome_zarr(group)
    assert type(opened).__name__ == "Image"


@pytest.mark.skipif(not os.environ.get("NIVOX_CORPUS"), reason="NIVOX_CORPUS not set")
def test_corpus_differential_against_nibabel(tmp_path):
    nib = pytest.importorskip("nibabel")
    corpus = os.environ["NIVOX_CORPUS"]
    names = sorted(os.path.join(folder, n) for folder, _, files in os.walk(corpus) for n in files
                   if n.endswith((".nii", ".nii.gz")) and os.path.getsize(os.path.join(folder, n)) < 8e6)
    assert names, "no NIfTI files in the corpus"
    checked = 0
    for path in names[::max(1, len(names) // 15)]:
        name = os.path.relpath(path, corpus)
        try:
            reference = nib.load(path)
        except (OSError, ValueError, EOFError, nib.filebasedimages.ImageFileError):  # not for nibabel
            continue
        if len(reference.shape) > 5:
            continue
        target = tmp_path / f"{checked}.nii.zarr"
        nivox.save(nivox.load(path), target)
        ours = nivox.load(target)
        np.testing.assert_allclose(ours.affine, reference.affine, rtol=1e-6, atol=1e-6, err_msg=name)
        for key in ("dim", "pixdim", "datatype", "qform_code", "sform_code", "xyzt_units",
                    "intent_code", "descrip"):
            np.testing.assert_array_equal(ours.header[key], reference.header[key], err_msg=f"{name} {key}")
        np.testing.assert_array_equal(ours.get_fdata(), reference.get_fdata(), err_msg=name)
        checked += 1
    assert checked >= 10, checked
