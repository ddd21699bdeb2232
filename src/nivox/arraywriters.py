"""Writers that fit an array into an output dtype, scaling it if they may.

An array writer looks at an array and an output type and decides how to store
the one as the other:

* :class:`ArrayWriter` only casts, and refuses (:class:`WriterError`) when
  the values do not fit.
* :class:`SlopeArrayWriter` may divide by a ``slope``.
* :class:`SlopeInterArrayWriter` may also subtract an ``inter`` (intercept).

Reading back is ``stored * slope + inter``. Scaling is chosen so the data's
finite range spreads over the whole output range (best precision); NaN is
stored as the value that reads back as 0 and infinities as the finite
extremes. Slope and intercept are held in ``scaler_dtype`` (float32, as file
headers store them), and are checked *after* that rounding, nudging them when
rounding would clip the data by more than half a step or send NaN's stored
value out of range; after such a nudge, integer data keep an exact zero when
a pair a few ulps away allows it. Otherwise the scale factors are those
nibabel computes.
"""

from __future__ import annotations

import io
from typing import IO, Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .casting import best_float, floor_exact, int_abs, shared_range, type_info
from .errors import ArgumentTypeError, InvalidArgumentError, ScalingError, WriterError
from .volumeutils import array_to_file, finite_range, working_type

__all__ = [
    "ArrayWriter",
    "ScalingError",
    "SlopeArrayWriter",
    "SlopeInterArrayWriter",
    "WriterError",
    "get_slope_inter",
    "make_array_writer",
]

# The precision in which scale factors are computed before rounding to scaler_dtype.
_BIG = best_float()


def _big(value: Any) -> Any:
    """`value` in the most precise float, exactly for Python and numpy integers."""
    if isinstance(value, (int, np.integer)):
        return _BIG(str(int(value)))
    return _BIG(value)


class ArrayWriter:
    """Write an array as `out_dtype` by casting alone.

    Parameters
    ----------
    array : array-like
    out_dtype : dtype-like, optional
        Defaults to the array's dtype.
    nan2zero : bool, keyword, optional
        Write NaN as 0 for integer output (default True).
    check_scaling : bool, keyword, optional
        Raise :class:`WriterError` if the values need scaling to fit (default True).
    """

    def __init__(self, array: ArrayLike, out_dtype: DTypeLike | None = None,
                 **kwargs: Any) -> None:
        self._array = np.asanyarray(array)
        self._out_dtype = self._array.dtype if out_dtype is None else np.dtype(out_dtype)
        self._nan2zero = kwargs.get("nan2zero", True)
        self._range: tuple[Any, Any, bool] | None = None
        if kwargs.get("check_scaling", True) and self.scaling_needed():
            raise WriterError("Scaling needed but cannot scale")

    @property
    def array(self) -> np.ndarray:
        """The array to write."""
        return self._array

    @property
    def out_dtype(self) -> np.dtype:
        """The dtype the array is written as."""
        return self._out_dtype

    def finite_range(self) -> tuple[Any, Any]:
        """Least and greatest finite values of the array (computed once)."""
        if self._range is None:
            kind = self._array.dtype.kind
            if kind not in "biufc":
                raise ArgumentTypeError(
                    f"no finite range for non-numeric data of dtype {self._array.dtype}")
            self._range = (np.inf, -np.inf, False) if kind == "b" else \
                finite_range(self._array, check_nan=True)
        return self._range[:2]

    @property
    def has_nan(self) -> bool:
        """True if the array holds NaN."""
        if self._array.dtype.kind not in "fc":
            return False
        self.finite_range()
        assert self._range is not None
        return bool(self._range[2])

    def scaling_needed(self) -> bool:
        """Whether the values must be scaled to fit `out_dtype`.

        Raises :class:`WriterError` if no scaling could ever do it (complex to
        real, object or structured types, bool output).
        """
        in_dt, out_dt = self._array.dtype, self._out_dtype
        if np.can_cast(in_dt, out_dt):
            return False
        if in_dt.kind in "OVSUMm" or out_dt.kind in "OVSUMm":
            raise WriterError(f"Cannot cast between {in_dt} and {out_dt}")
        if in_dt.kind == "c" and out_dt.kind != "c":
            raise WriterError("Cannot cast complex types to non-complex")
        if out_dt.kind in "fc" or self._array.size == 0:
            return False
        if out_dt.kind not in "iu":
            raise WriterError(f"Cannot write {in_dt} data as {out_dt}")
        mn, mx = self.finite_range()
        if (mn, mx) == (0, 0):
            return False
        if self._nothing_finite_needs_no_scaling() and mn > mx:
            return False
        if in_dt.kind == "f":
            return True
        info = np.iinfo(out_dt)
        return not (info.min <= int(mn) and int(mx) <= info.max)

    def _nothing_finite_needs_no_scaling(self) -> bool:
        # Plain casting cannot drop non-finite values; scaling writers can.
        return False

    def _needs_nan2zero(self) -> bool:
        return bool(self._nan2zero) and self._out_dtype.kind in "iu" and self.has_nan

    def to_fileobj(self, fileobj: IO[bytes], order: str = "F") -> None:
        """Write the array to `fileobj` at its current position, in `order` ('F' or 'C')."""
        array_to_file(self._array, fileobj, self._out_dtype, offset=None, order=order,
                      **self._write_kwargs())

    def _write_kwargs(self) -> dict[str, Any]:
        """The scaling, clipping and NaN arguments :func:`array_to_file` writes this array with.

        Chunked saves (:mod:`nivox._chunksave`) write each part of a big
        array with those of a writer that saw the whole array's range.
        """
        return {"nan2zero": self._needs_nan2zero()}


