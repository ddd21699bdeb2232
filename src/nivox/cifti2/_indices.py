"""CIFTI-2 index lists: the vertices of a brain model or parcel, and voxel (i, j, k) triples."""

from __future__ import annotations

from collections.abc import Iterable, MutableSequence
from typing import Any

import numpy as np

from .. import xmlutils as xml
from ._common import Cifti2HeaderError
from ..errors import ArgumentTypeError, InvalidArgumentError

__all__ = ["Cifti2VertexIndices", "Cifti2Vertices", "Cifti2VoxelIndicesIJK"]


class _IntList(xml.XmlSerializable, MutableSequence):
    """A list of ints (vertex indices) kept as a Python list."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        self._values: list[int] = []
        if values is not None:
            self.extend(values)

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, index: Any) -> Any:
        return self._values[index]

    def __delitem__(self, index: Any) -> None:
        del self._values[index]

    def __setitem__(self, index: Any, value: Any) -> None:
        try:
            self._values[index] = int(value)
        except (TypeError, ValueError):
            raise InvalidArgumentError("value must be an int") from None

    def insert(self, index: int, value: Any) -> None:
        try:
            self._values.insert(index, int(value))
        except (TypeError, ValueError):
            raise InvalidArgumentError("value must be an int") from None

    def extend(self, values: Iterable[Any]) -> None:
        arr = np.asarray(values)
        if arr.dtype.kind in "iu" and arr.ndim == 1:
            self._values.extend(arr.tolist())  # one call for the thousands of indices of a file
        else:
            super().extend(values)

    def _text(self) -> str:
        return " ".join(str(v) for v in self._values)


class Cifti2VertexIndices(_IntList):
    """The vertex of each grayordinate of a surface brain model."""

    @property
    def _indices(self) -> list[int]:  # nibabel's name for the list, which its tests read
        return self._values

    def _to_xml_element(self) -> xml.Element:
        if not self._values:
            raise Cifti2HeaderError("VertexIndices element requires indices")
        elem = xml.Element("VertexIndices")
        elem.text = self._text()
        return elem


class Cifti2Vertices(_IntList):
    """The vertices of one surface structure that belong to a parcel."""

    def __init__(self, brain_structure: str | None = None, vertices: Iterable[Any] | None = None) -> None:
        super().__init__(vertices)
        self.brain_structure = brain_structure

    @property
    def _vertices(self) -> list[int]:  # nibabel's name for the list
        return self._values

    def _to_xml_element(self) -> xml.Element:
        if self.brain_structure is None:
            raise Cifti2HeaderError("Vertices element require a BrainStructure")
        elem = xml.Element("Vertices", BrainStructure=str(self.brain_structure))
        elem.text = self._text()
        return elem


class Cifti2VoxelIndicesIJK(xml.XmlSerializable, MutableSequence):
    """Voxel (i, j, k) triples; ``vi[row]`` is a triple, ``vi[row, col]`` one index."""

    def __init__(self, indices: Iterable[Any] | None = None) -> None:
        self._indices: list[list[int]] = []
        if indices is not None:
            self.extend(indices)

    def __len__(self) -> int:
        return len(self._indices)

    @staticmethod
    def _triple(value: Any) -> list[int]:
        try:
            row = [int(v) for v in value]
        except (TypeError, ValueError):
            raise InvalidArgumentError("value must be a triple of ints") from None
        if len(row) != 3:
            raise InvalidArgumentError("value must be a triple of ints")
        return row

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, int):
            return self._indices[index]
        if len(index) != 2:
            raise InvalidArgumentError("Only row and row,column access is allowed")
        if not isinstance(index[0], int):
            raise NotImplementedError("only single rows can be indexed")
        return self._indices[index[0]][index[1]]

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, int):
            self._indices[index] = self._triple(value)
            return
        if len(index) != 2:
            raise InvalidArgumentError("Only row and row,column access is allowed")
        if not isinstance(index[0], int):
            raise NotImplementedError("only single rows can be indexed")
        try:
            self._indices[index[0]][index[1]] = int(value)
        except ValueError:  # a TypeError (a list for one index) stays what it is
            raise InvalidArgumentError("value must be an int") from None

    def __delitem__(self, index: Any) -> None:
        if not isinstance(index, int) and len(index) > 1:
            raise NotImplementedError("only single rows can be removed")
        del self._indices[index]

    def insert(self, index: Any, value: Any) -> None:
        if not isinstance(index, int) and len(index) != 1:
            raise InvalidArgumentError("Only rows can be inserted")
        self._indices.insert(index, self._triple(value))

    def extend(self, values: Iterable[Any]) -> None:
        arr = np.asarray(values)
        if arr.dtype.kind in "iu" and arr.ndim == 2 and arr.shape[1] == 3:
            self._indices.extend(arr.tolist())
        elif arr.ndim == 1 and arr.size and not isinstance(values, Cifti2VoxelIndicesIJK):
            raise ArgumentTypeError("voxel indices must be a sequence of (i, j, k) triples")
        else:
            super().extend(values)

    def _to_xml_element(self) -> xml.Element:
        if not self._indices:
            raise Cifti2HeaderError("VoxelIndicesIJK element require an index table")
        elem = xml.Element("VoxelIndicesIJK")
        elem.text = "\n".join(" ".join(str(v) for v in row) for row in self._indices)
        return elem
