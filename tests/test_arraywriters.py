"""Tests for nivox.arraywriters, with nibabel.arraywriters as the oracle for scale factors."""

import io
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nivox import volumeutils
from nivox.arraywriters import (
    ArrayWriter,
    ScalingError,
    SlopeArrayWriter,
    SlopeInterArrayWriter,
    WriterError,
    get_slope_inter,
    make_array_writer,
)
from nivox.errors import NivoxError
from nivox.volumeutils import apply_read_scaling, array_from_file

nw = pytest.importorskip("nibabel.arraywriters")

WRITERS = [ArrayWriter, SlopeArrayWriter, SlopeInterArrayWriter]
SCALING_WRITERS = [SlopeArrayWriter, SlopeInterArrayWriter]
SMALL_INTS = [np.uint8, np.int8, np.int16, np.uint16]
WIDE_INTS = [np.int32, np.uint32, np.int64]
IN_TYPES = [np.float16, np.float32, np.float64, np.longdouble, np.int16, np.int32, np.int64,
            np.uint8, np.uint16, np.uint64]


def _write(writer, order="F"):
    sink = io.BytesIO()
    writer.to_fileobj(sink, order=order)
    return sink.getvalue()


def _stored(writer, order="F"):
    return np.frombuffer(_write(writer, order), writer.out_dtype)


def _read_back(writer):
    """What a reader gets back: stored values times slope plus intercept, in float64."""
    slope, inter = get_slope_inter(writer)
    return _stored(writer).astype(np.float64) * np.float64(slope) + np.float64(inter)


def _nib(cls_name, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        writer = getattr(nw, cls_name)(*args, **kwargs)
        sink = io.BytesIO()
        writer.to_fileobj(sink)
    return writer, np.frombuffer(sink.getvalue(), writer.out_dtype)


def _seed(*things):
    return zlib.crc32(repr(things).encode())


def _random_arrays(in_type, rng, count):
    specials = [0, 1, -1, 0.5, 127, -128, 255, 1e6, -1e6, 3.3e9, 1e20, np.nan, np.inf, -np.inf]
    for _ in range(count):
        values = list(rng.choice(specials, rng.integers(1, 4)))
        values += list(rng.standard_normal(3) * 10.0 ** rng.integers(-3, 10)
                       + rng.choice([0, 1e3, 1e6]))
        if np.dtype(in_type).kind in "iu":
            info = np.iinfo(in_type)
            finite = np.array([v for v in values if np.isfinite(v)])
            finite = np.clip(np.round(finite), max(info.min, -(2**62)), min(info.max, 2**62))
            yield np.array([int(v) for v in finite], dtype=in_type)
        else:
            with np.errstate(over="ignore"):
                yield np.array(values, dtype=in_type)


def test_errors_are_shared_classes():
    assert issubclass(ScalingError, WriterError)
    assert issubclass(WriterError, NivoxError) and issubclass(WriterError, ValueError)


def test_make_array_writer_picks_the_class():
    arr = np.arange(10)
    assert type(make_array_writer(arr, np.uint8, True, True)) is SlopeInterArrayWriter
    assert type(make_array_writer(arr, np.uint8, True, False)) is SlopeArrayWriter
    assert type(make_array_writer(arr, np.uint8, False, False)) is ArrayWriter
    with pytest.raises(ValueError, match="intercept without slope"):
        make_array_writer(arr, np.uint8, False, True)
    writer = make_array_writer(arr, np.uint8, scaler_dtype=np.float64, calc_scale=False)
    assert writer.scaler_dtype == np.float64 and writer.slope == 1


def test_get_slope_inter_defaults():
    arr = np.arange(10)
    assert get_slope_inter(ArrayWriter(arr)) == (1.0, 0.0)
    assert get_slope_inter(SlopeArrayWriter(arr)) == (1.0, 0.0)
    assert get_slope_inter(SlopeInterArrayWriter(arr)) == (1.0, 0.0)


def test_array_writer_refuses_what_needs_scaling():
    ArrayWriter(np.array([0, 255], np.uint8))
    with pytest.raises(WriterError, match="Scaling needed"):
        ArrayWriter(np.array([0, 255], np.uint8), np.int8)
    with pytest.raises(WriterError, match="Scaling needed"):
        ArrayWriter(np.array([0.5]), np.int16)
    # no scaling needed: in range, all zeros, float output, swapped byte order
    assert _stored(ArrayWriter(np.array([100, 200], np.int16), np.uint8)).tolist() == [100, 200]
    assert _stored(ArrayWriter(np.array([0.0, np.nan]), np.int16)).tolist() == [0, 0]
    assert _stored(ArrayWriter(np.array([1e300]), np.float32))[0] == np.inf
    swapped = ArrayWriter(np.arange(3, dtype="<i4"), ">i4")
    assert _write(swapped) == np.arange(3, dtype=">i4").tobytes()
    # without the check, values are clipped to the output range
    clipped = ArrayWriter(np.array([-5, 300], np.int16), np.uint8, check_scaling=False)
    assert _stored(clipped).tolist() == [0, 255]
    rounded = ArrayWriter(np.array([1.6, 1e10, np.nan]), np.int16, check_scaling=False)
    assert _stored(rounded).tolist() == [2, 32767, 0]


@pytest.mark.parametrize("cls", WRITERS)
def test_unwritable_combinations(cls):
    with pytest.raises(WriterError, match="complex"):
        cls(np.array([1 + 2j]), np.float32)
    with pytest.raises(WriterError, match="complex"):
        cls(np.array([1 + 2j], np.complex128), np.int16)
    assert _stored(cls(np.array([1 + 2j], np.complex128), np.complex64))[0] == 1 + 2j
    with pytest.raises(WriterError):
        cls(np.array([1, 2], np.int8), np.bool_)
    with pytest.raises(WriterError):
        cls(np.zeros(1, dtype=[("a", "i2"), ("b", "f4")]), np.int16)
    with pytest.raises(WriterError):
        cls(np.array(["a"]), np.int16)
    with pytest.raises(WriterError):
        cls(np.array([1], dtype=object), np.int16)


@pytest.mark.parametrize("cls", WRITERS)
@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0)])
@pytest.mark.parametrize("in_type", [np.float64, np.int32, np.float32])
def test_empty_arrays_write_nothing(cls, shape, in_type):
    writer = cls(np.zeros(shape, in_type), np.int8)
    assert get_slope_inter(writer) == (1, 0)
    assert _write(writer) == b""


