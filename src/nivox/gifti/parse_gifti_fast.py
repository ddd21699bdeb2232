"""Reading GIFTI XML into a :class:`~nivox.gifti.GiftiImage`, one expat pass over the file.

The parser keeps a stack of open elements; text is gathered for the
elements that carry it (``Name``, ``Value``, ``Label``, ``DataSpace``,
``TransformedSpace``, ``MatrixData``, ``Data``) and used when the element
closes. Anything unexpected (an element out of place, an unknown code, data
whose size disagrees with its dimensions) raises :class:`GiftiParseError`
naming the file.
"""

from __future__ import annotations

import secrets
import warnings
from typing import Any

import numpy as np

from ..nifti1 import data_type_codes, intent_codes, xform_codes
from ..errors import GiftiParseError, InvalidArgumentError
from ..xmlutils import XmlParser
from ._datablock import decode_data
from .elements import GiftiCoordSystem, GiftiLabel, GiftiLabelTable, GiftiMetaData
from .gifti import GiftiDataArray, GiftiImage
from .util import array_index_order_codes, gifti_encoding_codes, gifti_endian_codes

__all__ = ["GiftiImageParser", "GiftiParseError", "read_data_block"]

_TEXT_ELEMENTS = {"Name", "Value", "Label", "DataSpace", "TransformedSpace", "MatrixData", "Data"}
_MAX_DIMS = 32  # numpy's limit; more dimensions cannot be an array


def _lift_data_blocks(raw: bytes) -> tuple[bytes, list[memoryview], str]:
    """``raw`` with the plain-text content of each ``<Data>`` element replaced by a token.

    Returns the shorter document, the lifted contents (views into ``raw``) and
    the token prefix; a token is ``<prefix><index>#``, the prefix random per
    document so that no file can forge one.
    """
    token = f"#nivox-{secrets.token_hex(8)}-"
    view = memoryview(raw)
    parts: list[Any] = []
    blocks: list[memoryview] = []
    pos = 0
    while True:
        start = raw.find(b"<Data>", pos)
        if start < 0:
            break
        body = start + len(b"<Data>")
        end = raw.find(b"</Data>", body)
        if end < 0:
            break
        if end - body > 256 and raw.find(b"<", body, end) < 0 and raw.find(b"&", body, end) < 0:
            parts += [view[pos:body], f"{token}{len(blocks)}#".encode()]
            blocks.append(view[body:end])
            pos = end
        else:
            parts.append(view[pos:end])
            pos = end
        parts.append(view[pos:pos + len(b"</Data>")])
        pos += len(b"</Data>")
    if not blocks:
        return raw, [], token
    parts.append(view[pos:])
    return b"".join(parts), blocks, token


def read_data_block(darray: GiftiDataArray, fname: str | None, data: str | None, mmap: Any) -> np.ndarray:
    """The array of a ``<Data>`` element (``data`` its text) or of the external file it names."""
    return decode_data(darray, fname, data, mmap)


def _int_attr(attrs: dict[str, str], name: str, default: int = 0) -> int:
    text = attrs.get(name, "")
    if not text.strip():
        return default
    try:
        return int(text)
    except ValueError:
        raise GiftiParseError(f"attribute {name}={text!r} is not an integer") from None


def _float_attr(attrs: dict[str, str], name: str) -> float | None:
    if name not in attrs:
        return None
    try:
        return float(attrs[name])
    except ValueError:
        raise GiftiParseError(f"attribute {name}={attrs[name]!r} is not a number") from None


