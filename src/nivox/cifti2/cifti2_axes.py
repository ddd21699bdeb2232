"""CIFTI-2 dimensions as axis objects: what each row or column of the data is.

One :class:`Axis` subclass per map type: :class:`BrainModelAxis`
(grayordinates: surface vertices and voxels), :class:`ParcelsAxis`,
:class:`SeriesAxis`, :class:`ScalarAxis` and :class:`LabelAxis`. Axes can be
indexed and sliced (giving an element or a smaller axis), concatenated with
``+`` and compared. :func:`from_index_mapping` makes an axis from a
:class:`~nivox.cifti2.Cifti2MatrixIndicesMap`, ``axis.to_mapping(dim)`` goes
back, and :func:`to_header` builds a whole header from one axis per dimension (the base class is in ``_axes_base``, the grayordinate
axes in ``_grayordinates``)::

    bm = BrainModelAxis.from_mask(cortex_mask, name="CortexLeft")
    series = SeriesAxis(start=0, step=0.72, size=n_timepoints)
    img = Cifti2Image(data, header=(series, bm))
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from . import cifti2
from ._axes_base import Axis, _object_array
from ._grayordinates import BrainModelAxis, ParcelsAxis
from ..errors import ImageIndexError, InvalidArgumentError

__all__ = ["Axis", "BrainModelAxis", "LabelAxis", "ParcelsAxis", "ScalarAxis", "SeriesAxis",
           "from_index_mapping", "to_header"]


def from_index_mapping(mim: cifti2.Cifti2MatrixIndicesMap) -> Axis:
    """The axis a :class:`~nivox.cifti2.Cifti2MatrixIndicesMap` describes."""
    kinds: dict[str, type[Axis]] = {
        "CIFTI_INDEX_TYPE_SCALARS": ScalarAxis,
        "CIFTI_INDEX_TYPE_LABELS": LabelAxis,
        "CIFTI_INDEX_TYPE_SERIES": SeriesAxis,
        "CIFTI_INDEX_TYPE_BRAIN_MODELS": BrainModelAxis,
        "CIFTI_INDEX_TYPE_PARCELS": ParcelsAxis,
    }
    try:
        klass = kinds[mim.indices_map_to_data_type]
    except KeyError:
        raise cifti2.Cifti2HeaderError(
            f"unknown IndicesMapToDataType {mim.indices_map_to_data_type!r}") from None
    return klass.from_index_mapping(mim)  # type: ignore[attr-defined]


def to_header(axes: Iterable[Axis]) -> cifti2.Cifti2Header:
    """A CIFTI-2 header with one map per distinct axis (an axis used twice maps both dimensions)."""
    axes = tuple(axes)
    matrix = cifti2.Cifti2Matrix()
    mims: list[cifti2.Cifti2MatrixIndicesMap] = []
    for dim, axis in enumerate(axes):
        if axis in axes[:dim]:
            shared = mims[axes.index(axis)]
            shared.applies_to_matrix_dimension.append(dim)
            mims.append(shared)
        else:
            mim = axis.to_mapping(dim)  # type: ignore[attr-defined]
            mims.append(mim)
            matrix.append(mim)
    return cifti2.Cifti2Header(matrix)


def _meta_array(meta: Any, count: int) -> np.ndarray:
    """Per-map metadata as an object array; None gives each of ``count`` maps its own empty dict."""
    return np.asanyarray([{} for _ in range(count)] if meta is None else meta, dtype="object")


class ScalarAxis(Axis):
    """Named maps: each element a name and a metadata dict."""

    def __init__(self, name: Any, meta: Any = None) -> None:
        self.name = np.asanyarray(name, dtype="U")
        self.meta = _meta_array(meta, self.name.size)
        for attr in ("name", "meta"):
            if getattr(self, attr).shape != (self.size,):
                raise InvalidArgumentError(f"Input {attr} has incorrect shape ({getattr(self, attr).shape}) "
                                 "for ScalarAxis axis")

    @classmethod
    def from_index_mapping(cls, mim: cifti2.Cifti2MatrixIndicesMap) -> ScalarAxis:
        """The axis of a scalars map."""
        maps = list(mim.named_maps)
        return cls([nm.map_name for nm in maps],
                   _object_array(({} if nm.metadata is None else dict(nm.metadata) for nm in maps), len(maps)))

    def to_mapping(self, dim: int) -> cifti2.Cifti2MatrixIndicesMap:
        """A scalars map for data dimension ``dim``."""
        mim = cifti2.Cifti2MatrixIndicesMap([dim], "CIFTI_INDEX_TYPE_SCALARS")
        for name, meta in zip(self.name, self.meta):
            mim.append(cifti2.Cifti2NamedMap(name, cifti2.Cifti2MetaData(meta)))
        return mim

    def __len__(self) -> int:
        return int(self.name.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScalarAxis) or self.size != other.size:
            return False
        return bool(np.array_equal(self.name, other.name) and np.array_equal(self.meta, other.meta))

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Any) -> ScalarAxis:
        if not isinstance(other, ScalarAxis):
            return NotImplemented
        return ScalarAxis(np.append(self.name, other.name), np.append(self.meta, other.meta))

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, (int, np.integer)):
            return self.get_element(item)
        return type(self)(self.name[item], self.meta[item])

    def get_element(self, index: int) -> tuple[str, dict[str, Any]]:
        """(name, metadata) of map ``index``."""
        return self.name[index], self.meta[index]


class LabelAxis(Axis):
    """Label maps: each element a name, a label table {key: (name, rgba)} and metadata."""

    def __init__(self, name: Any, label: Any, meta: Any = None) -> None:
        self.name = np.asanyarray(name, dtype="U")
        count = self.name.size
        if isinstance(label, dict):  # one table for every map: each gets its own copy
            label = [label.copy() for _ in range(count)]
        self.label = _object_array(label, len(label)) if not isinstance(label, np.ndarray) \
            else np.asanyarray(label, dtype="object")
        self.meta = _meta_array(meta, count)
        for attr in ("name", "meta", "label"):
            if getattr(self, attr).shape != (self.size,):
                raise InvalidArgumentError(f"Input {attr} has incorrect shape ({getattr(self, attr).shape}) "
                                 "for LabelAxis axis")

    @classmethod
    def from_index_mapping(cls, mim: cifti2.Cifti2MatrixIndicesMap) -> LabelAxis:
        """The axis of a labels map."""
        maps = list(mim.named_maps)
        tables = [{key: (lab.label, lab.rgba) for key, lab in nm.label_table.items()} for nm in maps]
        rest = ScalarAxis.from_index_mapping(mim)
        return cls(rest.name, tables, rest.meta)

    def to_mapping(self, dim: int) -> cifti2.Cifti2MatrixIndicesMap:
        """A labels map for data dimension ``dim``."""
        mim = cifti2.Cifti2MatrixIndicesMap([dim], "CIFTI_INDEX_TYPE_LABELS")
        for name, label, meta in zip(self.name, self.label, self.meta):
            table = cifti2.Cifti2LabelTable()
            for key, value in label.items():
                table[key] = (value[0],) + tuple(value[1])
            mim.append(cifti2.Cifti2NamedMap(name, cifti2.Cifti2MetaData(meta), table))
        return mim

    def __len__(self) -> int:
        return int(self.name.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabelAxis) or self.size != other.size:
            return False
        return bool(np.array_equal(self.name, other.name) and np.array_equal(self.meta, other.meta)
                    and np.array_equal(self.label, other.label))

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Any) -> LabelAxis:
        if not isinstance(other, LabelAxis):
            return NotImplemented
        return LabelAxis(np.append(self.name, other.name), np.append(self.label, other.label),
                         np.append(self.meta, other.meta))

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, (int, np.integer)):
            return self.get_element(item)
        return type(self)(self.name[item], self.label[item], self.meta[item])

    def get_element(self, index: int) -> tuple[str, dict[int, Any], dict[str, Any]]:
        """(name, label table, metadata) of map ``index``."""
        return self.name[index], self.label[index], self.meta[index]


class SeriesAxis(Axis):
    """A regular series: ``size`` points from ``start`` in steps of ``step`` (``unit``)."""

    size: int = 0  # type: ignore[assignment]

    def __init__(self, start: float, step: float, size: int, unit: str = "SECOND") -> None:
        self.start, self.step, self.size = start, step, size
        self.unit = unit  # checked by its setter

    @property
    def time(self) -> np.ndarray:
        """The value of each point."""
        return np.arange(self.size) * self.step + self.start

    @classmethod
    def from_index_mapping(cls, mim: cifti2.Cifti2MatrixIndicesMap) -> SeriesAxis:
        """The axis of a series map (start and step scaled by 10**SeriesExponent)."""
        scale = 10 ** mim.series_exponent
        return cls(mim.series_start * scale, mim.series_step * scale, mim.number_of_series_points,
                   mim.series_unit)

    def to_mapping(self, dim: int) -> cifti2.Cifti2MatrixIndicesMap:
        """A series map for data dimension ``dim``."""
        return cifti2.Cifti2MatrixIndicesMap([dim], "CIFTI_INDEX_TYPE_SERIES", number_of_series_points=self.size,
                                             series_exponent=0, series_start=self.start,
                                             series_step=self.step, series_unit=self.unit)

    @property
    def unit(self) -> str:
        """SECOND, HERTZ, METER or RADIAN."""
        return self._unit

    @unit.setter
    def unit(self, value: str) -> None:
        if value.upper() not in cifti2.CIFTI_SERIESUNIT_TYPES:
            raise InvalidArgumentError("SeriesAxis unit should be one of ('second', 'hertz', 'meter', or 'radian'")
        self._unit = value.upper()

    def __len__(self) -> int:
        return self.size

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, SeriesAxis) and self.start == other.start and self.step == other.step
                and self.size == other.size and self.unit == other.unit)

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Any) -> SeriesAxis:
        if not isinstance(other, SeriesAxis):
            return NotImplemented
        if other.step != self.step:
            raise InvalidArgumentError("Can only concatenate SeriesAxis with the same step size")
        if other.unit != self.unit:
            raise InvalidArgumentError("Can only concatenate SeriesAxis with the same unit")
        return SeriesAxis(self.start, self.step, self.size + other.size, self.unit)

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, slice):
            first, stop, stride = item.indices(self.size)
            count = len(range(first, stop, stride))
            return SeriesAxis(first * self.step + self.start, self.step * stride, count, self.unit)
        if isinstance(item, (int, np.integer)):
            return self.get_element(item)
        raise ImageIndexError("SeriesAxis can only be indexed with integers or slices without breaking "
                         "the regular structure")

    def get_element(self, index: int) -> float:
        """The value of point ``index``."""
        original = index
        if index < 0:
            index += self.size
        if not 0 <= index < self.size:
            raise ImageIndexError(f"index {original} is out of range for SeriesAxis with size {self.size}")
        return self.start + self.step * index
