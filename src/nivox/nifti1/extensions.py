"""NIfTI header extensions: the blocks between the header and the image data.

On disk each extension is ``esize`` (int32), ``ecode`` (int32) and ``esize - 8``
bytes of data, zero-padded so that ``esize`` is a multiple of 16; both integers
follow the byte order of the header. NIfTI-2 uses the same layout.

An extension keeps its payload as raw bytes (``.content``); subclasses decode it
into an object on demand (``get_object()``) and encode objects back. Trailing
NUL bytes are padding by the rules above, so they are dropped on reading, as
nibabel does; every other byte, and every code (known or not), is kept and
written back unchanged.

Reading is tolerant, since extensions never affect the image data: a block
that is not a multiple of 16 bytes, or that runs past the space the header
leaves for extensions, is read as nibabel reads it, with a warning; a block
too small to hold its own size and code, or cut short by the end of the file,
ends the reading with a :class:`~nivox.errors.HeaderFixWarning` and keeps the
extensions read so far (the NIfTI reference library also stops there; nibabel
raises).
"""

from __future__ import annotations

import io
import json
import operator
import struct
from typing import Any, BinaryIO

from ..errors import (
    ArgumentTypeError, HeaderDataError, InvalidArgumentError, MissingDependencyError,
)
from ..volumeutils import Recoder, native_code, swapped_code

__all__ = [
    "NiftiExtension",
    "Nifti1Extension",
    "Nifti1DicomExtension",
    "Nifti1Extensions",
    "extension_codes",
]

_UNSET: Any = object()
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
# Payloads are read in pieces of at most this size so that a corrupt esize
# cannot make us allocate gigabytes before finding out the file is shorter.
_READ_CHUNK = 1 << 20


def _as_code(code: Any) -> int:
    """The integer extension code for an integer or a label of ``extension_codes``.

    'unknown' is code 0 too (the table calls it 'ignore'): nibabel code uses both.
    """
    if code in extension_codes:
        return int(extension_codes.code[code])
    if code == "unknown":
        return 0
    try:
        value = operator.index(code)
    except TypeError:
        raise HeaderDataError(f"unknown NIfTI extension code {code!r}") from None
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise HeaderDataError(f"NIfTI extension code {value} does not fit in an int32")
    return value


def _as_bytes(content: Any) -> bytes:
    """Bytes from bytes-like content; text is stored as UTF-8."""
    if isinstance(content, str):
        return content.encode("utf-8")
    try:
        return bytes(memoryview(content))
    except TypeError:
        raise ArgumentTypeError(
            f"extension content must be bytes, not {type(content).__name__}"
        ) from None


