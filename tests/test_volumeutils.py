"""Tests for the array I/O and scaling helpers of nivox.volumeutils.

nibabel.volumeutils serves as the oracle for the shared behaviour.
"""

import bz2
import gzip
import io
import os
import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nivox import volumeutils as vu
from nivox.casting import OK_FLOATS
from nivox.errors import TruncatedDataError, WriterError
from nivox.volumeutils import (
    DtypeMapper,
    Recoder,
    apply_read_scaling,
    array_from_file,
    array_to_file,
    best_write_scale_ftype,
    better_float_of,
    finite_range,
    fname_ext_ul_case,
    int_scinter_ftype,
    make_dt_codes,
    seek_tell,
    shape_zoom_affine,
    working_type,
    write_zeros,
)

nv = pytest.importorskip("nibabel.volumeutils")

FLOATS = [np.float16, np.float32, np.float64, np.longdouble]
INTS = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64]
ALL_NUMERIC = INTS + FLOATS + [np.complex64, np.complex128, np.clongdouble]


def _oracle(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def _sample(dtype, shape, rng):
    dt = np.dtype(dtype)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        values = rng.integers(info.min, info.max, shape, dtype=dt.newbyteorder("="),
                              endpoint=True)
        return np.asarray(values, dtype=dt)
    if dt.kind == "b":
        return np.asarray(rng.integers(0, 2, shape), dtype=dt)
    values = rng.standard_normal(shape) * 100
    if dt.kind == "c":
        values = values + 1j * rng.standard_normal(shape)
    return np.asarray(values, dtype=dt)


def _same_values(buffer, arr, order="C"):
    """Bytes equal to ``arr.tobytes(order)``, ignoring longdouble padding bytes."""
    padded = arr.dtype.kind in "fc" and arr.dtype.type in (np.longdouble, np.clongdouble)
    if not padded:
        return buffer == arr.tobytes(order)
    got = np.frombuffer(buffer, arr.dtype)
    return np.array_equal(got, arr.ravel(order=order), equal_nan=True)


def _written(data, *args, **kwargs):
    sink = io.BytesIO()
    array_to_file(data, sink, *args, **kwargs)
    return sink.getvalue()


def _nib_written(data, *args, **kwargs):
    sink = io.BytesIO()
    _oracle(nv.array_to_file, data, sink, *args, **kwargs)
    return sink.getvalue()


# --- reading -------------------------------------------------------------------------------

SHAPES = [(), (0,), (5,), (3, 4), (2, 3, 4), (2, 0, 3)]
READ_DTYPES = ALL_NUMERIC + [">f4", ">i8", "<c16", ">f2", np.bool_, "V3", [("a", "u1"), ("b", ">f4")]]


@pytest.mark.parametrize("dtype", READ_DTYPES, ids=str)
@pytest.mark.parametrize("order", ["F", "C"])
def test_array_from_file_round_trip_bytesio(dtype, order):
    rng = np.random.default_rng(0)
    for shape in SHAPES:
        dt = np.dtype(dtype)
        arr = (_sample(dt, shape, rng) if dt.fields is None and dt.kind != "V"
               else np.frombuffer(rng.bytes(int(np.prod(shape)) * dt.itemsize), dt).reshape(shape))
        stream = io.BytesIO(b"\x01" * 7 + arr.tobytes(order) + b"tail")
        got = array_from_file(shape, dt, stream, offset=7, order=order)
        assert got.shape == shape and got.dtype == dt
        assert _same_values(got.tobytes(order), arr, order)
        assert got.flags.writeable
        assert (got.flags.f_contiguous if order == "F" else got.flags.c_contiguous)


@pytest.mark.parametrize("mmap", [True, "c", "r", "r+", False])
def test_array_from_file_memory_maps_plain_files(tmp_path, mmap):
    arr = np.arange(24, dtype=">i4").reshape(2, 3, 4)
    path = tmp_path / "data.bin"
    path.write_bytes(b"\x00" * 16 + arr.tobytes("F"))
    with open(path, "r+b" if mmap == "r+" else "rb") as fobj:
        got = array_from_file(arr.shape, arr.dtype, fobj, offset=16, mmap=mmap)
        assert np.array_equal(got, arr)
        assert isinstance(got, np.memmap) == (mmap is not False)
        assert got.flags.writeable == (mmap != "r")
        if got.flags.writeable:
            got[0, 0, 0] = 99
        if mmap is not False:
            got.flush() if hasattr(got, "flush") else None
        del got
    on_disk = np.frombuffer(path.read_bytes()[16:], ">i4")
    # Only 'r+' writes through to the file; 'c' is copy on write.
    assert on_disk[0] == (99 if mmap == "r+" else 0)


def test_array_from_file_falls_back_when_mmap_not_allowed(tmp_path):
    path = tmp_path / "data.bin"
    arr = np.arange(6, dtype=np.float32)
    path.write_bytes(arr.tobytes())
    with open(path, "rb") as fobj:  # read-only file cannot be mapped 'r+'
        got = array_from_file((6,), np.float32, fobj, mmap="r+")
    assert not isinstance(got, np.memmap) and np.array_equal(got, arr)


def test_array_from_file_does_not_map_compressed_streams(tmp_path):
    arr = np.arange(30, dtype=np.float64).reshape(5, 6)
    for opener, suffix in ((gzip.open, ".gz"), (bz2.open, ".bz2")):
        path = tmp_path / f"data{suffix}"
        with opener(path, "wb") as fobj:
            fobj.write(b"\x00" * 5 + arr.tobytes("F"))
        with opener(path, "rb") as fobj:
            got = array_from_file(arr.shape, arr.dtype, fobj, offset=5)
        assert not isinstance(got, np.memmap)
        assert np.array_equal(got, arr)


def test_array_from_file_maps_wrapped_plain_file(tmp_path):
    arr = np.arange(6, dtype=np.int16)
    path = tmp_path / "data.bin"
    path.write_bytes(arr.tobytes())

    class Wrapper:  # like an Opener: a plain file in .fobj
        def __init__(self, fobj):
            self.fobj = fobj

        def __getattr__(self, name):
            return getattr(self.fobj, name)

    with open(path, "rb") as fobj:
        got = array_from_file((6,), np.int16, Wrapper(fobj))
        assert isinstance(got, np.memmap) and np.array_equal(got, arr)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_array_from_file_reads_devices_without_mapping():
    # a device has no size to map; it is read like a stream
    with open("/dev/zero", "rb") as device:
        got = array_from_file((5, 2), np.float32, device, offset=3)
    assert not isinstance(got, np.memmap) and np.array_equal(got, np.zeros((5, 2)))


def test_array_from_file_reads_straight_into_the_array():
    arr = np.arange(1000, dtype=np.float64)

    class OnlyReadinto(io.RawIOBase):
        """Returns at most 7 bytes per call and refuses read(), like a slow stream."""

        def __init__(self, payload):
            self._inner = io.BytesIO(payload)

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self._inner.read(min(len(buffer), 7))
            buffer[:len(chunk)] = chunk
            return len(chunk)

        def read(self, *args):
            raise AssertionError("array_from_file must not read into a bytes object")

        def seek(self, offset, whence=0):
            return self._inner.seek(offset, whence)

    got = array_from_file((10, 100), np.float64, OnlyReadinto(arr.tobytes("F")), mmap=False)
    assert np.array_equal(got, arr.reshape((10, 100), order="F"))


def test_array_from_file_uses_read_when_no_readinto():
    arr = np.arange(12, dtype=np.uint16)

    class OnlyRead:
        def __init__(self, payload):
            self._inner = io.BytesIO(payload)

        def read(self, size=-1):
            return self._inner.read(min(size, 5))

        def seek(self, offset):
            return self._inner.seek(offset)

    got = array_from_file((3, 4), np.uint16, OnlyRead(arr.tobytes("F")))
    assert np.array_equal(got, arr.reshape((3, 4), order="F"))


def test_array_from_file_truncated_names_file_and_sizes(tmp_path):
    path = tmp_path / "short.img"
    path.write_bytes(b"\x00" * 100)
    for mmap in (True, False):
        with open(path, "rb") as fobj:
            with pytest.raises(TruncatedDataError) as info:
                array_from_file((20, 3), np.float32, fobj, offset=4, mmap=mmap)
        message = str(info.value)
        assert "240" in message and "96" in message and "short.img" in message
        assert isinstance(info.value, EOFError) and isinstance(info.value, ValueError)
    with pytest.raises(TruncatedDataError, match="Expected 24 bytes, got 3 bytes"):
        array_from_file((2, 3), np.float32, io.BytesIO(b"abc"))


def test_array_from_file_zero_size_and_errors():
    empty = array_from_file((0, 3), np.float32, io.BytesIO(b""))
    assert empty.shape == (0, 3) and empty.dtype == np.float32
    scalar = array_from_file((), ">i2", io.BytesIO(b"\x00\x05"))
    assert scalar.shape == () and scalar == 5
    with pytest.raises(ValueError, match="mmap"):
        array_from_file((1,), np.float32, io.BytesIO(b"\x00" * 4), mmap="x")
    with pytest.raises(ValueError, match="order"):
        array_from_file((1,), np.float32, io.BytesIO(b"\x00" * 4), order="K")
    with pytest.raises(ValueError, match="object"):
        array_from_file((1,), object, io.BytesIO(b"\x00" * 8))


# --- writing -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", READ_DTYPES, ids=str)
@pytest.mark.parametrize("order", ["F", "C"])
def test_array_to_file_unscaled_is_tobytes(dtype, order):
    rng = np.random.default_rng(2)
    dt = np.dtype(dtype)
    for shape in SHAPES:
        arr = (_sample(dt, shape, rng) if dt.fields is None and dt.kind != "V"
               else np.frombuffer(rng.bytes(int(np.prod(shape)) * dt.itemsize), dt).reshape(shape))
        for view in (arr, arr.T, arr[..., ::-1] if arr.ndim else arr):
            assert _same_values(_written(view, order=order), view, order)
            assert _same_values(_written(view, dt, order=order), view, order)


def test_array_to_file_positions():
    arr = np.arange(4, dtype=np.int16)
    sink = io.BytesIO(b"x" * 3)
    sink.seek(3)
    array_to_file(arr, sink, offset=None)
    assert sink.getvalue() == b"xxx" + arr.tobytes()
    sink = io.BytesIO()
    array_to_file(arr, sink, offset=10)
    assert sink.getvalue() == b"\x00" * 10 + arr.tobytes()


def _random_write_case(rng):
    types = INTS + FLOATS + [np.complex64]
    in_type, out_type = (types[i] for i in rng.integers(0, len(types), 2))
    shape = tuple(rng.integers(0, 4, rng.integers(0, 4)))
    if np.dtype(in_type).kind in "iu":
        info = np.iinfo(in_type)
        data = rng.integers(max(info.min, -1000), min(info.max, 1000), shape, endpoint=True)
        data = data.astype(in_type)
    else:
        data = (rng.standard_normal(shape) * 10.0 ** rng.integers(-2, 5)).astype(in_type)
        if data.size and rng.random() < 0.3:
            data.flat[0] = np.nan
    if rng.random() < 0.2:
        data = data.astype(data.dtype.newbyteorder("S"))
    kwargs = {"order": "FC"[rng.integers(0, 2)], "nan2zero": bool(rng.random() < 0.8)}
    if rng.random() < 0.6:
        kwargs["intercept"] = float(rng.choice([0, 1.5, -100, 1e4]))
    if rng.random() < 0.6:
        kwargs["divslope"] = rng.choice([1.0, 0.1, 3.0, -2.0, None], p=[0.3, 0.3, 0.2, 0.15, 0.05])
    if rng.random() < 0.3:
        kwargs["mn"] = float(rng.choice([-5, 0, 1]))
    if rng.random() < 0.3:
        kwargs["mx"] = float(rng.choice([0, 5, 100]))
    return data, np.dtype(out_type), kwargs


def test_array_to_file_matches_nibabel_bytes():
    rng = np.random.default_rng(3)
    compared = 0
    while compared < 600:
        data, out_dt, kwargs = _random_write_case(rng)
        if data.dtype.kind == "c" and out_dt.kind != "c":
            continue  # nibabel drops the imaginary part; nivox refuses (tested below)
        if not kwargs["nan2zero"] and out_dt.kind in "iu" and data.dtype.kind == "f":
            continue  # NaN cast to int is undefined
        try:
            expected = _nib_written(data, out_dt, **kwargs)
        except OverflowError:
            continue  # nibabel casts negative thresholds to unsigned types (numpy 2 refuses)
        except ValueError:
            # nibabel refuses when NaN cannot be stored, even if there is no NaN
            if data.size and np.isnan(data.min()):
                with pytest.raises(ValueError, match="NaN"):
                    _written(data, out_dt, **kwargs)
            continue
        got = _written(data, out_dt, **kwargs)
        if out_dt.type in (np.longdouble, np.clongdouble):  # padding bytes are arbitrary
            got, expected = (np.frombuffer(v, out_dt) for v in (got, expected))
            assert np.array_equal(got, expected, equal_nan=True), (data, out_dt, kwargs)
        else:
            assert got == expected, (data, out_dt, kwargs)
        compared += 1


def test_array_to_file_scaling_semantics():
    # (data - intercept) / divslope, rounded, clipped to the type
    data = np.array([-1000.0, -1.4, 0.5, 1.5, 2.5, 1000.0, np.nan])
    got = np.frombuffer(_written(data, np.int8, intercept=0.5, divslope=0.5), np.int8)
    assert got.tolist() == [-128, -4, 0, 2, 4, 127, -1]
    # NaN is zero before scaling: [nan] with intercept 10 is stored as -10
    assert np.frombuffer(_written(np.array([np.nan]), np.int16, intercept=10), np.int16) == -10
    # pre-scaling clip at mn, mx
    got = np.frombuffer(_written(np.array([-5.0, 0, 5, np.inf]), np.int16, mn=-1, mx=2), np.int16)
    assert got.tolist() == [-1, 0, 2, 2]
    # integer input is clipped to the output range
    got = np.frombuffer(_written(np.array([-(2**63), 2**63 - 1], np.int64), np.uint8), np.uint8)
    assert got.tolist() == [0, 255]
    got = np.frombuffer(_written(np.array([2**64 - 1], np.uint64), np.int64), np.int64)
    assert got.tolist() == [2**63 - 1]
    # float output keeps inf and nan
    got = np.frombuffer(_written(np.array([np.inf, np.nan, 1e300]), np.float32), np.float32)
    assert np.isposinf(got[0]) and np.isnan(got[1]) and np.isposinf(got[2])


def test_array_to_file_writes_zeros_when_told_no_valid_data():
    data = np.array([1.0, 2.0, 3.0])
    assert _written(data, np.int16, divslope=None) == b"\x00" * 6
    assert _written(data, np.int16, mn=0, mx=0) == b"\x00" * 6
    assert _written(data, np.float32, mn=2, mx=1) == b"\x00" * 12


def test_array_to_file_errors():
    data = np.arange(3.0)
    for bad in ({"divslope": np.inf}, {"intercept": np.nan}, {"divslope": 0}, {"order": "K"}):
        with pytest.raises(ValueError):
            _written(data, np.int16, **bad)
    with pytest.raises(WriterError, match="complex"):
        _written(np.array([1 + 2j]), np.float64)
    with pytest.raises(ValueError, match="object"):
        _written(np.array([1, "a"], dtype=object))
    structured = np.zeros(2, dtype=[("a", "i2")])
    with pytest.raises(ValueError, match="scale"):
        _written(structured, divslope=2.0)
    with pytest.raises(ValueError, match="clip"):
        _written(structured, mn=0)
    # NaN that cannot be stored as the integer meaning 0
    with pytest.raises(WriterError, match="NaN"):
        _written(np.array([np.nan, 1.0]), np.uint8, intercept=100)
    assert _written(np.array([np.nan, 1.0]), np.uint8, intercept=100, nan2zero=False)[1:] == b"\x00"


def test_array_to_file_refuses_unstorable_nan_only_when_there_is_one():
    # nibabel raises whenever 0 would not be storable, NaN or not; nivox writes.
    data = np.array([129.0, 200.0])
    with pytest.raises(ValueError):
        _nib_written(data, np.int8, intercept=129.0)
    assert np.frombuffer(_written(data, np.int8, intercept=129.0), np.int8).tolist() == [0, 71]


def test_array_to_file_works_in_blocks(monkeypatch):
    rng = np.random.default_rng(4)
    data = rng.standard_normal((7, 11, 13)) * 1000
    expected = {order: _written(data, np.int16, intercept=3.0, divslope=0.25, order=order)
                for order in "FC"}
    monkeypatch.setattr(vu, "_BLOCK_BYTES", 256)

    class CountingSink(io.BytesIO):
        writes = 0

        def write(self, buffer):
            self.writes += 1
            return super().write(buffer)

    for order in "FC":
        sink = CountingSink()
        array_to_file(data, sink, np.int16, intercept=3.0, divslope=0.25, order=order)
        assert sink.getvalue() == expected[order]
        assert sink.writes >= data.size * 16 // 256


def test_array_to_file_writes_ready_arrays_in_one_call(monkeypatch):
    monkeypatch.setattr(vu, "_BLOCK_BYTES", 256)  # conversions go in many blocks
    data = np.arange(6 * 7 * 8, dtype=np.int16).reshape(6, 7, 8)

    class RecordingSink(io.BytesIO):
        def __init__(self):
            super().__init__()
            self.buffers = []

        def write(self, buffer):
            self.buffers.append(buffer)
            return super().write(buffer)

    for array, order in ((np.asfortranarray(data), "F"), (data, "C")):
        sink = RecordingSink()
        array_to_file(array, sink, np.int16, order=order)
        assert sink.getvalue() == array.tobytes(order)
        # one write, of the array's own memory (no copy)
        assert len(sink.buffers) == 1 and np.shares_memory(sink.buffers[0], array)
    for array, kwargs in ((data, {"order": "F"}), (data, {"divslope": 2.0}), (data[:, ::2], {}),
                          (data.astype(">i2"), {})):
        sink = RecordingSink()
        array_to_file(array, sink, np.int16, **kwargs)
        assert not any(np.shares_memory(buffer, array) for buffer in sink.buffers)
    sink = RecordingSink()
    array_to_file(np.zeros((0, 3), np.int16), sink, np.int16)
    assert sink.buffers == []


def test_array_to_file_finishes_partial_writes():
    data = np.arange(5000, dtype=np.int32)

    class ShortWrites(io.BytesIO):
        def write(self, buffer):  # like an unbuffered file: at most 1000 bytes a call
            return super().write(memoryview(buffer)[:1000])

    sink = ShortWrites()
    array_to_file(data, sink, np.int32)
    assert sink.getvalue() == data.tobytes()


def test_array_to_file_makes_no_full_size_temporaries():
    data = np.ones((64, 256, 256), dtype=np.float32)  # 16 MiB; a float64 copy is 32 MiB

    class NullSink:
        size = 0

        def write(self, buffer):
            self.size += memoryview(buffer).nbytes

        def seek(self, offset):
            pass

    sink = NullSink()
    tracemalloc.start()
    try:
        array_to_file(data, sink, np.int16, intercept=0.5, divslope=0.001)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sink.size == data.size * 2
    assert peak < 4 * vu._BLOCK_BYTES


def test_array_to_file_big_endian_and_float16_and_longdouble():
    data = np.array([1.5, -2.25, 1000.0], dtype=">f8")
    assert _written(data, "<f4") == data.astype("<f4").tobytes()
    assert _written(data, ">i2", divslope=0.5) == np.array([3, -4, 2000], ">i2").tobytes()
    half = np.array([1.5, 60000, -3], np.float16)
    assert _written(half, np.int32, divslope=0.5) == np.array([3, 120000, -6], np.int32).tobytes()
    long = np.array([2.0**64 + 4096, -1], np.longdouble)
    assert _written(long, np.longdouble) == long.tobytes()
    assert np.frombuffer(_written(long, np.uint64, intercept=-1), np.uint64).tolist() == [
        2**64 - 1, 0]


# --- scaling types -----------------------------------------------------------------------

SLOPES = [1.0, 2.0, np.float32(2), np.float16(0.5), np.float64(3), np.int8(2), 0.0,
          np.longdouble(2), 1e-30, 1e30, np.float32(1e-30)]
INTERS = [0.0, 1.0, np.float32(1), np.float16(1), np.float32(0)]


@pytest.mark.parametrize("in_type", INTS + FLOATS + [np.complex64, np.complex128, np.bool_, ">i2"],
                         ids=str)
def test_working_type_matches_nibabel(in_type):
    for slope in SLOPES:
        for inter in INTERS:
            assert working_type(in_type, slope, inter) is nv.working_type(in_type, slope, inter)


def test_working_type_examples():
    assert working_type(np.int16) is np.int16
    assert working_type(np.int16, 2.0) is np.float64
    assert working_type(np.int16, np.float32(2)) is np.float32
    assert working_type(np.int8, np.int8(2), np.int8(1)) is np.float64


@pytest.mark.parametrize("first", INTS[:3] + FLOATS + [np.complex64, ">f4"], ids=str)
def test_better_float_of_matches_nibabel(first):
    for second in INTS[:3] + FLOATS + [np.complex128, "f2"]:
        for default in (np.float32, np.float64):
            assert (better_float_of(first, second, default)
                    is nv.better_float_of(first, second, default))


def _overflows_in(value, ftype):
    """True if `value` is not finite, or not non-zero when it was, in `ftype`."""
    with np.errstate(over="ignore", under="ignore"):
        cast = np.asarray(value).astype(ftype)
    return not np.isfinite(cast) or (cast == 0) != (np.asarray(value) == 0)


@pytest.mark.parametrize("ifmt", INTS)
def test_int_scinter_ftype_matches_nibabel(ifmt):
    for default in FLOATS:
        for slope in SLOPES[:-1] + [3e38, 1e300]:
            for inter in INTERS + [1e39]:
                if any(_overflows_in(v, default) for v in (slope, inter)):
                    continue  # deliberate difference, tested below
                try:
                    expected = _oracle(nv.int_scinter_ftype, ifmt, slope, inter, default)
                except ValueError:
                    with pytest.raises(ValueError, match="Overflow"):
                        int_scinter_ftype(ifmt, slope, inter, default)
                else:
                    assert int_scinter_ftype(ifmt, slope, inter, default) is expected


def test_int_scinter_ftype_skips_types_the_scale_overflows():
    # nibabel stops at the first type in which the slope itself overflows.
    with pytest.raises(ValueError):
        _oracle(nv.int_scinter_ftype, np.int8, 1.0, 3.5e38, np.float32)
    assert int_scinter_ftype(np.int8, 1.0, 3.5e38, np.float32) is np.float64
    assert int_scinter_ftype(np.int16, 1e30, 0.0, np.float16) is np.float32
    assert int_scinter_ftype(np.int8, 1e38) is np.float64
    assert int_scinter_ftype(np.int16, 4.0, default=np.float16) is np.float16


@pytest.mark.parametrize("dtype", INTS + FLOATS)
def test_best_write_scale_ftype_matches_nibabel(dtype):
    if np.dtype(dtype).kind == "f":
        info = np.finfo(dtype)
        arrays = [np.array([0, info.max], dtype), np.array([info.min, 1], dtype),
                  np.array([1, 2], dtype), np.array([np.nan, np.inf, 3], dtype)]
    else:
        info = np.iinfo(dtype)
        arrays = [np.array([info.min, info.max], dtype), np.array([0, 1], dtype)]
    for default in FLOATS:
        for scale in SLOPES[1:]:
            if _overflows_in(scale, default) or scale == 0:
                continue
            for arr in arrays:
                for slope, inter in ((scale, 0), (1, scale)):
                    assert (best_write_scale_ftype(arr, slope, inter, default)
                            is _oracle(nv.best_write_scale_ftype, arr, slope, inter, default))


def test_best_write_scale_ftype_examples():
    arr = np.array([0, np.finfo(np.float32).max], dtype=np.float32)
    assert best_write_scale_ftype(arr, 1, 0) is np.float32
    assert best_write_scale_ftype(arr, np.float32(2), 0) is np.float32
    assert best_write_scale_ftype(arr, np.float32(0.5), 0) is np.float64
    assert best_write_scale_ftype(np.array([0, 1, 2], np.int16), 1, 0, np.float64) is np.float64
    assert best_write_scale_ftype(np.array([], np.float32), 0.5, 0) is np.float32
    assert best_write_scale_ftype(np.array([0, 60000], np.float16), 1e30, 0, np.float16) is (
        np.float32)  # slope overflows float16; nibabel would answer float16
    # slope underflows to 0 in float16: nibabel jumps to the widest type, nivox tries float32
    int16 = np.array([-32768, 32767], np.int16)
    assert _oracle(nv.best_write_scale_ftype, int16, 1e-30, 0, np.float16) is OK_FLOATS[-1]
    assert best_write_scale_ftype(int16, 1e-30, 0, np.float16) is np.float32


@pytest.mark.parametrize("dtype", INTS + FLOATS + [np.complex64, ">i2", ">f4", np.bool_], ids=str)
def test_apply_read_scaling_matches_nibabel(dtype):
    arr = (np.arange(6).reshape(2, 3) % 3).astype(dtype)
    original = arr.copy()
    for slope in [None, 1.0, 2.0, np.float32(2), np.float16(2), np.float32(-0.5), np.int16(3),
                  0.0, np.float32(1e38), 1e300]:
        for inter in [None, 0.0, 1.0, np.float32(1), np.float64(-7), np.int8(2)]:
            got = apply_read_scaling(arr, slope, inter)
            expected = _oracle(nv.apply_read_scaling, arr, slope, inter)
            assert got.dtype == expected.dtype and got.shape == expected.shape
            assert np.array_equal(got, expected, equal_nan=True)
            if (slope in (None, 1) and inter in (None, 0)):
                assert got is arr
    assert np.array_equal(arr, original)


def test_apply_read_scaling_details():
    scalar = apply_read_scaling(np.array(3, np.int16), np.float32(2))
    assert scalar.shape == () and scalar == 6 and scalar.dtype == np.float32
    assert apply_read_scaling(np.array([1, 2], np.int32), np.float32(2)).dtype == np.float64
    assert apply_read_scaling(np.array([1, 2], np.int8), np.float32(1e38)).dtype == np.float64
    assert apply_read_scaling(np.array([], np.int16), np.float32(2)).dtype == np.float32
    with pytest.raises(ValueError, match="Overflow"):
        apply_read_scaling(np.array([1, 2], np.int16), np.nan)
    with pytest.raises(ValueError, match="scalars"):
        apply_read_scaling(np.array([1, 2], np.int16), np.array([1.0, 2.0]))


@pytest.mark.parametrize("dtype", INTS + FLOATS + [">f8", "<i2"], ids=str)
def test_finite_range_matches_nibabel(dtype):
    cases = [[1, 2, 3], [], [0], [5]]
    if np.dtype(dtype).kind == "f":
        cases += [[np.nan], [np.inf, -np.inf], [1, np.nan, np.inf, -3], [np.nan, 2],
                  [-np.inf, 5], [np.inf, np.nan]]
    for values in cases:
        arr = np.array(values, dtype)
        for view in (arr, arr.reshape(-1, 1)[::-1]):
            for check_nan in (False, True):
                assert finite_range(view, check_nan) == nv.finite_range(view, check_nan)


def test_finite_range_blockwise_path(monkeypatch):
    monkeypatch.setattr(vu, "_BLOCK_BYTES", 64)
    rng = np.random.default_rng(5)
    arr = rng.standard_normal((20, 30))
    arr[3, 4], arr[10, 1], arr[19, 29] = np.inf, -np.inf, np.nan
    finite = arr[np.isfinite(arr)]
    assert finite_range(arr, True) == (finite.min(), finite.max(), True)
    assert finite_range(arr.T, True) == (finite.min(), finite.max(), True)
    arr[19, 29] = 0
    assert finite_range(arr, True)[2] is False


def test_finite_range_complex_and_errors():
    arr = np.array([1 + 1j, np.nan, 2 - 3j, complex(np.inf, 1)])
    assert finite_range(arr, True) == (1 + 1j, 2 - 3j, True)
    assert finite_range(np.array([complex(1, np.nan), 3]), True) == (3, 3, True)
    for bad in (np.array([True]), np.array(["a"]), np.array([1], dtype=object),
                np.zeros(1, dtype=[("f", "i2")])):
        with pytest.raises(TypeError, match="numeric"):
            finite_range(bad)
    assert finite_range([1, 2, 3]) == (1, 3)
    assert finite_range(np.array(5.0)) == (5.0, 5.0)


# --- file helpers and tables -------------------------------------------------------------

def test_write_zeros():
    for count in (0, 1, 8193, 8194, 20000):
        sink = io.BytesIO()
        write_zeros(sink, count)
        assert sink.getvalue() == b"\x00" * count
    sink = io.BytesIO()
    write_zeros(sink, 10, block_size=3)
    assert sink.getvalue() == b"\x00" * 10


class _NoSeek(io.RawIOBase):
    def __init__(self):
        self.data = bytearray()

    def writable(self):
        return True

    def seek(self, *args):
        raise io.UnsupportedOperation("no seek")

    def tell(self):
        return len(self.data)

    def write(self, buffer):
        self.data += bytes(buffer)
        return len(buffer)


def test_seek_tell():
    stream = io.BytesIO(b"abcdef")
    seek_tell(stream, 4)
    assert stream.tell() == 4
    unseekable = _NoSeek()
    seek_tell(unseekable, 0)  # already there
    with pytest.raises(OSError, match="no seek"):
        seek_tell(unseekable, 10)
    seek_tell(unseekable, 10, write0=True)
    assert bytes(unseekable.data) == b"\x00" * 10
    with pytest.raises(OSError, match="backwards"):
        seek_tell(unseekable, 5, write0=True)


@pytest.mark.parametrize(("shape", "zooms"), [
    ((3, 5, 7), (3, 2, 1)), ((3, 5), (3, 2)), ((3, 5, 7, 9), (3, 2, 1, 4)), ((3,), (2,)),
    ((), ()), ((64, 64, 30), (2.5, 2.5, 4.0)),
])
@pytest.mark.parametrize("x_flip", [True, False])
def test_shape_zoom_affine_matches_nibabel(shape, zooms, x_flip):
    assert np.array_equal(shape_zoom_affine(shape, zooms, x_flip),
                          nv.shape_zoom_affine(shape, zooms, x_flip))


def test_shape_zoom_affine_example_and_error():
    assert shape_zoom_affine((3, 5, 7), (3, 2, 1)).tolist() == [
        [-3, 0, 0, 3], [0, 2, 0, -4], [0, 0, 1, -3], [0, 0, 0, 1]]
    with pytest.raises(ValueError, match="same length"):
        shape_zoom_affine((3, 5, 7), (3, 2))


def test_fname_ext_ul_case(tmp_path):
    upper = tmp_path / "image.HDR"
    upper.write_bytes(b"")
    assert fname_ext_ul_case(str(upper)) == str(upper)
    assert fname_ext_ul_case(str(tmp_path / "image.hdr")) == str(upper)
    lower = tmp_path / "other.img"
    lower.write_bytes(b"")
    assert fname_ext_ul_case(str(tmp_path / "other.IMG")) == str(lower)
    missing = str(tmp_path / "none.nii")
    assert fname_ext_ul_case(missing) == missing


def test_make_dt_codes():
    rgb = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1")])
    codes = make_dt_codes(((2, "uint8", np.uint8), (4, "int16", np.int16),
                           (16, "float32", np.float32), (128, "RGB", rgb)))
    assert isinstance(codes, Recoder) and isinstance(codes.code, DtypeMapper)
    assert codes.fields == ("code", "label", "type", "dtype", "sw_dtype")
    assert codes.code[np.dtype(">i2")] == 4 and codes.code[np.dtype("<i2")] == 4
    assert codes.code["int16"] == 4 and codes.code[np.int16] == 4 and codes.code[16] == 16
    assert codes.dtype[4] == np.dtype(np.int16)
    assert codes.sw_dtype[4] == np.dtype(np.int16).newbyteorder("S")
    assert codes.label[np.float32] == "float32" and codes.type[2] is np.uint8
    assert codes.dtype[128] == rgb
    with4 = make_dt_codes(((2, "uint8", np.uint8, "NIFTI_TYPE_UINT8"),))
    assert with4.fields == ("code", "label", "type", "niistring", "dtype", "sw_dtype")
    assert with4.code["NIFTI_TYPE_UINT8"] == 2 and with4.niistring[2] == "NIFTI_TYPE_UINT8"
    with pytest.raises(ValueError, match="length 3 or 4"):
        make_dt_codes(((2, "uint8"),))
    with pytest.raises(ValueError, match="length 3 or 4"):
        make_dt_codes(((2, "uint8", np.uint8), (4, "int16", np.int16, "X")))


# --- round trips ---------------------------------------------------------------------------

_INT_OUT = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32]


