"""Exact conversions between numpy's integer and floating point types.

Casting a float outside an integer type's range is undefined in C (and so in
numpy), and large integers are not exactly representable as floats. The
functions here find, exactly, the float values that bound an integer range
(:func:`floor_exact`, :func:`ceil_exact`, :func:`shared_range`) and use them to
convert safely (:func:`float_to_int`). Integer arithmetic is done with Python
ints, which never overflow, rather than with numpy integers.
"""

from __future__ import annotations

import platform
import warnings
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .errors import CastingError, FloatingError, InvalidArgumentError

__all__ = [
    "FloatingError",
    "CastingError",
    "OK_FLOATS",
    "able_int_type",
    "as_int",
    "best_float",
    "ceil_exact",
    "float_to_int",
    "floor_exact",
    "floor_log2",
    "have_binary128",
    "int_abs",
    "int_to_float",
    "longdouble_lte_float64",
    "longdouble_precision_improved",
    "ok_floats",
    "on_powerpc",
    "sctypes",
    "sctypes_aliases",
    "shared_range",
    "type_info",
    "ulp",
]

# numpy 2 removed np.sctypes; nibabel code still asks for this table.
sctypes: dict[str, list[type]] = {
    "int": [np.int8, np.int16, np.int32, np.int64],
    "uint": [np.uint8, np.uint16, np.uint32, np.uint64],
    "float": [np.float16, np.float32, np.float64, np.longdouble],
    "complex": [np.complex64, np.complex128, np.clongdouble],
    "others": [bool, object, bytes, str, np.void],
}

# Every distinct numpy scalar type, however many names it has.
sctypes_aliases: set[type] = set(np.sctypeDict.values())

_INT_TYPES_BY_SIZE = (
    np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64, np.int64,
)


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"{old} is deprecated since nibabel 5.2 and will be removed; use {new} instead",
        DeprecationWarning,
        stacklevel=3,
    )


def type_info(np_type: DTypeLike) -> dict[str, Any]:
    """Range and layout of a numeric numpy type.

    Returns a dict with ``min`` and ``max`` (as scalars of `np_type`),
    ``nmant`` (significand bits, not counting the implicit one), ``nexp``
    (exponent bits), ``minexp`` and ``maxexp`` (as in ``np.finfo``) and
    ``width`` (bytes). The four float fields are None for integers.
    """
    dt = np.dtype(np_type)
    sctype = dt.type
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return {
            "min": sctype(info.min), "max": sctype(info.max),
            "minexp": None, "maxexp": None, "nmant": None, "nexp": None,
            "width": dt.itemsize,
        }
    if dt.kind not in "fc":
        raise InvalidArgumentError(f"data type {sctype} not inexact")
    info = np.finfo(dt)
    nmant, nexp, minexp, maxexp = info.nmant, info.nexp, info.minexp, info.maxexp
    if _is_double_double(info):
        # numpy's finfo is unreliable for PowerPC's pair-of-doubles longdouble;
        # its usable precision is two float64 significands and float64's range.
        nmant, nexp, minexp, maxexp = 106, 11, -1022, 1024
    return {
        "min": sctype(info.min), "max": sctype(info.max),
        "nmant": int(nmant), "nexp": int(nexp),
        "minexp": int(minexp), "maxexp": int(maxexp),
        "width": dt.itemsize,
    }


def _is_double_double(info: np.finfo) -> bool:
    return info.dtype == np.dtype(np.longdouble) and info.nexp == 11 and info.nmant > 52


def _check_nmant(np_type: DTypeLike, nmant: int) -> bool:
    """True if float type `np_type` behaves as having `nmant` stored significand bits.

    Measured, not read from ``finfo``: integers are exact up to
    ``2 ** (nmant + 1)``, and the first one above it that is odd rounds away.
    """
    ftype = np.dtype(np_type).type
    top = ftype(2 ** (nmant + 1))
    probe = np.array([-2, -1, 0, 1, 2], dtype=ftype)
    return bool(np.all((top + probe) - top == np.array([-2, -1, 0, 0, 2], dtype=ftype)))