class SlopeArrayWriter(ArrayWriter):
    """Write an array as `out_dtype`, dividing by a ``slope`` where needed.

    Parameters
    ----------
    array : array-like
    out_dtype : dtype-like, optional
    calc_scale : bool, optional
        Compute the scaling now (default); else call :meth:`calc_scale` later.
    scaler_dtype : dtype-like, optional
        Type the scale factors are stored in (default float32).
    nan2zero : bool, keyword, optional
        Write NaN as (the value that reads back as) 0 for integer output.
    """

    def __init__(
        self,
        array: ArrayLike,
        out_dtype: DTypeLike | None = None,
        calc_scale: bool = True,
        scaler_dtype: DTypeLike = np.float32,
        **kwargs: Any,
    ) -> None:
        super().__init__(array, out_dtype, nan2zero=kwargs.get("nan2zero", True),
                         check_scaling=False)
        self.scaler_dtype = np.dtype(scaler_dtype)
        self.reset()
        if calc_scale:
            self.calc_scale()

    def reset(self) -> None:
        """Forget any computed scaling."""
        self.slope = 1.0
        self._scale_calced = False

    @property
    def slope(self) -> Any:
        """Divisor applied before writing (stored in `scaler_dtype`)."""
        return self._slope

    @slope.setter
    def slope(self, value: Any) -> None:
        with np.errstate(over="ignore", under="ignore"):
            self._slope = self.scaler_dtype.type(np.asarray(value).reshape(()))

    def _nothing_finite_needs_no_scaling(self) -> bool:
        return True

    def calc_scale(self, force: bool = False) -> None:
        """Compute the scaling for the array, unless done already (or `force`)."""
        if self._scale_calced and not force:
            return
        if force:
            self._range = None  # the array may have changed since
        self.reset()
        if self.scaling_needed():
            self._do_scaling()
        self._scale_calced = True

    def _do_scaling(self) -> None:
        mn, mx = self.finite_range()
        if self._array.dtype.kind == "f":
            if self._nan2zero and self.has_nan:
                # NaNs are written as zero, so zero must fit too.
                mn, mx = min(mn, 0), max(mx, 0)
            self._range_scale(mn, mx)
            return
        info = np.iinfo(self._out_dtype)
        if info.min <= int(mn) and int(mx) <= info.max:
            return
        self._iu2iu()

    def _iu2iu(self) -> None:
        """Scale integers that overflow an integer output type."""
        mn, mx = (int(v) for v in self.finite_range())
        if self._out_dtype.kind == "u" and mx <= 0 and int(int_abs(mn)) <= np.iinfo(
                self._out_dtype).max:
            # All non-positive and small enough: a sign flip is exact.
            self.slope = -1.0
            return
        self._range_scale(mn, mx)

    def _range_scale(self, in_min: Any, in_max: Any) -> None:
        """Slope putting the data's larger magnitude at the end of the output range."""
        info = type_info(self._out_dtype)
        out_min, out_max = _big(int(info["min"])), _big(int(info["max"]))
        lo, hi = _big(in_min), _big(in_max)
        if self._out_dtype.kind == "u":
            if lo < 0 and hi > 0:
                raise WriterError(
                    "Cannot scale negative and positive numbers to uint without intercept")
            slope = lo / out_max if hi <= 0 else hi / out_max
        elif lo >= 0:
            slope = hi / out_max
        elif hi <= 0:
            slope = lo / out_min
        else:
            slope = max(hi / out_max, lo / out_min)
        slope_r = self._fitted_slope(slope, lo, hi)
        if not np.isfinite(slope_r) or _to_scaler(slope, self.scaler_dtype.type) == 0:
            raise ScalingError(f"Slope {slope} for data range {in_min} to {in_max} is not "
                               f"finite and non-zero in {self.scaler_dtype}")
        self.slope = slope_r

    def _write_limits(self) -> tuple[Any, Any]:
        """The range :func:`array_to_file` will clip stored values to.

        That is the integer range shared with the float type the scaling is
        computed in: `scaler_dtype` promoted with the data's type (float16
        data are scaled in float32).
        """
        in_dt = self._array.dtype
        if in_dt.kind == "f" and in_dt.itemsize == 2:
            in_dt = np.dtype(np.float32)
        stype = self.scaler_dtype.type
        wtype = working_type(in_dt, stype(2), stype(1))
        return tuple(_BIG(v) for v in shared_range(wtype, self._out_dtype))

    def _fitted_slope(self, slope: Any, lo: Any, hi: Any) -> Any:
        """`slope` in scaler_dtype, enlarged by ulps if its rounding would clip `lo` or `hi`."""
        stype = self.scaler_dtype.type
        rounded = _to_scaler(slope, stype)
        limits = self._write_limits()
        for _ in range(4):
            if _fits(lo, hi, _BIG(0), _BIG(rounded), limits):
                break
            rounded = np.nextafter(rounded, stype(np.copysign(np.inf, rounded)))
        return rounded

    def _writing_range(self) -> tuple[Any, Any]:
        """Bounds to clip the (unscaled) data at: its finite range, for float to int."""
        if self._out_dtype.kind in "iu" and self._array.dtype.kind == "f":
            mn, mx = self.finite_range()
            if mn > mx:  # nothing finite: every value is written as 0
                return 0, 0
            return mn, mx
        return None, None

    def _write_kwargs(self) -> dict[str, Any]:
        mn, mx = self._writing_range()
        return {"divslope": self.slope, "mn": mn, "mx": mx, "nan2zero": self._needs_nan2zero()}