def test_examples_from_the_docs():
    writer = SlopeArrayWriter(np.array([0, 254], np.uint8), np.int8)
    assert writer.slope == 2.0
    writer = SlopeArrayWriter(np.array([0, 254], np.uint8), np.int8, calc_scale=False)
    assert writer.slope == 1.0
    writer.calc_scale()
    assert writer.slope == 2.0
    writer = SlopeInterArrayWriter(np.array([0, 255], np.uint8), np.int8)
    assert (writer.slope, writer.inter) == (1.0, 128)
    assert _stored(writer).tolist() == [-128, 127]


def test_calc_scale_caches_and_reset_forgets():
    writer = SlopeInterArrayWriter(np.array([0.0, 10.0]), np.uint8)
    slope, inter = writer.slope, writer.inter
    writer.slope, writer.inter = 3, 4
    writer.calc_scale()  # cached: keeps the values set by hand
    assert (writer.slope, writer.inter) == (3, 4)
    writer.calc_scale(force=True)
    assert (writer.slope, writer.inter) == (slope, inter)
    writer.reset()
    assert (writer.slope, writer.inter) == (1, 0)
    assert type(writer.slope) is np.float32 and type(writer.inter) is np.float32


@pytest.mark.parametrize("cls", SCALING_WRITERS)
@pytest.mark.parametrize("out_type", SMALL_INTS)
@pytest.mark.parametrize("in_type", IN_TYPES)
def test_scale_factors_equal_nibabel_for_small_outputs(cls, out_type, in_type):
    """For 8- and 16-bit outputs the scale factors and stored bytes are nibabel's exactly.

    The exception: where rounding the intercept to float32 makes nibabel clip
    data by more than half a step, nivox widens the slope instead.
    """
    rng = np.random.default_rng(_seed(cls, out_type, in_type))
    for arr in _random_arrays(in_type, rng, 25):
        try:
            theirs, their_stored = _nib(cls.__name__, arr, out_type)
        except Exception:  # nibabel's WriterError is not nivox's
            with pytest.raises(WriterError):
                cls(arr, out_type)
            continue
        ours = cls(arr, out_type)
        if get_slope_inter(ours) == get_slope_inter(theirs):
            assert np.array_equal(_stored(ours), their_stored), arr
            continue
        assert cls is SlopeInterArrayWriter
        finite = np.isfinite(arr)
        values = arr[finite].astype(np.float64)
        slope, inter = (np.float64(v) for v in get_slope_inter(theirs))
        their_error = np.abs(their_stored[finite] * slope + inter - values).max()
        assert their_error > 0.5 * abs(slope)
        assert np.abs(_read_back(ours)[finite] - values).max() <= 0.5 * abs(ours.slope) * (1 + 1e-6)