@st.composite
def _scaled_write(draw):
    out_type = draw(st.sampled_from(_INT_OUT))
    info = np.iinfo(out_type)
    slope = draw(st.floats(1e-6, 1e6).map(lambda v: v * draw(st.sampled_from([1, -1]))))
    inter = draw(st.floats(-1e6, 1e6))
    # values that land inside the output range after scaling
    stored = draw(st.lists(st.floats(float(info.min), float(info.max)), min_size=1, max_size=40))
    data = np.array(stored) * slope + inter
    order = draw(st.sampled_from("FC"))
    shape = draw(st.sampled_from([(-1,), (-1, 1), (1, -1)]))
    return data.reshape(shape), out_type, slope, inter, order


@given(_scaled_write())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_round_trip_within_half_a_step(case):
    data, out_type, slope, inter, order = case
    sink = io.BytesIO()
    array_to_file(data, sink, out_type, intercept=inter, divslope=slope, order=order)
    stored = array_from_file(data.shape, out_type, sink, order=order)
    back = apply_read_scaling(stored, slope, inter)
    # half a step, plus float64 rounding of the arithmetic itself
    tolerance = abs(slope) * 0.5 + 8 * np.finfo(np.float64).eps * (np.abs(data) + abs(inter))
    np.testing.assert_array_less(np.abs(back - data), tolerance + 1e-300)


