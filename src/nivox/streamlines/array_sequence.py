"""ArraySequence: many arrays of different lengths stored as one array.

All elements live in one ndarray ``_data`` (rows of a common shape); element
``i`` is ``_data[_offsets[i]:_offsets[i] + _lengths[i]]``. Slicing gives views
that share ``_data``. Copies, arithmetic and bulk assignment work on whole row
ranges with numpy calls (an index of the selected rows, built per chunk), not a
Python loop per element, so they stay fast at tens of millions of streamlines.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray
from ..errors import ArgumentTypeError, InvalidArgumentError

__all__ = [
    "ArraySequence",
    "concatenate",
    "create_arraysequences_from_generator",
    "is_array_sequence",
    "is_ndarray_of_int_or_bool",
    "MEGABYTE",
]

MEGABYTE = 1024 * 1024

# rows gathered per step when an index of rows is needed (bounds the temporaries)
_CHUNK_ROWS = 1 << 20


def is_array_sequence(obj: Any) -> bool:
    """Whether `obj` behaves as an :class:`ArraySequence`."""
    try:
        return bool(obj.is_array_sequence)
    except AttributeError:
        return False


def is_ndarray_of_int_or_bool(obj: Any) -> bool:
    """Whether `obj` is an ndarray usable as a fancy index (integers or booleans)."""
    return isinstance(obj, np.ndarray) and (
        np.issubdtype(obj.dtype, np.integer) or np.issubdtype(obj.dtype, np.bool_)
    )


def _row_index(offsets: NDArray[Any], lengths: NDArray[Any]) -> NDArray[np.intp]:
    """Indices of all rows of the elements (offsets, lengths), in element order."""
    lengths = np.asarray(lengths, dtype=np.intp)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.intp)
    starts = np.zeros(len(lengths), np.intp)
    np.cumsum(lengths[:-1], out=starts[1:])
    # each row's index = its element's offset + its position inside the element
    idx = np.repeat(np.asarray(offsets, np.intp) - starts, lengths)
    idx += np.arange(total, dtype=np.intp)
    return idx


def _chunks(lengths: NDArray[Any]) -> Iterator[tuple[int, int, int]]:
    """Element ranges [i, j) of about ``_CHUNK_ROWS`` rows, with the first row of each."""
    n = len(lengths)
    if n == 0:
        return
    ends = np.cumsum(lengths, dtype=np.int64)
    i = 0
    row = 0
    while i < n:
        j = int(np.searchsorted(ends, row + _CHUNK_ROWS, side="right"))
        j = max(j, i + 1)
        yield i, j, row
        row = int(ends[j - 1])
        i = j


def _is_compact(seq: ArraySequence) -> bool:
    """Elements laid out back to back from row 0 (a copy of the rows is one slice)."""
    lengths, offsets = seq._lengths, seq._offsets
    if len(lengths) == 0:
        return True
    if offsets[0] != 0:
        return False
    return bool(np.array_equal(offsets[1:], offsets[:-1] + lengths[:-1]))


def _compact_rows(seq: ArraySequence) -> NDArray[Any]:
    """The rows of all elements back to back: a view when already so, else a copy."""
    if _is_compact(seq):
        return seq._data[: int(np.sum(seq._lengths))]
    total = int(np.sum(seq._lengths))
    out = np.empty((total,) + seq._data.shape[1:], dtype=seq._data.dtype)
    for i, j, row in _chunks(seq._lengths):
        idx = _row_index(seq._offsets[i:j], seq._lengths[i:j])
        np.take(seq._data, idx, axis=0, out=out[row : row + len(idx)])
    return out


class ArraySequence:
    """A sequence of ndarrays whose first dimension varies and other dimensions match.

    Parameters
    ----------
    iterable : None, iterable of array-likes, or ArraySequence, optional
        Elements to store; an :class:`ArraySequence` gives a view sharing its
        data (use :meth:`copy` for a copy). Empty elements are skipped.
    buffer_size : float, optional
        Megabytes by which the data grow while appending from a generator.
    """

    def __init__(self, iterable: Any = None, buffer_size: float = 4) -> None:
        self._is_view = False
        self._data: NDArray[Any] = np.array([])
        self._offsets: NDArray[np.intp] = np.array([], dtype=np.intp)
        self._lengths: NDArray[np.intp] = np.array([], dtype=np.intp)
        self._buffer_size = buffer_size
        self._build_cache: _BuildCache | None = None
        if iterable is None:
            return
        if not is_array_sequence(iterable):
            self.extend(iterable)
            return
        # another sequence: share its buffers (a view, as slicing gives)
        self._is_view = True
        self._data, self._offsets, self._lengths = iterable._data, iterable._offsets, iterable._lengths

    @classmethod
    def _from_parts(cls, data: NDArray[Any], offsets: NDArray[Any], lengths: NDArray[Any]) -> ArraySequence:
        """A sequence over `data` with the given element offsets and lengths (no copy)."""
        seq = cls()
        seq._data = data
        seq._offsets = np.asarray(offsets, dtype=np.intp)
        seq._lengths = np.asarray(lengths, dtype=np.intp)
        return seq

    @property
    def is_sliced_view(self) -> bool:
        return bool(self._lengths.sum() != self._data.shape[0])

    @property
    def is_array_sequence(self) -> bool:
        return True

    @property
    def common_shape(self) -> tuple[int, ...]:
        """Shape of the elements without their first dimension."""
        return self._data.shape[1:]

    @property
    def total_nb_rows(self) -> Any:
        """Number of rows over all elements."""
        return np.sum(self._lengths)

    def get_data(self) -> NDArray[Any]:
        """A copy of the rows of all elements, back to back."""
        return self.copy()._data

    def _check_shape(self, other: ArraySequence) -> bool:
        """Raise ValueError unless `other` has as many elements, rows and the same common shape."""
        msg = "cannot perform operation - array sequences have different"
        if len(self._lengths) != len(other._lengths):
            raise InvalidArgumentError(f"{msg} lengths: {len(self._lengths)} vs. {len(other._lengths)}.")
        if self.total_nb_rows != other.total_nb_rows:
            raise InvalidArgumentError(f"{msg} amount of data: {self.total_nb_rows} vs. {other.total_nb_rows}.")
        if self.common_shape != other.common_shape:
            raise InvalidArgumentError(f"{msg} common shape: {self.common_shape} vs. {other.common_shape}.")
        return True

    def _get_next_offset(self) -> int:
        """Row of ``_data`` where the next appended element goes."""
        if len(self._offsets) == 0:
            return 0
        imax = int(np.argmax(self._offsets))
        return int(self._offsets[imax] + self._lengths[imax])

    def append(self, element: Any, cache_build: bool = False) -> None:
        """Add one element at the end.

        Parameters
        ----------
        element : array-like
            Its shape past the first dimension must match the other elements'.
        cache_build : bool, optional
            Keep the bookkeeping between calls (faster for many appends); the
            caller then ends with :meth:`finalize_append`.
        """
        element = np.asarray(element)
        if element.size == 0:
            return
        cache = self._build_cache
        one_shot = cache is None
        if cache is None:
            cache = _BuildCache(self, element.shape[1:], element.dtype)
        elif element.shape[1:] != cache.common_shape:
            raise InvalidArgumentError("All dimensions, except the first one, must match exactly")
        start = cache.next_offset
        stop = start + element.shape[0]
        if self._data.shape[0] < stop:
            self._resize_data_to(stop, cache)
        self._data[start:stop] = element
        cache.offsets.append(start)
        cache.lengths.append(element.shape[0])
        cache.next_offset = stop
        if not one_shot:
            return
        if cache_build:
            self._build_cache = cache
        else:
            cache.update_seq(self)

    def finalize_append(self) -> None:
        """End a series of ``append(..., cache_build=True)`` calls."""
        cache, self._build_cache = self._build_cache, None
        if cache is not None:
            cache.update_seq(self)
            self.shrink_data()

    def _resize_data_to(self, n_rows: int, cache: _BuildCache) -> None:
        """Grow ``_data`` to at least `n_rows` rows, by whole buffers and at least by half."""
        bufs = -(-n_rows // cache.rows_per_buf)
        rows = max(bufs * cache.rows_per_buf, n_rows)
        if self._data.size and rows < self._data.shape[0] * 3 // 2:
            # geometric growth: appending N rows costs O(N) copies, not O(N^2 / buffer)
            rows = max(rows, self._data.shape[0] * 3 // 2)
        shape = (rows,) + cache.common_shape
        if self._data.size == 0:
            self._data = np.empty(shape, dtype=cache.dtype)
            return
        new = np.empty(shape, dtype=self._data.dtype)
        keep = min(self._data.shape[0], rows)
        new[:keep] = self._data[:keep]
        self._data = new

    def shrink_data(self) -> None:
        """Drop rows of ``_data`` past the end of the last element."""
        end = self._get_next_offset()
        if self._data.ndim == 0 or self._data.shape[0] == end:
            return
        if self._data.flags.owndata:
            try:  # in place when nothing else refers to the buffer
                self._data.resize((end,) + self.common_shape)
                return
            except ValueError:
                pass
        self._data = self._data[:end].copy()

    def extend(self, elements: Any) -> None:
        """Add all `elements` (array-likes, or another :class:`ArraySequence`) at the end."""
        if is_array_sequence(elements):
            if len(elements) == 0:
                return
            rows = _compact_rows(elements)
            self._extend_rows(rows, elements._lengths)
            return
        try:
            n = len(elements)
        except TypeError:
            n = None
        if n is not None:
            if n == 0:
                return
            arrays = [np.asarray(e) for e in elements]
            arrays = [a for a in arrays if a.size]
            if not arrays:
                return
            shapes = {a.shape[1:] for a in arrays}
            if len(shapes) != 1:
                raise InvalidArgumentError("All dimensions, except the first one, must match exactly")
            lengths = np.fromiter((a.shape[0] for a in arrays), dtype=np.intp, count=len(arrays))
            rows = np.concatenate(arrays, axis=0) if len(arrays) > 1 else arrays[0]
            self._extend_rows(rows, lengths)
            return
        for e in elements:
            self.append(e, cache_build=True)
        self.finalize_append()

    def _extend_rows(self, rows: NDArray[Any], lengths: NDArray[Any]) -> None:
        """Append elements given as their rows back to back and their lengths."""
        lengths = np.asarray(lengths, dtype=np.intp)
        keep = lengths > 0
        if not keep.all():
            lengths = lengths[keep]
        if len(lengths) == 0:
            return
        if self._data.size and self.common_shape != () and rows.shape[1:] != self.common_shape:
            raise InvalidArgumentError("All dimensions, except the first one, must match exactly")
        start = self._get_next_offset()
        total = rows.shape[0]
        if self._data.size == 0:
            data = np.empty((total,) + rows.shape[1:], dtype=rows.dtype)
        else:
            data = np.empty((start + total,) + self.common_shape, dtype=self._data.dtype)
            data[:start] = self._data[:start]
        data[start:] = rows
        offsets = np.empty(len(lengths), np.intp)
        offsets[0] = start
        np.cumsum(lengths[:-1], out=offsets[1:])
        offsets[1:] += start
        self._data = data
        self._offsets = np.concatenate([self._offsets.astype(np.intp), offsets])
        self._lengths = np.concatenate([self._lengths.astype(np.intp), lengths])

    def copy(self) -> ArraySequence:
        """A copy holding only the rows of its elements, back to back."""
        rows = _compact_rows(self)
        if rows.base is not None or rows is self._data:
            rows = rows.copy()
        lengths = self._lengths.copy()
        offsets = np.zeros(len(lengths), np.intp)
        if len(lengths):
            np.cumsum(lengths[:-1], out=offsets[1:])
        return self.__class__._from_parts(rows, offsets, lengths)

    def _select(self, idx: Any) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
        """(data, offsets, lengths) selected by a non-integer index."""
        if isinstance(idx, tuple):
            off_idx = idx[0]
            data = self._data[(slice(None),) + idx[1:]]
        else:
            off_idx = idx
            data = self._data
        if isinstance(off_idx, (slice, list, range)) or is_ndarray_of_int_or_bool(off_idx):
            return data, self._offsets[off_idx], self._lengths[off_idx]
        raise ArgumentTypeError(
            "Index must be either an int, a slice, a list of int or a ndarray of bool! "
            f"Not {type(idx)}"
        )

    def _rows_of(self, i: Any) -> slice:
        """The rows of ``_data`` holding element `i` (negative counts from the end)."""
        first = int(self._offsets[i])
        return slice(first, first + int(self._lengths[i]))

    def __getitem__(self, idx: Any) -> Any:
        """An element (integer index) or a view of several (slice, list, int/bool array)."""
        if isinstance(idx, (numbers.Integral, np.integer)):
            return self._data[self._rows_of(idx)]
        data, offsets, lengths = self._select(idx)
        seq = self.__class__._from_parts(data, offsets, lengths)
        seq._is_view = True
        return seq

    def __setitem__(self, idx: Any, elements: Any) -> None:
        """Overwrite an element, or several with an ArraySequence, a number or arrays."""
        if isinstance(idx, (numbers.Integral, np.integer)):
            self._data[self._rows_of(idx)] = elements
            return
        data, offsets, lengths = self._select(idx)
        if is_array_sequence(elements):
            if len(lengths) != len(elements):
                raise InvalidArgumentError(f"Trying to set {len(lengths)} sequences with {len(elements)} sequences.")
            if np.sum(lengths) != elements.total_nb_rows:
                raise InvalidArgumentError(
                    f"Trying to set {np.sum(lengths)} points with {elements.total_nb_rows} points."
                )
            data[_row_index(offsets, lengths)] = _compact_rows(elements)
        elif isinstance(elements, numbers.Number):
            data[_row_index(offsets, lengths)] = elements
        else:
            for o, n, element in zip(offsets, lengths, elements):
                data[o : o + n] = element

    def _op(self, op: str, value: Any = None, inplace: bool = False) -> ArraySequence:
        """Apply operator `op` (unary when `value` is None) to all rows at once."""
        other: Any = () if value is None else (value,)
        if is_array_sequence(value):
            self._check_shape(value)
            other = (_compact_rows(value),)
        if len(self._lengths) == 0:
            return self if inplace else self.copy()
        if inplace:
            if _is_compact(self):
                rows = self._data[: int(np.sum(self._lengths))]
                res = getattr(rows, op)(*other)
                if res is not rows and res is not NotImplemented:
                    rows[...] = res
            else:
                idx = _row_index(self._offsets, self._lengths)
                rows = self._data[idx]
                res = getattr(rows, op)(*other)
                self._data[idx] = res
            if res is NotImplemented:
                raise ArgumentTypeError(f"unsupported operand for {op}")
            return self
        rows = _compact_rows(self)
        res = getattr(rows, op)(*other)
        if res is NotImplemented:
            raise ArgumentTypeError(f"unsupported operand for {op}")
        lengths = self._lengths.copy()
        offsets = np.zeros(len(lengths), np.intp)
        np.cumsum(lengths[:-1], out=offsets[1:])
        return self.__class__._from_parts(np.asarray(res), offsets, lengths)

    def __iter__(self) -> Iterator[NDArray[Any]]:
        if len(self._lengths) != len(self._offsets):
            raise InvalidArgumentError("ArraySequence object corrupted: len(self._lengths) != len(self._offsets)")
        data = self._data
        for offset, length in zip(self._offsets.tolist(), self._lengths.tolist()):
            yield data[offset : offset + length]

    def __len__(self) -> int:
        return len(self._offsets)

    def __repr__(self) -> str:
        if len(self) > np.get_printoptions()["threshold"]:
            edge = np.get_printoptions()["edgeitems"]
            text = str(list(self[:edge]))[:-1] + ", ..., " + str(list(self[-edge:]))[1:]
        else:
            text = str(list(self))
        return f"{self.__class__.__name__}({text})"

    def save(self, filename: Any) -> None:
        """Write data, offsets and lengths to a ``.npz`` file."""
        np.savez(filename, data=self._data, offsets=self._offsets, lengths=self._lengths)

    @classmethod
    def load(cls, filename: Any) -> ArraySequence:
        """Read a sequence written by :meth:`save`."""
        with np.load(filename) as content:
            return cls._from_parts(content["data"], content["offsets"], content["lengths"])


def _make_operator(op: str, inplace: bool = False, unary: bool = False) -> Any:
    if unary:
        def fn(self: ArraySequence) -> ArraySequence:
            return self._op(op)
    else:
        def fn(self: ArraySequence, value: Any) -> ArraySequence:  # type: ignore[misc]
            return self._op(op, value, inplace=inplace)
    fn.__name__ = op
    fn.__doc__ = f"Apply ``{op}`` to the rows of every element."
    return fn


for _name in ("add", "sub", "mul", "mod", "pow", "floordiv", "truediv", "lshift", "rshift",
              "or", "and", "xor"):
    setattr(ArraySequence, f"__{_name}__", _make_operator(f"__{_name}__"))
    setattr(ArraySequence, f"__i{_name}__", _make_operator(f"__i{_name}__", inplace=True))
for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(ArraySequence, f"__{_name}__", _make_operator(f"__{_name}__"))
for _name in ("neg", "abs", "invert"):
    setattr(ArraySequence, f"__{_name}__", _make_operator(f"__{_name}__", unary=True))
ArraySequence.__hash__ = None  # type: ignore[assignment]  # __eq__ is element-wise


class _BuildCache:
    """Bookkeeping kept between ``append(..., cache_build=True)`` calls."""

    def __init__(self, seq: ArraySequence, common_shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.offsets: list[int] = list(seq._offsets.tolist())
        self.lengths: list[int] = list(seq._lengths.tolist())
        self.next_offset = seq._get_next_offset()
        self.dtype = dtype if seq._data.size == 0 else seq._data.dtype
        if seq.common_shape != () and common_shape != seq.common_shape:
            raise InvalidArgumentError("All dimensions, except the first one, must match exactly")
        self.common_shape = common_shape
        row_bytes = max(1, int(np.prod(common_shape, dtype=np.int64)) * np.dtype(dtype).itemsize)
        self.rows_per_buf = max(1, int(seq._buffer_size * MEGABYTE) // row_bytes)

    def update_seq(self, seq: ArraySequence) -> None:
        seq._offsets = np.array(self.offsets, dtype=np.intp)
        seq._lengths = np.array(self.lengths, dtype=np.intp)


def create_arraysequences_from_generator(
    gen: Iterable[Any], n: int, buffer_sizes: list[float] | None = None
) -> list[ArraySequence]:
    """Fill `n` ArraySequences from a generator yielding `n`-tuples of arrays.

    Parameters
    ----------
    gen : iterable of tuples
        Item ``k`` of each tuple is appended to sequence ``k`` (empty ones skipped).
    n : int
        Number of sequences.
    buffer_sizes : list of float, optional
        Growth step (megabytes) of each sequence.
    """
    sizes = [4.0] * n if buffer_sizes is None else buffer_sizes
    seqs = [ArraySequence(buffer_size=size) for size in sizes]
    for item in gen:
        for seq, arr in zip(seqs, item):
            if arr.nbytes:  # an empty array adds no element
                seq.append(arr, cache_build=True)
    for built in seqs:
        built.finalize_append()
    return seqs


def concatenate(seqs: list[ArraySequence], axis: int) -> ArraySequence:
    """Join sequences: one after the other (``axis=0``) or their rows side by side.

    Parameters
    ----------
    seqs : sequence of ArraySequence
    axis : int
        0 appends the elements of each sequence; another axis concatenates
        the rows of corresponding elements along it.
    """
    new = seqs[0].copy()
    if axis == 0:
        for seq in seqs[1:]:
            new.extend(seq)
        return new
    new._data = np.concatenate([_compact_rows(s) for s in seqs], axis=axis)
    return new
