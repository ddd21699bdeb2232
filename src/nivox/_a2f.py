"""How :func:`nivox.volumeutils.array_to_file` turns blocks of an array into output values.

Also the small scaling and writing helpers nibabel keeps private in
volumeutils (``_dt_min_max``, ``_ftype4scaled_finite``, ``_write_data``),
which volumeutils imports under those names.

:func:`_block_converter` picks, once per call, a function that converts one
1-D block: clipping, scaling, rounding and casting with nibabel's rules, in a
working type that cannot overflow. Kept apart from volumeutils, which does
the file reading and writing around it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import IO, Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .casting import OK_FLOATS, shared_range
from .errors import InvalidArgumentError, WriterError


# volumeutils imports this module, so its scaling-type functions are looked up at call time
def working_type(in_type: Any, slope: Any = 1.0, inter: Any = 0.0) -> Any:
    from .volumeutils import working_type as _working_type

    return _working_type(in_type, slope, inter)


def best_write_scale_ftype(arr: Any, slope: Any = 1.0, inter: Any = 0.0, default: Any = np.float32) -> Any:
    from .volumeutils import best_write_scale_ftype as _best

    return _best(arr, slope, inter, default)


Converter = Callable[[np.ndarray], np.ndarray]


def _block_converter(arr: np.ndarray, out_dt: np.dtype, inter: Any, slope: Any,
                     mn: Any, mx: Any, nan2zero: bool) -> Converter:
    """A function turning a 1-D block of `arr` into its output representation."""
    in_dt = arr.dtype
    unscaled = inter == 0 and slope == 1
    clipped = mn is not None or mx is not None
    if in_dt.hasobject or out_dt.hasobject:
        raise InvalidArgumentError("Cannot write object arrays to a file")
    if in_dt.kind not in "biufc":
        if not unscaled:
            raise InvalidArgumentError("Cannot scale non-numeric types")
        if clipped:
            raise InvalidArgumentError("Cannot clip non-numeric types")
        return lambda block: block.astype(out_dt, copy=False)
    if in_dt.kind == "c" and out_dt.kind != "c":
        raise WriterError(f"Cannot write complex data ({in_dt}) as non-complex type {out_dt}")
    if out_dt.kind not in "iu":
        return _float_output(in_dt, out_dt, inter, slope, mn, mx, unscaled)
    if in_dt.kind in "biu" and unscaled:
        return _int_to_int(in_dt, out_dt, mn, mx)
    return _scaled_to_int(arr, out_dt, inter, slope, mn, mx, nan2zero and in_dt.kind == "f")


def _float_output(in_dt: np.dtype, out_dt: np.dtype, inter: Any, slope: Any,
                  mn: Any, mx: Any, unscaled: bool) -> Converter:
    wtype = working_type(in_dt, slope, inter)
    inter_w = np.asarray(inter).astype(wtype)[()]
    slope_w = np.asarray(slope).astype(wtype)[()]

    def convert(block: np.ndarray) -> np.ndarray:
        if mn is not None or mx is not None:
            block = np.clip(block, mn, mx)
        if unscaled:
            with np.errstate(over="ignore"):
                return block.astype(out_dt, copy=False)
        work = block.astype(wtype)
        if inter != 0:
            work -= inter_w
        if slope != 1:
            work /= slope_w
        with np.errstate(over="ignore"):
            return work.astype(out_dt)

    return convert


def _int_to_int(in_dt: np.dtype, out_dt: np.dtype, mn: Any, mx: Any) -> Converter:
    if in_dt.kind == "b":
        return lambda block: block.astype(out_dt, copy=False)
    # Clip to what both types (and mn, mx) allow, with bounds in the input's type.
    own, other = np.iinfo(in_dt), np.iinfo(out_dt)
    lo, hi = max(own.min, other.min), min(own.max, other.max)
    if mn is not None:
        lo = max(lo, math.ceil(mn))
    if mx is not None:
        hi = min(hi, math.floor(mx))
    if (lo, hi) == (own.min, own.max):
        return lambda block: block.astype(out_dt, copy=False)
    lo_t, hi_t = in_dt.type(lo), in_dt.type(hi)
    return lambda block: np.clip(block, lo_t, hi_t).astype(out_dt)


def _scaled_to_int(arr: np.ndarray, out_dt: np.dtype, inter: Any, slope: Any,
                   mn: Any, mx: Any, nan2zero: bool) -> Converter:
    in_dt = arr.dtype
    # Scale in float; float16 is too coarse to work in.
    cast_dt = np.dtype(np.float32) if in_dt.kind == "f" and in_dt.itemsize == 2 else in_dt
    cast_dt = cast_dt.newbyteorder("=")
    # As 1-element arrays their type (not value) promotes; integers act as float64.
    slope_a, inter_a = (np.atleast_1d(v) for v in (slope, inter))
    slope_a, inter_a = (v.astype(np.float64) if v.dtype.kind in "biu" else v
                        for v in (slope_a, inter_a))
    if cast_dt.kind in "iu":
        info: Any = np.iinfo(cast_dt)
    else:
        info = np.finfo(cast_dt)
    # Thresholds beyond the input type's range would wrap when cast to it.
    lo = info.min if mn is None else max(mn, info.min)
    hi = info.max if mx is None else min(mx, info.max)
    extremes = np.array([lo, hi], dtype=cast_dt)
    wtype = best_write_scale_ftype(extremes, slope_a, inter_a,
                                   working_type(cast_dt, slope_a, inter_a))
    slope_w, inter_w = slope_a.astype(wtype)[0], inter_a.astype(wtype)[0]
    # Where the extremes and zero land after scaling and rounding.
    with np.errstate(all="ignore"):
        specials = np.rint((np.array([lo, hi, 0], dtype=cast_dt).astype(wtype) - inter_w)
                           / slope_w)
    post_lo, post_hi = sorted(specials[:2])
    nan_fill = specials[2]
    safe_lo, safe_hi = shared_range(wtype, out_dt)
    if nan2zero and not safe_lo <= nan_fill <= safe_hi:
        # Rounding of the scaling itself can leave zero's image just outside.
        slack = np.rint(4 * np.finfo(wtype).eps * abs(inter_w / slope_w))
        # Unlike nibabel, only refuse when there is a NaN to store (min propagates NaN).
        if arr.size == 0 or not np.isnan(arr.min()):
            nan2zero = False
        elif min(abs(nan_fill - safe_lo), abs(nan_fill - safe_hi)) > slack:
            raise WriterError(
                f"NaN (written as 0) would scale to {nan_fill}, outside the {out_dt} range "
                f"({int(safe_lo)}, {int(safe_hi)}); change the scaling or set nan2zero=False"
            )
        else:
            nan_fill = np.clip(nan_fill, safe_lo, safe_hi)
    post_lo, post_hi = max(post_lo, safe_lo), min(post_hi, safe_hi)

    def convert(block: np.ndarray) -> np.ndarray:
        work = block.astype(wtype)
        if inter_w != 0:
            work -= inter_w
        if slope_w != 1:
            work /= slope_w
        np.rint(work, out=work)
        np.clip(work, post_lo, post_hi, out=work)
        if nan2zero:
            np.copyto(work, nan_fill, where=np.isnan(work))
        with np.errstate(invalid="ignore"):
            return work.astype(out_dt)

    return convert


def _dt_min_max(dtype_like: DTypeLike, mn: Any = None, mx: Any = None) -> tuple[Any, Any]:
    """(`mn`, `mx`), each None replaced by the limit of `dtype_like` (infinite for floats)."""
    dt = np.dtype(dtype_like)
    if dt.kind in "fc":
        lo, hi = -np.inf, np.inf
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        lo, hi = info.min, info.max
    else:
        raise InvalidArgumentError(f"no numeric range for dtype {dt}")
    return (lo if mn is None else mn), (hi if mx is None else mx)


def _ftype4scaled_finite(
    tst_arr: ArrayLike,
    slope: ArrayLike,
    inter: ArrayLike,
    direction: str = "read",
    default: type[np.floating] = np.float32,
) -> type[np.floating]:
    """Least float type, from `default` up, in which scaling `tst_arr` stays finite.

    `direction` 'read' computes ``tst_arr * slope + inter``; 'write'
    computes ``(tst_arr - inter) / slope``. Overflow is detected with
    ``np.errstate``, which is per thread, so other threads changing the
    warnings filters cannot change the answer. ValueError when no type works.
    """
    if direction not in ("read", "write"):
        raise InvalidArgumentError(f"direction must be 'read' or 'write', not {direction!r}")
    if default not in OK_FLOATS:
        if np.dtype(default) == np.dtype(np.longdouble):
            return default  # the widest there is
        raise InvalidArgumentError(f"default must be one of {OK_FLOATS}, not {default!r}")
    values = np.atleast_1d(tst_arr)
    for ftype in OK_FLOATS[OK_FLOATS.index(default):]:
        with np.errstate(over="ignore", invalid="ignore"):
            slope_f = np.atleast_1d(slope).astype(ftype)
            inter_f = np.atleast_1d(inter).astype(ftype)
            out = values
            if direction == "read":
                if np.any(slope_f != 1):
                    out = out * slope_f
                if np.any(inter_f != 0):
                    out = out + inter_f
            else:
                if np.any(inter_f != 0):
                    out = out - inter_f
                if np.any(slope_f != 1):
                    out = out / slope_f
        if np.all(np.isfinite(slope_f)) and np.all(np.isfinite(inter_f)) and \
                np.all(np.isfinite(out)):
            return ftype
    raise InvalidArgumentError("Overflow using highest floating point type")


def _write_data(
    data: np.ndarray,
    fileobj: IO[bytes],
    out_dtype: DTypeLike,
    order: str,
    in_cast: DTypeLike | None = None,
    pre_clips: tuple[Any, Any] | None = None,
    inter: Any = 0.0,
    slope: Any = 1.0,
    post_clips: tuple[Any, Any] | None = None,
    nan_fill: Any = None,
) -> None:
    """Write `data` to `fileobj` as `out_dtype`, one row at a time, never changing `data`.

    Each row is clipped to `pre_clips`, cast to `in_cast`, shifted by
    `inter` and divided by `slope`, rounded and clipped to `post_clips`, and
    its NaNs set to `nan_fill`, each step only when asked for. `order`
    ('F' or 'C') is the memory order of the bytes written.
    """
    out_dt = np.dtype(out_dtype)
    rows = np.squeeze(data)
    if rows.ndim < 2:
        rows = np.atleast_2d(rows)  # one row
    elif order == "F":
        rows = rows.T
    for row in rows:
        if pre_clips is not None:
            row = np.clip(row, *pre_clips)
        if in_cast is not None:
            row = row.astype(in_cast)
        if inter != 0.0:
            row = row - inter
        if slope != 1.0:
            row = row / slope
        if post_clips is not None:
            row = np.clip(np.rint(row), *post_clips)
        if nan_fill is not None:
            nans = np.isnan(row)
            if np.any(nans):
                row = np.where(nans, nan_fill, row)
        fileobj.write(np.ascontiguousarray(row, dtype=out_dt).tobytes())

