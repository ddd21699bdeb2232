"""The CIFTI-2 XML header: one class per element of the CIFTI-2 specification.

A :class:`Cifti2Header` holds a :class:`Cifti2Matrix`, a list of
:class:`Cifti2MatrixIndicesMap` (one per set of data dimensions), each a list of
the elements that say what the indices along those dimensions mean: brain
models (grayordinates), parcels, named maps (scalars, labels) or a series.
Each element serialises itself with ``to_xml()`` and refuses, with
:class:`Cifti2HeaderError`, to write what the specification requires and it
lacks. The element classes live in private modules by concern (``_common``:
the error, checks and code tables; ``_labels``: metadata, labels, named maps;
``_indices``: vertex and voxel index lists) and are all importable from here,
as from nibabel's module. The image class is in :mod:`nivox.cifti2._image`;
the reader in :mod:`nivox.cifti2.parse_cifti2`; whole-header checks in
:mod:`nivox.cifti2._validate`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableSequence
from typing import Any

import numpy as np

from .. import xmlutils as xml
from ..filebasedimages import FileBasedHeader
from ._common import (
    CIFTI_BRAIN_STRUCTURES,
    CIFTI_MAP_TYPES,
    CIFTI_MODEL_TYPES,
    CIFTI_SERIESUNIT_TYPES,
    Cifti2HeaderError,
    _float_01,  # noqa: F401  (importable from here, as in nibabel)
    _underscore,
    _value_if_klass,
    data_type_codes,
)
from ._indices import Cifti2VertexIndices, Cifti2Vertices, Cifti2VoxelIndicesIJK
from ._labels import Cifti2Label, Cifti2LabelTable, Cifti2MetaData, Cifti2NamedMap
from ..errors import ArgumentTypeError, InvalidArgumentError

__all__ = [
    "CIFTI_BRAIN_STRUCTURES", "CIFTI_MAP_TYPES", "CIFTI_MODEL_TYPES", "CIFTI_SERIESUNIT_TYPES",
    "Cifti2BrainModel", "Cifti2Header", "Cifti2HeaderError", "Cifti2Label", "Cifti2LabelTable",
    "Cifti2Matrix", "Cifti2MatrixIndicesMap", "Cifti2MetaData", "Cifti2NamedMap", "Cifti2Parcel",
    "Cifti2Surface", "Cifti2TransformationMatrixVoxelIndicesIJKtoXYZ", "Cifti2VertexIndices",
    "Cifti2Vertices", "Cifti2Volume", "Cifti2VoxelIndicesIJK", "data_type_codes",
]


class Cifti2Surface(xml.XmlSerializable):
    """The number of vertices of a surface structure used by parcels."""

    def __init__(self, brain_structure: str | None = None,
                 surface_number_of_vertices: int | None = None) -> None:
        self.brain_structure = brain_structure
        self.surface_number_of_vertices = surface_number_of_vertices

    def _to_xml_element(self) -> xml.Element:
        if self.brain_structure is None:
            raise Cifti2HeaderError("Surface element requires at least 1 BrainStructure")
        return xml.Element("Surface", BrainStructure=str(self.brain_structure),
                           SurfaceNumberOfVertices=str(self.surface_number_of_vertices))


class Cifti2Parcel(xml.XmlSerializable):
    """A named parcel: its voxels and, per surface structure, its vertices."""

    def __init__(self, name: str | None = None, voxel_indices_ijk: Cifti2VoxelIndicesIJK | None = None,
                 vertices: list[Cifti2Vertices] | None = None) -> None:
        self.name, self._voxel_indices_ijk = name, voxel_indices_ijk
        self.vertices = [] if vertices is None else vertices
        if any(not isinstance(v, Cifti2Vertices) for v in self.vertices):
            raise InvalidArgumentError("Cifti2Parcel vertices must be instances of Cifti2Vertices")

    @property
    def voxel_indices_ijk(self) -> Cifti2VoxelIndicesIJK | None:
        return self._voxel_indices_ijk

    @voxel_indices_ijk.setter
    def voxel_indices_ijk(self, value: Cifti2VoxelIndicesIJK | None) -> None:
        self._voxel_indices_ijk = _value_if_klass(value, Cifti2VoxelIndicesIJK)

    def append_cifti_vertices(self, vertices: Cifti2Vertices) -> None:
        """Add the vertices of one more surface structure."""
        if not isinstance(vertices, Cifti2Vertices):
            raise ArgumentTypeError("Not a valid Cifti2Vertices instance")
        self.vertices.append(vertices)

    def pop_cifti2_vertices(self, ith: int) -> None:
        """Remove the ``ith`` set of vertices."""
        self.vertices.pop(ith)

    def _to_xml_element(self) -> xml.Element:
        if self.name is None:
            raise Cifti2HeaderError("Parcel element requires a name")
        elem = xml.Element("Parcel", Name=str(self.name))
        if self.voxel_indices_ijk:
            elem.append(self.voxel_indices_ijk._to_xml_element())
        for vertices in self.vertices:
            elem.append(vertices._to_xml_element())
        return elem


class Cifti2TransformationMatrixVoxelIndicesIJKtoXYZ(xml.XmlSerializable):
    """The voxel-to-space affine of a volume, in units of 10**meter_exponent metres."""

    def __init__(self, meter_exponent: int | None = None, matrix: Any = None) -> None:
        self.meter_exponent = meter_exponent
        self.matrix = matrix

    def _to_xml_element(self) -> xml.Element:
        if self.matrix is None:
            raise Cifti2HeaderError("TransformationMatrixVoxelIndicesIJKtoXYZ element requires a matrix")
        elem = xml.Element("TransformationMatrixVoxelIndicesIJKtoXYZ", MeterExponent=str(self.meter_exponent))
        elem.text = "\n".join(" ".join(f"{v:.10f}" for v in row) for row in np.asarray(self.matrix))
        return elem


class Cifti2Volume(xml.XmlSerializable):
    """The voxel grid (dimensions and affine) that voxel brain models and parcels index."""

    def __init__(self, volume_dimensions: Any = None,
                 transform_matrix: Cifti2TransformationMatrixVoxelIndicesIJKtoXYZ | None = None) -> None:
        self.volume_dimensions = volume_dimensions
        self.transformation_matrix_voxel_indices_ijk_to_xyz = transform_matrix

    def _to_xml_element(self) -> xml.Element:
        if self.volume_dimensions is None:
            raise Cifti2HeaderError("Volume element requires dimensions")
        transform = self.transformation_matrix_voxel_indices_ijk_to_xyz
        if transform is None:
            raise Cifti2HeaderError("Volume element requires a TransformationMatrixVoxelIndicesIJKtoXYZ")
        elem = xml.Element("Volume", VolumeDimensions=",".join(str(v) for v in self.volume_dimensions))
        elem.append(transform._to_xml_element())
        return elem


class Cifti2BrainModel(xml.XmlSerializable):
    """A run of grayordinates of one structure: surface vertices or voxels."""

    def __init__(self, index_offset: int | None = None, index_count: int | None = None,
                 model_type: str | None = None, brain_structure: str | None = None,
                 n_surface_vertices: int | None = None,
                 voxel_indices_ijk: Cifti2VoxelIndicesIJK | None = None,
                 vertex_indices: Cifti2VertexIndices | None = None) -> None:
        # where the model's grayordinates sit along the dimension
        self.index_offset, self.index_count = index_offset, index_count
        # what they are
        self.model_type, self.brain_structure = model_type, brain_structure
        self.surface_number_of_vertices = n_surface_vertices
        # which vertices or voxels (the voxel setter checks its type)
        self.voxel_indices_ijk, self.vertex_indices = voxel_indices_ijk, vertex_indices

    @property
    def voxel_indices_ijk(self) -> Cifti2VoxelIndicesIJK | None:
        return self._voxel_indices_ijk

    @voxel_indices_ijk.setter
    def voxel_indices_ijk(self, value: Cifti2VoxelIndicesIJK | None) -> None:
        self._voxel_indices_ijk = _value_if_klass(value, Cifti2VoxelIndicesIJK)

    @property
    def vertex_indices(self) -> Cifti2VertexIndices | None:
        return self._vertex_indices

    @vertex_indices.setter
    def vertex_indices(self, value: Cifti2VertexIndices | None) -> None:
        self._vertex_indices = _value_if_klass(value, Cifti2VertexIndices)

    def _to_xml_element(self) -> xml.Element:
        elem = xml.Element("BrainModel")
        for key in ("IndexOffset", "IndexCount", "ModelType", "BrainStructure", "SurfaceNumberOfVertices"):
            value = getattr(self, _underscore(key))
            if value is not None:
                elem.set(key, str(value))
        if self.voxel_indices_ijk:
            elem.append(self.voxel_indices_ijk._to_xml_element())
        if self.vertex_indices:
            elem.append(self.vertex_indices._to_xml_element())
        return elem


class Cifti2MatrixIndicesMap(xml.XmlSerializable, MutableSequence):
    """What the indices along some data dimensions mean: a list of map elements.

    Parameters
    ----------
    applies_to_matrix_dimension : int or list of int
    indices_map_to_data_type : str, one of CIFTI_MAP_TYPES
    number_of_series_points, series_exponent, series_start, series_step, series_unit
        For series maps.
    maps : iterable of elements
    """

    def __init__(self, applies_to_matrix_dimension: Any, indices_map_to_data_type: str,
                 number_of_series_points: int | None = None, series_exponent: int | None = None,
                 series_start: float | None = None, series_step: float | None = None,
                 series_unit: str | None = None, maps: Iterable[Any] = ()) -> None:
        self.applies_to_matrix_dimension = applies_to_matrix_dimension
        self.indices_map_to_data_type = indices_map_to_data_type
        # the series attributes (None unless the map is a series)
        (self.number_of_series_points, self.series_exponent, self.series_start,
         self.series_step, self.series_unit) = (number_of_series_points, series_exponent, series_start,
                                                series_step, series_unit)
        self._maps: list[Any] = []
        for element in maps:
            self.append(element)

    def __len__(self) -> int:
        return len(self._maps)

    def __getitem__(self, index: Any) -> Any:
        return self._maps[index]

    def __delitem__(self, index: Any) -> None:
        del self._maps[index]

    def _refuse_second_volume(self, value: Any, replaced: Any = None) -> None:
        """A map holds at most one Volume; replacing the Volume with another is fine."""
        adds_volume = isinstance(value, Cifti2Volume) and not isinstance(replaced, Cifti2Volume)
        if adds_volume and self.volume is not None:
            raise Cifti2HeaderError("Only one Volume can be in a MatrixIndicesMap")

    def __setitem__(self, index: Any, value: Any) -> None:
        self._refuse_second_volume(value, self._maps[index])
        self._maps[index] = value

    def insert(self, index: int, value: Any) -> None:
        self._refuse_second_volume(value)
        self._maps.insert(index, value)

    def _of(self, klass: type) -> Iterator[Any]:
        return (element for element in self._maps if isinstance(element, klass))

    @property
    def named_maps(self) -> Iterator[Cifti2NamedMap]:
        return self._of(Cifti2NamedMap)

    @property
    def surfaces(self) -> Iterator[Cifti2Surface]:
        return self._of(Cifti2Surface)

    @property
    def parcels(self) -> Iterator[Cifti2Parcel]:
        return self._of(Cifti2Parcel)

    @property
    def brain_models(self) -> Iterator[Cifti2BrainModel]:
        return self._of(Cifti2BrainModel)

    @property
    def volume(self) -> Cifti2Volume | None:
        return next(self._of(Cifti2Volume), None)

    @volume.setter
    def volume(self, volume: Cifti2Volume) -> None:
        if not isinstance(volume, Cifti2Volume):
            raise InvalidArgumentError("You can only set a volume with a volume")
        for i, element in enumerate(self._maps):
            if isinstance(element, Cifti2Volume):
                self._maps[i] = volume
                return
        self.append(volume)

    @volume.deleter
    def volume(self) -> None:
        for i, element in enumerate(self._maps):
            if isinstance(element, Cifti2Volume):
                del self._maps[i]
                return
        raise InvalidArgumentError("No Cifti2Volume element")

    def _to_xml_element(self) -> xml.Element:
        if self.applies_to_matrix_dimension is None:
            raise Cifti2HeaderError("MatrixIndicesMap element requires to be applied to at least 1 dimension")
        dims = self.applies_to_matrix_dimension
        dims = dims if isinstance(dims, Iterable) else [dims]
        elem = xml.Element("MatrixIndicesMap", AppliesToMatrixDimension=",".join(str(d) for d in dims))
        for key in ("IndicesMapToDataType", "NumberOfSeriesPoints", "SeriesExponent", "SeriesStart",
                    "SeriesStep", "SeriesUnit"):
            value = getattr(self, _underscore(key))
            if value is not None:
                elem.set(key, str(value))
        # The volume and surfaces first: Connectome Workbench reads parcels and
        # voxel models against the spaces declared before them.
        first = [el for el in self._maps if isinstance(el, (Cifti2Volume, Cifti2Surface))]
        rest = [el for el in self._maps if not isinstance(el, (Cifti2Volume, Cifti2Surface))]
        for element in first + rest:
            elem.append(element._to_xml_element())
        return elem


def _dims_of(mim: Cifti2MatrixIndicesMap) -> list[int]:
    dims = mim.applies_to_matrix_dimension
    return list(dims) if isinstance(dims, Iterable) else [int(dims)]


class Cifti2Matrix(xml.XmlSerializable, MutableSequence):
    """The matrix: optional metadata and one :class:`Cifti2MatrixIndicesMap` per set of dimensions."""

    def __init__(self) -> None:
        self._mims: list[Cifti2MatrixIndicesMap] = []
        self.metadata = None

    @property
    def metadata(self) -> Cifti2MetaData | None:
        return self._meta

    @metadata.setter
    def metadata(self, meta: Cifti2MetaData | None) -> None:
        self._meta = _value_if_klass(meta, Cifti2MetaData)

    @property
    def mapped_indices(self) -> list[int]:
        """Every data dimension some map applies to."""
        return [d for mim in self._mims for d in _dims_of(mim)]

    def get_index_map(self, index: int) -> Cifti2MatrixIndicesMap:
        """The map that applies to data dimension ``index``."""
        for mim in self._mims:
            if index in _dims_of(mim):
                return mim
        raise Cifti2HeaderError(f"Index {index} not mapped")

    def _check_new(self, value: Any) -> None:
        if not isinstance(value, Cifti2MatrixIndicesMap):
            raise ArgumentTypeError("Not a valid Cifti2MatrixIndicesMap instance")
        if value.applies_to_matrix_dimension is None:
            raise Cifti2HeaderError("Cifti2MatrixIndicesMap needs to have the "
                                    "applies_to_matrix_dimension attribute set")
        if not set(self.mapped_indices).isdisjoint(_dims_of(value)):
            raise Cifti2HeaderError("Indices in this Cifti2MatrixIndicesMap already mapped in this matrix")

    def __len__(self) -> int:
        return len(self._mims)

    def __getitem__(self, key: Any) -> Any:
        return self._mims[key]

    def __delitem__(self, key: Any) -> None:
        del self._mims[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._check_new(value)
        self._mims[key] = value

    def insert(self, index: int, value: Any) -> None:
        self._check_new(value)
        self._mims.insert(index, value)

    def _to_xml_element(self) -> xml.Element:
        elem = xml.Element("Matrix")
        if self.metadata:
            elem.append(self.metadata._to_xml_element())
        for mim in self._mims:
            elem.append(mim._to_xml_element())
        return elem

    def get_axis(self, index: int) -> Any:
        """The :mod:`~nivox.cifti2.cifti2_axes` axis of data dimension ``index``."""
        from .cifti2_axes import from_index_mapping

        return from_index_mapping(self.get_index_map(index))

    def get_data_shape(self) -> tuple[int | None, ...]:
        """The data shape the maps describe (None for a dimension no map covers)."""
        from .cifti2_axes import from_index_mapping

        mapped = self.mapped_indices
        if not mapped:
            return ()
        shape: list[int | None] = [None] * (max(mapped) + 1)
        for mim in self._mims:
            size = len(from_index_mapping(mim))
            for dim in _dims_of(mim):
                shape[dim] = size
        return tuple(shape)


class Cifti2Header(FileBasedHeader, xml.XmlSerializable):
    """The CIFTI-2 XML document stored in the NIfTI-2 extension (code 32)."""

    def __init__(self, matrix: Cifti2Matrix | None = None, version: str = "2.0") -> None:
        self.matrix = Cifti2Matrix() if matrix is None else matrix
        self.version = version

    def _to_xml_element(self) -> xml.Element:
        root = xml.Element("CIFTI", Version=str(self.version))
        root.append(self.matrix._to_xml_element())
        return root

    def to_xml(self, enc: str = "utf-8", **kwargs: Any) -> bytes:
        """The XML document (compact, as nibabel writes it)."""
        return super().to_xml(enc, **kwargs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cifti2Header):
            return NotImplemented
        return self.to_xml() == other.to_xml()

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def may_contain_header(cls, binaryblock: bytes) -> bool:
        """Whether ``binaryblock`` starts with a NIfTI-2 header of a CIFTI intent."""
        from .parse_cifti2 import _Cifti2AsNiftiHeader

        return _Cifti2AsNiftiHeader.may_contain_header(binaryblock)

    @property
    def number_of_mapped_indices(self) -> int:
        return len(self.matrix)

    @property
    def mapped_indices(self) -> list[int]:
        return self.matrix.mapped_indices

    def get_index_map(self, index: int) -> Cifti2MatrixIndicesMap:
        return self.matrix.get_index_map(index)

    def get_axis(self, index: int) -> Any:
        return self.matrix.get_axis(index)

    @classmethod
    def from_axes(cls, axes: Iterable[Any]) -> Cifti2Header:
        """A header describing data dimensions with ``axes`` (one per dimension)."""
        from .cifti2_axes import to_header

        return to_header(axes)

    def validate(self, shape: tuple[int, ...] | None = None) -> list[str]:
        """The problems that make this header break the CIFTI-2 specification (empty if none).

        ``shape`` is the data shape it should describe.
        """
        from ._validate import header_problems

        return header_problems(self, shape)


from ._image import Cifti2Image, load, save  # noqa: E402  (the image needs the header classes)

__all__ += ["Cifti2Image", "load", "save"]