@pytest.mark.parametrize("cls", SCALING_WRITERS)
@pytest.mark.parametrize("out_type", WIDE_INTS)
@pytest.mark.parametrize("in_type", [np.float32, np.float64, np.int64, np.uint64])
def test_scale_factors_near_nibabel_for_wide_outputs(cls, out_type, in_type):
    """Wide outputs: at most one float32 ulp from nibabel, where nibabel's rounding clips."""
    rng = np.random.default_rng(_seed(cls, out_type, in_type))
    for arr in _random_arrays(in_type, rng, 25):
        try:
            theirs, _ = _nib(cls.__name__, arr, out_type)
        except Exception:
            continue
        ours = cls(arr, out_type)
        near = all(
            np.float32(mine) == np.float32(their)
            or np.float32(mine) == np.nextafter(np.float32(their), np.float32(np.inf) * np.sign(their))
            for mine, their in zip(get_slope_inter(ours), get_slope_inter(theirs)))
        if not near:
            # the intercept refit: never worse than nibabel's round trip
            finite = np.isfinite(arr)
            slope, inter = (np.float64(v) for v in get_slope_inter(theirs))
            their_back = _nib(cls.__name__, arr, out_type)[1] * slope + inter
            values = arr[finite].astype(np.float64)
            assert (np.abs(_read_back(ours)[finite] - values).max()
                    <= np.abs(their_back[finite] - values).max())


@pytest.mark.parametrize("cls", SCALING_WRITERS)
@pytest.mark.parametrize("out_type", SMALL_INTS + WIDE_INTS)
def test_float64_round_trip_within_half_a_step(cls, out_type):
    rng = np.random.default_rng(7)
    for arr in _random_arrays(np.float64, rng, 40):
        try:
            writer = cls(arr, out_type, scaler_dtype=np.float64)
        except WriterError:
            assert cls is SlopeArrayWriter and np.nanmin(arr) < 0 < np.nanmax(arr)
            continue
        _check_round_trip(writer, arr)


def _check_round_trip(writer, arr):
    finite = np.isfinite(arr)
    back = _read_back(writer)
    step = abs(np.float64(writer.slope))
    work_eps = np.finfo(np.float64).eps * 8 * (np.abs(arr[finite]) + abs(get_slope_inter(writer)[1]))
    assert np.all(np.abs(back[finite] - arr[finite]) <= step * 0.5 + work_eps)
    if writer.out_dtype.kind in "iu":
        # NaN reads back as (about) zero, infinities as the finite extremes
        assert np.all(np.abs(back[np.isnan(arr)]) <= step * 0.5 + work_eps.max(initial=0))
        if finite.any():
            lo, hi = arr[finite].min(), arr[finite].max()
            assert np.all(np.abs(back[arr == np.inf] - hi) <= step * 0.5 + work_eps.max())
            assert np.all(np.abs(back[arr == -np.inf] - lo) <= step * 0.5 + work_eps.max())