def _check_maxexp(np_type: DTypeLike, maxexp: int) -> bool:
    """True if float type `np_type` has numpy's ``maxexp`` of `maxexp`.

    That is, ``2 ** (maxexp - 1)`` is finite in the type and ``2 ** maxexp`` overflows.
    """
    two = np.ones((1,), dtype=np.dtype(np_type)) * 2  # an array: no promotion to float64
    with np.errstate(over="ignore"):
        below, at = two ** (maxexp - 1), two ** maxexp
    return bool(np.isfinite(below).all() and not np.isfinite(at).any())


def on_powerpc() -> bool:
    """True when running on a PowerPC processor."""
    # platform.machine() reads uname; platform.processor() runs `uname -p` in a subprocess on Linux
    return platform.machine().lower().startswith(("ppc", "powerpc"))


def _longdouble_nmant() -> int:
    return type_info(np.longdouble)["nmant"]


def longdouble_lte_float64() -> bool:
    """True when longdouble has no more precision than float64 (e.g. on Windows)."""
    return _longdouble_nmant() <= 52


_LD_LTE_FLOAT64_AT_IMPORT = longdouble_lte_float64()


def longdouble_precision_improved() -> bool:
    """True if longdouble gained precision since import.

    This happens on Windows when a library built with mingw (80-bit long
    double) switches the FPU mode of a numpy built with MSVC (64-bit).
    """
    return _LD_LTE_FLOAT64_AT_IMPORT and not longdouble_lte_float64()


def have_binary128() -> bool:
    """True if longdouble is IEEE 754 binary128 (quadruple precision)."""
    info = type_info(np.longdouble)
    return (info["nmant"], info["nexp"]) == (112, 15)


def best_float() -> type[np.floating]:
    """The most precise float type that is also practical to compute with.

    That is longdouble, except where it is no more precise than float64
    (Windows, some ARM) or where it is emulated in software and very slow
    (SPARC); there float64 is returned.
    """
    if longdouble_lte_float64() or platform.machine().lower().startswith(("sparc", "sun4")):
        return np.float64
    return np.longdouble


def ok_floats() -> list[type[np.floating]]:
    """Float types from least to most precise, longdouble only when it adds precision."""
    floats = sorted(sctypes["float"], key=lambda t: type_info(t)["nmant"])
    if best_float() is not np.longdouble:
        floats.remove(np.longdouble)
    return floats


OK_FLOATS: list[type[np.floating]] = ok_floats()


def floor_log2(x: Any) -> int | None:
    """``floor(log2(abs(x)))`` computed exactly; None when `x` is 0.

    >>> floor_log2(2**9 + 1), floor_log2(-2**9 + 1), floor_log2(0.5)
    (9, 8, -1)
    """
    if isinstance(x, (int, np.integer)):
        mag = abs(int(x))
        return mag.bit_length() - 1 if mag else None
    value = np.asarray(x)[()]
    if value == 0:
        return None
    # frexp gives x = m * 2**e with 0.5 <= |m| < 1, exactly, subnormals included.
    return int(np.frexp(value)[1]) - 1


def ulp(val: Any = np.float64(1.0)) -> Any:
    """Gap between `val` and the next representable number of larger magnitude.

    The unit in the last place, in `val`'s own type; 1 for integers and nan
    for non-finite values.
    """
    if isinstance(val, (int, np.integer)):
        return 1
    arr = np.asarray(val)
    if arr.dtype.kind not in "fc":
        arr = arr.astype(np.float64)
    spacing = np.abs(np.spacing(arr.real if arr.dtype.kind == "c" else arr))
    return spacing[()]


def as_int(x: Any, check: bool = True) -> int:
    """`x` as a Python int; deprecated, use ``int(x)``.

    With `check`, raise :class:`CastingError` if `x` is not a whole number.
    """
    _deprecated("as_int()", "int()")
    value = np.asarray(x)[()]
    result = int(value)
    if check and result != value:
        raise CastingError(f"Not an integer: {x}")
    return result


def int_to_float(val: Any, flt_type: DTypeLike) -> Any:
    """Integer `val` converted to `flt_type`; deprecated, use ``flt_type(val)``."""
    _deprecated("int_to_float(..., dt)", "dt()")
    ftype = np.dtype(flt_type).type
    if isinstance(val, np.ndarray):
        return val.astype(ftype)
    return _exact_to_float(int(val), ftype) if ftype is np.longdouble else ftype(val)


