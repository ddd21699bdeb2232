"""Scaling and casting image data: nibabel's dtype rules, and converters that run on all cores.

An image's stored values become data as ``raw * slope + inter``. The dtype
the result comes in follows nibabel (:func:`scaled_dtype`); converting runs
in chunks through a small buffer in the dtype nibabel computes in, then
casts into the requested dtype, so asking for float32 never builds a float64
array of the whole image yet gives the same values. Big arrays are
converted on several threads (:func:`convert_in_parallel`), also when the
raw data lie in the tail of the output's own memory.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ._threads import cpu_threads, run_parallel

__all__ = ["PARALLEL_MIN", "cast_into", "convert_in_parallel", "converter", "is_identity", "scale_into",
           "scaled_dtype", "scaling"]

# elements converted per chunk when scaling
_SCALE_CHUNK = 1 << 14
#: bytes of output below which converting (or reading) on one thread is as fast
PARALLEL_MIN = 4 << 20


def is_identity(slope: Any, inter: Any) -> bool:
    """Whether ``slope`` and ``inter`` leave the data as stored."""
    if isinstance(slope, (int, float, np.number)) and isinstance(inter, (int, float, np.number)):
        return bool(slope == 1 and inter == 0)  # the usual case, without array overhead
    return bool(np.all(np.asarray(slope) == 1) and np.all(np.asarray(inter) == 0))


_FLOATS = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def _as_term(value: Any) -> np.ndarray:
    term = np.asarray(value)
    return term.astype(np.float64) if term.dtype.hasobject else term  # huge Python ints


def _fits(term: np.ndarray, dtype: np.dtype) -> bool:
    """Whether ``term``'s values survive conversion to ``dtype`` (same or wider kind)."""
    if dtype.kind in "fc" and term.dtype.kind in "biuf" + ("c" if dtype.kind == "c" else ""):
        with np.errstate(over="ignore", invalid="ignore"):
            return bool(np.all(np.isfinite(term.astype(dtype))))
    if dtype.kind in "iu" and term.dtype.kind in "biu":
        info = np.iinfo(dtype)
        return bool(np.all((term >= info.min) & (term <= info.max)))
    return False


def scaling(
    raw: np.dtype, slope: Any, inter: Any, want: np.dtype | None = None
) -> tuple[np.dtype, np.dtype, Any, Any]:
    """(result dtype, product dtype, slope, inter) for scaling data of dtype ``raw``.

    nibabel's rules, as observed from outside: the intercept takes the
    slope's type when its value fits. Integer data is converted to the
    slope's float type (float64 when the slope is not a float), promoted with
    the data type and widened until the scaled integer range is finite.
    Float data is multiplied in the promotion of data and slope (skipped for
    a slope of 1), then the intercept (when not 0) widens the result. A
    requested output dtype that slope or intercept casts to safely is adopted
    by them first, so asking for float64 computes in float64. Python floats
    count as float64; numpy scalars keep their type.
    """
    s, i = _as_term(slope), _as_term(inter)
    if want is not None:
        s = s.astype(want) if np.can_cast(s.dtype, want) else s
        i = i.astype(want) if np.can_cast(i.dtype, want) else i
    if np.can_cast(i.dtype, s.dtype) or (raw.kind in "biu" and _fits(i, s.dtype)):
        i = i.astype(s.dtype)
    if raw.kind in "biu":
        product = np.result_type(raw, s.dtype) if s.dtype.kind in "fc" else np.dtype(np.float64)
        if product.kind in "biu":
            product = np.dtype(np.float64)
        product = np.result_type(product, i.dtype)
        if product in _FLOATS[:-1] and raw.kind != "b":
            info = np.iinfo(raw)
            with np.errstate(over="ignore", invalid="ignore"):
                ends = np.array([info.min, info.max], np.float64) * s.astype(np.float64) + i.astype(np.float64)
            top = float(np.max(np.abs(ends)))
            product = next(f for f in _FLOATS if f.itemsize >= product.itemsize and (top <= np.finfo(f).max or f == _FLOATS[-1]))
        compute = product
    else:
        product = raw.newbyteorder("=")
        if not np.all(s == 1):
            product = np.result_type(product, s.dtype)
        compute = np.result_type(product, i.dtype) if np.any(i != 0) else product
    compute, product = compute.newbyteorder("="), product.newbyteorder("=")
    with np.errstate(over="ignore", invalid="ignore"):
        return compute, product, s.astype(product), i.astype(compute)