class SlopeInterArrayWriter(SlopeArrayWriter):
    """Write an array as `out_dtype`, subtracting an ``inter`` and dividing by a ``slope``.

    Parameters are those of :class:`SlopeArrayWriter`.
    """

    def reset(self) -> None:
        """Forget any computed scaling."""
        super().reset()
        self.inter = 0.0

    @property
    def inter(self) -> Any:
        """Intercept subtracted before writing (stored in `scaler_dtype`)."""
        return self._inter

    @inter.setter
    def inter(self, value: Any) -> None:
        with np.errstate(over="ignore"):
            self._inter = self.scaler_dtype.type(np.asarray(value).reshape(()))

    def _iu2iu(self) -> None:
        """Shift integers into the output range if their spread fits, else scale."""
        mn, mx = (int(v) for v in self.finite_range())
        stype = self.scaler_dtype.type
        o_min, o_max = (int(v) for v in shared_range(stype, self._out_dtype))
        if mx - mn <= o_max - o_min:
            # Unsigned output: move the minimum to zero; signed: the middle.
            # The shift must be exact in scaler_dtype, so round it down.
            target = mn if o_min == 0 else mn + -(-(mx - mn) // 2)
            shift = floor_exact(target, stype)
            if np.isfinite(shift) and mn - int(shift) >= o_min and mx - int(shift) <= o_max:
                self.inter = shift
                return
        super()._iu2iu()

    def _range_scale(self, in_min: Any, in_max: Any) -> None:
        """Slope and intercept mapping the data's range onto the whole output range."""
        stype = self.scaler_dtype.type
        lo, hi = _big(in_min), _big(in_max)
        out_min, out_max = (_BIG(v) for v in shared_range(stype, self._out_dtype))
        if in_min == in_max:
            # One value: it becomes the intercept, with zeros stored (or, if the
            # scaler type rounds it, the remainder stored with a small slope).
            slope_r, inter_r = stype(1), _to_scaler(lo, stype)
            if not np.isfinite(inter_r):
                raise ScalingError(f"Intercept {in_min} overflows {self.scaler_dtype}")
            if not _fits(lo, hi, _BIG(inter_r), _BIG(1), self._write_limits()):
                slope_r, inter_r = self._refit(lo, hi, slope_r, inter_r, False)
            self.slope, self.inter = slope_r, inter_r
            return
        is_int = self._array.dtype.kind in "iu"
        # Python ints keep an int64 / uint64 range exact before it becomes a float.
        in_range = _big(int(in_max) - int(in_min)) if is_int else hi - lo
        slope = in_range / (out_max - out_min)
        # For unsigned output the low end (stored 0) is the most precise; put
        # the data's smaller magnitude there by flipping the sign if needed.
        flip = out_min == 0 and abs(hi) < abs(lo)
        anchor = hi if flip else lo
        inter = anchor - out_min * slope
        if flip:
            slope = -slope
        slope_r, inter_r = _to_scaler(slope, stype), _to_scaler(inter, stype)
        if not (np.isfinite(slope_r) and np.isfinite(inter_r)) or slope_r == 0:
            raise ScalingError(
                f"Slope / inter not both finite and non-zero in {self.scaler_dtype} "
                f"(data range {in_min} to {in_max})")
        if not _fits(lo, hi, _BIG(inter_r), _BIG(slope_r), self._write_limits()):
            slope_r, inter_r = self._refit(lo, hi, slope_r, inter_r, flip)
        self.slope, self.inter = slope_r, inter_r
        if self._nan2zero and self.has_nan and 0 in (in_min, in_max):
            self._fit_nan_fill(out_min, out_max)

    def _refit(self, lo: Any, hi: Any, slope: Any, inter: Any, flip: bool) -> tuple[Any, Any]:
        """Widen `slope` so that, with the rounded `inter`, no data value is clipped."""
        stype = self.scaler_dtype.type
        out_min, out_max = self._write_limits()
        if out_min == 0:
            # Unsigned output cannot store values beyond the anchored end, so
            # the intercept must not pass the data's end nearest zero.
            if flip and _BIG(inter) < hi:
                inter = _round_towards(hi, stype, up=True)
            elif not flip and _BIG(inter) > lo:
                inter = _round_towards(lo, stype, up=False)
        inter_b = _BIG(inter)
        # Offsets from the intercept, in the direction the slope's sign stores them.
        below, above = (inter_b - hi, inter_b - lo) if flip else (lo - inter_b, hi - inter_b)
        need = _BIG(0)
        if above > 0:
            need = above / out_max
        if below < 0 and out_min < 0:
            need = max(need, below / out_min)
        if need > 0:
            slope = _round_towards(need, stype, up=True)
            slope = -slope if flip else slope
        return self._exact_anchor(lo, hi, slope, inter)

    def _exact_anchor(self, lo: Any, hi: Any, slope: Any, inter: Any) -> tuple[Any, Any]:
        """Nudge a refitted `slope` and `inter` by a few ulps so that zero reads back exactly.

        Widening the slope to avoid clipping leaves the intercept where it
        was rounded, so no stored integer need read back as 0 (or, for data
        not spanning 0, as the end nearest 0): integer data (labels, counts)
        would get a non-zero background. Among the neighbouring pairs that
        clip nothing, take the one that reads that value back most exactly,
        provided the error at the data's ends stays within half a step or
        within the error of the pair given. Each pair is judged by writing
        the three values with :func:`array_to_file` and reading them back as
        readers do (``stored * slope + inter`` in float64). Float data are
        left alone: their own rounding in the write decides such errors.
        """
        if self._array.dtype.kind not in "iu":
            return slope, inter
        stype = self.scaler_dtype.type
        limits = self._write_limits()
        lo_i, hi_i = int(lo), int(hi)
        anchor = 0 if lo_i <= 0 <= hi_i else (lo_i if abs(lo_i) <= abs(hi_i) else hi_i)
        probe = np.array([anchor, lo_i, hi_i], dtype=self._array.dtype)
        wanted = np.array([_big(v) for v in (anchor, lo_i, hi_i)], dtype=_BIG)

        def errors(slope_c: Any, inter_c: Any) -> tuple[float, float]:
            sink = io.BytesIO()
            array_to_file(probe, sink, self._out_dtype, offset=None, intercept=inter_c,
                          divslope=slope_c, nan2zero=False)
            stored = np.frombuffer(sink.getvalue(), self._out_dtype)
            back = stored.astype(np.float64) * np.float64(slope_c) + np.float64(inter_c)
            miss = np.abs(back.astype(_BIG) - wanted)
            return float(miss[0]), float(miss[1:].max())

        def steps(value: Any, down: int, up: int) -> list[Any]:
            out, below, above = [value], value, value
            for _ in range(down):
                below = np.nextafter(below, stype(-np.inf))
                out.append(below)
            for _ in range(up):
                above = np.nextafter(above, stype(np.inf))
                out.append(above)
            return out

        with np.errstate(all="ignore"):
            best, best_key = (slope, inter), errors(slope, inter)
            if best_key[0] == 0:
                return best
            allowed = best_key[1]
            # widen the slope away from zero, as the refit does
            slopes = steps(slope, 1, 3) if slope > 0 else steps(slope, 3, 1)
            for slope_c in slopes:
                if slope_c == 0 or not np.isfinite(slope_c):
                    continue
                for inter_c in steps(inter, 8, 8):
                    if not np.isfinite(inter_c) or not _fits(lo, hi, _BIG(inter_c), _BIG(slope_c), limits):
                        continue
                    key = errors(slope_c, inter_c)
                    if key < best_key and key[1] <= max(allowed, 0.5 * abs(float(slope_c))):
                        best, best_key = (slope_c, inter_c), key
        return best

    def _fit_nan_fill(self, out_min: Any, out_max: Any) -> None:
        """Make the stored value of NaN (read as 0) a valid output integer."""
        stype = self.scaler_dtype.type
        slope = _BIG(self.slope)
        fill = -_BIG(self.inter) / slope
        if out_min <= np.rint(fill) <= out_max:
            return
        self.inter = _to_scaler(-np.clip(fill, out_min, out_max) * slope, stype)
        for _ in range(64):
            fill = np.rint(-_BIG(self.inter) / slope)
            if out_min <= fill <= out_max:
                return
            # Step the intercept by ulps in the direction that moves zero's image inwards.
            raise_inter = (fill > out_max) == (slope > 0)
            self.inter = np.nextafter(self.inter, stype(np.inf if raise_inter else -np.inf))
        raise ScalingError("Cannot find an intercept that stores NaN (as 0) in range")

    def _write_kwargs(self) -> dict[str, Any]:
        return {**super()._write_kwargs(), "intercept": self.inter}


def _to_scaler(value: Any, stype: type) -> Any:
    with np.errstate(over="ignore", under="ignore"):
        return stype(value)


def _round_towards(value: Any, stype: type, up: bool) -> Any:
    """`value` rounded to `stype` upwards (`up`) or downwards."""
    rounded = _to_scaler(value, stype)
    if up and _BIG(rounded) < value:
        rounded = np.nextafter(rounded, stype(np.inf))
    elif not up and _BIG(rounded) > value:
        rounded = np.nextafter(rounded, stype(-np.inf))
    return rounded


def _fits(lo: Any, hi: Any, inter: Any, slope: Any, limits: tuple[Any, Any]) -> bool:
    """True if `lo` and `hi`, scaled and rounded, land inside `limits`."""
    out_min, out_max = limits
    with np.errstate(all="ignore"):
        ends = np.rint((np.array([lo, hi], dtype=_BIG) - inter) / slope)
    return bool(np.all(np.isfinite(ends)) and out_min <= ends.min() and ends.max() <= out_max)


# elements checked per step by whole_numbers_fit: bounds the temporary it needs
_WHOLE_CHUNK = 1 << 20


def whole_numbers_fit(array: ArrayLike, out_dtype: DTypeLike) -> bool:
    """True if `array` is floating point and every value is a whole number `out_dtype` holds.

    Such data can be written to an integer `out_dtype` with slope 1 and
    intercept 0 and read back exactly. NaN and infinities do not count as
    whole numbers; an empty array is not checked (False).

    >>> whole_numbers_fit(np.array([0., 2., 255.]), np.uint8)
    True
    >>> whole_numbers_fit(np.array([0., 2.5]), np.int16), whole_numbers_fit(np.array([256.]), np.uint8)
    (False, False)
    """
    arr = np.asanyarray(array)
    out = np.dtype(out_dtype)
    if arr.dtype.kind != "f" or out.kind not in "iu" or arr.size == 0:
        return False
    mn, mx = arr.min(), arr.max()  # NaN propagates into both
    if not (np.isfinite(mn) and np.isfinite(mx)):
        return False
    info = np.iinfo(out)
    if int(np.floor(mn)) < info.min or int(np.ceil(mx)) > info.max:
        return False
    flat = arr.reshape(-1)
    for start in range(0, flat.size, _WHOLE_CHUNK):
        part = flat[start : start + _WHOLE_CHUNK]
        if not np.array_equal(np.trunc(part), part):
            return False
    return True


def get_slope_inter(writer: ArrayWriter) -> tuple[Any, Any]:
    """``(slope, inter)`` of `writer`, with 1.0 and 0.0 for what it does not have."""
    return getattr(writer, "slope", 1.0), getattr(writer, "inter", 0.0)


def make_array_writer(
    data: ArrayLike,
    out_type: DTypeLike,
    has_slope: bool = True,
    has_intercept: bool = True,
    **kwargs: Any,
) -> ArrayWriter:
    """The writer class that can use exactly the scale factors allowed, for `data`.

    >>> type(make_array_writer(np.arange(10), np.uint8, True, False)).__name__
    'SlopeArrayWriter'
    """
    if has_intercept and not has_slope:
        raise InvalidArgumentError("Cannot handle intercept without slope")
    if has_intercept:
        return SlopeInterArrayWriter(data, out_type, **kwargs)
    if has_slope:
        return SlopeArrayWriter(data, out_type, **kwargs)
    return ArrayWriter(data, out_type, **kwargs)
