"""GIFTI images: data arrays on surface vertices, meshes, and their metadata.

A :class:`GiftiImage` holds :class:`GiftiDataArray` objects (each an intent,
a data type, an encoding and an ndarray), file metadata and a label table.
Reading is in :mod:`nivox.gifti.parse_gifti_fast`; the ``<Data>`` encodings in
:mod:`nivox.gifti._datablock`.

What nivox writes differs from nibabel where readers need it to: one element
per line (web viewers fail on nibabel's single-line XML), ASCII floats with
all their digits, and values that would change when cast to the array's
declared data type (label keys, integers out of range) refused rather than
silently altered.
"""

from __future__ import annotations

import sys
from copy import copy
from typing import Any, ClassVar

import numpy as np

from .. import xmlutils as xml
from ..errors import ArgumentTypeError, CastingError, InvalidArgumentError
from ..filebasedimages import FileBasedHeader, SerializableImage
from ..fileholders import FileMap
from ..nifti1 import data_type_codes, intent_codes
from ._datablock import encode_data
from .elements import GiftiCoordSystem, GiftiLabel, GiftiLabelTable, GiftiMetaData, GiftiNVPairs
from .util import array_index_order_codes, gifti_encoding_codes, gifti_endian_codes

__all__ = ["GIFTI_DTYPES", "GiftiCoordSystem", "GiftiDataArray", "GiftiImage", "GiftiLabel",
           "GiftiLabelTable", "GiftiMetaData", "GiftiNVPairs"]

# the data types the GIFTI standard allows (and Connectome Workbench reads)
GIFTI_DTYPES = tuple(data_type_codes[f"NIFTI_TYPE_{kind}"] for kind in ("UINT8", "INT32", "FLOAT32"))
_LABEL_INTENT = intent_codes.code["NIFTI_INTENT_LABEL"]
_TIME_SERIES = intent_codes.code["NIFTI_INTENT_TIME_SERIES"]
_XML_HEADER = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
               b'<!DOCTYPE GIFTI SYSTEM "http://www.nitrc.org/frs/download.php/115/gifti.dtd">\n')


def _print_fields(fields: list[tuple[str, Any]]) -> None:
    """One ``name:  value`` line per field (the layout nibabel's summaries print)."""
    for name, value in fields:
        print(f"{name}: ", value)


def _print_part(title: str, part: Any) -> None:
    """A separator, the title, then what the part's own summary prints (and returns: None)."""
    print("----", f"{title}:", sep="\n")
    print(part.print_summary())


