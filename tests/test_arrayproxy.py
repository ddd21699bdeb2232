"""ArrayProxy: nibabel's proxy API and dtypes, fewer bytes and less memory."""

import copy
import gzip
import io
import os
import pickle
import threading
import tracemalloc
import warnings

import numpy as np
import pytest

import nivox.arrayproxy as arrayproxy_module
from nivox._codecs import backends
from nivox._codecs import gzip as nvgzip
from nivox.arrayproxy import (
    ArrayLike,
    ArrayProxy,
    get_obj_dtype,
    is_proxy,
    reshape_dataobj,
    scaled_dtype,
)
from nivox.errors import CorruptStreamError, ImageFileNotFoundError, TruncatedDataError
from nivox.openers import Opener

OFFSET = 32
SHAPE = (6, 7, 8)


def _write(path, arr, order="F", offset=OFFSET):
    data = b"\0" * offset + arr.tobytes(order=order)
    if str(path).endswith((".gz", ".mgz", ".bz2", ".zst")):
        with Opener(path, "wb") as out:
            out.write(data)
    else:
        path.write_bytes(data)
    return path


@pytest.fixture
def int16_data():
    return np.arange(np.prod(SHAPE), dtype="<i2").reshape(SHAPE, order="F") - 100


@pytest.fixture(params=["plain", "gzip"])
def data_file(request, tmp_path, int16_data):
    name = "data.img" if request.param == "plain" else "data.img.gz"
    return _write(tmp_path / name, int16_data)


class Header:
    def __init__(self, shape, dtype, offset, slope=None, inter=None):
        self.values = shape, dtype, offset, slope, inter

    def get_data_shape(self):
        return self.values[0]

    def get_data_dtype(self):
        return np.dtype(self.values[1])

    def get_data_offset(self):
        return self.values[2]

    def get_slope_inter(self):
        return self.values[3:]


# ---------------------------------------------------------------- description


def test_spec_tuple_and_header_give_the_same_proxy(data_file, int16_data):
    from_tuple = ArrayProxy(data_file, (SHAPE, "<i2", OFFSET, 2.0, 1.0))
    from_header = ArrayProxy(data_file, Header(SHAPE, "<i2", OFFSET, 2.0, 1.0))
    for proxy in (from_tuple, from_header):
        assert proxy.shape == SHAPE and proxy.ndim == 3 and proxy.dtype == np.dtype("<i2")
        assert proxy.offset == OFFSET and proxy.slope == 2.0 and proxy.inter == 1.0
        assert proxy.is_proxy and is_proxy(proxy) and proxy.order == "F"
        assert proxy.file_like == data_file and isinstance(proxy, ArrayLike)
        assert proxy.is_compressed == str(data_file).endswith(".gz")
        assert np.array_equal(np.asarray(proxy), int16_data * 2.0 + 1.0)


def test_spec_defaults():
    proxy = ArrayProxy("x.img", (SHAPE, np.float32))
    assert (proxy.offset, proxy.slope, proxy.inter) == (0, 1.0, 0.0)
    proxy = ArrayProxy("x.img", Header(SHAPE, "f4", 10))
    assert (proxy.slope, proxy.inter) == (1.0, 0.0)
    assert ArrayProxy._default_order == "F" and ArrayProxy("x", (SHAPE, "f4"), order="C").order == "C"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"mmap": "w+"}, "mmap"), ({"mmap": "r+"}, "mmap"), ({"order": "A"}, "order"), ({"keep_file_open": "auto"}, "keep_file_open")],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ArrayProxy("x.img", (SHAPE, "f4"), **kwargs)
    with pytest.raises(TypeError, match="spec"):
        ArrayProxy("x.img", [SHAPE, "f4"])


# ---------------------------------------------------------------- reading


def test_unscaled_reads(data_file, int16_data):
    proxy = ArrayProxy(data_file, (SHAPE, "<i2", OFFSET))
    for arr in (np.asarray(proxy), proxy.get_unscaled(), proxy[...], proxy[:]):
        assert arr.dtype == np.dtype("<i2") and np.array_equal(arr, int16_data)
    assert np.asarray(proxy).flags.f_contiguous


