"""The MGH header: its binary layout, data type table and :class:`MGHHeader`.

Split from :mod:`.mghformat`, which re-exports every name (users import them from there).
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import IO, Any, ClassVar

import numpy as np

from .. import validation as _validation
from ..affines import from_matvec
from ..batteryrunners import BatteryRunner, Report
from ..errors import HeaderDataError, ImageFileError, MGHError, NivoxWarning
from ..spatialimages import SpatialHeader
from ..validation import handle_reports
from ..volumeutils import Recoder, array_from_file, endian_codes
from ..wrapstruct import LabeledWrapStruct
from ._mghfooter import (
    PendingFooter,
    read_after_data,
)
from ._mghtags import MGHTag, drop_tags, parse_tags

_logger = logging.getLogger("nivox.global")
TAG_MRI_FRAME = 42

#: where the data start in every MGH file
DATA_OFFSET = 284

header_dtd = [
    ("version", ">i4"),
    ("dims", ">i4", (4,)),
    ("type", ">i4"),
    ("dof", ">i4"),
    ("goodRASFlag", ">i2"),
    ("delta", ">f4", (3,)),
    ("Mdc", ">f4", (3, 3)),  # stored transposed: rows are the x, y, z direction cosines
    ("Pxyz_c", ">f4", (3,)),
]
footer_dtd = [
    ("tr", ">f4"),
    ("flip_angle", ">f4"),
    ("te", ">f4"),
    ("ti", ">f4"),
    ("fov", ">f4"),
]
header_dtype = np.dtype(header_dtd)
footer_dtype = np.dtype(footer_dtd)
hf_dtype = np.dtype(header_dtd + footer_dtd)

# code, label, on-disk dtype, bytes per voxel, FreeSurfer name, then aliases. The
# codes are FreeSurfer's (include/mri.h); these are the ones its mghRead reads, with
# the layout it reads them in (utils/mriio.cpp): one big-endian value per voxel, and
# MRI_FLOAT_COMPLEX a big-endian float32 real part then imaginary part (numpy's
# '>c8'). MRI_TENSOR is float32 data with 9 frames whatever the header says.
# Every value of a row is also a lookup alias and later rows win, so MRI_TENSOR
# comes before MRI_FLOAT: float32 data (and '>f4') select MRI_FLOAT, and
# MRI_TENSOR is chosen by its code or names only.
_dtdefs = (
    (0, "uint8", ">u1", "1", "MRI_UCHAR", np.uint8, np.dtype("u1"), np.dtype(">u1")),
    (1, "int32", ">i4", "4", "MRI_INT", np.int32, np.dtype("i4"), np.dtype(">i4")),
    (6, "tensor", ">f4", "4", "MRI_TENSOR", np.float32, np.dtype("f4"), np.dtype(">f4")),
    (3, "float", ">f4", "4", "MRI_FLOAT", np.float32, np.dtype("f4"), np.dtype(">f4")),
    (4, "int16", ">i2", "2", "MRI_SHORT", np.int16, np.dtype("i2"), np.dtype(">i2")),
    (7, "complex64", ">c8", "8", "MRI_FLOAT_COMPLEX", np.complex64, np.dtype("c8"), np.dtype(">c8")),
    (10, "uint16", ">u2", "2", "MRI_USHRT", np.uint16, np.dtype("u2"), np.dtype(">u2")),
)
data_type_codes = Recoder(
    _dtdefs,
    fields=("code", "label", "dtype", "bytespervox", "mritype", "np_dtype1", "np_dtype2", "numpy_dtype"),
)

# the MGH type that holds every value of a type MGH does not store (when converting images)
_NEAREST = {"b": np.uint8, "i1": np.int16, "u4": np.int32, "i8": np.int32, "u8": np.int32,
            "f2": np.float32, "f8": np.float32, "f16": np.float32,
            "c16": np.complex64, "c32": np.complex64}

#: MRI_TENSOR: the frames FreeSurfer reads, whatever the header's fourth dimension
TENSOR_CODE, TENSOR_FRAMES = 6, 9

# FreeSurfer type codes (include/mri.h) its own mghRead refuses ("unsupported type"),
# so no file of them has a layout a FreeSurfer tool reads or writes
_UNREADABLE_TYPES = {
    2: ("MRI_LONG", "its width is the writing machine's C long (4 or 8 bytes)"),
    5: ("MRI_BITMAP", "its bit layout is not defined"),
    8: ("MRI_DOUBLE_COMPLEX", "no FreeSurfer tool writes it"),
    9: ("MRI_RGB", "no FreeSurfer tool writes it"),
}

_DEFAULT_MDC = [[-1, 0, 0], [0, 0, 1], [0, -1, 0]]


def mgh_dtype_for(dtype: Any) -> np.dtype:
    """The MGH data type an image of ``dtype`` is written in: its own if MGH stores it.

    Otherwise the nearest: bool as uint8, int8 as int16, wider integers as
    int32 (values that do not fit are refused when written), other floats
    as float32, other complex types as complex64 (MRI_FLOAT_COMPLEX).
    """
    dtype = np.dtype(dtype)
    if dtype.newbyteorder("=") in data_type_codes:
        return np.dtype(dtype.newbyteorder("=").type)
    key = "b" if dtype.kind == "b" else f"{dtype.kind}{dtype.itemsize}"
    if key in _NEAREST:
        return np.dtype(_NEAREST[key])
    raise HeaderDataError(f"MGH stores no data of type {dtype}")


class MGHHeader(LabeledWrapStruct, SpatialHeader):
    """The MGH header: the fixed block before the data, and the scan parameters after them.

    ``binaryblock`` is those 110 bytes (as nibabel's). The tagged blocks
    after the scan parameters are :attr:`tags` (bytes, kept as read).
    """

    template_dtype: ClassVar[np.dtype] = hf_dtype
    _hdrdtype: ClassVar[np.dtype] = header_dtype
    _ftrdtype: ClassVar[np.dtype] = footer_dtype
    _data_type_codes: ClassVar[Recoder] = data_type_codes

    def __init__(self, binaryblock: bytes | None = None, check: bool = True) -> None:
        full = self.template_dtype.itemsize
        if binaryblock is not None and len(binaryblock) >= self._hdrdtype.itemsize:
            # scan parameters are optional in files: missing ones read as 0
            binaryblock = bytes(binaryblock[:full]) + b"\x00" * (full - len(binaryblock))
        self._pending: PendingFooter | None = None
        self._tags = b""
        self._tags_frames = 1  # frames the tags were written for (MRI_FRAME has one entry each)
        super().__init__(binaryblock, endianness=">", check=False)
        if not self._fixed["goodRASFlag"]:
            self._set_affine_default()
        if check:
            self.check_fix()

    # ---- checks --------------------------------------------------------------

    @staticmethod
    def chk_version(hdr: Any, fix: bool = False) -> tuple[Any, Report]:
        """The version must be 1."""
        report = Report(HeaderDataError)
        if hdr["version"] != 1:
            report = Report(HeaderDataError, 40, "Unknown MGH format version")
            if fix:
                hdr["version"] = 1
        return hdr, report

    @classmethod
    def _get_checks(cls) -> tuple[Any, ...]:
        return (cls.chk_version,)

    def check_fix(self, logger: logging.Logger = _logger, error_level: int | None = None) -> None:
        """Fix and report as every header does; the checks fix in place, so the part after
        the data is not read for them."""
        battery = BatteryRunner(self._get_checks())
        _, reports = battery.check_fix(self)
        handle_reports(reports, log=logger, error_level=error_level, remaining=lambda: battery.check_only(self))

    @classmethod
    def diagnose_binaryblock(cls, binaryblock: bytes, endianness: str | None = None) -> str:
        if endianness is not None and endian_codes[endianness] != ">":
            raise ImageFileError("MGHHeader must always be big endian")
        header = cls(binaryblock, check=False)
        reports = BatteryRunner(cls._get_checks()).check_only(header)
        return "\n".join(r.message for r in reports if r.message)

    @classmethod
    def may_contain_header(cls, binaryblock: bytes) -> bool:
        """Whether bytes could start an MGH file: a whole header, version 1.

        Nothing more is asked, so that a damaged header is reported by what
        is wrong with it (a zero dimension, an unknown type), not as "not MGH".
        """
        if len(binaryblock) < cls._hdrdtype.itemsize:
            return False
        return int(np.frombuffer(binaryblock, ">i4", 1)[0]) == 1

    # ---- construction ----------------------------------------------------------

    @classmethod
    def from_header(cls, header: Any = None, check: bool = True) -> MGHHeader:
        """A copy of an MGH header (tags included); from another header its dtype, shape and zooms."""
        if type(header) is cls:
            obj = header.copy()
            if check:
                obj.check_fix()
            return obj
        obj = cls(check=check)
        if header is None or not hasattr(header, "get_data_shape"):
            return obj
        try:
            obj.set_data_dtype(mgh_dtype_for(header.get_data_dtype()))
            shape = _fit_shape(tuple(header.get_data_shape()))
            obj.set_data_shape(shape)
            zooms = [float(z) for z in header.get_zooms()[: len(shape)]]
            if len(zooms) == 4:
                zooms[3] *= _ms_per_time_unit(header)
            if len(zooms) >= 3 and all(z > 0 for z in zooms[:3]):
                obj.set_zooms(zooms[:4] if len(shape) == 4 and zooms[3:4] and zooms[3] >= 0 else zooms[:3])
        except (HeaderDataError, ValueError):
            pass  # the image's data decide what is written
        return obj

    @classmethod
    def from_fileobj(cls, fileobj: IO[bytes], check: bool = True,  # type: ignore[override]
                     footer_source: Any = None) -> MGHHeader:
        """Read the header, then the scan parameters and tags after the data.

        With ``footer_source`` (a file name), what follows the data is read
        from that file when first asked for instead: in a compressed file,
        reaching it means decompressing all the data.
        """
        raw = fileobj.read(cls._hdrdtype.itemsize)
        if len(raw) < cls._hdrdtype.itemsize:
            raise MGHError(_validation.named(f"file holds {len(raw)} bytes, an MGH header needs "
                                             f"{cls._hdrdtype.itemsize}"))
        fixed = np.ndarray((), cls._hdrdtype, raw)
        dims = [int(d) for d in fixed["dims"]]
        if not all(dims):
            raise MGHError(_validation.named("Dimensions of the data should be non-zero"))
        if any(d < 0 for d in dims):
            raise MGHError(_validation.named(f"negative dimensions {dims}"))
        code = int(fixed["type"])
        if code in _UNREADABLE_TYPES:
            name, why = _UNREADABLE_TYPES[code]
            raise MGHError(_validation.named(
                f"MGH data type code {code} ({name}) is not supported: FreeSurfer's own reader "
                f"refuses it, and {why}"))
        if code not in cls._data_type_codes:
            raise MGHError(_validation.named(f"unknown MGH data type code {code}"))
        if code == TENSOR_CODE and dims[3] != TENSOR_FRAMES:
            # FreeSurfer reads 9 frames (one 3 x 3 tensor per voxel) whatever the header says
            dims[3] = TENSOR_FRAMES
            fixed = fixed.copy()
            fixed["dims"] = dims
            raw = fixed.tobytes()
        nbytes = int(cls._data_type_codes.bytespervox[code]) * math.prod(dims)
        if footer_source is not None:
            header = cls(raw, check=check)
            header._pending = PendingFooter(footer_source, DATA_OFFSET + nbytes, cls._ftrdtype.itemsize,
                                            _validation.current_source(), dims[3])
            return header
        footer, tags = read_after_data(fileobj, DATA_OFFSET + nbytes, cls._ftrdtype.itemsize)
        header = cls(raw + footer, check=check)
        header._tags = tags
        header._tags_frames = dims[3]
        return header

    def copy(self) -> MGHHeader:
        """An independent copy (tags included), not checked again."""
        other = self.__class__(self.__dict__["_structarr_value"].tobytes(), check=False)
        other._tags = self._tags
        other._tags_frames = self._tags_frames
        other._pending = self._pending  # read once, by whichever copy needs it first
        return other

    # ---- tags --------------------------------------------------------------

    @property
    def tags(self) -> bytes:
        """The tagged blocks after the scan parameters, as stored (written back as they are)."""
        self._resolve()
        return self._tags

    @tags.setter
    def tags(self, value: bytes) -> None:
        self._resolve()
        self._tags = bytes(value)
        self._tags_frames = int(self._fixed["dims"][3])

    def get_tags(self) -> list[MGHTag]:
        """The tagged blocks parsed: (tag id, name, bytes); blocks after an unparseable one are left out."""
        return parse_tags(self.tags)[0]

    # ---- the part after the data, read when first needed ----------------------------

    @property
    def _structarr(self) -> np.ndarray:  # type: ignore[override]
        self._resolve()
        return self.__dict__["_structarr_value"]

    @_structarr.setter
    def _structarr(self, value: np.ndarray) -> None:
        self.__dict__["_structarr_value"] = value

    @property
    def _fixed(self) -> np.ndarray:
        """The fields before the data (the structured array, footer not read yet)."""
        return self.__dict__["_structarr_value"]

    def _resolve(self) -> None:
        pending = self.__dict__.get("_pending")
        if pending is None:
            return
        footer, tags = pending.read()
        self._pending = None
        block = self.__dict__["_structarr_value"]
        raw = bytearray(block.tobytes())
        start = self._hdrdtype.itemsize
        raw[start:start + len(footer)] = footer
        self.__dict__["_structarr_value"] = np.ndarray((), block.dtype, raw)
        self._tags = tags
        self._tags_frames = pending.frames

    def __getitem__(self, item: str) -> Any:
        if item in _FIXED_FIELDS:
            return self._fixed[item]
        return self._structarr[item]

    def __setitem__(self, item: str, value: Any) -> None:
        if item in _FIXED_FIELDS:
            self._fixed[item] = value
        else:
            self._structarr[item] = value

    def __getstate__(self) -> dict[str, Any]:
        self._resolve()  # a pending read holds a lock, which does not pickle
        return self.__dict__.copy()

    # ---- geometry ------------------------------------------------------------

    def get_affine(self) -> np.ndarray:
        """The voxel-to-world (scanner RAS) affine from voxel sizes, cosines and centre."""
        hdr = self._fixed
        scaled = hdr["Mdc"].T * hdr["delta"]
        centre_offset = scaled.dot(hdr["dims"][:3]) / 2
        return from_matvec(scaled, hdr["Pxyz_c"] - centre_offset)

    get_best_affine = get_affine

    def get_vox2ras(self) -> np.ndarray:
        """Same as :meth:`get_affine`."""
        return self.get_affine()

    def get_vox2ras_tkr(self) -> np.ndarray:
        """FreeSurfer's tkregister voxel-to-RAS ("Torig"): centred, from voxel sizes alone."""
        ds = self._fixed["delta"]
        half = self._fixed["dims"][:3] * ds / 2.0
        return np.array([[-ds[0], 0, 0, half[0]],
                         [0, 0, ds[2], -half[2]],
                         [0, -ds[1], 0, half[1]],
                         [0, 0, 0, 1]], dtype=np.float32)

    def get_ras2vox(self) -> np.ndarray:
        """The inverse of :meth:`get_affine`."""
        return np.linalg.inv(self.get_affine())

    def _set_affine_default(self) -> None:
        hdr = self._fixed
        hdr["goodRASFlag"] = 1
        hdr["delta"] = 1
        hdr["Mdc"] = _DEFAULT_MDC
        hdr["Pxyz_c"] = 0

    # ---- dtype, shape, zooms -----------------------------------------------

    def get_data_dtype(self) -> np.dtype:
        return self._data_type_codes.numpy_dtype[int(self._fixed["type"])]

    def set_data_dtype(self, datatype: Any) -> None:
        """Set the data type from a code, a label ('float', 'MRI_SHORT') or a numpy dtype."""
        try:
            code = self._data_type_codes[datatype]
        except (KeyError, TypeError):
            code = None
        if code is None:
            try:
                code = self._data_type_codes[np.dtype(datatype)]
            except (KeyError, TypeError):
                raise MGHError(f'datatype dtype "{datatype}" not recognized') from None
        self._fixed["type"] = code

    def _ndims(self) -> int:
        return 3 + int(self._fixed["dims"][3] > 1)

    def get_data_shape(self) -> tuple[int, ...]:
        """The shape: three axes, and frames as a fourth when there is more than one."""
        shape = tuple(int(d) for d in self._fixed["dims"])
        return shape[:3] if shape[3] == 1 else shape

    def set_data_shape(self, shape: Any) -> None:
        """Set the dimensions (at most four; missing ones are 1); voxel sizes return to 1."""
        shape = tuple(shape)
        if len(shape) > 4:
            raise HeaderDataError("Shape may be at most 4 dimensional")
        try:
            values = [int(s) for s in shape]
        except (TypeError, ValueError):
            raise HeaderDataError(f"shape {shape} is not a sequence of integers") from None
        limit = np.iinfo(np.int32).max
        if any(v < 0 or v > limit for v in values):
            raise HeaderDataError(f"shape {shape} does not fit MGH's int32 dimensions")
        self._fixed["dims"] = values + [1] * (4 - len(values))
        self._fixed["delta"] = 1

    def get_zooms(self) -> tuple[float, ...]:
        """Voxel sizes, and TR (ms) as a fourth value when there is more than one frame."""
        frame_zoom = (self["tr"],) if self._ndims() > 3 else ()
        return tuple(self._fixed["delta"]) + frame_zoom

    def set_zooms(self, zooms: Any) -> None:
        """Set voxel sizes (positive) and, as a fourth value, TR (not negative)."""
        zooms = np.asarray(zooms)
        if not 3 <= len(zooms) <= self._ndims():
            raise HeaderDataError(f"Expecting 3 to {self._ndims()} zoom values, got {len(zooms)}")
        if np.any(zooms[:3] <= 0):
            raise HeaderDataError(f"Spatial (first three) zooms must be positive; got {tuple(zooms[:3])}")
        self._fixed["delta"] = zooms[:3]
        if len(zooms) == 4:
            if zooms[3] < 0:
                raise HeaderDataError(f"TR must be non-negative; got {zooms[3]}")
            self["tr"] = zooms[3]

    def get_data_bytespervox(self) -> int:
        return int(self._data_type_codes.bytespervox[int(self._fixed["type"])])

    def get_data_size(self) -> int:
        """Bytes of data in the file."""
        return self.get_data_bytespervox() * math.prod(int(d) for d in self._fixed["dims"])

    def get_data_offset(self) -> int:
        return DATA_OFFSET

    def get_footer_offset(self) -> int:
        """Where the scan parameters start: right after the data."""
        return self.get_data_offset() + self.get_data_size()

    def get_slope_inter(self) -> tuple[None, None]:
        """MGH stores no scaling."""
        return None, None

    def data_from_fileobj(self, fileobj: IO[bytes]) -> np.ndarray:
        return array_from_file(self.get_data_shape(), self.get_data_dtype(), fileobj, self.get_data_offset())

    # ---- byte order: always big-endian ------------------------------------------

    @classmethod
    def guessed_endian(cls, mapping: Any) -> str:
        return ">"

    @property
    def endianness(self) -> str:
        """Always '>': MGH files are big-endian."""
        return ">"

    @classmethod
    def default_structarr(cls, endianness: str | None = None) -> np.ndarray:
        if endianness is not None and endian_codes[endianness] != ">":
            raise ImageFileError("MGHHeader must always be big endian")
        hdr = super().default_structarr(endianness)
        hdr["version"] = 1
        hdr["dims"] = 1
        hdr["type"] = 3
        hdr["goodRASFlag"] = 1
        hdr["delta"] = 1
        hdr["Mdc"] = _DEFAULT_MDC
        return hdr

    def as_byteswapped(self, endianness: str | None = None) -> MGHHeader:
        """A copy when ``endianness`` is big; MGH has no other byte order (ValueError)."""
        if endianness is None or endian_codes[endianness] != ">":
            raise ImageFileError("Cannot byteswap MGHHeader - must always be big endian")
        return self.copy()

    # ---- writing ----------------------------------------------------------------

    def writehdr_to(self, fileobj: IO[bytes]) -> None:
        """Write the fixed header at the start of ``fileobj``, zero-padded to the data offset."""
        fileobj.seek(0)
        fileobj.write(self._header_bytes())

    def writeftr_to(self, fileobj: IO[bytes]) -> None:
        """Write the scan parameters and tags after the data."""
        fileobj.seek(self.get_footer_offset())
        fileobj.write(self._footer_bytes())

    def _header_bytes(self) -> bytes:
        block = self._fixed.tobytes()[: self._hdrdtype.itemsize]
        return block + b"\x00" * (DATA_OFFSET - len(block))

    def _footer_bytes(self) -> bytes:
        tags = self.tags
        frames = int(self._fixed["dims"][3])
        if frames != self._tags_frames:
            # one entry per frame: for another number of frames FreeSurfer would misread it
            tags, dropped = drop_tags(tags, {TAG_MRI_FRAME})
            if dropped:
                warnings.warn(_validation.named(
                    f"the MRI_FRAME tag describes {self._tags_frames} frames, the image has {frames}: "
                    "not written"), NivoxWarning, stacklevel=4)
        return self.binaryblock[self._hdrdtype.itemsize:] + tags


_FIXED_FIELDS = frozenset(header_dtype.names or ())


def _ms_per_time_unit(header: Any) -> float:
    """Milliseconds per unit of ``header``'s fourth zoom (MGH stores TR in ms); seconds when unknown."""
    try:
        unit = header.get_xyzt_units()[1]
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        unit = None
    return {"msec": 1.0, "usec": 1e-3}.get(unit, 1000.0)


def _fit_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` as MGH stores it: at least three axes, extra singleton axes past the fourth dropped.

    Only when every axis past the third is singleton: a trailing singleton after
    frames, (x, y, z, t, 1), is a fifth axis MGH cannot hold (nibabel refuses it too).
    """
    shape = shape + (1,) * (3 - len(shape))
    if len(shape) > 4 and all(n == 1 for n in shape[3:]):
        shape = shape[:4]
    return shape