class GiftiDataArray(xml.XmlSerializable):
    """One data array of a GIFTI file, with how it is stored and what it means.

    Parameters
    ----------
    data : array-like, optional
    intent : int or str
        NIfTI intent (``'NIFTI_INTENT_POINTSET'``, ``'pointset'``, 1008, ...).
    datatype : int, str or dtype, optional
        Stored data type; taken from ``data`` when it is uint8, int32 or
        float32, the types of the GIFTI standard. Others must be asked for.
    encoding : int or str
        'ASCII', 'B64BIN', 'B64GZ' (default) or 'External' (read only).
    endian : int or str
        Byte order of the stored data (writing always uses the machine's).
    coordsys : GiftiCoordSystem, optional
    ordering : {'C', 'F'} or code
    meta : GiftiMetaData or mapping, optional
    ext_fname, ext_offset : external file name and byte offset
    """

    def __init__(
        self,
        data: Any = None,
        intent: Any = "NIFTI_INTENT_NONE",
        datatype: Any = None,
        encoding: Any = "GIFTI_ENCODING_B64GZ",
        endian: Any = sys.byteorder,
        coordsys: GiftiCoordSystem | None = None,
        ordering: Any = "C",
        meta: Any = None,
        ext_fname: str = "",
        ext_offset: int = 0,
    ) -> None:
        self.data = np.asarray(data) if data is not None else None
        self.intent = intent_codes.code[intent]
        self.datatype = data_type_codes.code[self._data_kind() if datatype is None else datatype]
        self.encoding, self.endian = gifti_encoding_codes.code[encoding], gifti_endian_codes.code[endian]
        self.coordsys = coordsys if coordsys else GiftiCoordSystem()
        self.ind_ord = array_index_order_codes.code[ordering]
        if meta is None:
            meta = GiftiMetaData()
        elif not isinstance(meta, GiftiMetaData):
            meta = GiftiMetaData(meta)
        self.meta = meta
        self.ext_fname = ext_fname
        self.ext_offset = ext_offset
        self.dims: list[int] = [] if self.data is None else list(self.data.shape)

    def __repr__(self) -> str:
        return f"<GiftiDataArray {intent_codes.label[self.intent]}{self.dims}>"

    @property
    def num_dim(self) -> int:
        return len(self.dims)

    @property
    def metadata(self) -> dict[Any, Any]:
        """The metadata as a plain dict."""
        return dict(self.meta)

    def _stored(self, dtype: np.dtype) -> Any:
        """The data as ``dtype``, refusing a cast that would change values users rely on."""
        data = self.data
        if data is None or np.dtype(getattr(data, "dtype", dtype)) == dtype:
            return data
        arr = np.asanyarray(data)
        if dtype.kind in "iu" and arr.dtype.kind in "iuf" and arr.size:
            info = np.iinfo(dtype)
            lo, hi = np.nanmin(arr), np.nanmax(arr)
            if lo < info.min or hi > info.max or not (np.isfinite(lo) and np.isfinite(hi)):
                raise CastingError(
                    f"{self!r}: values from {lo} to {hi} do not fit the array's data type "
                    f"{dtype.name}; set datatype to a wider type")
        if self.intent == _LABEL_INTENT:
            cast = arr.astype(dtype)
            if not np.array_equal(cast, arr):
                raise CastingError(
                    f"{self!r}: label values would change when stored as {dtype.name} "
                    "(fractional keys?); round them or set datatype")
            return cast
        return arr

    def _data_kind(self) -> Any:
        """The datatype the array's own dtype gives ('none' without data); only GIFTI's three."""
        if self.data is None:
            return "none"
        dtype = self.data.dtype
        if dtype not in data_type_codes or data_type_codes[dtype] not in GIFTI_DTYPES:
            raise InvalidArgumentError(
                f"Data array has type {dtype}. The GIFTI standard only supports "
                "uint8, int32 and float32 arrays.\nExplicitly cast the data array to a "
                'supported dtype or pass an explicit "datatype" parameter to GiftiDataArray().')
        return dtype

    def _kind_fields(self) -> list[tuple[str, Any]]:
        """Intent, data type and index order under their GIFTI attribute names."""
        return [("Intent", intent_codes.niistring[self.intent]),
                ("DataType", data_type_codes.niistring[self.datatype]),
                ("ArrayIndexingOrder", array_index_order_codes.label[self.ind_ord])]

    def _to_xml_element(self) -> xml.Element:
        dtype = np.dtype(data_type_codes.dtype[self.datatype])
        encoding, ext_fname, ext_offset = self.encoding, self.ext_fname, self.ext_offset
        if gifti_encoding_codes.label[encoding] == "External":
            # the data go inline: a file written elsewhere cannot reuse the old external file
            # (nibabel refuses to write such arrays at all)
            encoding, ext_fname, ext_offset = gifti_encoding_codes.code["B64GZ"], "", 0
        attrib = {
            **dict(self._kind_fields()),
            "Dimensionality": str(self.num_dim),
            **{f"Dim{i}": str(n) for i, n in enumerate(self.dims)},
            "Encoding": gifti_encoding_codes.specs[encoding],
            "Endian": gifti_endian_codes.specs[sys.byteorder],  # data are written as they are in memory
            "ExternalFileName": ext_fname,
            "ExternalFileOffset": str(ext_offset),
        }
        elem = xml.Element("DataArray", attrib=attrib)
        if self.meta is not None:
            elem.append(self.meta._to_xml_element())
        if self.coordsys is not None:
            elem.append(self.coordsys._to_xml_element())
        data = xml.SubElement(elem, "Data")
        data.text = encode_data(self._stored(dtype), encoding, dtype, self.ind_ord)
        return elem

    def print_summary(self) -> None:
        _print_fields(self._kind_fields() + [
            ("Dimensionality", self.num_dim),
            ("Dimensions", self.dims),
            ("Encoding", gifti_encoding_codes.specs[self.encoding]),
            ("Endian", gifti_endian_codes.specs[self.endian]),
            ("ExternalFileName", self.ext_fname),
            ("ExternalFileOffset", self.ext_offset),
        ])
        if self.coordsys is not None:
            _print_part("Coordinate System", self.coordsys)