@pytest.mark.parametrize(
    "index",
    [(), (1,), (Ellipsis, 3), (slice(None), slice(2, 5), slice(None, None, -3)), (1, 2, 3), ([0, 5, 2],), (None, 4, Ellipsis, None), (Ellipsis, np.arange(8) % 2 == 0)],
)
@pytest.mark.parametrize("mmap", [True, False])
def test_indexing_matches_numpy(data_file, int16_data, index, mmap):
    proxy = ArrayProxy(data_file, (SHAPE, "<i2", OFFSET, 0.5, -3.0), mmap=mmap)
    expected = np.asarray(int16_data * 0.5 - 3.0)[index]
    got = proxy[index]
    assert isinstance(got, np.ndarray) and got.shape == np.shape(expected) and got.dtype == np.float64
    assert np.array_equal(got, expected)


def test_all_integer_index_gives_native_0d_array(tmp_path, int16_data):
    path = _write(tmp_path / "big.img", int16_data.astype(">i2"))
    proxy = ArrayProxy(path, (SHAPE, ">i2", OFFSET), mmap=False)
    voxel = proxy[1, 2, 3]
    assert isinstance(voxel, np.ndarray) and voxel.shape == () and voxel.dtype == np.int16
    assert voxel == int16_data[1, 2, 3]
    assert proxy[1:3, 2, 3].dtype == np.dtype(">i2")  # like nibabel: stored byte order kept


def test_memory_mapping(tmp_path, int16_data):
    path = _write(tmp_path / "data.img", int16_data)
    spec = (SHAPE, "<i2", OFFSET)
    mapped = ArrayProxy(path, spec).get_unscaled()
    assert isinstance(mapped, np.memmap) and mapped.mode == "c" and mapped.flags.writeable
    readonly = ArrayProxy(path, spec, mmap="r").get_unscaled()
    assert isinstance(readonly, np.memmap) and not readonly.flags.writeable
    assert isinstance(ArrayProxy(path, spec)[..., 2], np.memmap)  # slices are views of the map
    in_memory = ArrayProxy(path, spec, mmap=False).get_unscaled()
    assert not isinstance(in_memory, np.memmap) and in_memory.flags.writeable
    copied = ArrayProxy(path, spec).__array__(copy=True)
    assert not isinstance(copied, np.memmap) and np.array_equal(copied, int16_data)
    gz = _write(tmp_path / "data.img.gz", int16_data)
    assert not isinstance(ArrayProxy(gz, spec).get_unscaled(), np.memmap)


def test_file_objects(int16_data):
    stream = io.BytesIO(b"\0" * OFFSET + int16_data.tobytes(order="F"))
    proxy = ArrayProxy(stream, (SHAPE, "<i2", OFFSET, 2.0, 0.0))
    assert np.array_equal(proxy[2], int16_data[2] * 2.0) and np.array_equal(np.asarray(proxy), int16_data * 2.0)
    assert not stream.closed


def test_c_order(tmp_path):
    arr = np.arange(60, dtype="<f8").reshape((3, 4, 5))
    path = _write(tmp_path / "c.img", arr, order="C")
    proxy = ArrayProxy(path, ((3, 4, 5), "<f8", OFFSET), order="C", mmap=False)
    assert np.array_equal(np.asarray(proxy), arr) and np.array_equal(proxy[:, 1], arr[:, 1])


def test_zero_size_arrays(tmp_path):
    path = tmp_path / "empty.img"
    path.write_bytes(b"\0" * OFFSET)
    for mmap in (True, False):
        proxy = ArrayProxy(path, ((0, 3), "<f4", OFFSET, 2.0, 0.0), mmap=mmap)
        assert np.asarray(proxy).shape == (0, 3) and proxy[:, 1].shape == (0,)


# ---------------------------------------------------------------- scaling


def _nib_proxy(*args, **kwargs):
    nib_arrayproxy = pytest.importorskip("nibabel.arrayproxy")
    return nib_arrayproxy.ArrayProxy(*args, **kwargs)


SCALINGS = [
    (1.0, 0.0),
    (2.0, 0.0),
    (0.5, 1.25),
    (1.0, 3.0),
    (0.1, -7.3),
    (np.float32(0.1), np.float32(0.3)),
    (np.float32(2.0), 0.0),
    (np.float64(0.3), np.float32(7)),
    (2, 1),
    (np.int16(3), np.int8(2)),
    (None, None),
]


