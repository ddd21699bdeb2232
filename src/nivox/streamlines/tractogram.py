"""Tractograms: streamlines with data per streamline and per point.

:class:`Tractogram` holds everything in memory (streamlines as one
:class:`ArraySequence`); :class:`LazyTractogram` holds generator functions
and reads or computes streamlines only while they are iterated, so a file
of any size streams in bounded memory.
"""

from __future__ import annotations

import copy
import functools
import numbers
import types
import warnings
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..affines import apply_affine
from .array_sequence import ArraySequence, _row_index
from ..errors import ArgumentTypeError, InvalidArgumentError

__all__ = [
    "is_data_dict",
    "is_lazy_dict",
    "SliceableDataDict",
    "PerArrayDict",
    "PerArraySequenceDict",
    "LazyDict",
    "TractogramItem",
    "Tractogram",
    "LazyTractogram",
]

_UNKNOWN_SPACE = (
    "Streamlines are in a unknown space. This error can be avoided by setting the "
    "'affine_to_rasmm' property."
)


def is_data_dict(obj: Any) -> bool:
    """Whether `obj` has the data-dictionary API (a ``store``)."""
    return hasattr(obj, "store")


def is_lazy_dict(obj: Any) -> bool:
    """Whether `obj` is a data dictionary whose values are generator functions."""
    return is_data_dict(obj) and callable(list(obj.store.values())[0])


class SliceableDataDict(MutableMapping):  # type: ignore[type-arg]
    """A dict whose non-key lookups index every value (``d[::2]`` slices all of them)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.store: dict[Any, Any] = {}
        self.update(dict(*args, **kwargs))

    def __getitem__(self, key: Any) -> Any:
        try:
            return self.store[key]
        except (KeyError, TypeError, IndexError):
            pass
        try:  # not a key: index each value with it
            sliced = type(self)()
            for k, v in self.items():
                sliced[k] = v[key]
        except (TypeError, ValueError, IndexError):
            return self.store[key]  # raises the KeyError a dict would
        return sliced

    def __setitem__(self, key: Any, value: Any) -> None:
        self.store[key] = value

    def __contains__(self, key: object) -> bool:
        return key in self.store

    def __delitem__(self, key: Any) -> None:
        del self.store[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.store)

    def __len__(self) -> int:
        return len(self.store)


def _as_rows(value: Any) -> np.ndarray:
    """Values given per streamline as a 2D array: one row each.

    An array keeps its dtype; other sequences become float64, or an object
    array of rows when the rows differ in length.
    """
    items = list(value) if isinstance(value, types.GeneratorType) else value
    if isinstance(items, np.ndarray):
        rows = items
    else:
        ragged = len({len(item) for item in items}) > 1
        rows = np.asarray(items, dtype=object if ragged else np.float64)
    if rows.dtype == object:
        if not all(isinstance(row, Iterable) for row in rows):
            raise InvalidArgumentError("data_per_streamline must be a 2D array")
        return rows
    if rows.ndim == 1:
        rows = rows[:, np.newaxis]
    if rows.ndim != 2:
        raise InvalidArgumentError("data_per_streamline must be a 2D array")
    return rows


class PerArrayDict(SliceableDataDict):
    """Data per streamline: each value a 2D array with one row per streamline.

    Parameters
    ----------
    n_rows : int, optional
        Rows each value must have (0: not checked).
    """

    def __init__(self, n_rows: int = 0, *args: Any, **kwargs: Any) -> None:
        self.n_rows = n_rows
        super().__init__(*args, **kwargs)

    def __setitem__(self, key: Any, value: Any) -> None:
        rows = _as_rows(value)
        if self.n_rows and len(rows) != self.n_rows:
            raise InvalidArgumentError(
                f"{len(rows)} values given for {self.n_rows} streamlines (key {key!r})")
        self.store[key] = rows

    def _extend_entry(self, key: Any, value: Any) -> None:
        self[key] = np.concatenate([self[key], value])

    def extend(self, other: PerArrayDict) -> None:
        """Append the values of `other` (same keys) to this dictionary's."""
        if len(self) > 0 and len(other) > 0 and sorted(self.keys()) != sorted(other.keys()):
            raise InvalidArgumentError(
                f"cannot extend data with keys {sorted(self.keys())} by data with keys "
                f"{sorted(other.keys())}")
        self.n_rows += other.n_rows
        for key, value in other.items():
            if key in self:
                self._extend_entry(key, value)
            else:
                self[key] = value