@given(
    # (magnitudes so small that the scale underflows float32 raise ScalingError)
    st.lists(st.floats(-1e9, 1e9, width=32).filter(lambda v: v == 0 or abs(v) > 1e-20)
             | st.just(np.nan), min_size=1, max_size=30),
    st.sampled_from(SMALL_INTS + [np.int32]),
    st.sampled_from(SCALING_WRITERS),
    st.sampled_from([np.float32, np.float64]),
)
@settings(max_examples=300, deadline=None)
def test_round_trip_property(values, out_type, cls, in_type):
    arr = np.array(values, in_type)
    try:
        writer = cls(arr, out_type)
    except WriterError:
        assert cls is SlopeArrayWriter and np.nanmin(arr) < 0 < np.nanmax(arr)
        return
    finite = np.isfinite(arr)
    back = _read_back(writer)
    slope, inter = (abs(np.float64(v)) for v in get_slope_inter(writer))
    # Half a step, plus rounding in the working type (float32 for float32 data).
    eps = np.finfo(np.result_type(in_type, np.float32)).eps
    tolerance = slope * 0.5 + 4 * eps * (np.abs(arr[finite]).astype(np.float64) + inter)
    tolerance += 4 * eps * slope * np.iinfo(out_type).max
    assert np.all(np.abs(back[finite] - arr[finite]) <= tolerance)
    assert np.all(np.abs(back[~finite]) <= slope * 0.5 + 4 * eps * (inter + slope * 2**31))


# --- the deliberate differences from nibabel -----------------------------------------------

def test_intercept_rounding_no_longer_clips_half_the_data():
    # float32 cannot hold the ideal intercept 1e8 + 0.5; nibabel keeps its slope and clips
    arr = np.array([1e8, 1e8 + 1, 1e8 + 0.5])
    theirs, their_stored = _nib("SlopeInterArrayWriter", arr, np.int16)
    their_back = their_stored * np.float64(theirs.slope) + np.float64(theirs.inter)
    assert np.abs(their_back - arr).max() > 1000 * theirs.slope
    ours = SlopeInterArrayWriter(arr, np.int16)
    assert np.abs(_read_back(ours) - arr).max() <= 0.5 * ours.slope
    arr = np.array([1e9 + 3, 1e9 + 5, 1e9 + 4])
    ours = SlopeInterArrayWriter(arr, np.int8)
    assert np.abs(_read_back(ours) - arr).max() <= 0.5 * ours.slope


def test_slope_rounding_no_longer_clips_wide_outputs():
    # nibabel's float32 slope rounds down, so its largest value is clipped by ~2**8 steps
    arr = np.array([0, 1e6, 999999.999])
    theirs, their_stored = _nib("SlopeArrayWriter", arr, np.uint32)
    ours = SlopeArrayWriter(arr, np.uint32)
    assert np.float32(ours.slope) == np.nextafter(theirs.slope, np.float32(1))
    assert np.abs(_read_back(ours) - arr).max() <= 0.5 * ours.slope
    their_back = their_stored * np.float64(theirs.slope)
    assert np.abs(their_back - arr).max() > 0.5 * theirs.slope


def test_uint64_into_int64_is_not_clipped():
    arr = np.array([0, 2**63], np.uint64)
    theirs, their_stored = _nib("SlopeArrayWriter", arr, np.int64)
    assert theirs.slope == 1 and their_stored[1] == 2**63 - 1  # clipped by nibabel
    ours = SlopeArrayWriter(arr, np.int64)
    assert ours.slope > 1
    stored = _stored(ours)
    assert int(stored[1]) * float(ours.slope) == pytest.approx(2**63, rel=1e-15)


@pytest.mark.parametrize("data", [[1e308, -1e308], [1e-300, 1e300]])
def test_scale_not_storable_raises_at_once(data):
    # nibabel's SlopeArrayWriter stores an inf slope and fails only when writing
    with pytest.raises(ScalingError):
        SlopeArrayWriter(np.array(data), np.int16)
    with pytest.raises(ScalingError):
        SlopeInterArrayWriter(np.array(data), np.int16)
    writer = SlopeArrayWriter(np.array(data), np.int16, scaler_dtype=np.float64)
    assert np.isfinite(writer.slope)