@pytest.mark.parametrize("dtype", ["i1", "u1", "<i2", ">i2", "u2", "<i4", "i8", "f2", "<f4", ">f4", "f8", "c8"])
@pytest.mark.parametrize(("slope", "inter"), SCALINGS)
def test_scaled_dtypes_and_values_match_nibabel(tmp_path, dtype, slope, inter):
    rng = np.random.default_rng(0)
    raw = (rng.random(SHAPE) * 100 - (0 if np.dtype(dtype).kind == "u" else 50)).astype(dtype)
    path = _write(tmp_path / "d.img", raw)
    spec = (SHAPE, dtype, OFFSET) + (() if slope is None else (slope, inter))
    ours, theirs = ArrayProxy(path, spec, mmap=False), _nib_proxy(str(path), spec, mmap=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # overflow in casts to int16, as both do
        for want in (None, np.float32, np.float64, np.int16):
            got, expected = np.asarray(ours, dtype=want), np.asarray(theirs, dtype=want)
            assert got.dtype == expected.dtype and np.array_equal(got, expected)
        assert ours[2:4, ::-1].dtype == theirs[2:4, ::-1].dtype
        assert np.array_equal(ours[2:4, ::-1], theirs[2:4, ::-1])
    assert get_obj_dtype(ours) == np.asarray(theirs).dtype


def test_scaled_dtype_rules():
    assert scaled_dtype("<i2", 1.0, 0.0) == np.dtype("<i2")
    assert scaled_dtype(">i2", 2.0, 0.0) == np.float64
    assert scaled_dtype("<i2", np.float32(2), np.float32(1)) == np.float32
    assert scaled_dtype("<i4", np.float32(2), 0.0) == np.float64  # float32 cannot hold int32
    assert scaled_dtype("<i2", np.float16(300), 0.0) == np.float32  # float16 would overflow
    assert scaled_dtype("c8", 2.0, 0.0) == np.complex128


def _gz_variants(tmp_path, raw):
    """The same array as a member-layout .gz (nivox's) and a single-stream .gz (other tools')."""
    members = _write(tmp_path / "members.img.gz", raw)
    single = tmp_path / "single.img.gz"
    single.write_bytes(gzip.compress(b"\0" * OFFSET + raw.tobytes(order="F"), 6))
    return [members, single]


@pytest.mark.parametrize("backend", ["auto", "stdlib"])
def test_float32_from_int16_builds_no_float64_array(tmp_path, monkeypatch, backend):
    monkeypatch.setattr(nvgzip, "MEMBER_SIZE", 256 << 10)
    shape = (96, 96, 96)
    raw = (np.arange(np.prod(shape)) % 3000).astype("<i2").reshape(shape, order="F")
    path = _write(tmp_path / "big.img", raw)
    expected = (raw * 0.37 + 11.5).astype(np.float32)  # nibabel's arithmetic, in float64
    out_bytes = raw.size * 4
    threads = os.cpu_count() or 1
    with backends.use_backend(backend):
        for name in (path, *_gz_variants(tmp_path, raw)):
            for mmap in (True, False):
                nvgzip.clear_index_cache()
                proxy = ArrayProxy(name, (shape, "<i2", OFFSET, 0.37, 11.5), mmap=mmap)
                tracemalloc.start()
                got = np.asarray(proxy, dtype=np.float32)
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                assert got.dtype == np.float32 and np.array_equal(got, expected)
                # the result plus fixed-size buffers; the raw int16 data (1.7 MB) lives
                # in the result's memory, and a float64 copy would add 7 MB. Members
                # decompress on each thread into a member-sized buffer.
                extra = 1_000_000 + (threads * 2 * (256 << 10) if "members" in str(name) else 0)
                assert peak < out_bytes + extra, (name, mmap, peak - out_bytes)


def test_unscaled_gz_read_is_one_buffer(tmp_path):
    shape = (64, 64, 64)
    raw = (np.arange(np.prod(shape)) % 3000).astype("<i2").reshape(shape, order="F")
    for name in _gz_variants(tmp_path, raw):
        nvgzip.clear_index_cache()
        proxy = ArrayProxy(name, (shape, "<i2", OFFSET))
        tracemalloc.start()
        got = np.asarray(proxy)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert np.array_equal(got, raw) and got.flags.writeable and got.flags.f_contiguous
        assert peak < raw.nbytes + 1_500_000, (name, peak - raw.nbytes)


def test_gz_volumes_in_order_match_and_decompress_once(tmp_path, inflated):
    shape = (40, 40, 30, 12)
    raw = (np.arange(np.prod(shape)) % 777).astype("<i2").reshape(shape, order="F")
    single = _gz_variants(tmp_path, raw)[1]
    proxy = ArrayProxy(single, (shape, "<i2", OFFSET, 2.0, 1.0))
    for index in range(shape[-1]):
        assert np.array_equal(proxy[..., index], raw[..., index] * 2.0 + 1.0)
    assert sum(inflated) == OFFSET + raw.nbytes


def test_scaling_in_place_for_same_itemsize(tmp_path):
    raw = np.arange(1000, dtype=">f8")
    path = _write(tmp_path / "f.img", raw)
    proxy = ArrayProxy(path, ((1000,), ">f8", OFFSET, 3.0, 1.0), mmap=False)
    got = np.asarray(proxy)
    assert got.dtype == np.float64 and np.array_equal(got, raw * 3.0 + 1.0)


# ---------------------------------------------------------------- file handles


def test_keep_file_open_default_is_read_when_created(tmp_path, monkeypatch, int16_data):
    path = _write(tmp_path / "d.img", int16_data)
    monkeypatch.setattr(arrayproxy_module, "KEEP_FILE_OPEN_DEFAULT", True)
    kept = ArrayProxy(path, (SHAPE, "<i2", OFFSET), mmap=False)
    monkeypatch.setattr(arrayproxy_module, "KEEP_FILE_OPEN_DEFAULT", False)
    fresh = ArrayProxy(path, (SHAPE, "<i2", OFFSET), mmap=False)
    kept[0]
    fresh[0]
    assert kept._shared.opener is not None and fresh._shared.opener is None
    monkeypatch.setattr(arrayproxy_module, "KEEP_FILE_OPEN_DEFAULT", "auto")
    with pytest.raises(ValueError, match="KEEP_FILE_OPEN_DEFAULT"):
        ArrayProxy(path, (SHAPE, "<i2", OFFSET))


def test_keep_file_open_keeps_one_handle(data_file, int16_data):
    proxy = ArrayProxy(data_file, (SHAPE, "<i2", OFFSET), keep_file_open=True, mmap=False)
    proxy[..., 7]
    handle = proxy._shared.opener
    assert handle is not None and not handle.closed
    assert np.array_equal(proxy[..., 1], int16_data[..., 1])  # a backward seek on the same handle
    assert proxy._shared.opener is handle
    reshaped = proxy.reshape((-1,))
    assert reshaped._shared is proxy._shared and reshaped._lock is proxy._lock
    del proxy, reshaped
    assert handle.closed  # the last proxy sharing it closed it


class _CountingOpener(arrayproxy_module.openers.ImageOpener):
    made = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        type(self).made += 1


@pytest.mark.parametrize("mmap", [True, False])
@pytest.mark.parametrize("keep", [True, False])
def test_openers_made_per_read_or_once(tmp_path, monkeypatch, int16_data, mmap, keep):
    # memory-mapped slices go through the opener too, so a kept handle serves them
    monkeypatch.setattr(arrayproxy_module.openers, "ImageOpener", _CountingOpener)
    path = _write(tmp_path / "d.img", int16_data)
    proxy = ArrayProxy(path, (SHAPE, "<i2", OFFSET), keep_file_open=keep, mmap=mmap)
    assert (proxy._keep_file_open, proxy._persist_opener) == (keep, keep)
    _CountingOpener.made = 0
    for i in range(5):
        assert proxy[i, 2, 3] == int16_data[i, 2, 3]
    assert _CountingOpener.made == (1 if keep else 5)
    assert isinstance(proxy[..., 2], np.memmap) == mmap
    assert (proxy._opener is not None) == keep


def test_file_objects_are_never_kept_or_replaced(int16_data):
    stream = io.BytesIO(b"\0" * OFFSET + int16_data.tobytes(order="F"))
    proxy = ArrayProxy(stream, (SHAPE, "<i2", OFFSET), keep_file_open=True)
    assert (proxy._keep_file_open, proxy._persist_opener) == (False, False)
    assert np.array_equal(proxy[..., 3], int16_data[..., 3])
    assert proxy._opener is None and not stream.closed


class _IndexedReader(nvgzip.GzipReader):
    """A stand-in for indexed_gzip's class: records the drop_handles it was given."""

    def __init__(self, path, drop_handles):
        super().__init__(path, drop_handles=drop_handles)
        self.dropping = drop_handles


@pytest.mark.parametrize("keep", [True, False])
def test_indexed_gzip_switch_keeps_one_opener_per_gzip_file(tmp_path, monkeypatch, int16_data, keep):
    import nivox._compression as compression

    path = _write(tmp_path / "d.img.gz", int16_data)
    plain = ArrayProxy(path, (SHAPE, "<i2", OFFSET), keep_file_open=keep)
    assert plain._persist_opener == keep  # nivox's reader caches its seek points itself
    monkeypatch.setattr(compression, "HAVE_INDEXED_GZIP", True)
    monkeypatch.setattr(compression, "IndexedGzipFile", _IndexedReader)
    proxy = ArrayProxy(path, (SHAPE, "<i2", OFFSET), keep_file_open=keep)
    assert (proxy._keep_file_open, proxy._persist_opener) == (keep, True)
    assert np.array_equal(proxy[..., 4], int16_data[..., 4])
    assert np.array_equal(proxy[2], int16_data[2])
    reader = proxy._opener.fobj
    assert isinstance(reader, _IndexedReader) and reader.dropping == (not keep)
    # the switch is nibabel's gzip_open rule: without it, nivox's own reader
    monkeypatch.setattr(compression, "HAVE_INDEXED_GZIP", False)
    with Opener(path) as opener:
        assert type(opener.fobj) is nvgzip.GzipReader


def test_gzip_reader_drop_handles_is_the_opposite_of_keep_open(tmp_path, int16_data):
    path = _write(tmp_path / "d.img.gz", int16_data)
    assert nvgzip.GzipReader(path, drop_handles=False)._fd is not None
    assert nvgzip.GzipReader(path, drop_handles=True, keep_open=True)._fd is None


def test_threads_read_one_proxy(data_file, int16_data):
    failures = []
    for keep in (True, False):
        proxy = ArrayProxy(data_file, (SHAPE, "<i2", OFFSET, 2.0, 0.0), keep_file_open=keep, mmap=False)

        def work(plane, proxy=proxy):
            if not np.array_equal(proxy[:, :, plane], int16_data[:, :, plane] * 2.0):
                failures.append(plane)

        threads = [threading.Thread(target=work, args=(p % 8,)) for p in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []


def test_pickle_drops_handles_and_locks(data_file, int16_data):
    proxy = ArrayProxy(data_file, (SHAPE, "<i2", OFFSET, 2.0, 1.0), keep_file_open=True)
    proxy[0]
    clone = pickle.loads(pickle.dumps(proxy))
    assert clone._shared is not proxy._shared and clone._shared.opener is None
    assert np.array_equal(clone[1], int16_data[1] * 2.0 + 1.0)
    assert clone.shape == proxy.shape and clone.slope == 2.0
    shallow = copy.copy(proxy)
    assert shallow._shared is proxy._shared


# ---------------------------------------------------------------- reshape & helpers


def test_reshape(data_file, int16_data):
    proxy = ArrayProxy(data_file, (SHAPE, "<i2", OFFSET, 2.0, 0.0))
    flat = proxy.reshape((42, -1))
    assert flat.shape == (42, 8) and all(type(n) is int for n in flat.shape)
    assert np.array_equal(np.asarray(flat), (int16_data * 2.0).reshape((42, 8), order="F"))
    assert proxy.reshape(-1).shape == (336,) and proxy.shape == SHAPE
    with pytest.raises(ValueError, match="one unknown"):
        proxy.reshape((-1, -1))
    with pytest.raises(ValueError, match="cannot reshape array of size 336 into shape"):
        proxy.reshape((5, -1))
    with pytest.raises(ValueError, match="cannot reshape"):
        proxy.reshape((7, 3))
    with pytest.raises(ValueError, match="negative"):
        proxy.reshape((-2, -168))
    assert isinstance(reshape_dataobj(proxy, (336,)), ArrayProxy)
    assert reshape_dataobj([[1, 2], [3, 4]], (4,)).shape == (4,)


def test_is_proxy_and_get_obj_dtype():
    class NotAProxy:
        is_proxy = False

    assert not is_proxy(np.zeros(2)) and not is_proxy(object()) and not is_proxy(NotAProxy())
    assert get_obj_dtype(np.zeros(2, "f4")) == np.float32
    assert get_obj_dtype([1, 2]) == np.asarray([1, 2]).dtype
    stream = io.BytesIO(np.arange(6, dtype="u1").tobytes())
    assert get_obj_dtype(ArrayProxy(stream, ((6,), "u1"))) == np.uint8
    assert get_obj_dtype(ArrayProxy(stream, ((6,), "u1", 0, 2.0, 0.0))) == np.float64


# ---------------------------------------------------------------- broken files


def test_truncated_file_names_file_and_counts(tmp_path, int16_data):
    path = tmp_path / "cut.img"
    path.write_bytes((b"\0" * OFFSET + int16_data.tobytes(order="F"))[:500])
    for mmap in (True, False):
        proxy = ArrayProxy(path, (SHAPE, "<i2", OFFSET), mmap=mmap)
        for read in (np.asarray, lambda p: p[0], lambda p: p.get_unscaled()):
            with pytest.raises(TruncatedDataError, match=r"cut\.img.*expected 672 bytes.*holds 468"):
                read(proxy)


def test_missing_file(tmp_path):
    for mmap in (True, False):
        for name in ("gone.img", "gone.img.gz"):
            proxy = ArrayProxy(tmp_path / name, (SHAPE, "<i2", OFFSET), mmap=mmap)
            with pytest.raises(ImageFileNotFoundError, match="gone.img"):
                proxy[0]


def test_truncated_gzip_is_corrupt_stream(tmp_path, int16_data):
    path = _write(tmp_path / "cut.img.gz", int16_data)
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(CorruptStreamError, match=r"cut\.img\.gz"):
        np.asarray(ArrayProxy(path, (SHAPE, "<i2", OFFSET)))


# ---------------------------------------------------------------- real files


def test_real_files_agree_with_nibabel(corpus):
    nib = pytest.importorskip("nibabel")
    checked = 0
    for path in sorted(corpus.rglob("*.nii*"))[:40]:
        try:
            theirs = nib.load(path).dataobj
        except Exception:
            continue
        if not hasattr(theirs, "offset") or theirs.ndim == 0 or np.prod(theirs.shape) > 5_000_000:
            continue
        spec = (theirs.shape, theirs.dtype, theirs.offset, theirs.slope, theirs.inter)
        try:
            expected = np.asarray(theirs)
        except Exception:
            with pytest.raises((TruncatedDataError, CorruptStreamError)):
                np.asarray(ArrayProxy(path, spec))
            continue
        ours = ArrayProxy(path, spec)
        got = np.asarray(ours)
        assert got.dtype == expected.dtype and np.array_equal(got, expected, equal_nan=True), path
        index = (Ellipsis, theirs.shape[-1] // 2)
        assert np.array_equal(ours[index], theirs[index], equal_nan=True), path
        checked += 1
    assert checked > 5


def test_out_of_memory_is_a_nivox_error_naming_the_file(tmp_path, monkeypatch):
    import nivox
    from nivox.errors import ImageDataError

    path = tmp_path / "oom.nii"
    img = nivox.Nifti1Image(np.arange(24, dtype=np.int16).reshape(2, 3, 4), np.eye(4))
    img.to_filename(path)
    proxy = nivox.load(path, mmap=False).dataobj

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(np, "empty", no_memory)
    with pytest.raises(ImageDataError, match="oom.nii: not enough memory"):
        np.asarray(proxy, dtype=np.float32)


# ---------------------------------------------------------------- uncompressed files on several threads


@pytest.fixture
def parallel_plain_reads(monkeypatch):
    """Make small files take the several-thread path, in uneven chunks; count its uses."""
    from nivox import _scaling, arrayproxy, fileslice

    for module in (fileslice, _scaling):
        monkeypatch.setattr(module, "PARALLEL_MIN", 4096)
    monkeypatch.setattr(fileslice, "_FILE_CHUNK", 5000)  # not a multiple of any itemsize but 1 and 8
    monkeypatch.setattr(fileslice, "cpu_threads", lambda: 3)
    calls = []
    real = fileslice.read_file_threaded
    monkeypatch.setattr(arrayproxy, "read_file_threaded", lambda *a, **k: calls.append(k or a[5:]) or real(*a, **k))
    return calls


@pytest.mark.parametrize("raw_dtype", ["<i2", ">i2", "<f4", ">f8", "u1"])
@pytest.mark.parametrize("scaling", [(None, None), (0.5, -3.0), (2.0, None)])
@pytest.mark.parametrize("order", ["F", "C"])
def test_uncompressed_full_reads_on_several_threads_match(tmp_path, parallel_plain_reads, raw_dtype, scaling, order):
    rng = np.random.default_rng(1)
    values = (rng.random((37, 41, 23)) * 100).astype(raw_dtype)
    path = _write(tmp_path / "big.img", values, order=order, offset=352)
    slope, inter = scaling
    header = Header(values.shape, raw_dtype, 352, slope, inter)
    proxy = ArrayProxy(path, header, mmap=False, order=order)
    mapped = ArrayProxy(path, header, mmap=True, order=order)
    for dtype in (None, np.float32, np.float64):
        got, expected = np.asarray(proxy, dtype=dtype), np.asarray(mapped, dtype=dtype)
        assert got.dtype == expected.dtype and got.flags[f"{order}_CONTIGUOUS"]
        assert np.array_equal(got, expected)
    assert np.array_equal(proxy.get_unscaled(), values)
    assert len(parallel_plain_reads) == 4  # three reads with dtype, and the unscaled one


def test_uncompressed_parallel_read_leaves_kept_handles_and_short_files_to_the_one_thread_path(
    tmp_path, parallel_plain_reads, int16_data
):
    values = np.tile(int16_data, (4, 4, 4))
    path = _write(tmp_path / "big.img", values)
    kept = ArrayProxy(path, (values.shape, "<i2", OFFSET), mmap=False, keep_file_open=True)
    assert np.array_equal(np.asarray(kept, dtype=np.float32), values)
    assert parallel_plain_reads == []
    proxy = ArrayProxy(path, (values.shape, "<i2", OFFSET), mmap=False)
    path.write_bytes(path.read_bytes()[:-100])  # cut after the proxy was made
    with pytest.raises(TruncatedDataError, match=r"big\.img.*expected"):
        np.asarray(proxy, dtype=np.float32)
    with pytest.raises(TruncatedDataError, match=r"big\.img.*expected"):
        np.asarray(proxy)
    path.unlink()
    for dtype in (None, np.float32):
        with pytest.raises(ImageFileNotFoundError, match=r"big\.img"):
            np.asarray(proxy, dtype=dtype)


# ---------------------------------------------------------------- nibabel's copy and order hooks


def test_copy_of_named_file_gets_own_lock_open_file_shares(data_file):
    named = ArrayProxy(data_file, (SHAPE, "<i2", OFFSET))
    assert named.copy()._lock is not named._lock
    with open(data_file, "rb") as handle:
        opened = ArrayProxy(handle, (SHAPE, "<i2", OFFSET))
        assert opened.copy()._lock is opened._lock


def test_deprecated_order_class_variable(data_file):
    class OldStyleProxy(ArrayProxy):
        order = "C"

    with pytest.warns(DeprecationWarning, match="_default_order"):
        proxy = OldStyleProxy(data_file, (SHAPE, "<i2", OFFSET))
    assert proxy.order == "C"
    with pytest.warns(DeprecationWarning):
        assert OldStyleProxy(data_file, (SHAPE, "<i2", OFFSET), order="F").order == "F"