class NiftiExtension:
    """One NIfTI header extension: an integer code and a raw byte payload.

    Parameters
    ----------
    code : int or str
        Extension code, or its label in ``extension_codes`` (``'comment'``).
    content : bytes or str, optional
        The payload as stored in the file (without padding). Text is kept as
        given for ``get_content()`` and stored as UTF-8.
    object : optional
        A decoded payload; subclasses that know how to encode it (see
        ``get_object``) store it as ``content``. Overrides ``content``.
    """

    #: The integer code; a class-level value is the default of ``from_bytes`` / ``from_object``.
    code: int
    #: Text encoding of the payload for ``text``; None means UTF-8.
    encoding: str | None = None

    def __init__(self, code: int | str, content: bytes | str = b"", object: Any = None) -> None:
        self.code = _as_code(code)
        self._object = _UNSET
        if object is not None:
            self._raw: bytes | str = self._mangle(object)
            self._object = object
        else:
            # text stays text until written, so the classic extension gives it back as given
            self._raw = content if isinstance(content, str) else _as_bytes(content)

    @property
    def _content(self) -> Any:
        """The decoded payload (the name nibabel's older extension subclasses use)."""
        return self.get_object()

    @classmethod
    def from_bytes(cls, content: bytes) -> NiftiExtension:
        """An extension of this class's ``code`` holding ``content``."""
        if not isinstance(getattr(cls, "code", None), int):
            raise NotImplementedError(f"{cls.__name__}.from_bytes needs a class attribute `code`")
        return cls(cls.code, content)

    @classmethod
    def from_object(cls, obj: Any) -> NiftiExtension:
        """An extension of this class's ``code`` holding the encoded ``obj``."""
        if not isinstance(getattr(cls, "code", None), int):
            raise NotImplementedError(f"{cls.__name__}.from_object needs a class attribute `code`")
        return cls(cls.code, object=obj)

    def _mangle(self, obj: Any) -> bytes:
        """Encode a payload object as bytes; the generic extension has no object form."""
        raise NotImplementedError(
            f"{type(self).__name__} has no object form; pass bytes as content or use a subclass"
        )

    def _unmangle(self, content: Any) -> Any:
        """Decode the payload (bytes, or text given as content) into an object."""
        raise NotImplementedError(
            f"{type(self).__name__} has no object form; use .content, .text or .json()"
        )

    @property
    def content(self) -> bytes:
        """The payload bytes, without padding."""
        obj = self._object
        if obj is _UNSET or isinstance(obj, (bytes, str)):
            return _as_bytes(self._raw)
        # A decoded object may be mutable (a DICOM data set); encode it again
        # so that changes made to it are what gets written.
        return _as_bytes(self._mangle(obj))

    @property
    def text(self) -> str:
        """The payload decoded as text (``encoding``, UTF-8 by default)."""
        return self.content.decode(self.encoding or "utf-8")

    def json(self) -> Any:
        """The payload parsed as JSON."""
        return json.loads(self.content)

    def get_object(self) -> Any:
        """The payload decoded by this extension class (decoded once, then kept)."""
        if self._object is _UNSET:
            self._object = self._unmangle(self._raw)
        return self._object

    def get_content(self) -> Any:
        """The decoded payload; same as ``get_object``."""
        return self.get_object()

    def get_code(self) -> int:
        """The integer extension code."""
        return self.code

    def get_sizeondisk(self) -> int:
        """Bytes this extension takes in a file: ``esize``, a multiple of 16."""
        return (len(self.content) + 8 + 15) // 16 * 16

    def write_to(self, fileobj: BinaryIO, byteswap: bool = False) -> None:
        """Write esize, ecode and the zero-padded payload to ``fileobj``.

        ``byteswap`` writes the integers in the non-native byte order.
        """
        content = self.content
        esize = (len(content) + 8 + 15) // 16 * 16
        order = swapped_code if byteswap else native_code
        padding = b"\0" * (esize - 8 - len(content))
        fileobj.write(struct.pack(order + "ii", esize, self.code) + content + padding)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, NiftiExtension)
        return (self.code, self.content) == (other.code, other.content)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        label = extension_codes.label.get(self.code, self.code)
        return f"{type(self).__name__}({label}, {self.content!r})"


class Nifti1Extension(NiftiExtension):
    """An extension whose decoded payload is its bytes (nibabel's classic extension)."""

    code = 0

    def _mangle(self, obj: Any) -> bytes:
        return _as_bytes(obj)

    def _unmangle(self, content: Any) -> Any:
        return content


def _looks_implicit_vr(raw: bytes) -> bool:
    """Whether a raw DICOM data set uses implicit VR.

    Explicit-VR elements carry a two-letter VR right after the 4-byte tag.
    """
    vr = raw[4:6]
    return not (len(vr) == 2 and vr.isalpha() and vr.isupper())


def _is_dicom_dataset(obj: Any) -> bool:
    """Whether ``obj`` is a pydicom Dataset; without pydicom, MissingDependencyError."""
    try:
        from pydicom.dataset import Dataset
    except ImportError:
        raise MissingDependencyError(
            "a DICOM extension from a data set needs pydicom: pip install pydicom"
        ) from None
    return isinstance(obj, Dataset)