def test_slope_underflow_raises():
    with pytest.raises(ScalingError):
        SlopeArrayWriter(np.array([1e-45, 2e-45]), np.int16)


# --- behaviour for special values ----------------------------------------------------------

def test_nan_is_stored_as_zero():
    writer = SlopeInterArrayWriter(np.array([np.nan, 10, 20], np.float32), np.int8)
    back = _read_back(writer)
    assert abs(back[0]) <= writer.slope / 2
    assert _stored(writer)[0] == -128  # zero is the data's lower end here
    writer = SlopeArrayWriter(np.array([np.nan, 10, 20], np.float32), np.int8)
    assert _stored(writer).tolist() == [0, 64, 127]
    # zero at the data's end: NaN must still map to a storable integer after rounding
    data = np.array([np.nan, -1e6, 0])
    writer = SlopeInterArrayWriter(data, np.int32)
    back = _read_back(writer)
    assert abs(back[0]) <= abs(writer.slope) and abs(back[1] - data[1]) <= abs(writer.slope) / 2


def test_no_finite_values_writes_zeros():
    for data in ([np.nan, np.nan], [np.inf, np.inf], [-np.inf, np.inf], [np.nan, -np.inf]):
        for cls in SCALING_WRITERS:
            writer = cls(np.array(data), np.int16)
            assert get_slope_inter(writer) == (1, 0)
            assert _stored(writer).tolist() == [0, 0]


def test_infinities_clip_to_the_finite_range():
    writer = SlopeArrayWriter(np.array([np.inf, 1.5, -np.inf, 0.0]), np.int16)
    assert _stored(writer).tolist() == [32767, 32767, 0, 0]
    writer = SlopeInterArrayWriter(np.array([np.inf, 1.5]), np.int16)
    assert (writer.slope, writer.inter) == (1, 1.5)
    assert _stored(writer).tolist() == [0, 0]


def test_constant_data():
    slope_only = SlopeArrayWriter(np.array([1.5, 1.5]), np.int16)
    assert slope_only.slope == np.float32(1.5 / 32767)
    with_inter = SlopeInterArrayWriter(np.array([1.5, 1.5]), np.int16)
    assert (with_inter.slope, with_inter.inter) == (1, 1.5)
    assert _stored(with_inter).tolist() == [0, 0]
    negative = SlopeArrayWriter(np.array([-1.5, -1.5]), np.uint8)
    assert negative.slope < 0 and _stored(negative).tolist() == [255, 255]
    shifted = SlopeInterArrayWriter(np.array([1000, 1000], np.int64), np.uint8)
    assert (shifted.slope, shifted.inter) == (1, 1000)


def test_signed_and_unsigned_combinations():
    with pytest.raises(WriterError, match="negative and positive"):
        SlopeArrayWriter(np.array([-1, 254], np.int16), np.uint8)
    flipped = SlopeArrayWriter(np.array([-100, -2], np.int16), np.uint8)
    assert flipped.slope == -1 and _stored(flipped).tolist() == [100, 2]
    writer = SlopeInterArrayWriter(np.array([-1, 254], np.int16), np.uint8)
    assert (writer.slope, writer.inter) == (1, -1)
    writer = SlopeInterArrayWriter(np.array([2**63, 0], np.uint64), np.int64)
    assert writer.slope == 1 and writer.inter == 2**62
    writer = SlopeInterArrayWriter(np.array([-0.5, -1.5], np.float32), np.uint8)
    assert writer.slope < 0 and writer.inter == np.float32(-0.5)
    assert np.abs(_read_back(writer) - [-0.5, -1.5]).max() <= abs(writer.slope) / 2


def test_int_shift_for_signed_output_rounds_down():
    big = 2**30
    writer = SlopeInterArrayWriter(np.array([big + 200, big + 201], np.int64), np.int16)
    assert (writer.slope, writer.inter) == (1, big + 128)  # float32 spacing there is 128
    assert np.array_equal(_read_back(writer), [big + 200, big + 201])