@given(st.sampled_from(ALL_NUMERIC + [">f4", ">i2", np.bool_]),
       st.sampled_from([(), (0,), (4,), (2, 3), (3, 1, 2)]), st.sampled_from("FC"),
       st.integers(0, 20))
@settings(max_examples=150, deadline=None)
def test_unscaled_round_trip_is_exact(dtype, shape, order, offset):
    arr = _sample(dtype, shape, np.random.default_rng(offset))
    sink = io.BytesIO()
    array_to_file(arr, sink, offset=offset, order=order)
    assert len(sink.getvalue()) == (offset + arr.nbytes if arr.size else 0)
    back = array_from_file(shape, arr.dtype, sink, offset=offset, order=order)
    assert back.dtype == arr.dtype and _same_values(back.tobytes(), arr)


def test_private_helpers_nibabel_code_imports(tmp_path):
    import bz2
    import gzip
    import threading
    import warnings

    from nivox._compression import zstd_open, HAVE_ZSTD
    from nivox.openers import Opener
    from nivox.volumeutils import _dt_min_max, _ftype4scaled_finite, _is_compressed_fobj, _write_data

    assert _dt_min_max(np.int8) == (-128, 127)
    assert _dt_min_max("f4", 1) == (1, np.inf)
    with pytest.raises(ValueError):
        _dt_min_max("S3")

    big = np.array([np.finfo(np.float32).min, np.finfo(np.float32).max], np.float32)
    assert _ftype4scaled_finite(big, 1.0, 0.0) is np.float32
    assert _ftype4scaled_finite(big, 2.0, 1.0, default=np.float16) is np.float64
    assert _ftype4scaled_finite(big, 0.5, 0.0, "write") is np.float64
    # the answer must not depend on another thread emptying the warnings filters
    stop = threading.Event()

    def meddle():
        with warnings.catch_warnings():
            while not stop.is_set():
                warnings.filters[:] = []

    t = threading.Thread(target=meddle)
    t.start()
    try:
        for _ in range(100):
            assert _ftype4scaled_finite(big, 2.0, 1.0, default=np.float16) is np.float64
    finally:
        stop.set()
        t.join()

    data = np.array([[1.0, np.nan], [30.0, -5.0]])
    keep = data.copy()
    out = io.BytesIO()
    _write_data(data, out, np.int8, "F", pre_clips=(-2, 20), inter=1.0, slope=0.5,
                post_clips=(-128, 127), nan_fill=0)
    written = np.frombuffer(out.getvalue(), np.int8).reshape((2, 2), order="F")
    np.testing.assert_array_equal(written, [[0, 0], [38, -6]])
    np.testing.assert_array_equal(data, keep)

    plain = tmp_path / "a.bin"
    plain.write_bytes(b"x")
    with open(plain, "rb") as f:
        assert not _is_compressed_fobj(f)
    for name, opener in (("a.gz", gzip.open), ("a.bz2", bz2.BZ2File)):
        with opener(tmp_path / name, "wb") as f:
            assert _is_compressed_fobj(f)
        with Opener(str(tmp_path / name), "rb") as f:
            assert _is_compressed_fobj(f.fobj) and _is_compressed_fobj(f)
    if HAVE_ZSTD:
        with zstd_open(tmp_path / "a.zst", "w") as f:
            assert _is_compressed_fobj(f)


