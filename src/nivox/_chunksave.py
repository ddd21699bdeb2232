"""Saving data that are not in memory, slab by slab.

When an image's ``dataobj`` is not a numpy array (a dask array, the proxy of
another file, an h5py or zarr array, any array-like) and holds at least
:data:`STREAM_MIN_BYTES`, a save reads it in slabs of about
:data:`CHUNK_BYTES` that follow the output file's order (whole along the
fastest axes, a run along one axis, single indices along the slower ones),
converts each and writes it. The whole image is never in memory: the slab
being written, the next one being read on a helper thread, and the writer's
small buffers.

Scale factors depend on the whole data's range. When the output type may
need them (float data to integers, integers that may not fit), a first pass
collects what the in-memory writers look at (finite minimum and maximum,
NaN, whether every value is a whole number the type holds), and the scaling
is chosen by the same writer classes from a small stand-in array with those
properties: the file gets the scale factors and bytes an in-memory save
writes. Data that cast safely to the output type are written in one pass.

Slabs are read in file order, so a proxy of a single-stream ``.nii.gz`` is
decoded once per pass (the gzip reader's cursor moves on from where the
previous slab left it). Slabs of a dask array follow its chunks: a dask chunk
is computed whole, so a slab never splits one along a slower axis (that
would compute it again for every slab); a dask chunk bigger than
:data:`CHUNK_BYTES` makes the slab that big.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, Any

import numpy as np

from .arrayproxy import ArrayProxy, get_obj_dtype, is_proxy
from .arraywriters import whole_numbers_fit
from .errors import ImageDataError
from .volumeutils import array_to_file, finite_range

__all__ = ["CHUNK_BYTES", "STREAM_MIN_BYTES", "ChunkedWriter", "data_range", "slabs", "streams"]

#: data objects that are not numpy arrays are saved slab by slab from this many bytes
STREAM_MIN_BYTES = 64 << 20
#: bytes read per slab when saving slab by slab (a dask chunk may make a slab bigger)
CHUNK_BYTES = 8 << 20

# bytes put in file order at a time when a slab comes in the other memory order
_PIECE_BYTES = 4 << 20
# edge of the square tiles that reordering copies at a time
_TILE = 16

#: ``choose(sample, whole)``: the array writer for data like ``sample`` (see ChunkedWriter)
Chooser = Callable[[np.ndarray, "bool | None"], Any]


def _nbytes(dataobj: Any, dtype: np.dtype) -> int:
    return math.prod(int(n) for n in dataobj.shape) * dtype.itemsize


def data_dtype(dataobj: Any) -> np.dtype:
    """The dtype ``np.asanyarray(dataobj)`` has, without reading the data."""
    if isinstance(dataobj, np.ndarray) or is_proxy(dataobj) or isinstance(dataobj, ArrayProxy):
        return get_obj_dtype(dataobj)
    return np.dtype(dataobj.dtype)


def streams(dataobj: Any) -> bool:
    """Whether a save should read ``dataobj`` slab by slab rather than whole."""
    if isinstance(dataobj, np.ndarray):
        return False
    if not all(hasattr(dataobj, name) for name in ("shape", "__getitem__")):
        return False
    if not (is_proxy(dataobj) or hasattr(dataobj, "dtype")):
        return False
    try:
        dtype = data_dtype(dataobj)
        size = _nbytes(dataobj, dtype)
    except (TypeError, ValueError, AttributeError):
        return False
    return size > 0 and size >= STREAM_MIN_BYTES and dtype.kind in "biufc"


def _dask_chunks(dataobj: Any) -> tuple[tuple[int, ...], ...] | None:
    chunks = getattr(dataobj, "chunks", None)
    if chunks is None or not hasattr(dataobj, "dask"):
        return None  # h5py and zarr arrays have chunks too, but read any slice directly
    return tuple(tuple(int(n) for n in axis) for axis in chunks)


def slabs(shape: tuple[int, ...], itemsize: int, order: str, budget: int,
          chunks: tuple[tuple[int, ...], ...] | None = None) -> Iterator[tuple[slice, ...]]:
    """Indices of the slabs that cover an array of ``shape``, in the order of a file laid out in ``order``.

    Each slab is a contiguous stretch of that file: whole along the fastest
    axes, a run along the next, one index along the slower ones; it holds
    about ``budget`` bytes. With ``chunks`` (a dask array's), slab bounds
    fall on chunk bounds and no chunk is split along a slower axis.
    """
    ndim = len(shape)
    axes = list(range(ndim)) if order == "F" else list(range(ndim))[::-1]  # fastest first
    inner, k = itemsize, 0
    while k < ndim and inner * shape[axes[k]] <= budget:
        inner *= shape[axes[k]]
        k += 1
    if chunks is not None:
        split = [i for i, axis in enumerate(axes) if max(chunks[axis], default=1) > 1]
        if split and split[-1] > k:
            k = split[-1]
            inner = itemsize * math.prod(shape[axes[i]] for i in range(k))
    if k == ndim:
        yield tuple(slice(None) for _ in shape)
        return
    run_axis = axes[k]
    runs = _runs(shape[run_axis], inner, budget, None if chunks is None else chunks[run_axis])
    slower = axes[k + 1:][::-1]  # slowest first: itertools.product varies the last fastest
    for outer in itertools.product(*(range(shape[axis]) for axis in slower)):
        index = [slice(None)] * ndim
        for axis, at in zip(slower, outer):
            index[axis] = slice(at, at + 1)
        for start, stop in runs:
            index[run_axis] = slice(start, stop)
            yield tuple(index)


def _runs(length: int, inner: int, budget: int, chunks: tuple[int, ...] | None) -> list[tuple[int, int]]:
    """(start, stop) runs along an axis, each of about ``budget`` bytes (``inner`` per index)."""
    if chunks is None:
        step = max(1, budget // max(inner, 1))
        return [(start, min(start + step, length)) for start in range(0, length, step)]
    runs, start, stop = [], 0, 0
    for size in chunks:
        if stop > start and (stop + size - start) * inner > budget:
            runs.append((start, stop))
            start = stop
        stop += size
    if stop > start:
        runs.append((start, stop))
    return runs


def _read_slab(dataobj: Any, index: tuple[slice, ...], dtype: np.dtype) -> np.ndarray:
    from ._codecs import gzahead

    with gzahead.bounded_memory():  # a single-stream .gz is decoded as the slabs go, not whole
        part = dataobj[index]
    compute = getattr(part, "compute", None)
    if compute is not None and not isinstance(part, np.ndarray):
        part = compute()  # a dask array: its chunks compute on dask's scheduler
    part = np.asanyarray(part)
    expected = tuple(len(range(*s.indices(n))) for s, n in zip(index, dataobj.shape))
    if part.shape != expected:
        raise ImageDataError(f"a slice of the {type(dataobj).__name__} to save gave shape {part.shape}, "
                             f"not {expected}")
    return part if part.dtype == dtype else part.astype(dtype)


def _reordered(piece: np.ndarray, order: str) -> np.ndarray:
    """``piece`` copied into memory order ``order``, tile by tile so both sides stay in cache."""
    out = np.empty(piece.shape, piece.dtype, order=order)  # type: ignore[call-overload]
    fast_out = 0 if order == "F" else piece.ndim - 1
    strides = [abs(s) if n > 1 else math.inf for s, n in zip(piece.strides, piece.shape)]
    fast_in = strides.index(min(strides))
    if fast_in == fast_out:
        out[...] = piece
        return out
    index: list[slice] = [slice(None)] * piece.ndim
    for a in range(0, piece.shape[fast_out], _TILE):
        index[fast_out] = slice(a, a + _TILE)
        for b in range(0, piece.shape[fast_in], _TILE):
            index[fast_in] = slice(b, b + _TILE)
            out[tuple(index)] = piece[tuple(index)]
    return out


def each_slab(dataobj: Any, order: str, use: Callable[[np.ndarray], None],
              budget: int | None = None) -> None:
    """Call ``use`` on every slab of ``dataobj`` in file order; the next slab is read meanwhile."""
    dtype = data_dtype(dataobj)
    budget = CHUNK_BYTES if budget is None else budget
    indices = slabs(tuple(int(n) for n in dataobj.shape), dtype.itemsize, order, budget,
                    _dask_chunks(dataobj))
    # one reader thread: reads stay in file order, one slab ahead of the writer
    with ThreadPoolExecutor(1, thread_name_prefix="nivox-slab") as pool:
        pending: Future[np.ndarray] | None = None
        try:
            for index in indices:
                following = pool.submit(_read_slab, dataobj, index, dtype)
                if pending is not None:
                    part, pending = pending.result(), None  # the future lets go of the slab too
                    use(part)
                    del part
                pending = following
            if pending is not None:
                part, pending = pending.result(), None
                use(part)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


class _Range:
    """What the array writers look at in a whole array, gathered slab by slab."""

    def __init__(self, dtype: np.dtype, out_dtype: np.dtype, check_whole: bool) -> None:
        self.dtype = dtype
        self.out_dtype = out_dtype
        self.low: Any = None
        self.high: Any = None
        self.has_nan = False
        self.whole: bool | None = True if check_whole else None

    def add(self, part: np.ndarray) -> None:
        if self.dtype.kind == "b":
            return
        low, high, nan = finite_range(part, check_nan=True)
        self.has_nan = self.has_nan or bool(nan)
        if self.low is None:
            self.low, self.high = low, high
        else:
            self.low, self.high = min(self.low, low), max(self.high, high)
        if self.whole:
            self.whole = whole_numbers_fit(part, self.out_dtype)

    def sample(self) -> np.ndarray:
        """A small array whose dtype, finite range and NaN are the whole data's."""
        if self.dtype.kind == "b" or self.low is None:
            return np.zeros(1, self.dtype)
        values = [self.low, self.high] + ([np.nan] if self.has_nan else [])
        with np.errstate(over="ignore", invalid="ignore"):
            return np.array(values, dtype=self.dtype)


def data_range(dataobj: Any, order: str = "F") -> tuple[Any, Any]:
    """Least and greatest values of ``dataobj`` (NaN propagating, as ``min`` and ``max``), read slab by slab."""
    found: list[Any] = [None, None]

    def add(part: np.ndarray) -> None:
        if not part.size:
            return
        low, high = part.min(), part.max()
        found[0] = low if found[0] is None else np.minimum(found[0], low)
        found[1] = high if found[1] is None else np.maximum(found[1], high)

    each_slab(dataobj, order, add)
    return found[0], found[1]


class ChunkedWriter:
    """Write a data object that is not in memory as ``out_dtype``, slab by slab.

    Parameters
    ----------
    dataobj : array-like
        The data (shape, dtype, slicing).
    out_dtype : numpy dtype
    choose : callable
        ``choose(sample, whole)`` returns the array writer (from
        :mod:`nivox.arraywriters`) an in-memory save would use; ``sample``
        has the data's dtype, finite range and NaN, ``whole`` says whether
        all values are whole numbers ``out_dtype`` holds (None: not
        checked, the data cast safely).

    The scale factors are known once the writer is made (after a first
    pass over the data if they depend on its range); ``slope`` and
    ``inter`` are those of the chosen writer.
    """

    def __init__(self, dataobj: Any, out_dtype: Any, choose: Chooser, order: str = "F") -> None:
        self._dataobj = dataobj
        self._dtype = data_dtype(dataobj)
        self._out_dtype = np.dtype(out_dtype)
        if np.can_cast(self._dtype, self._out_dtype):
            self.passes = 1
            writer = choose(np.zeros(0, self._dtype), None)
        else:
            self.passes = 2
            check_whole = self._dtype.kind == "f" and self._out_dtype.kind in "iu"
            found = _Range(self._dtype, self._out_dtype, check_whole)
            each_slab(dataobj, order, found.add)
            writer = choose(found.sample(), found.whole)
        self.writer = writer
        self.slope = getattr(writer, "slope", 1.0)
        self.inter = getattr(writer, "inter", 0.0)

    @property
    def out_dtype(self) -> np.dtype:
        return self._out_dtype

    def to_fileobj(self, fileobj: IO[bytes], order: str = "F") -> None:
        """Write every slab to ``fileobj`` at its current position, in file order ``order``."""
        options = self.writer._write_kwargs()
        out_dtype = self._out_dtype

        def write(part: np.ndarray) -> None:
            if part.ndim < 2 or (part.flags.f_contiguous if order == "F" else part.flags.c_contiguous):
                array_to_file(part, fileobj, out_dtype, offset=None, order=order, **options)
                return
            # a slab in the other memory order (dask computes C-ordered chunks): put it in file
            # order piece by piece, tile by tile, as a plain copy or array_to_file's iterator
            # would cross the whole slab once per element
            for index in slabs(part.shape, part.dtype.itemsize, order, _PIECE_BYTES):
                piece = _reordered(part[index], order)
                array_to_file(piece, fileobj, out_dtype, offset=None, order=order, **options)
                del piece

        each_slab(self._dataobj, order, write)