def _exact_to_float(value: int, ftype: type) -> Any:
    """Python int to float type, correctly rounded even for longdouble."""
    if ftype is np.longdouble:
        # numpy converts big Python ints to longdouble through float64; parsing
        # the decimal text rounds correctly instead.
        return np.longdouble(str(value))
    with np.errstate(over="ignore"):
        return ftype(float(value)) if abs(value) < 2**1023 else ftype(np.inf if value > 0 else -np.inf)


def int_abs(arr: ArrayLike) -> Any:
    """Absolute values, as the unsigned type of the same size for signed ints.

    Unlike ``np.abs``, the most negative integer keeps its magnitude:
    ``int_abs(np.int8(-128))`` is ``np.uint8(128)``.
    """
    is_scalar = np.ndim(arr) == 0 and not isinstance(arr, np.ndarray)
    values = np.asarray(arr)
    if values.dtype.kind != "i":
        result = np.abs(values)
    else:
        utype = values.dtype.newbyteorder("=").str.replace("i", "u")
        utype = np.dtype(utype).newbyteorder(values.dtype.byteorder)
        # Casting to unsigned wraps modulo 2**n; unsigned negation wraps back
        # to the magnitude, which always fits.
        result = values.astype(utype)
        np.negative(result, out=result, where=values < 0)
    return result[()] if is_scalar else result


def able_int_type(values: Any) -> type[np.integer] | None:
    """Smallest integer type holding all `values`, unsigned preferred.

    None if a value is not a whole number or no type is wide enough.

    >>> able_int_type([0, 1]) is np.uint8, able_int_type([-1, 1]) is np.int8
    (True, True)
    """
    ints = []
    # object dtype keeps Python ints exact (a list holding 2**64 - 1 would become float64)
    raw = values.ravel().tolist() if isinstance(values, np.ndarray) else \
        np.asarray(values, dtype=object).ravel().tolist()
    for value in raw:
        if isinstance(value, (int, np.integer)):
            ints.append(int(value))
            continue
        if not np.isfinite(value) or int(value) != value:
            return None
        ints.append(int(value))
    lo, hi = min(ints), max(ints)
    for itype in _INT_TYPES_BY_SIZE:
        if lo < 0 and np.dtype(itype).kind == "u":
            continue
        info = np.iinfo(itype)
        if info.min <= lo and hi <= info.max:
            return itype
    return None


def _whole(val: Any, rounder: Any) -> int | None:
    """`val` rounded by `rounder` (np.floor or np.ceil) as an exact Python int.

    None if `val` is not finite.
    """
    if isinstance(val, (int, np.integer)):
        return int(val)
    value = np.asarray(val)[()]
    if not np.isfinite(value):
        return None
    return int(rounder(value))


def _int_floor_in(whole: int, dt: np.dtype) -> Any:
    """Largest value of float dtype `dt` that is <= the integer `whole`."""
    info = type_info(dt)
    mag = abs(whole)
    drop = mag.bit_length() - (info["nmant"] + 1)
    if drop > 0:
        truncated = (mag >> drop) << drop
        # Truncating the magnitude floors positives; a negative needs the next
        # representable magnitude up unless it was already exact.
        mag = truncated if whole > 0 or truncated == mag else truncated + (1 << drop)
    result = mag if whole >= 0 else -mag
    top = int(info["max"])
    if result > top:
        return info["max"]
    if result < -top:
        return dt.type(-np.inf)
    return _exact_to_float(result, dt.type)


def floor_exact(val: Any, flt_type: DTypeLike) -> Any:
    """Largest whole number in `flt_type` that is <= `val`.

    Pass `val` as an int where possible: casting a large int to a float first
    may round it. Below the type's range the result is -inf. Deliberately
    unlike nibabel (which gives +inf), a `val` above the type's range gives the
    type's maximum, the largest value that is <= `val`.

    >>> floor_exact(2**24 + 1, np.float32) == 2**24
    True
    """
    dt = np.dtype(flt_type)
    whole = _whole(val, np.floor)
    if whole is None:
        return dt.type(val)
    if dt.kind in "iu":
        return dt.type(whole)
    if dt.kind == "c":
        return dt.type(_int_floor_in(whole, _real_dtype(dt)))
    return _int_floor_in(whole, dt)