class Nifti1DicomExtension(Nifti1Extension):
    """An extension holding DICOM attributes (code 2).

    The payload stays raw bytes. ``get_content()`` decodes it into a pydicom
    ``Dataset`` when pydicom is installed and returns the bytes otherwise, so
    reading and rewriting files never needs pydicom.

    Parameters
    ----------
    code : int or str
        Extension code (2, ``'dicom'``).
    content : bytes or pydicom Dataset, optional
        The raw DICOM data set, or a Dataset to encode (needs pydicom).
    parent_hdr : header, optional
        Header the extension belongs to; its ``endianness`` gives the byte
        order of the data set (little endian by default).
    """

    code = 2

    def __init__(self, code: int | str, content: Any = None, parent_hdr: Any = None) -> None:
        if _as_code(code) != 2:
            raise InvalidArgumentError(f"code must be 2 for DICOM. Got {code}.")
        endianness = getattr(parent_hdr, "endianness", "<")
        self._is_little_endian = endianness in ("<", "little")
        if content is None:
            content = b""
        if isinstance(content, (bytes, bytearray, memoryview)):
            self._is_implicit_VR = _looks_implicit_vr(bytes(content))
            super().__init__(code, content)
        elif not _is_dicom_dataset(content):
            raise ArgumentTypeError("content must be either a bytestring or a pydicom Dataset. "
                            f"Got {type(content)}")
        else:
            # a data set made in Python is written with explicit VRs, as nibabel does
            self._is_implicit_VR = False
            super().__init__(code, object=content)

    @classmethod
    def from_object(cls, obj: Any) -> NiftiExtension:
        """A DICOM extension holding the encoded data set ``obj``."""
        return cls(cls.code, obj)

    def _mangle(self, obj: Any) -> bytes:
        if isinstance(obj, (bytes, bytearray, memoryview)):
            return bytes(obj)
        try:
            from pydicom.filebase import DicomBytesIO
            from pydicom.filewriter import write_dataset
        except ImportError:
            raise MissingDependencyError(
                "encoding a DICOM data set needs pydicom: pip install pydicom"
            ) from None
        buffer = DicomBytesIO()
        buffer.is_little_endian = self._is_little_endian
        buffer.is_implicit_VR = self._is_implicit_VR
        write_dataset(buffer, obj)
        return bytes(buffer.getvalue())

    def _unmangle(self, content: bytes) -> Any:
        try:
            from pydicom.filereader import read_dataset
        except ImportError:
            return content
        return read_dataset(io.BytesIO(content), self._is_implicit_VR, self._is_little_endian)


# Handlers follow nibabel: the classic extension for the early codes and MRS,
# the generic one (no object form) for the others. The CIFTI-2 module may
# replace the handler of code 32 with ``extension_codes.add_codes``.
extension_codes = Recoder(
    (
        (0, "ignore", Nifti1Extension),
        (2, "dicom", Nifti1DicomExtension),
        (4, "afni", Nifti1Extension),
        (6, "comment", Nifti1Extension),
        (8, "xcede", Nifti1Extension),
        (10, "jimdiminfo", Nifti1Extension),
        (12, "workflow_fwds", Nifti1Extension),
        (14, "freesurfer", Nifti1Extension),
        (16, "pypickle", Nifti1Extension),
        (18, "mind_ident", NiftiExtension),
        (20, "b_value", NiftiExtension),
        (22, "spherical_direction", NiftiExtension),
        (24, "dt_component", NiftiExtension),
        (26, "shc_degreeorder", NiftiExtension),
        (28, "voxbo", NiftiExtension),
        (30, "caret", NiftiExtension),
        (32, "cifti", Nifti1Extension),
        (34, "variable_frame_timing", NiftiExtension),
        (36, "unassigned", NiftiExtension),
        (38, "eval", NiftiExtension),
        (40, "matlab", NiftiExtension),
        (42, "quantiphyse", NiftiExtension),
        (44, "mrs", Nifti1Extension),
    ),
    fields=("code", "label", "handler"),
)