@pytest.mark.parametrize("cls", WRITERS)
def test_big_endian_float16_longdouble(cls):
    data = np.array([1.5, -2.5, 100.0], ">f8")
    writer = cls(data, ">f4")
    assert _write(writer) == data.astype(">f4").tobytes()
    half = np.array([0, 1, 60000], np.float16)
    if cls is not ArrayWriter:
        writer = cls(half, ">i2")
        assert writer.out_dtype == np.dtype(">i2")
        assert np.abs(_read_back(writer) - half).max() <= abs(writer.slope)
        long = np.array([0, 2**64, 1.5], np.longdouble)
        writer = cls(long, np.uint16)
        assert np.abs(_read_back(writer) - long.astype(np.float64)).max() <= abs(writer.slope)


@pytest.mark.parametrize("cls", WRITERS)
def test_order(cls):
    data = np.arange(24, dtype=np.float64).reshape(2, 3, 4) * 3.5
    writer = cls(data, np.float32)
    assert _write(writer, "F") == data.astype(np.float32).tobytes("F")
    assert _write(writer, "C") == data.astype(np.float32).tobytes("C")


def test_blockwise_write_equals_one_piece(monkeypatch):
    rng = np.random.default_rng(8)
    data = rng.standard_normal((9, 10, 11)) * 1e3
    data[0, 0, 0] = np.nan
    expected = _write(SlopeInterArrayWriter(data, np.int16))
    monkeypatch.setattr(volumeutils, "_BLOCK_BYTES", 128)
    assert _write(SlopeInterArrayWriter(data, np.int16)) == expected


def test_written_data_reads_back_through_volumeutils():
    data = np.linspace(-3.2, 7.9, 60).reshape(3, 4, 5)
    writer = SlopeInterArrayWriter(data, np.int16)
    sink = io.BytesIO()
    writer.to_fileobj(sink)
    stored = array_from_file(data.shape, np.int16, sink)
    back = apply_read_scaling(stored, writer.slope, writer.inter)
    assert back.dtype == np.float32
    assert np.abs(back - data).max() <= writer.slope


def test_forced_calc_scale_sees_a_changed_array_and_structured_data_has_no_range():
    from nivox.arraywriters import ArrayWriter, SlopeInterArrayWriter, get_slope_inter

    aw = SlopeInterArrayWriter(np.array((1, 511)), np.uint8)
    assert np.allclose(get_slope_inter(aw), (2, 1))
    aw.array[:] = aw.array * 2
    aw.calc_scale()  # cached
    assert np.allclose(get_slope_inter(aw), (2, 1))
    aw.calc_scale(force=True)
    assert np.allclose(get_slope_inter(aw), (4, 2))
    structured = np.array([[1.0, 0, 1], [2, 3, 4]]).view([("f1", "f")])
    writer = ArrayWriter(structured, structured.dtype)
    with pytest.raises(TypeError):
        writer.finite_range()
    assert not writer.has_nan



@pytest.mark.parametrize(("in_type", "out_type"), [
    (np.uint64, np.int32), (np.int64, np.int32), (np.int32, np.uint32),
])
def test_integer_zero_reads_back_exactly_when_the_slope_is_widened(in_type, out_type):
    # float32 rounding of the scale factors would clip an end; the slope is widened
    # instead, and the intercept then chosen so that integer zero (background) stays 0
    info = np.iinfo(in_type)
    arr = np.array([info.min, 0, info.max] if info.min < 0 else [0, 1, info.max], dtype=in_type)
    writer = SlopeInterArrayWriter(arr, out_type)
    back = _read_back(writer)
    zero = 1 if info.min < 0 else 0
    assert back[zero] == 0
    half_step = 0.5 * abs(float(writer.slope))
    for value, got in zip(arr, back):
        # within half a step, plus float64's own rounding of such large values
        assert abs(float(got) - float(value)) <= half_step + np.spacing(abs(float(value)))