def test_scale_type_rules():
    from nivox.volumeutils import best_write_scale_ftype, better_float_of, fname_ext_ul_case

    assert better_float_of("i4", "i8", "f8") is np.float64
    arr = np.array([0, np.finfo(np.float32).max], np.float32)
    assert best_write_scale_ftype(arr, np.float32(0.99), 0) is np.float64
    arr[0] = np.inf  # infinities stay infinite: the default type is kept
    assert best_write_scale_ftype(arr, np.float32(0.5), 0) is np.float32
    assert fname_ext_ul_case("nofile.TxT") == "nofile.TxT"


def test_stream_too_short_for_a_huge_shape_fails_before_allocating():
    class Empty:
        def seek(self, n):
            pass

        def read(self, n):
            return b""

    with pytest.raises(TruncatedDataError, match="Expected 11390625000000000000 bytes, got 0"):
        array_from_file((1500,) * 6, np.int8, Empty())


def test_recoder_refuses_field_names_of_its_own_attributes():
    from nivox.volumeutils import Recoder

    codes = ((1, "one", "1", "first"), (2, "two"))
    rc = Recoder(codes, ["code1", "label"])
    assert rc.code1["first"] == 1 and rc.label[1] == "one"
    for bad in (["field1"], ["code", "keys"], ["fields"]):
        with pytest.raises(KeyError):
            Recoder(codes, bad)