def scaled_dtype(raw: Any, slope: Any, inter: Any) -> np.dtype:
    """The dtype ``np.asarray(proxy)`` has for data of dtype ``raw`` scaled by ``slope``, ``inter``.

    ``raw`` itself for identity scaling, else as nibabel computes it (see
    :func:`scaling`): an int16 image with Python float scaling gives
    float64, with ``np.float32`` scaling float32.
    """
    raw = np.dtype(raw)
    if is_identity(slope, inter):
        return raw
    return scaling(raw, slope, inter)[0]


def scale_into(
    raw: np.ndarray, out: np.ndarray, slope: Any, inter: Any, compute: np.dtype, product: np.dtype
) -> None:
    """``out[...] = raw * slope + inter`` computed in ``compute``, in chunks, on several threads.

    ``raw`` may share memory with the tail of ``out`` (see module docstring).
    """
    convert_in_parallel(raw, out, converter(slope, inter, compute, product))


def converter(slope: Any, inter: Any, compute: np.dtype, product: np.dtype) -> Any:
    """``convert(src, dst)``: ``dst[...] = src * slope + inter``, in chunks through a small buffer.

    The product is formed in ``product`` (the dtype of ``slope``), the sum in
    ``compute`` (the dtype of ``inter``), then cast into ``dst``.
    """
    scale = None if np.all(slope == 1) else slope
    shift = None if np.all(inter == 0) else inter

    def convert(src: np.ndarray, dst: np.ndarray) -> None:
        if scale is None and shift is None:
            cast_into(src, dst)
            return
        iterator = np.nditer(
            [src, dst],
            flags=["external_loop", "buffered", "zerosize_ok"],
            op_flags=[["readonly"], ["writeonly"]],
            op_dtypes=[compute, compute],
            casting="unsafe",
            order="K",
            buffersize=_SCALE_CHUNK,
        )
        with iterator:
            for part, target in iterator:
                if scale is not None:
                    np.multiply(part, scale, out=target, dtype=product, casting="same_kind")
                    part = target
                if shift is not None:
                    np.add(part, shift, out=target)

    return convert


def cast_into(raw: np.ndarray, out: np.ndarray) -> None:
    """``out[...] = raw`` with an unsafe cast, also when ``raw`` is the tail of ``out``."""
    if not np.may_share_memory(raw, out):
        np.copyto(out, raw, casting="unsafe")
        return
    # numpy would copy all of ``raw`` first; chunk by chunk it copies only a chunk
    source, target = raw.reshape(-1, order="A"), out.reshape(-1, order="A")
    for start in range(0, target.size, _SCALE_CHUNK):
        stop = start + _SCALE_CHUNK
        np.copyto(target[start:stop], source[start:stop], casting="unsafe")


def convert_in_parallel(raw: np.ndarray, out: np.ndarray, convert: Any) -> None:
    """``convert(raw_part, out_part)`` over the whole arrays, on several threads when they are big.

    When ``raw`` is the tail of ``out``'s memory, a part may run only once
    writing it cannot reach raw bytes not yet read: the parts go in rounds,
    each round covering what lies wholly before the unread raw bytes (half
    of what is left, for a conversion to twice the itemsize); the last
    small rest runs front to back, chunk by chunk, on this thread.
    """
    threads = cpu_threads()
    order = "C" if raw.flags.c_contiguous and out.flags.c_contiguous else "F"
    flat = raw.flags.f_contiguous and out.flags.f_contiguous if order == "F" else True
    if threads < 2 or out.nbytes < PARALLEL_MIN or not flat:
        convert(raw, out)
        return
    source, target = raw.reshape(-1, order=order), out.reshape(-1, order=order)
    start, size = 0, target.size
    shared = np.may_share_memory(raw, out)
    raw_at = source.ctypes.data - target.ctypes.data  # where raw lies in out's memory
    same_place = shared and raw_at == 0 and source.itemsize == target.itemsize
    while start < size:
        if shared and not same_place:
            # writes must end before the first raw byte not yet read
            stop = min(size, (raw_at + start * source.itemsize) // target.itemsize)
        else:
            stop = size
        if (stop - start) * target.itemsize < PARALLEL_MIN:
            convert(source[start:], target[start:])
            return
        bounds = np.linspace(start, stop, threads + 1).astype(int)
        run_parallel(
            [functools.partial(convert, source[lo:hi], target[lo:hi]) for lo, hi in zip(bounds, bounds[1:])],
            threads,
        )
        start = stop
