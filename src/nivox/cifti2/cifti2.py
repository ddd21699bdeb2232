"""The CIFTI-2 XML header: one class per element of the CIFTI-2 specification.

A :class:`Cifti2Header` holds a :class:`Cifti2Matrix`, a list of
:class:`Cifti2MatrixIndicesMap` (one per set of data dimensions), each a list of
the elements that say what the indices along those dimensions mean: brain
models (grayordinates), parcels, named maps (scalars, labels) or a series.
Each element serialises itself with ``to_xml()`` and refuses, with
:class:`Cifti2HeaderError`, to write what the specification requires and it
lacks. The image class is in :mod:`nivox.cifti2._image`; the reader in
:mod:`nivox.cifti2.parse_cifti2`; whole-header checks in
:mod:`nivox.cifti2._validate`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator, MutableMapping, MutableSequence
from typing import Any

import numpy as np

from .. import xmlutils as xml
from ..caret import CaretMetaData
from ..errors import HeaderDataError
from ..filebasedimages import FileBasedHeader
from ..volumeutils import Recoder, make_dt_codes

__all__ = [
    "CIFTI_BRAIN_STRUCTURES", "CIFTI_MAP_TYPES", "CIFTI_MODEL_TYPES", "CIFTI_SERIESUNIT_TYPES",
    "Cifti2BrainModel", "Cifti2Header", "Cifti2HeaderError", "Cifti2Label", "Cifti2LabelTable",
    "Cifti2Matrix", "Cifti2MatrixIndicesMap", "Cifti2MetaData", "Cifti2NamedMap", "Cifti2Parcel",
    "Cifti2Surface", "Cifti2TransformationMatrixVoxelIndicesIJKtoXYZ", "Cifti2VertexIndices",
    "Cifti2Vertices", "Cifti2Volume", "Cifti2VoxelIndicesIJK", "data_type_codes",
]


class Cifti2HeaderError(HeaderDataError):
    """A CIFTI-2 header that breaks the specification (also a ValueError)."""


def _float_01(val: Any) -> float:
    """``val`` as a float, which must lie in [0, 1]."""
    out = float(val)
    if not 0 <= out <= 1:
        raise ValueError("Float must be between 0 and 1 inclusive")
    return out


def _value_if_klass(val: Any, klass: type) -> Any:
    """``val`` when it is None or a ``klass``; a ValueError otherwise."""
    if val is None or isinstance(val, klass):
        return val
    raise ValueError(f"Not a valid {klass.__name__} instance.")


def _underscore(string: str) -> str:
    """CamelCase attribute names as snake_case (``IndexOffset`` -> ``index_offset``)."""
    string = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", string)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", string).lower()


# the data types CIFTI-2 allows in the NIfTI-2 container
data_type_codes = make_dt_codes((
    (2, "uint8", np.uint8, "NIFTI_TYPE_UINT8"),
    (4, "int16", np.int16, "NIFTI_TYPE_INT16"),
    (8, "int32", np.int32, "NIFTI_TYPE_INT32"),
    (16, "float32", np.float32, "NIFTI_TYPE_FLOAT32"),
    (64, "float64", np.float64, "NIFTI_TYPE_FLOAT64"),
    (256, "int8", np.int8, "NIFTI_TYPE_INT8"),
    (512, "uint16", np.uint16, "NIFTI_TYPE_UINT16"),
    (768, "uint32", np.uint32, "NIFTI_TYPE_UINT32"),
    (1024, "int64", np.int64, "NIFTI_TYPE_INT64"),
    (1280, "uint64", np.uint64, "NIFTI_TYPE_UINT64"),
))

CIFTI_MAP_TYPES = (
    "CIFTI_INDEX_TYPE_BRAIN_MODELS",
    "CIFTI_INDEX_TYPE_PARCELS",
    "CIFTI_INDEX_TYPE_SERIES",
    "CIFTI_INDEX_TYPE_SCALARS",
    "CIFTI_INDEX_TYPE_LABELS",
)
CIFTI_MODEL_TYPES = ("CIFTI_MODEL_TYPE_SURFACE", "CIFTI_MODEL_TYPE_VOXELS")
CIFTI_SERIESUNIT_TYPES = ("SECOND", "HERTZ", "METER", "RADIAN")

# Structure names of the specification, in Connectome Workbench's order; each
# also answers to its short form (CORTEX_LEFT) and its GIFTI spelling (CortexLeft).
_STRUCTURES = (
    "CORTEX_LEFT", "CORTEX_RIGHT", "CEREBELLUM", "ACCUMBENS_LEFT", "ACCUMBENS_RIGHT", "ALL",
    "ALL_GREY_MATTER", "ALL_WHITE_MATTER", "AMYGDALA_LEFT", "AMYGDALA_RIGHT", "BRAIN_STEM",
    "CAUDATE_LEFT", "CAUDATE_RIGHT", "CEREBELLAR_WHITE_MATTER_LEFT",
    "CEREBELLAR_WHITE_MATTER_RIGHT", "CEREBELLUM_LEFT", "CEREBELLUM_RIGHT",
    "CEREBRAL_WHITE_MATTER_LEFT", "CEREBRAL_WHITE_MATTER_RIGHT", "CORTEX",
    "DIENCEPHALON_VENTRAL_LEFT", "DIENCEPHALON_VENTRAL_RIGHT", "HIPPOCAMPUS_LEFT",
    "HIPPOCAMPUS_RIGHT", "INVALID", "OTHER", "OTHER_GREY_MATTER", "OTHER_WHITE_MATTER",
    "PALLIDUM_LEFT", "PALLIDUM_RIGHT", "PUTAMEN_LEFT", "PUTAMEN_RIGHT", "THALAMUS_LEFT",
    "THALAMUS_RIGHT",
)
CIFTI_BRAIN_STRUCTURES = Recoder(
    ((s, f"CIFTI_STRUCTURE_{s}", "".join(w.capitalize() for w in s.split("_"))) for s in _STRUCTURES),
    fields=("name", "ciftiname", "guiname"),
)


def _int_list(values: Iterable[Any], what: str) -> list[int]:
    try:
        return [int(v) for v in values]
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be integers") from None


class Cifti2MetaData(CaretMetaData):
    """CIFTI-2 metadata: a mutable mapping of names to values."""

    @staticmethod
    def _sanitize(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        if not args and list(kwargs) == ["metadata"] and not isinstance(kwargs["metadata"], str):
            warnings.warn("Cifti2MetaData now has a dict-like interface and will no longer accept "
                          "the ``metadata`` keyword argument in NiBabel 6.0.", FutureWarning, stacklevel=3)
            md = kwargs.pop("metadata")
            args = () if md is None else (md,)
        if args == (None,):
            warnings.warn("Cifti2MetaData now has a dict-like interface and will no longer accept "
                          "the positional argument ``None`` in NiBabel 6.0.", FutureWarning, stacklevel=3)
            args = ()
        return args, kwargs

    @property
    def data(self) -> dict[Any, Any]:
        """The underlying dict."""
        return self._data

    def difference_update(self, metadata: Any) -> None:
        """Remove every key of ``metadata`` (KeyError if one is missing)."""
        if metadata is None:
            raise ValueError("The metadata parameter can't be None")
        for key in dict(metadata):
            del self._data[key]


class Cifti2Label(xml.XmlSerializable):
    """A label: integer key, name and RGBA colour (floats in [0, 1])."""

    def __init__(self, key: int = 0, label: str = "", red: float = 0.0, green: float = 0.0,
                 blue: float = 0.0, alpha: float = 0.0) -> None:
        self.key = int(key)
        self.label = str(label)
        self.red = _float_01(red)
        self.green = _float_01(green)
        self.blue = _float_01(blue)
        self.alpha = _float_01(alpha)

    @property
    def rgba(self) -> tuple[float, float, float, float]:
        """Red, green, blue and alpha."""
        return (self.red, self.green, self.blue, self.alpha)

    def __repr__(self) -> str:
        return f"<Cifti2Label {self.key}={self.label!r} rgba={self.rgba}>"

    def _to_xml_element(self) -> xml.Element:
        if self.label == "":
            raise Cifti2HeaderError("Label needs a name")
        try:
            int(self.key)
        except (TypeError, ValueError):
            raise Cifti2HeaderError(f"Label key must be an integer, not {self.key!r}") from None
        elem = xml.Element("Label", Key=str(self.key))
        elem.text = str(self.label)
        for name in ("red", "green", "blue", "alpha"):
            value = getattr(self, name)
            try:
                value = _float_01(value)
            except (TypeError, ValueError):
                raise Cifti2HeaderError(
                    f"Label {name} must be a float between 0 and 1, not {value!r}") from None
            elem.set(name.capitalize(), "0" if value == 0 else "1" if value == 1 else str(value))
        return elem


class Cifti2LabelTable(xml.XmlSerializable, MutableMapping):
    """Labels by key; values are :class:`Cifti2Label` or (name, r, g, b, a) tuples."""

    def __init__(self) -> None:
        self._labels: dict[int, Cifti2Label] = {}

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, key: int) -> Cifti2Label:
        return self._labels[key]

    def __iter__(self) -> Iterator[int]:
        return iter(self._labels)

    def __delitem__(self, key: int) -> None:
        del self._labels[key]

    def append(self, label: Cifti2Label) -> None:
        """Add ``label`` under its own key."""
        self[label.key] = label

    def __setitem__(self, key: int, value: Any) -> None:
        if isinstance(value, Cifti2Label):
            if key != value.key:
                raise ValueError("The key and the label's key must agree")
            self._labels[key] = value
            return
        if len(value) != 5:
            raise ValueError("Value should be length 5")
        try:
            self._labels[key] = Cifti2Label(key, *value)
        except (TypeError, ValueError):
            raise ValueError("Key should be int, value should be sequence of str and 4 floats "
                             "between 0 and 1") from None

    def _to_xml_element(self) -> xml.Element:
        if not self._labels:
            raise Cifti2HeaderError("LabelTable element requires at least 1 label")
        table = xml.Element("LabelTable")
        for label in self._labels.values():
            table.append(label._to_xml_element())
        return table


class Cifti2NamedMap(xml.XmlSerializable):
    """One map of a scalars or labels dimension: its name, metadata and (labels) label table."""

    def __init__(self, map_name: str | None = None, metadata: Cifti2MetaData | None = None,
                 label_table: Cifti2LabelTable | None = None) -> None:
        self.map_name = map_name
        self.metadata = metadata
        self.label_table = label_table

    @property
    def metadata(self) -> Cifti2MetaData | None:
        return self._metadata

    @metadata.setter
    def metadata(self, metadata: Cifti2MetaData | None) -> None:
        self._metadata = _value_if_klass(metadata, Cifti2MetaData)

    @property
    def label_table(self) -> Cifti2LabelTable | None:
        return self._label_table

    @label_table.setter
    def label_table(self, label_table: Cifti2LabelTable | None) -> None:
        self._label_table = _value_if_klass(label_table, Cifti2LabelTable)

    def _to_xml_element(self) -> xml.Element:
        elem = xml.Element("NamedMap")
        if self.metadata:
            elem.append(self.metadata._to_xml_element())
        if self.label_table:
            elem.append(self.label_table._to_xml_element())
        xml.SubElement(elem, "MapName").text = self.map_name
        return elem


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
            raise ValueError("value must be an int") from None

    def insert(self, index: int, value: Any) -> None:
        try:
            self._values.insert(index, int(value))
        except (TypeError, ValueError):
            raise ValueError("value must be an int") from None

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
            raise ValueError("value must be a triple of ints") from None
        if len(row) != 3:
            raise ValueError("value must be a triple of ints")
        return row

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, int):
            return self._indices[index]
        if len(index) != 2:
            raise ValueError("Only row and row,column access is allowed")
        if not isinstance(index[0], int):
            raise NotImplementedError("only single rows can be indexed")
        return self._indices[index[0]][index[1]]

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, int):
            self._indices[index] = self._triple(value)
            return
        if len(index) != 2:
            raise ValueError("Only row and row,column access is allowed")
        if not isinstance(index[0], int):
            raise NotImplementedError("only single rows can be indexed")
        try:
            self._indices[index[0]][index[1]] = int(value)
        except ValueError:  # a TypeError (a list for one index) stays what it is
            raise ValueError("value must be an int") from None

    def __delitem__(self, index: Any) -> None:
        if not isinstance(index, int) and len(index) > 1:
            raise NotImplementedError("only single rows can be removed")
        del self._indices[index]

    def insert(self, index: Any, value: Any) -> None:
        if not isinstance(index, int) and len(index) != 1:
            raise ValueError("Only rows can be inserted")
        self._indices.insert(index, self._triple(value))

    def extend(self, values: Iterable[Any]) -> None:
        arr = np.asarray(values)
        if arr.dtype.kind in "iu" and arr.ndim == 2 and arr.shape[1] == 3:
            self._indices.extend(arr.tolist())
        elif arr.ndim == 1 and arr.size and not isinstance(values, Cifti2VoxelIndicesIJK):
            raise TypeError("voxel indices must be a sequence of (i, j, k) triples")
        else:
            super().extend(values)

    def _to_xml_element(self) -> xml.Element:
        if not self._indices:
            raise Cifti2HeaderError("VoxelIndicesIJK element require an index table")
        elem = xml.Element("VoxelIndicesIJK")
        elem.text = "\n".join(" ".join(str(v) for v in row) for row in self._indices)
        return elem


class Cifti2Parcel(xml.XmlSerializable):
    """A named parcel: its voxels and, per surface structure, its vertices."""

    def __init__(self, name: str | None = None, voxel_indices_ijk: Cifti2VoxelIndicesIJK | None = None,
                 vertices: list[Cifti2Vertices] | None = None) -> None:
        self.name = name
        self._voxel_indices_ijk = voxel_indices_ijk
        self.vertices = vertices if vertices is not None else []
        if any(not isinstance(v, Cifti2Vertices) for v in self.vertices):
            raise ValueError("Cifti2Parcel vertices must be instances of Cifti2Vertices")

    @property
    def voxel_indices_ijk(self) -> Cifti2VoxelIndicesIJK | None:
        return self._voxel_indices_ijk

    @voxel_indices_ijk.setter
    def voxel_indices_ijk(self, value: Cifti2VoxelIndicesIJK | None) -> None:
        self._voxel_indices_ijk = _value_if_klass(value, Cifti2VoxelIndicesIJK)

    def append_cifti_vertices(self, vertices: Cifti2Vertices) -> None:
        """Add the vertices of one more surface structure."""
        if not isinstance(vertices, Cifti2Vertices):
            raise TypeError("Not a valid Cifti2Vertices instance")
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
        self.index_offset = index_offset
        self.index_count = index_count
        self.model_type = model_type
        self.brain_structure = brain_structure
        self.surface_number_of_vertices = n_surface_vertices
        self.voxel_indices_ijk = voxel_indices_ijk
        self.vertex_indices = vertex_indices

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
        self.number_of_series_points = number_of_series_points
        self.series_exponent = series_exponent
        self.series_start = series_start
        self.series_step = series_step
        self.series_unit = series_unit
        self._maps: list[Any] = []
        for element in maps:
            self.append(element)

    def __len__(self) -> int:
        return len(self._maps)

    def __getitem__(self, index: Any) -> Any:
        return self._maps[index]

    def __delitem__(self, index: Any) -> None:
        del self._maps[index]

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(value, Cifti2Volume) and self.volume is not None and \
                not isinstance(self._maps[index], Cifti2Volume):
            raise Cifti2HeaderError("Only one Volume can be in a MatrixIndicesMap")
        self._maps[index] = value

    def insert(self, index: int, value: Any) -> None:
        if isinstance(value, Cifti2Volume) and self.volume is not None:
            raise Cifti2HeaderError("Only one Volume can be in a MatrixIndicesMap")
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
            raise ValueError("You can only set a volume with a volume")
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
        raise ValueError("No Cifti2Volume element")

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
            raise TypeError("Not a valid Cifti2MatrixIndicesMap instance")
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
