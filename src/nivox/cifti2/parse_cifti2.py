"""Reading CIFTI-2: the NIfTI-2 extension that holds the XML, the XML parser, the container header.

The parser checks each element against its parent as the specification
places it (a ``BrainModel`` only in a brain-models map, a ``LabelTable`` only
in a labels map, ...) and raises :class:`~nivox.cifti2.Cifti2HeaderError`
naming the element otherwise. A document of CIFTI version 1 is refused: its
layout differs and nibabel refuses it too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import xmlutils as xml
from ..batteryrunners import Report
from ..errors import Cifti2HeaderError, Cifti2ParseError, HeaderDataError
from ..nifti1 import Nifti1Extension, extension_codes
from ..nifti2 import Nifti2Header, Nifti2Image
from .cifti2 import (
    CIFTI_BRAIN_STRUCTURES,
    CIFTI_MODEL_TYPES,
    Cifti2BrainModel,
    Cifti2Header,
    Cifti2HeaderError,  # noqa: F401  (importable from here, as in nibabel)
    Cifti2Label,
    Cifti2LabelTable,
    Cifti2Matrix,
    Cifti2MatrixIndicesMap,
    Cifti2MetaData,
    Cifti2NamedMap,
    Cifti2Parcel,
    Cifti2Surface,
    Cifti2TransformationMatrixVoxelIndicesIJKtoXYZ,
    Cifti2VertexIndices,
    Cifti2Vertices,
    Cifti2Volume,
    Cifti2VoxelIndicesIJK,
    _underscore,
)

__all__ = ["Cifti2Extension", "Cifti2Parser", "Cifti2ParseError"]


class Cifti2Extension(Nifti1Extension):
    """The NIfTI extension (code 32) holding a CIFTI-2 header; ``get_content()`` parses it."""

    code = 32

    def __init__(self, code: Any = 32, content: Any = None, object: Any = None) -> None:
        if isinstance(content, Cifti2Header):
            content, object = b"", content
        super().__init__(code, b"" if content is None else content, object=object)

    def _unmangle(self, content: bytes) -> Cifti2Header:
        parser = Cifti2Parser()
        parser.parse(string=content)
        assert parser.header is not None
        return parser.header

    def _mangle(self, obj: Any) -> bytes:
        if not isinstance(obj, Cifti2Header):
            raise Cifti2HeaderError("Can only mangle a Cifti2Header.")
        return obj.to_xml()


extension_codes.add_codes(((Cifti2Extension.code, "cifti", Cifti2Extension),))


class _Cifti2AsNiftiHeader(Nifti2Header):
    """The NIfTI-2 header of a CIFTI-2 file: CIFTI intents, spatial checks relaxed as the spec allows."""

    @classmethod
    def _valid_intent_code(cls, intent_code: int) -> bool:
        return 3000 <= intent_code < 3100

    @classmethod
    def may_contain_header(cls, binaryblock: bytes) -> bool:
        if not super().may_contain_header(binaryblock):
            return False
        hdr = cls(binaryblock=binaryblock[: cls.sizeof_hdr], check=False)
        return cls._valid_intent_code(int(hdr["intent_code"]))

    @staticmethod
    def _chk_qfac(hdr: Any, fix: bool = False) -> tuple[Any, Report]:
        # CIFTI files may leave qfac 0 (NIfTI-2 readers take it as 1)
        rep = Report(HeaderDataError)
        if hdr["pixdim"][0] not in (-1, 0, 1):
            rep.problem_level, rep.problem_msg = 20, "pixdim[0] (qfac) should be 1 (default) or 0 or -1"
            if fix:
                hdr["pixdim"][0], rep.fix_msg = 1, "setting qfac to 1"
        return hdr, rep

    @staticmethod
    def _chk_pixdims(hdr: Any, fix: bool = False) -> tuple[Any, Report]:
        # zero voxel sizes are allowed: a CIFTI file may have no volume at all
        rep = Report(HeaderDataError)
        spatial = hdr["pixdim"][1:4]
        if (spatial < 0).any():
            rep.problem_level, rep.problem_msg = 35, "pixdim[1,2,3] should be zero or positive"
            if fix:
                hdr["pixdim"][1:4], rep.fix_msg = np.abs(spatial), "setting to abs of pixdim values"
        return hdr, rep


class _Cifti2AsNiftiImage(Nifti2Image):
    """The NIfTI-2 container of a CIFTI-2 file, read to get at its data and extension."""

    header_class = _Cifti2AsNiftiHeader
    makeable = False
    rw = False  # only read through: Cifti2Image writes the container itself


def _ints(text: str, what: str) -> np.ndarray:
    try:
        return np.array(text.split(), dtype=np.int64)
    except (ValueError, OverflowError):
        raise Cifti2ParseError(f"{what} must hold integers") from None


class Cifti2Parser(xml.XmlParser):
    """Parse CIFTI-2 XML; the header is ``parser.header`` after :meth:`parse`."""

    error_class = Cifti2ParseError

    def __init__(self, encoding: str | None = None, buffer_size: int | None = 3500000,
                 verbose: int = 0) -> None:
        super().__init__(encoding=encoding, buffer_size=buffer_size, verbose=verbose)
        self.fsm_state: list[str] = []
        self.struct_state: list[Any] = []
        self.header: Cifti2Header | None = None
        self._text: list[str] | None = None

    @property
    def pending_data(self) -> bool:
        return self._text is not None

    def _parent(self, *klasses: type, child: str) -> Any:
        parent = self.struct_state[-1] if self.struct_state else None
        if not isinstance(parent, klasses):
            names = " or ".join(k.__name__.replace("Cifti2", "") for k in klasses)
            raise Cifti2ParseError(f"{child} element can only be a child of the CIFTI-2 {names} element")
        return parent

    def StartElementHandler(self, name: str, attrs: dict[str, str]) -> None:  # noqa: N802
        if self.verbose > 0:
            print("Start element:\n\t", repr(name), attrs)
        self._text = []
        self.fsm_state.append(name)
        pushed: Any = None
        if name == "CIFTI":
            if self.header is not None:
                raise Cifti2ParseError("CIFTI element inside another")
            version = attrs.get("Version", "")
            try:
                major = int(version.split(".")[0])
            except ValueError:
                raise Cifti2ParseError(f"CIFTI Version {version!r} is not a version number") from None
            if major < 2:
                raise Cifti2ParseError(f"Only CIFTI-2 files are supported; found version {version}")
            self.header = pushed = Cifti2Header(version=version)
        elif self.header is None:
            raise Cifti2ParseError(f"<{name}> outside the CIFTI element: not a CIFTI-2 header")
        elif name == "Matrix":
            parent = self._parent(Cifti2Header, child="Matrix")
            parent.matrix = pushed = Cifti2Matrix()
        elif name == "MetaData":
            self._parent(Cifti2Matrix, Cifti2NamedMap, child="MetaData")
            pushed = Cifti2MetaData()
        elif name == "MD":
            self._parent(Cifti2MetaData, child="MD")
            pushed = ["", ""]
        elif name == "MatrixIndicesMap":
            matrix = self._parent(Cifti2Matrix, child="MatrixIndicesMap")
            dims = [int(v) for v in attrs["AppliesToMatrixDimension"].split(",")]
            pushed = Cifti2MatrixIndicesMap(dims, attrs["IndicesMapToDataType"])
            for key, kind in (("NumberOfSeriesPoints", int), ("SeriesExponent", int),
                              ("SeriesStart", float), ("SeriesStep", float), ("SeriesUnit", str)):
                if key in attrs:
                    setattr(pushed, _underscore(key), kind(attrs[key]))
            matrix.append(pushed)
        elif name == "NamedMap":
            mim = self._parent(Cifti2MatrixIndicesMap, child="NamedMap")
            pushed = Cifti2NamedMap()
            mim.append(pushed)
        elif name == "LabelTable":
            named_map = self._parent(Cifti2NamedMap, child="LabelTable")
            if self.struct_state[-2].indices_map_to_data_type != "CIFTI_INDEX_TYPE_LABELS":
                raise Cifti2ParseError("LabelTable element can only be a child of a MatrixIndicesMap "
                                       "with CIFTI_INDEX_TYPE_LABELS type")
            named_map.label_table = pushed = Cifti2LabelTable()
        elif name == "Label":
            self._parent(Cifti2LabelTable, child="Label")
            pushed = Cifti2Label()
            pushed.key = int(attrs["Key"])
            pushed.red, pushed.green, pushed.blue, pushed.alpha = (
                float(attrs[c]) for c in ("Red", "Green", "Blue", "Alpha"))
        elif name == "MapName":
            self._parent(Cifti2NamedMap, child="MapName")
        elif name == "Surface":
            mim = self._parent(Cifti2MatrixIndicesMap, child="Surface")
            if mim.indices_map_to_data_type != "CIFTI_INDEX_TYPE_PARCELS":
                raise Cifti2ParseError("Surface element can only be a child of a MatrixIndicesMap "
                                       "with CIFTI_INDEX_TYPE_PARCELS type")
            mim.append(Cifti2Surface(attrs["BrainStructure"], int(attrs["SurfaceNumberOfVertices"])))
        elif name == "Parcel":
            mim = self._parent(Cifti2MatrixIndicesMap, child="Parcel")
            pushed = Cifti2Parcel(attrs["Name"])
            mim.append(pushed)
        elif name == "Vertices":
            parcel = self._parent(Cifti2Parcel, child="Vertices")
            pushed = Cifti2Vertices(attrs["BrainStructure"])
            if pushed.brain_structure not in CIFTI_BRAIN_STRUCTURES:
                raise Cifti2ParseError(f"BrainStructure {pushed.brain_structure!r} of a Vertices "
                                       "element is not valid")
            parcel.append_cifti_vertices(pushed)
        elif name == "VoxelIndicesIJK":
            parent = self._parent(Cifti2Parcel, Cifti2BrainModel, child="VoxelIndicesIJK")
            parent.voxel_indices_ijk = Cifti2VoxelIndicesIJK()
        elif name == "Volume":
            mim = self._parent(Cifti2MatrixIndicesMap, child="Volume")
            dims = tuple(int(v) for v in attrs["VolumeDimensions"].split(","))
            if len(dims) != 3 or min(dims) < 1:
                raise Cifti2ParseError(f"VolumeDimensions {dims} are not three positive sizes")
            pushed = Cifti2Volume(volume_dimensions=dims)
            mim.append(pushed)
        elif name == "TransformationMatrixVoxelIndicesIJKtoXYZ":
            volume = self._parent(Cifti2Volume, child="TransformationMatrixVoxelIndicesIJKtoXYZ")
            pushed = Cifti2TransformationMatrixVoxelIndicesIJKtoXYZ(int(attrs["MeterExponent"]))
            volume.transformation_matrix_voxel_indices_ijk_to_xyz = pushed
        elif name == "BrainModel":
            mim = self._parent(Cifti2MatrixIndicesMap, child="BrainModel")
            if mim.indices_map_to_data_type != "CIFTI_INDEX_TYPE_BRAIN_MODELS":
                raise Cifti2ParseError("BrainModel element can only be a child of a MatrixIndicesMap "
                                       "with CIFTI_INDEX_TYPE_BRAIN_MODELS type")
            pushed = Cifti2BrainModel()
            for key, kind in (("IndexOffset", int), ("IndexCount", int), ("ModelType", str),
                              ("BrainStructure", str), ("SurfaceNumberOfVertices", int)):
                if key in attrs:
                    setattr(pushed, _underscore(key), kind(attrs[key]))
            if pushed.brain_structure not in CIFTI_BRAIN_STRUCTURES:
                raise Cifti2ParseError(f"BrainStructure {pushed.brain_structure!r} of a BrainModel "
                                       "element is not valid")
            if pushed.model_type not in CIFTI_MODEL_TYPES:
                raise Cifti2ParseError(f"ModelType {pushed.model_type!r} of a BrainModel element is not valid")
            mim.append(pushed)
        elif name == "VertexIndices":
            model = self._parent(Cifti2BrainModel, child="VertexIndices")
            model.vertex_indices = pushed = Cifti2VertexIndices()
        self.struct_state.append(pushed)

    def CharacterDataHandler(self, data: str) -> None:  # noqa: N802
        if self._text is not None:
            self._text.append(data)

    def EndElementHandler(self, name: str) -> None:  # noqa: N802
        if self.verbose > 0:
            print("End element:\n\t", repr(name))
        text = "".join(self._text or ()).strip()
        self._text = None
        self.fsm_state.pop()
        current = self.struct_state.pop()
        parent = self.struct_state[-1] if self.struct_state else None
        # elements that carry no object of their own act on the nearest one that does
        holder = next((s for s in reversed(self.struct_state) if s is not None), None)
        if name == "MetaData":
            parent.metadata = current
        elif name == "MD":
            parent[current[0]] = current[1]
        elif name == "Name" and isinstance(holder, list):
            holder[0] = text
        elif name == "Value" and isinstance(holder, list):
            holder[1] = text
        elif name == "Label":
            current.label = text
            parent.append(current)
        elif name == "MapName":
            holder.map_name = text
        elif name == "Vertices":
            current.extend(_ints(text, "Vertices"))
        elif name == "VertexIndices":
            current.extend(_ints(text, "VertexIndices"))
        elif name == "VoxelIndicesIJK":
            values = _ints(text, "VoxelIndicesIJK")
            if values.size % 3:
                raise Cifti2ParseError(f"VoxelIndicesIJK holds {values.size} integers, not triples")
            holder.voxel_indices_ijk.extend(values.reshape(-1, 3))
        elif name == "TransformationMatrixVoxelIndicesIJKtoXYZ":
            try:
                matrix = np.array(text.split(), dtype=np.float64)
            except ValueError:
                raise Cifti2ParseError("TransformationMatrixVoxelIndicesIJKtoXYZ must hold numbers") from None
            if matrix.size != 16:
                raise Cifti2ParseError(f"TransformationMatrixVoxelIndicesIJKtoXYZ holds {matrix.size} "
                                       "values, not 16")
            current.matrix = matrix.reshape(4, 4)

    def parse(self, string: bytes | None = None, fname: str | None = None, fptr: Any = None) -> None:
        super().parse(string=string, fname=fname, fptr=fptr)
        if self.header is None:
            raise self._named(Cifti2ParseError("no CIFTI element: not a CIFTI-2 header"))