def _report(fileobj: Any, problem: str, fix: str) -> None:
    """Report an extension problem through the validation mode (warn, raise or ignore)."""
    from ..validation import current_source, report_problem

    where = "" if current_source() else _source(fileobj)
    report_problem(f"{problem}{where}", fix_msg=fix)


def _read_upto(fileobj: BinaryIO, nbytes: int) -> bytes:
    """Up to ``nbytes`` bytes from ``fileobj``, fewer only at the end of the file."""
    if nbytes <= _READ_CHUNK:
        return fileobj.read(nbytes)
    pieces = []
    while nbytes > 0:
        piece = fileobj.read(min(nbytes, _READ_CHUNK))
        if not piece:
            break
        pieces.append(piece)
        nbytes -= len(piece)
    return b"".join(pieces)


def _source(fileobj: Any) -> str:
    name = getattr(fileobj, "name", None)
    return f" in {name}" if isinstance(name, str) else ""


class Nifti1Extensions(list):
    """The extensions of one header, in file order."""

    def count(self, ecode: Any) -> int:  # type: ignore[override]
        """How many extensions have code ``ecode`` (an integer or a label)."""
        code = _as_code(ecode)
        return sum(ext.get_code() == code for ext in self)

    def get_codes(self) -> list[int]:
        """The code of each extension, in order."""
        return [ext.get_code() for ext in self]

    def get_sizeondisk(self) -> int:
        """Bytes all the extensions take in a file."""
        return sum(ext.get_sizeondisk() for ext in self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(repr(ext) for ext in self)})"

    def write_to(self, fileobj: BinaryIO, byteswap: bool) -> None:
        """Write every extension to ``fileobj`` (``byteswap``: non-native byte order)."""
        buffer = io.BytesIO()
        for ext in self:
            ext.write_to(buffer, byteswap)
        fileobj.write(buffer.getvalue())

    @classmethod
    def from_fileobj(cls, fileobj: BinaryIO, size: int, byteswap: bool) -> Nifti1Extensions:
        """Read extensions from ``fileobj`` until ``size`` bytes are used.

        Parameters
        ----------
        fileobj : file-like
            Positioned at the first extension (after the 4 ``extension`` bytes).
        size : int
            Bytes available for extensions; negative means up to the end of
            the file (a ``.hdr`` of a pair). Fewer than 16 bytes hold none.
        byteswap : bool
            Whether the file's byte order is the non-native one.
        """
        order = swapped_code if byteswap else native_code
        to_eof = size < 0
        remaining = int(size)
        extensions = cls()

        def stop(problem: str) -> None:
            _report(fileobj, problem, "ignoring it and any later extensions")

        while to_eof or remaining >= 16:
            head = fileobj.read(8)
            if to_eof and not head:
                break
            if len(head) < 8:
                stop(f"NIfTI extension header cut short after {len(head)} of 8 bytes")
                break
            esize, ecode = struct.unpack(order + "ii", head)
            if esize < 8:
                stop(f"NIfTI extension size {esize} is smaller than its own 8-byte header")
                break
            if esize % 16:
                _report(fileobj, f"NIfTI extension size {esize} is not a multiple of 16",
                        "reading it as given")
            if not to_eof and esize > remaining:
                _report(fileobj, f"NIfTI extension of {esize} bytes runs past the {remaining} "
                        "bytes left before the image data", "reading it as given")
            payload = _read_upto(fileobj, esize - 8)
            if len(payload) < esize - 8:
                stop(
                    f"NIfTI extension of {esize} bytes cut short by the end of the file "
                    f"({len(payload)} of {esize - 8} payload bytes)"
                )
                break
            handler = extension_codes.handler.get(ecode, Nifti1Extension)
            extension = handler(ecode, payload.rstrip(b"\0"))
            if isinstance(extension, Nifti1DicomExtension):
                extension._is_little_endian = order == "<"
            extensions.append(extension)
            remaining -= esize
        return extensions