def ceil_exact(val: Any, flt_type: DTypeLike) -> Any:
    """Smallest whole number in `flt_type` that is >= `val`.

    Above the type's range the result is +inf; below it, the type's minimum.

    >>> ceil_exact(2**24 + 1, np.float32) == 2**24 + 2
    True
    """
    dt = np.dtype(flt_type)
    whole = _whole(val, np.ceil)
    if whole is None:
        return dt.type(val)
    if dt.kind in "iu":
        return dt.type(whole)
    real = _real_dtype(dt) if dt.kind == "c" else dt
    return dt.type(-_int_floor_in(-whole, real))


def _real_dtype(dt: np.dtype) -> np.dtype:
    return np.dtype(f"f{dt.itemsize // 2}") if dt.kind == "c" else dt


@lru_cache(maxsize=None)
def _shared_range(flt: type, ityp: type) -> tuple[Any, Any]:
    iinfo = np.iinfo(ityp)
    lo = ceil_exact(int(iinfo.min), flt)
    hi = floor_exact(int(iinfo.max), flt)
    finfo = type_info(flt)
    # Integer ranges wider than the float range clip at the float extremes.
    if not np.isfinite(lo):
        lo = finfo["min"]
    if not np.isfinite(hi):
        hi = finfo["max"]
    return flt(lo) + flt(0), flt(hi)


def shared_range(flt_type: DTypeLike, int_type: DTypeLike) -> tuple[Any, Any]:
    """Smallest and largest `flt_type` values that lie within `int_type`'s range.

    Values between them can be cast to `int_type` without overflow.

    >>> shared_range(np.float32, np.int32) == (-2147483648.0, 2147483520.0)
    True
    """
    return _shared_range(np.dtype(flt_type).type, np.dtype(int_type).type)


def float_to_int(
    arr: ArrayLike, int_type: DTypeLike, nan2zero: bool | None = True, infmax: bool = False
) -> np.ndarray:
    """Round floats to the nearest integers of `int_type`, clipping to its range.

    NaN becomes 0 if `nan2zero` is True; if False, NaNs raise
    :class:`CastingError`; if None, they are not checked and become whatever
    numpy's cast makes of them. With `infmax`, +/-inf become the type's extremes;
    otherwise they become the extremes of :func:`shared_range`. Complex input
    raises :class:`CastingError` (nibabel silently drops the imaginary part).

    >>> float_to_int([np.nan, np.inf, -np.inf, 1.1, 6.6], np.int16)
    array([     0,  32767, -32768,      1,      7], dtype=int16)
    """
    values = np.asarray(arr)
    itype = np.dtype(int_type)
    if values.dtype.kind == "c":
        raise CastingError(f"Cannot convert complex values ({values.dtype}) to {itype}")
    if values.dtype.kind == "b":
        return values.astype(itype)
    if values.dtype.kind in "iu":
        # Clip with bounds that both types can hold, in the input's own type.
        info, own = np.iinfo(itype), np.iinfo(values.dtype)
        lo, hi = max(info.min, own.min), min(info.max, own.max)
        return np.clip(values, values.dtype.type(lo), values.dtype.type(hi)).astype(itype)
    nans = np.isnan(values)
    if nan2zero is False and nans.any():
        raise CastingError("NaNs in array, nan2zero is False")
    lo, hi = shared_range(values.dtype, itype)
    rounded = values.astype(values.dtype, copy=True)  # stays an array even when 0-d
    np.rint(rounded, out=rounded)
    np.clip(rounded, lo, hi, out=rounded)
    if nan2zero is not None:
        rounded[nans] = 0
    with np.errstate(invalid="ignore"):  # None: NaNs become whatever the cast makes of them
        result = rounded.astype(itype)
    if infmax:
        info = np.iinfo(itype)
        result[values == np.inf] = info.max
        result[values == -np.inf] = info.min
    return np.asarray(result)