class PerArraySequenceDict(PerArrayDict):
    """Data per point: each value an :class:`ArraySequence` with one row per point."""

    def __setitem__(self, key: Any, value: Any) -> None:
        value = ArraySequence(value)
        if 0 < self.n_rows != value.total_nb_rows:
            raise InvalidArgumentError(f"The number of values ({value.total_nb_rows}) should match ({self.n_rows}).")
        self.store[key] = value

    def _extend_entry(self, key: Any, value: Any) -> None:
        self[key].extend(value)


class LazyDict(MutableMapping):  # type: ignore[type-arg]
    """A dict of generator functions; looking a key up calls its function."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.store: dict[Any, Any] = {}
        if len(args) == 1:
            if args[0] is None:
                return
            if isinstance(args[0], LazyDict):
                self.update(**args[0].store)
                return
        self.update(dict(*args, **kwargs))

    def __getitem__(self, key: Any) -> Any:
        return self.store[key]()

    def __setitem__(self, key: Any, value: Any) -> None:
        if not callable(value):
            raise ArgumentTypeError(
                "Values in a `LazyDict` must be generator functions. These are functions "
                "which, when called, return an instantiated generator."
            )
        self.store[key] = value

    def __delitem__(self, key: Any) -> None:
        del self.store[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.store)

    def __len__(self) -> int:
        return len(self.store)


class TractogramItem:
    """One streamline with its data.

    Parameters
    ----------
    streamline : (N, 3) array-like
    data_for_streamline : dict
        Key -> values of this streamline.
    data_for_points : dict
        Key -> (N, M) values, one row per point.
    """

    def __init__(self, streamline: Any, data_for_streamline: dict[Any, Any],
                 data_for_points: dict[Any, Any]) -> None:
        self.streamline = np.asarray(streamline)
        self.data_for_streamline, self.data_for_points = data_for_streamline, data_for_points

    def __iter__(self) -> Iterator[Any]:
        return iter(self.streamline)

    def __len__(self) -> int:
        return len(self.streamline)


def _check_affine(value: Any) -> NDArray[Any] | None:
    if value is None:
        return None
    value = np.array(value)
    if value.shape != (4, 4):
        raise InvalidArgumentError(
            f"Affine matrix has a shape of (4, 4) but a ndarray with shape {value.shape} was provided instead."
        )
    return value


def transform_rows_inplace(rows: NDArray[Any], affine: NDArray[Any], chunk: int = 1 << 14) -> None:
    """Apply `affine` to (N, 3) `rows` in place, cache-sized chunks on all cores.

    ``np.dot`` into a fresh chunk then a copy back: BLAS on small blocks is
    several times faster than ``matmul(..., out=rows)``, which buffers
    overlapping operands element by element; the results are the same.
    """
    from .._threads import cpu_threads
    from ._io import run_threads

    rzs_t = np.ascontiguousarray(affine[:3, :3].T, dtype=rows.dtype)
    trans = affine[:3, 3].astype(rows.dtype)

    def work(lo: int, hi: int) -> None:
        for start in range(lo, hi, chunk):
            part = rows[start : min(start + chunk, hi)]
            moved = np.dot(part, rzs_t)
            moved += trans
            part[...] = moved

    n = rows.shape[0]
    threads = cpu_threads() if n >= 1 << 18 else 1
    bounds = np.linspace(0, n, threads + 1).astype(int)
    run_threads([functools.partial(work, int(lo), int(hi)) for lo, hi in zip(bounds[:-1], bounds[1:])])


def transformed(rows: NDArray[Any], affine: NDArray[Any], chunk: int = 1 << 14) -> NDArray[Any]:
    """`rows` (N, 3) moved by `affine`, in the dtype nibabel's ``apply_affine`` gives.

    The points are cast to the common dtype first so BLAS does the products
    (mixed-dtype ``matmul`` falls back to a slow loop), a chunk at a time.
    """
    affine = np.asarray(affine)
    dtype = np.result_type(rows.dtype, affine.dtype)
    rzs_t = np.ascontiguousarray(affine[:3, :3].T, dtype=dtype)
    trans = affine[:3, 3].astype(dtype)
    out = np.empty(rows.shape, dtype)
    for start in range(0, rows.shape[0], chunk):
        part = rows[start : start + chunk]
        if part.dtype != dtype:
            part = part.astype(dtype)
        np.dot(part, rzs_t, out=out[start : start + chunk])
        out[start : start + chunk] += trans
    return out


class Tractogram:
    """Streamlines and their data, in memory.

    Parameters
    ----------
    streamlines : iterable of (N_t, 3) arrays or ArraySequence, optional
    data_per_streamline : dict, optional
        Key -> one row of values per streamline.
    data_per_point : dict, optional
        Key -> one (N_t, M) array per streamline.
    affine_to_rasmm : (4, 4) array, optional
        Brings the points to RAS+ mm (voxel centres at integer voxel
        coordinates); None when the space is unknown.
    """

    def __init__(self, streamlines: Any = None, data_per_streamline: Any = None,
                 data_per_point: Any = None, affine_to_rasmm: Any = None) -> None:
        self._set_streamlines(streamlines)
        # assigned in this order: each data dict is checked against the streamlines just set
        self.data_per_streamline, self.data_per_point, self.affine_to_rasmm = (
            data_per_streamline, data_per_point, affine_to_rasmm)

    @property
    def streamlines(self) -> Any:
        return self._streamlines

    def _set_streamlines(self, value: Any) -> None:
        self._streamlines = ArraySequence(value)

    @property
    def data_per_streamline(self) -> Any:
        return self._data_per_streamline

    @data_per_streamline.setter
    def data_per_streamline(self, value: Any) -> None:
        self._data_per_streamline = PerArrayDict(len(self.streamlines), {} if value is None else value)

    @property
    def data_per_point(self) -> Any:
        return self._data_per_point

    @data_per_point.setter
    def data_per_point(self, value: Any) -> None:
        self._data_per_point = PerArraySequenceDict(
            self.streamlines.total_nb_rows, {} if value is None else value)

    @property
    def affine_to_rasmm(self) -> NDArray[Any] | None:
        """The affine bringing the points to RAS+ mm (a copy), or None."""
        return copy.deepcopy(self._affine_to_rasmm)

    @affine_to_rasmm.setter
    def affine_to_rasmm(self, value: Any) -> None:
        self._affine_to_rasmm = _check_affine(value)

    def __iter__(self) -> Iterator[TractogramItem]:
        for i in range(len(self.streamlines)):
            yield self[i]

    def __getitem__(self, idx: Any) -> Any:
        pts = self.streamlines[idx]
        per_streamline = {k: self.data_per_streamline[k][idx] for k in self.data_per_streamline}
        per_point = {k: self.data_per_point[k][idx] for k in self.data_per_point}
        if isinstance(idx, (numbers.Integral, np.integer)):
            return TractogramItem(pts, per_streamline, per_point)
        return Tractogram(pts, per_streamline, per_point, affine_to_rasmm=self.affine_to_rasmm)

    def __len__(self) -> int:
        return len(self.streamlines)

    def copy(self) -> Tractogram:
        """A deep copy."""
        return copy.deepcopy(self)

    def apply_affine(self, affine: Any, lazy: bool = False) -> Tractogram:
        """Transform the points by `affine`: in place, or lazily into a :class:`LazyTractogram`.

        ``affine_to_rasmm`` is updated so that it still brings the points to RAS+ mm.
        """
        if lazy:
            return LazyTractogram.from_tractogram(self).apply_affine(affine)
        if len(self.streamlines) == 0:
            return self
        affine = np.asarray(affine)
        if np.all(affine == np.eye(4)):
            return self
        seq = self.streamlines
        if seq.is_sliced_view:
            idx = _row_index(seq._offsets, seq._lengths)
            seq._data[idx] = apply_affine(affine, seq._data[idx])
        else:
            seq._data = apply_affine(affine, seq._data, inplace=True)
        if self.affine_to_rasmm is not None:
            self.affine_to_rasmm = np.dot(self.affine_to_rasmm, np.linalg.inv(affine))
        return self

    def to_world(self, lazy: bool = False) -> Tractogram:
        """Bring the points to RAS+ mm with ``affine_to_rasmm`` (in place unless `lazy`)."""
        if self.affine_to_rasmm is None:
            raise InvalidArgumentError(_UNKNOWN_SPACE)
        return self.apply_affine(self.affine_to_rasmm, lazy=lazy)

    def extend(self, other: Tractogram) -> None:
        """Append the streamlines and data of `other` (same data keys)."""
        for part in ("streamlines", "data_per_streamline", "data_per_point"):
            getattr(self, part).extend(getattr(other, part))

    def __iadd__(self, other: Tractogram) -> Tractogram:
        self.extend(other)
        return self

    def __add__(self, other: Tractogram) -> Tractogram:
        out = self.copy()
        out += other
        return out


class LazyTractogram(Tractogram):
    """Streamlines and data given by generator functions, read only while iterated.

    Parameters
    ----------
    streamlines : callable, optional
        Returns a new iterator over (N_t, 3) arrays at each call.
    data_per_streamline, data_per_point : dict of callables, optional
        Each returns a new iterator over the values, in streamline order.
    affine_to_rasmm : (4, 4) array, optional

    Notes
    -----
    No indexing and no concatenation; transformations are kept and applied
    to each streamline as it is produced.
    """

    def __init__(self, streamlines: Any = None, data_per_streamline: Any = None,
                 data_per_point: Any = None, affine_to_rasmm: Any = None) -> None:
        super().__init__(streamlines, data_per_streamline, data_per_point, affine_to_rasmm)
        self._nb_streamlines: int | None = None
        self._data: Callable[[], Iterator[TractogramItem]] | None = None
        self._affine_to_apply = np.eye(4)

    @classmethod
    def from_tractogram(cls, tractogram: Tractogram) -> LazyTractogram:
        """A lazy view of an in-memory tractogram."""
        lazy = cls(lambda: tractogram.streamlines.copy())
        for k in tractogram.data_per_streamline:
            lazy._data_per_streamline[k] = (lambda key: lambda: iter(tractogram.data_per_streamline[key]))(k)
        for k in tractogram.data_per_point:
            lazy._data_per_point[k] = (lambda key: lambda: iter(tractogram.data_per_point[key]))(k)
        lazy._nb_streamlines = len(tractogram)
        lazy.affine_to_rasmm = tractogram.affine_to_rasmm
        return lazy

    @classmethod
    def from_data_func(cls, data_func: Callable[[], Iterator[TractogramItem]]) -> LazyTractogram:
        """A lazy tractogram over a generator function of :class:`TractogramItem`."""
        if not callable(data_func):
            raise ArgumentTypeError("`data_func` must be a generator function.")
        lazy = cls()
        lazy._data = data_func
        try:
            first = next(data_func())
        except StopIteration:
            return lazy
        for k in first.data_for_streamline:
            lazy._data_per_streamline[k] = (
                lambda key: lambda: (t.data_for_streamline[key] for t in data_func()))(k)
        for k in first.data_for_points:
            lazy._data_per_point[k] = (lambda key: lambda: (t.data_for_points[key] for t in data_func()))(k)
        return lazy

    @property
    def streamlines(self) -> Iterator[NDArray[Any]]:
        gen: Iterator[Any] = iter([])
        source: Any = self._streamlines
        data = self._data
        block_reader = getattr(data, "moved_streamlines", None)
        if source is None and block_reader is not None:
            # a file reader that transforms whole blocks of points (same values, no per-streamline call)
            return block_reader(self._affine_to_apply)  # type: ignore[no-any-return]
        if source is not None:
            gen = source()
        elif data is not None:
            gen = (t.streamline for t in data())
        if np.allclose(self._affine_to_apply, np.eye(4)):
            return gen
        affine = self._affine_to_apply
        rzs_t = np.ascontiguousarray(affine[:3, :3].T)
        trans = affine[:3, 3]

        def each_moved() -> Iterator[NDArray[Any]]:
            for s in gen:
                s = np.asarray(s)
                if s.ndim != 2 or s.shape[1] != 3:
                    yield apply_affine(affine, s)  # its checks and messages for odd input
                    continue
                out = s @ rzs_t  # what apply_affine computes, without its per-call checks
                out += trans
                yield out

        return each_moved()

    def _set_streamlines(self, value: Any) -> None:
        if value is not None and not callable(value):
            raise ArgumentTypeError(
                "`streamlines` must be a generator function. That is a function which, "
                "when called, returns an instantiated generator."
            )
        self._streamlines = value

    @property
    def data_per_streamline(self) -> Any:
        return self._data_per_streamline

    @data_per_streamline.setter
    def data_per_streamline(self, value: Any) -> None:
        self._data_per_streamline = LazyDict(value)  # type: ignore[assignment]

    @property
    def data_per_point(self) -> Any:
        return self._data_per_point

    @data_per_point.setter
    def data_per_point(self, value: Any) -> None:
        self._data_per_point = LazyDict(value)  # type: ignore[assignment]

    @property
    def data(self) -> Iterator[TractogramItem]:
        """A new iterator over :class:`TractogramItem` (points not yet transformed)."""
        if self._data is not None:
            return self._data()

        def items() -> Iterator[TractogramItem]:
            per_streamline = {k: iter(v) for k, v in self.data_per_streamline.items()}
            per_point = {k: iter(v) for k, v in self.data_per_point.items()}
            for s in self.streamlines:
                yield TractogramItem(s, {k: next(v) for k, v in per_streamline.items()},
                                     {k: next(v) for k, v in per_point.items()})

        return items()

    def __getitem__(self, idx: Any) -> Any:
        raise NotImplementedError("LazyTractogram does not support indexing.")

    def extend(self, other: Tractogram) -> None:
        raise NotImplementedError("LazyTractogram does not support concatenation.")

    def __iter__(self) -> Iterator[TractogramItem]:
        count = 0
        for item in self.data:
            yield item
            count += 1
        self._nb_streamlines = count

    def __len__(self) -> int:
        if self._nb_streamlines is None:
            warnings.warn(
                "Number of streamlines will be determined manually by looping through the "
                "streamlines. If you know the actual number of streamlines, you might want "
                "to set it beforehand via `self.header.nb_streamlines`.",
                Warning,
                stacklevel=2,
            )
            self._nb_streamlines = sum(1 for _ in self.streamlines)
        return self._nb_streamlines

    def copy(self) -> LazyTractogram:
        """A copy sharing the generator functions."""
        out = LazyTractogram(self._streamlines, self._data_per_streamline, self._data_per_point,
                             self.affine_to_rasmm)
        out._nb_streamlines = self._nb_streamlines
        out._data = self._data
        out._affine_to_apply = self._affine_to_apply.copy()
        return out

    def apply_affine(self, affine: Any, lazy: bool = True) -> LazyTractogram:
        """A copy that applies `affine` after any pending transformation (`lazy` must be True)."""
        if not lazy:
            raise InvalidArgumentError("LazyTractogram only supports lazy transformations.")
        out = self.copy()
        out._affine_to_apply = np.dot(affine, self._affine_to_apply)
        current = self.affine_to_rasmm
        if current is not None:
            out.affine_to_rasmm = np.dot(current, np.linalg.inv(affine))
        return out

    def to_world(self, lazy: bool = True) -> LazyTractogram:
        """A copy whose points come out in RAS+ mm (`lazy` must be True)."""
        if self.affine_to_rasmm is None:
            raise InvalidArgumentError(_UNKNOWN_SPACE)
        return self.apply_affine(self.affine_to_rasmm, lazy=lazy)
