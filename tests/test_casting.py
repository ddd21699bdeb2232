"""Tests for nivox.casting, with nibabel.casting as the oracle where behaviour is shared."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nivox import casting
from nivox.casting import (
    OK_FLOATS,
    CastingError,
    able_int_type,
    as_int,
    best_float,
    ceil_exact,
    float_to_int,
    floor_exact,
    floor_log2,
    have_binary128,
    int_abs,
    int_to_float,
    longdouble_precision_improved,
    ok_floats,
    on_powerpc,
    sctypes,
    sctypes_aliases,
    shared_range,
    type_info,
    ulp,
)
from nivox.errors import NivoxError

nib_casting = pytest.importorskip("nibabel.casting")

FLOATS = [np.float16, np.float32, np.float64, np.longdouble]
INTS = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64]


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def test_casting_error_is_the_shared_class():
    assert issubclass(CastingError, NivoxError)
    assert issubclass(CastingError, ValueError)
    from nivox.errors import CastingError as root

    assert CastingError is root


def test_sctypes_tables():
    assert set(sctypes) == {"int", "uint", "float", "complex", "others"}
    assert sctypes["float"] == FLOATS
    assert sctypes["uint"][-1] is np.uint64
    assert sctypes == nib_casting.sctypes
    assert sctypes_aliases == nib_casting.sctypes_aliases
    assert np.float32 in sctypes_aliases and np.longlong in sctypes_aliases


@pytest.mark.parametrize("np_type", FLOATS + INTS + [np.complex64, np.complex128, np.clongdouble,
                                                      ">f4", "<i2", "f8"])
def test_type_info_matches_nibabel(np_type):
    ours, theirs = type_info(np_type), nib_casting.type_info(np_type)
    assert ours == theirs
    assert type(ours["max"]) is np.dtype(np_type).type


def test_type_info_values_and_errors():
    info = type_info(np.float32)
    assert (info["nmant"], info["nexp"], info["width"]) == (23, 8, 4)
    assert type_info(np.int16)["nmant"] is None
    assert type_info(np.complex128)["width"] == 16
    for bad in (np.bool_, object, "S3"):
        with pytest.raises(ValueError):
            type_info(bad)


def test_float_capabilities():
    assert OK_FLOATS == ok_floats()
    assert OK_FLOATS[:3] == [np.float16, np.float32, np.float64]
    nmants = [type_info(t)["nmant"] for t in OK_FLOATS]
    assert nmants == sorted(nmants)
    assert best_float() in (np.float64, np.longdouble)
    assert (np.longdouble in OK_FLOATS) == (best_float() is np.longdouble)
    assert best_float() is nib_casting.best_float()
    assert OK_FLOATS == nib_casting.OK_FLOATS
    assert have_binary128() == nib_casting.have_binary128()
    assert longdouble_precision_improved() is False
    assert on_powerpc() == nib_casting.on_powerpc()
    assert casting.longdouble_lte_float64() == nib_casting.longdouble_lte_float64()


@pytest.mark.parametrize(
    ("machine", "powerpc", "sparc"),
    [("x86_64", False, False), ("ppc64le", True, False), ("PowerPC", True, False), ("sparc64", False, True),
     ("sun4u", False, True), ("aarch64", False, False)],
)
def test_the_processor_is_told_by_uname_without_a_subprocess(monkeypatch, machine, powerpc, sparc):
    import platform

    def no_subprocess():
        raise AssertionError("platform.processor() runs `uname -p` in a subprocess")

    monkeypatch.setattr(platform, "processor", no_subprocess)
    monkeypatch.setattr(platform, "machine", lambda: machine)
    assert on_powerpc() is powerpc
    if sparc:  # emulated long double: too slow to compute with
        assert best_float() is np.float64
    else:
        assert best_float() is (np.float64 if casting.longdouble_lte_float64() else np.longdouble)


@pytest.mark.parametrize(("value", "expected"), [
    (0, None), (1, 0), (2**9 + 1, 9), (-(2**9) + 1, 8), (2**64, 64), (2**200 + 5, 200),
    (0.5, -1), (np.float32(3.9), 1), (np.int64(8), 3), (1e-320, -1064),
    (np.float16(-0.3), -2), (np.longdouble(2) ** -16400, -16400), (0.0, None),
])
def test_floor_log2(value, expected):
    assert floor_log2(value) == expected


@given(st.integers(min_value=-(2**300), max_value=2**300))
@settings(max_examples=200, deadline=None)
def test_floor_log2_of_ints_is_exact(value):
    result = floor_log2(value)
    if value == 0:
        assert result is None
    else:
        assert 2**result <= abs(value) < 2 ** (result + 1)


def _is_whole_in(value, ftype):
    return np.isfinite(value) and float(value) == int(value) and ftype(value) == value


@pytest.mark.parametrize("ftype", FLOATS)
@given(value=st.integers(min_value=-(2**200), max_value=2**200))
@settings(max_examples=150, deadline=None)
def test_floor_and_ceil_exact_bracket_the_integer(ftype, value):
    top = int(type_info(ftype)["max"])
    low, high = floor_exact(value, ftype), ceil_exact(value, ftype)
    assert type(low) is ftype and type(high) is ftype
    if abs(value) <= top:
        assert int(low) <= value <= int(high)
        # Nothing representable lies strictly between the bracket and value.
        assert int(np.nextafter(low, ftype(np.inf))) > value or int(low) == value
        assert int(np.nextafter(high, ftype(-np.inf))) < value or int(high) == value
    if value > top:
        assert low == type_info(ftype)["max"] and high == np.inf
    if value < -top:
        assert low == -np.inf and high == type_info(ftype)["min"]


def test_floor_exact_examples():
    assert floor_exact(2**24 + 1, np.float32) == 2**24
    assert ceil_exact(2**24 + 1, np.float32) == 2**24 + 2
    assert floor_exact(-(2**24) - 1, np.float32) == -(2**24) - 2
    assert ceil_exact(-(2**24) - 1, np.float32) == -(2**24)
    assert floor_exact(np.float64(2**25 + 1.5), np.float32) == 2**25
    assert floor_exact(np.float64(2.5), np.int16) == np.int16(2)
    assert ceil_exact(2.5, np.int16) == np.int16(3)
    assert floor_exact(np.inf, np.float32) == np.inf
    # longdouble has 64 significant bits; the conversion does not go through float64
    assert int(floor_exact(2**70 + 1, np.longdouble)) == 2**70
    assert int(ceil_exact(2**70 + 1, np.longdouble)) == 2**70 + 2**7 or best_float() is np.float64


@pytest.mark.parametrize("ftype", FLOATS)
def test_floor_exact_matches_nibabel_in_range(ftype):
    rng = np.random.default_rng(0)
    top = min(int(type_info(ftype)["max"]), 2**120)
    for bits in rng.integers(0, top.bit_length(), 200):
        value = int(rng.integers(0, 2**62)) << max(int(bits) - 62, 0) | int(rng.integers(0, 2))
        value = min(value, top) * int(rng.choice([-1, 1]))
        assert floor_exact(value, ftype) == _quiet(nib_casting.floor_exact, value, ftype)
        assert ceil_exact(value, ftype) == _quiet(nib_casting.ceil_exact, value, ftype)


def test_floor_exact_above_range_differs_from_nibabel_deliberately():
    # nibabel gives +inf, which is not <= the value; nivox gives the largest float.
    assert _quiet(nib_casting.floor_exact, 2**200, np.float16) == np.inf
    assert floor_exact(2**200, np.float16) == np.float16(65504)
    assert ceil_exact(-(2**200), np.float16) == np.float16(-65504)


@pytest.mark.parametrize("ftype", FLOATS + [np.complex64, np.complex128])
@pytest.mark.parametrize("itype", INTS)
def test_shared_range_matches_nibabel_and_is_castable(ftype, itype):
    lo, hi = shared_range(ftype, itype)
    assert (lo, hi) == _quiet(nib_casting.shared_range, ftype, itype)
    assert type(lo) is np.dtype(ftype).type
    real_lo, real_hi = np.real(lo), np.real(hi)
    info = np.iinfo(itype)
    assert info.min <= int(real_lo) and int(real_hi) <= info.max
    with np.errstate(invalid="raise"):
        np.array([real_lo, real_hi]).astype(itype)
    # No representable float further out still fits the integer type.
    with np.errstate(over="ignore"):
        beyond = np.nextafter(real_hi, np.dtype(real_hi).type(np.inf))
    assert not np.isfinite(beyond) or int(np.ceil(beyond)) > info.max


def test_shared_range_examples():
    assert shared_range(np.float32, np.int32) == (-2147483648.0, 2147483520.0)
    assert shared_range("f4", "i4") == (-2147483648.0, 2147483520.0)
    assert shared_range(np.float16, np.int32) == (-65504, 65504)
    assert shared_range(np.float64, np.uint64) == (0, 2**64 - 2048)


@pytest.mark.parametrize("ftype", FLOATS)
@pytest.mark.parametrize("itype", INTS)
def test_float_to_int_matches_nibabel(ftype, itype):
    rng = np.random.default_rng(1)
    values = np.concatenate([
        rng.standard_normal(40) * 10.0 ** rng.integers(0, 22, 40),
        [np.nan, np.inf, -np.inf, 0.5, 1.5, 2.5, -0.5, -2.5],
    ])
    with np.errstate(over="ignore"):
        arr = values.astype(ftype)
    for infmax in (False, True):
        ours = float_to_int(arr, itype, infmax=infmax)
        theirs = _quiet(nib_casting.float_to_int, arr, itype, infmax=infmax)
        assert ours.dtype == np.dtype(itype)
        assert np.array_equal(ours, theirs)


def test_float_to_int_nan_and_shape_handling():
    assert np.array_equal(float_to_int([np.nan, np.inf, -np.inf, 1.1, 6.6], np.int16),
                          [0, 32767, -32768, 1, 7])
    with pytest.raises(CastingError, match="NaN"):
        float_to_int(np.array([1.5, np.nan]), np.int16, nan2zero=False)
    assert np.array_equal(float_to_int(np.array([1.5, np.nan]), np.int16, nan2zero=None), [2, 0])
    scalar = float_to_int(np.float32(2.5), np.int16)
    assert isinstance(scalar, np.ndarray) and scalar.shape == () and scalar == 2
    swapped = float_to_int(np.array([[1.5, 2.5]], ">f8"), np.int8)
    assert swapped.shape == (1, 2) and swapped.tolist() == [[2, 2]]
    assert float_to_int(np.array([300, -5], np.int16), np.uint8).tolist() == [255, 0]


def test_float_to_int_refuses_complex_unlike_nibabel():
    # nibabel silently drops the imaginary part (with a ComplexWarning).
    with pytest.raises(CastingError, match="complex"):
        float_to_int(np.array([1 + 2j]), np.int16)


@pytest.mark.parametrize(("values", "expected"), [
    ([0, 1], np.uint8), ([-1, 1], np.int8), ([0, 255], np.uint8), ([0, 256], np.uint16),
    ([-129], np.int16), ([-1, 200], np.int16), ([2**63], np.uint64), ([2**64], None),
    ([1.0], np.uint8), ([1.5], None), ([-(2**63), 2**63 - 1], np.int64), ([True], np.uint8),
    (np.array([1, 2]), np.uint8), ([-(2**31), 2**31], np.int64),
])
def test_able_int_type(values, expected):
    assert able_int_type(values) is expected
    assert expected is nib_casting.able_int_type(values)


def test_int_abs():
    assert int_abs(np.int8(-128)) == 128
    assert type(int_abs(np.int8(-128))) is np.uint8
    result = int_abs(np.array([-128, 127], dtype=np.int8))
    assert result.dtype == np.uint8 and result.tolist() == [128, 127]
    assert int_abs(np.array([-(2**63)], dtype=np.int64)).tolist() == [2**63]
    assert int_abs(np.array([-128, 127], dtype=np.float32)).tolist() == [128, 127]
    assert int_abs(np.array([3], dtype=np.uint8)).dtype == np.uint8
    assert int_abs(-3) == 3
    swapped = int_abs(np.array([[-5, 4]], dtype=">i2"))
    assert swapped.dtype == np.dtype(">u2") and swapped.tolist() == [[5, 4]]
    for dt in INTS:
        info = np.iinfo(dt)
        arr = np.array([info.min, info.max, 0], dtype=dt)
        assert np.array_equal(int_abs(arr), nib_casting.int_abs(arr))


def test_ulp():
    assert ulp() == np.finfo(np.float64).eps
    assert ulp(1) == 1
    assert ulp(np.float32(1)) == np.finfo(np.float32).eps
    assert type(ulp(np.float32(1))) is np.float32
    assert ulp(-2.0) == 2 * np.finfo(np.float64).eps
    assert ulp(np.float16(1000)) == 0.5
    assert ulp(0.0) == 2.0**-1074
    assert ulp(np.float64(2**-1023)) == 2.0**-1074
    assert np.isnan(ulp(np.inf)) and np.isnan(ulp(np.nan))
    assert ulp(np.longdouble(1)) == np.finfo(np.longdouble).eps
    for value in (np.float32(3.3), 1e300, np.float16(-0.1), 2.0**53):
        assert ulp(value) == _quiet(nib_casting.ulp, value)


def test_as_int_is_deprecated_and_exact():
    with pytest.warns(DeprecationWarning):
        assert as_int(2.0) == 2
    with pytest.warns(DeprecationWarning), pytest.raises(CastingError, match="Not an integer"):
        as_int(2.5)
    with pytest.warns(DeprecationWarning):
        assert as_int(2.5, check=False) == 2
        assert as_int(np.longdouble(2) ** 70 + 2**10) == 2**70 + 2**10
        assert as_int(np.array(3.0)) == 3
        with pytest.raises(OverflowError):
            as_int(np.inf)


def test_int_to_float_is_deprecated_and_rounds_correctly():
    with pytest.warns(DeprecationWarning):
        assert int_to_float(3, np.float32) == np.float32(3)
        big = int_to_float(2**63 + 1, np.longdouble)
        arr = int_to_float(np.array([2**62 + 1], dtype=np.int64), np.longdouble)
    assert type(big) is np.longdouble
    if type_info(np.longdouble)["nmant"] == 63:
        # Exact with 64 significant bits; through float64 it would be 2**63.
        assert int(big) == 2**63 + 1
        assert int(arr[0]) == 2**62 + 1


def test_able_int_type_keeps_big_python_ints_exact():
    from nivox.casting import able_int_type

    assert able_int_type([0, 2**64 - 1]) is np.uint64
    assert able_int_type([-1, 2**64 - 1]) is None
    assert able_int_type([0, 2**64]) is None
    assert able_int_type([[1, 2], [3, 300]]) is np.uint16
    assert able_int_type([0.5, 1]) is None and able_int_type([np.inf]) is None


def test_float_to_int_nan2zero_none_passes_nans_through():
    from nivox.casting import float_to_int

    arr = np.array([np.nan, 1.4], np.float32)
    with np.errstate(invalid="ignore"):
        expected = np.float32(np.nan).astype(np.int32)
    np.testing.assert_array_equal(float_to_int(arr, np.int32, nan2zero=None), [expected, 1])
    np.testing.assert_array_equal(float_to_int(arr, np.int32), [0, 1])


@pytest.mark.parametrize("ftype", [np.float16, np.float32, np.float64, np.longdouble])
def test_measured_float_layout(ftype):
    from nivox.casting import _check_maxexp, _check_nmant

    info = np.finfo(ftype)
    assert _check_nmant(ftype, info.nmant)
    assert not _check_nmant(ftype, info.nmant - 1) and not _check_nmant(ftype, info.nmant + 1)
    assert _check_maxexp(ftype, info.maxexp)
    assert not _check_maxexp(ftype, info.maxexp - 1) and not _check_maxexp(ftype, info.maxexp + 1)