class GiftiImageParser(XmlParser):
    """Parse GIFTI XML; the image is ``parser.img`` after :meth:`parse`.

    Parameters
    ----------
    encoding, buffer_size, verbose
        As for :class:`~nivox.xmlutils.XmlParser`.
    mmap : {True, False, 'c', 'r', 'r+'}
        Memory-map ExternalFileBinary data when possible.
    """

    error_class = GiftiParseError

    def __init__(self, encoding: str | None = None, buffer_size: int | None = 35000000,
                 verbose: int = 0, mmap: Any = True) -> None:
        super().__init__(encoding=encoding, buffer_size=buffer_size, verbose=verbose)
        self.img: GiftiImage | None = None
        self.mmap = mmap
        self.fsm_state: list[str] = []
        self.expected_numDA: int | None = None
        self.da: GiftiDataArray | None = None
        self.coordsys: GiftiCoordSystem | None = None
        self.lata: GiftiLabelTable | None = None
        self.label: GiftiLabel | None = None
        self.nvpair: list[str] | None = None
        self._meta: GiftiMetaData | None = None
        self._text: list[str] | None = None
        self._lifted: list[memoryview] = []  # <Data> texts taken out of the document before parsing
        self._lifted_used = 0
        self._token = ""

    @property
    def pending_data(self) -> bool:
        """True while text of an element is being gathered."""
        return self._text is not None

    def _parent(self) -> str | None:
        return self.fsm_state[-1] if self.fsm_state else None

    def StartElementHandler(self, name: str, attrs: dict[str, str]) -> None:  # noqa: N802
        if self.verbose > 0:
            print("Start element:\n\t", repr(name), attrs)
        parent = self._parent()
        if name == "GIFTI":
            if self.img is not None or parent is not None:
                raise GiftiParseError("a GIFTI element inside another")
            self.img = GiftiImage(version=attrs.get("Version", "1.0"))
            if "NumberOfDataArrays" in attrs:
                self.expected_numDA = _int_attr(attrs, "NumberOfDataArrays")
        elif self.img is None:
            raise GiftiParseError(f"<{name}> outside the GIFTI element: not a GIFTI file")
        elif name == "MetaData":
            if parent not in ("GIFTI", "DataArray"):
                raise GiftiParseError(f"<MetaData> inside <{parent}>")
            self._meta = GiftiMetaData()
        elif name == "MD":
            if parent != "MetaData":
                raise GiftiParseError(f"<MD> inside <{parent}>")
            self.nvpair = ["", ""]
        elif name in ("Name", "Value"):
            if self.nvpair is None or parent != "MD":
                raise GiftiParseError(f"<{name}> outside <MD>")
        elif name == "LabelTable":
            self.lata = GiftiLabelTable()
        elif name == "Label":
            if self.lata is None or parent != "LabelTable":
                raise GiftiParseError("<Label> outside <LabelTable>")
            self.label = GiftiLabel()
            self.label.key = _int_attr(attrs, "Key", _int_attr(attrs, "Index"))
            self.label.red, self.label.green, self.label.blue, self.label.alpha = (
                _float_attr(attrs, c) for c in ("Red", "Green", "Blue", "Alpha"))
        elif name == "DataArray":
            self._start_data_array(attrs)
        elif name == "CoordinateSystemTransformMatrix":
            if self.da is None:
                raise GiftiParseError("<CoordinateSystemTransformMatrix> outside <DataArray>")
            self.coordsys = GiftiCoordSystem()
            self.da.coordsys = self.coordsys
        elif name in ("DataSpace", "TransformedSpace", "MatrixData"):
            if self.coordsys is None:
                raise GiftiParseError(f"<{name}> outside <CoordinateSystemTransformMatrix>")
        elif name == "Data":
            if self.da is None:
                raise GiftiParseError("<Data> outside <DataArray>")
        if name in _TEXT_ELEMENTS:
            self._text = []
        self.fsm_state.append(name)

    def _start_data_array(self, attrs: dict[str, str]) -> None:
        if self._parent() != "GIFTI":
            raise GiftiParseError(f"<DataArray> inside <{self._parent()}>")
        da = GiftiDataArray()
        da.intent = intent_codes.code[attrs.get("Intent", "NIFTI_INTENT_NONE")]
        if "DataType" in attrs:
            da.datatype = data_type_codes.code[attrs["DataType"]]
        if "ArrayIndexingOrder" in attrs:
            da.ind_ord = array_index_order_codes.code[attrs["ArrayIndexingOrder"]]
        ndim = _int_attr(attrs, "Dimensionality")
        if not 0 <= ndim <= _MAX_DIMS:
            raise GiftiParseError(f"Dimensionality={ndim} is not a number of dimensions")
        dims = [_int_attr(attrs, f"Dim{i}", -1) for i in range(ndim) if f"Dim{i}" in attrs]
        if len(dims) != ndim:
            raise GiftiParseError(f"Dimensionality={ndim} but {len(dims)} DimN attributes")
        if any(d < 0 for d in dims):
            raise GiftiParseError(f"negative dimension in {dims}")
        da.dims = dims
        if "Encoding" in attrs:
            da.encoding = gifti_encoding_codes.code[attrs["Encoding"]]
        if "Endian" in attrs:
            da.endian = gifti_endian_codes.code[attrs["Endian"]]
        da.ext_fname = attrs.get("ExternalFileName", "")
        da.ext_offset = _int_attr(attrs, "ExternalFileOffset")
        assert self.img is not None
        self.img.darrays.append(da)
        self.da = da

    def CharacterDataHandler(self, data: str) -> None:  # noqa: N802
        if self._text is not None:
            self._text.append(data)

    def EndElementHandler(self, name: str) -> None:  # noqa: N802
        if self.verbose > 0:
            print("End element:\n\t", repr(name))
        self.fsm_state.pop()
        text = None
        if name in _TEXT_ELEMENTS:
            text = "".join(self._text or ())
            self._text = None
        assert self.img is not None
        if name == "GIFTI":
            if self.expected_numDA is not None and self.expected_numDA != self.img.numDA:
                warnings.warn("Actual # of data arrays does not match # expected: "
                              f"{self.expected_numDA} != {self.img.numDA}.", stacklevel=2)
        elif name == "MetaData":
            assert self._meta is not None
            if self._parent() == "GIFTI":
                self.img.meta = self._meta
            elif self.da is not None:
                self.da.meta = self._meta
            self._meta = None
        elif name == "MD":
            assert self.nvpair is not None and self._meta is not None
            self._meta[self.nvpair[0]] = self.nvpair[1]
            self.nvpair = None
        elif name == "Name" and self.nvpair is not None:
            self.nvpair[0] = (text or "").strip()
        elif name == "Value" and self.nvpair is not None:
            self.nvpair[1] = (text or "").strip()
        elif name == "LabelTable":
            assert self.lata is not None
            self.img.labeltable = self.lata
            self.lata = None
        elif name == "Label":
            assert self.lata is not None and self.label is not None
            self.label.label = (text or "").strip()
            self.lata.labels.append(self.label)
            self.label = None
        elif name == "DataArray":
            self.da = None
        elif name == "CoordinateSystemTransformMatrix":
            self.coordsys = None
        elif name == "DataSpace" and self.coordsys is not None:
            self.coordsys.dataspace = xform_codes.code[(text or "").strip()]
        elif name == "TransformedSpace" and self.coordsys is not None:
            self.coordsys.xformspace = xform_codes.code[(text or "").strip()]
        elif name == "MatrixData" and self.coordsys is not None:
            values = np.array((text or "").split(), dtype=np.float64)
            if values.size != 16:
                raise GiftiParseError(f"MatrixData holds {values.size} values, not 16")
            self.coordsys.xform = values.reshape(4, 4)
        elif name == "Data" and self.da is not None:
            data: Any = text if text else None
            if self._lifted and text and text.strip().startswith(self._token):
                data = self._lifted[int(text.strip()[len(self._token):-1])]
                self._lifted_used += 1
            self.da.data = read_data_block(self.da, self.fname, data, self.mmap)

    def parse(self, string: bytes | None = None, fname: str | None = None, fptr: Any = None) -> None:
        """Parse one of ``string`` (bytes), ``fname`` (a path) or ``fptr`` (a binary file).

        The document is read whole. The text of each ``<Data>`` element that
        is plain text (no markup, no entity) is lifted out before expat runs
        and decoded straight from the file's bytes: expat then scans kilobytes
        of XML rather than megabytes of base64. Should a lifted block turn
        out not to belong to a ``<Data>`` element (it sat in a comment or a
        CDATA section), the document is parsed again without lifting.
        """
        if (string is not None) + (fptr is not None) + (fname is not None) != 1:
            raise InvalidArgumentError("Exactly one of fptr, fname, string must be specified.")
        if fname is not None:
            self.fname = fname
            with open(fname, "rb") as fobj:
                raw = fobj.read()
        elif fptr is not None:
            if self.fname is None:
                self.fname = getattr(fptr, "name", None)
            raw = fptr.read()
        else:
            raw = bytes(string)  # type: ignore[arg-type]
        doc, blocks, token = _lift_data_blocks(raw)
        if blocks:
            trial = type(self)(self.encoding, self.buffer_size, self.verbose, self.mmap)
            trial.fname, trial._lifted, trial._token = self.fname, blocks, token
            trial._parse_bytes(doc)
            if trial._lifted_used == len(blocks):
                self.img = trial.img
                return
        self._parse_bytes(raw)

    def _parse_bytes(self, raw: bytes) -> None:
        super().parse(string=raw)
        if self.img is None:
            raise self._named(GiftiParseError("no GIFTI element: not a GIFTI file"))
        if self.fsm_state:
            raise self._named(GiftiParseError(f"document ends inside <{self.fsm_state[-1]}>"))