class GiftiImage(xml.XmlSerializable, SerializableImage):
    """A GIFTI file: data arrays, metadata and a label table (``.gii``, also ``.gii.gz``).

    Conventional names say what a file holds: ``.surf.gii`` (a mesh),
    ``.func.gii``/``.time.gii`` (values per vertex), ``.shape.gii``,
    ``.label.gii``, ``.coord.gii``, ``.topo.gii``, ``.rgba.gii``,
    ``.tensor.gii``. Data are written in the machine's byte order.
    """

    header_class: ClassVar[type] = FileBasedHeader
    valid_exts: ClassVar[tuple[str, ...]] = (".gii",)
    files_types: ClassVar[tuple[tuple[str, str | None], ...]] = (("image", ".gii"),)
    _compressed_suffixes: ClassVar[tuple[str, ...]] = (".gz", ".bz2", ".zst")
    parser: ClassVar[type]

    def __init__(
        self,
        header: Any = None,
        extra: Any = None,
        file_map: FileMap | None = None,
        meta: GiftiMetaData | None = None,
        labeltable: GiftiLabelTable | None = None,
        darrays: list[GiftiDataArray] | None = None,
        version: str = "1.0",
    ) -> None:
        super().__init__(header=header, extra=extra, file_map=file_map)
        self._labeltable = GiftiLabelTable() if labeltable is None else labeltable
        self._meta = GiftiMetaData() if meta is None else meta
        self.darrays = [] if darrays is None else darrays
        self.version = version

    # ---- making images in one call ---------------------------------------

    @classmethod
    def from_surface(cls, vertices: Any, faces: Any, *, meta: Any = None,
                     coordsys: GiftiCoordSystem | None = None) -> GiftiImage:
        """A surface: ``vertices`` (N, 3) as float32 pointset, ``faces`` (M, 3) as int32 triangles.

        Refuses vertex indices in ``faces`` outside the vertices.
        """
        verts = np.asarray(vertices, dtype=np.float32)
        tris = np.asarray(faces)
        if verts.ndim != 2 or verts.shape[1] != 3 or tris.ndim != 2 or tris.shape[1] != 3:
            raise InvalidArgumentError(f"vertices and faces must be (N, 3) and (M, 3), not {verts.shape} and {tris.shape}")
        if tris.size and (tris.min() < 0 or tris.max() >= len(verts)):
            raise InvalidArgumentError(f"faces index vertices 0..{len(verts) - 1}, but hold {tris.min()}..{tris.max()}")
        triangles = GiftiDataArray(tris.astype(np.int32), intent="NIFTI_INTENT_TRIANGLE")
        triangles.coordsys = None  # a topology has no space
        return cls(meta=None if meta is None else GiftiMetaData(meta), darrays=[
            GiftiDataArray(verts, intent="NIFTI_INTENT_POINTSET",
                           coordsys=coordsys or GiftiCoordSystem(1, 1)),
            triangles,
        ])

    @classmethod
    def from_vertex_data(cls, data: Any, intent: Any = None, *, labels: Any = None,
                         meta: Any = None) -> GiftiImage:
        """Values per vertex: a (N,) array is one data array, a (N, T) array T of them.

        ``intent`` defaults to 'NIFTI_INTENT_LABEL' when ``labels`` ({key: name}
        or {key: (name, (r, g, b, a))}) are given, to 'NIFTI_INTENT_TIME_SERIES'
        for 2-D data and 'NIFTI_INTENT_SHAPE' otherwise. Data are stored as
        float32 (int32 for labels and integer data), values checked to fit.
        """
        arr = np.asarray(data)
        if arr.ndim not in (1, 2):
            raise InvalidArgumentError(f"per-vertex data must be 1-D or 2-D (vertices x maps), not {arr.shape}")
        if intent is None:
            intent = ("NIFTI_INTENT_LABEL" if labels is not None
                      else "NIFTI_INTENT_TIME_SERIES" if arr.ndim == 2 else "NIFTI_INTENT_SHAPE")
        integer = labels is not None or arr.dtype.kind in "iub"
        dtype = np.dtype(np.int32 if integer else np.float32)
        columns = [arr] if arr.ndim == 1 else [arr[:, i] for i in range(arr.shape[1])]
        darrays = []
        for col in columns:
            with np.errstate(invalid="ignore"):
                cast = col.astype(dtype)
            if integer and not np.array_equal(cast, col):
                raise CastingError(f"per-vertex values change when stored as {dtype.name} "
                                   "(fractional label keys, or out of range)")
            darrays.append(GiftiDataArray(cast, intent=intent))
        img = cls(meta=None if meta is None else GiftiMetaData(meta), darrays=darrays)
        for key, value in (labels or {}).items():
            name, rgba = (value, None) if isinstance(value, str) else value
            label = GiftiLabel(int(key), *(rgba if rgba is not None else (None,) * 4))
            label.label = str(name)
            img.labeltable.labels.append(label)
        return img

    # ---- contents -----------------------------------------------------------

    @property
    def numDA(self) -> int:  # noqa: N802
        return len(self.darrays)

    @property
    def labeltable(self) -> GiftiLabelTable:
        return self._labeltable

    @labeltable.setter
    def labeltable(self, labeltable: GiftiLabelTable) -> None:
        if not isinstance(labeltable, GiftiLabelTable):
            raise ArgumentTypeError("Not a valid GiftiLabelTable instance")
        self._labeltable = labeltable

    @property
    def meta(self) -> GiftiMetaData:
        return self._meta

    @meta.setter
    def meta(self, meta: GiftiMetaData) -> None:
        if not isinstance(meta, GiftiMetaData):
            raise ArgumentTypeError("Not a valid GiftiMetaData instance")
        self._meta = meta

    def add_gifti_data_array(self, dataarr: GiftiDataArray) -> None:
        """Append a data array."""
        if not isinstance(dataarr, GiftiDataArray):
            raise ArgumentTypeError("Not a valid GiftiDataArray instance")
        self.darrays.append(dataarr)

    def remove_gifti_data_array(self, ith: int) -> None:
        """Remove the ``ith`` data array."""
        self.darrays.pop(ith)

    def remove_gifti_data_array_by_intent(self, intent: Any) -> None:
        """Remove every data array with ``intent``."""
        code = intent_codes.code[intent]
        self.darrays[:] = [da for da in self.darrays if da.intent != code]

    def get_arrays_from_intent(self, intent: Any) -> list[GiftiDataArray]:
        """The data arrays with ``intent`` (a code, name or label), in file order."""
        code = intent_codes.code[intent]
        return [da for da in self.darrays if da.intent == code]

    def agg_data(self, intent_code: Any = None) -> Any:
        """The data of the arrays with ``intent_code`` (all arrays when None).

        One array gives that array; several give a tuple, except that arrays
        all of intent NIFTI_INTENT_TIME_SERIES are stacked as columns (vertices
        x time). A tuple of intents gives a tuple of results in that order.
        """
        if isinstance(intent_code, tuple):
            return tuple(self.agg_data(code) for code in intent_code)
        darrays = self.darrays if intent_code is None else self.get_arrays_from_intent(intent_code)
        all_data = tuple(da.data for da in darrays)
        if darrays and all(da.intent == _TIME_SERIES for da in darrays):
            return np.column_stack(all_data)
        return all_data[0] if len(all_data) == 1 else all_data

    def print_summary(self) -> None:
        print("----start----")
        _print_fields([("Source filename", self.get_filename()), ("Number of data arrays", self.numDA),
                       ("Version", self.version)])
        parts = [("Metadata", self.meta), ("Labeltable", self.labeltable)]
        parts += [(f"DataArray {i}", da) for i, da in enumerate(self.darrays)]
        for title, part in parts:
            if part is not None:
                _print_part(title, part)
        print("----end----")

    # ---- writing ------------------------------------------------------------

    def _to_xml_element(self) -> xml.Element:
        root = xml.Element("GIFTI", attrib={"Version": self.version, "NumberOfDataArrays": str(self.numDA)})
        if self.meta is not None:
            root.append(self.meta._to_xml_element())
        if self.labeltable is not None:
            root.append(self.labeltable._to_xml_element())
        for darray in self.darrays:
            root.append(darray._to_xml_element())
        return xml.pretty(root)

    def to_xml(self, enc: str = "utf-8", *, mode: str = "strict", **kwargs: Any) -> bytes:
        """The GIFTI document as bytes.

        Parameters
        ----------
        mode : {'strict', 'compat', 'force'}
            'strict' refuses data types outside uint8/int32/float32; 'compat'
            stores other integers as int32 and other floats as float32 (values
            checked to fit); 'force' writes any type.
        """
        if mode == "strict":
            if any(da.datatype not in GIFTI_DTYPES for da in self.darrays):
                raise InvalidArgumentError("GiftiImage contains data arrays with invalid data types; "
                                 'use mode="compat" to automatically cast to conforming types')
        elif mode == "compat":
            darrays = []
            for da in self.darrays:
                if da.datatype not in GIFTI_DTYPES:
                    da = copy(da)
                    dtype = np.dtype(data_type_codes.dtype[da.datatype])
                    if np.issubdtype(dtype, np.floating):
                        da.datatype = data_type_codes["float32"]
                    elif np.issubdtype(dtype, np.integer):
                        da.datatype = data_type_codes["int32"]
                    else:
                        raise InvalidArgumentError(f"Cannot convert {dtype} to float32/int32")
                darrays.append(da)
            gii = copy(self)
            gii.darrays = darrays
            return gii.to_xml(enc=enc, mode="strict", **kwargs)
        elif mode != "force":
            raise ArgumentTypeError(f"Unknown mode {mode}")
        return _XML_HEADER + super().to_xml(enc, **kwargs)

    def to_bytes(self, enc: str = "utf-8", *, mode: str = "strict") -> bytes:  # type: ignore[override]
        """The bytes of the ``.gii`` file (see :meth:`to_xml` for ``mode``)."""
        return self.to_xml(enc=enc, mode=mode)

    def to_file_map(self, file_map: FileMap | None = None, enc: str = "utf-8", *,  # type: ignore[override]
                    mode: str = "strict") -> None:
        """Write the GIFTI document to ``file_map['image']``."""
        if file_map is None:
            file_map = self.file_map
        document = self.to_xml(enc=enc, mode=mode)
        with file_map["image"].get_prepare_fileobj("wb") as fobj:
            fobj.write(document)

    # ---- reading ------------------------------------------------------------

    @classmethod
    def from_file_map(cls, file_map: FileMap, buffer_size: int | None = 35000000,  # type: ignore[override]
                      mmap: Any = True, **kwargs: Any) -> GiftiImage:
        """Read a GIFTI image from ``file_map['image']``.

        ``mmap`` ({True, False, 'c', 'r', 'r+'}) applies to ExternalFileBinary
        arrays, which are memory-mapped when possible; ``buffer_size`` is
        expat's text buffer.
        """
        holder = file_map["image"]
        parser = cls.parser(buffer_size=buffer_size, mmap=mmap)
        parser.fname = holder.filename
        with holder.get_prepare_fileobj("rb") as fobj:
            parser.parse(fptr=fobj)
        img = parser.img
        img.file_map = file_map
        return img

    @classmethod
    def from_filename(cls, filename: Any, buffer_size: int | None = 35000000,  # type: ignore[override]
                      mmap: Any = True, **kwargs: Any) -> GiftiImage:
        """Read a GIFTI image from ``filename`` (see :meth:`from_file_map`)."""
        return cls.from_file_map(cls.filespec_to_file_map(filename), buffer_size=buffer_size, mmap=mmap)

    load = from_filename


from .parse_gifti_fast import GiftiImageParser  # noqa: E402  (the parser builds GiftiImages)

GiftiImage.parser = GiftiImageParser
