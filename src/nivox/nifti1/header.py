"""The NIfTI-1 header: the Analyze layout plus orientation, scaling, units, intents and extensions.

Field by field from the NIfTI-1 standard (nifti1.h). A header knows whether
it is for a single ``.nii`` file (magic ``n+1``, data after the header and
extensions) or for a pair (magic ``ni1``, data in ``.img``).
"""

from __future__ import annotations

import warnings
from typing import IO, Any, ClassVar

import numpy as np

from ..analyze import AnalyzeHeader
from .. import validation as _validation
from ..batteryrunners import Report, report_problem
from ..errors import ArgumentTypeError, HeaderDataError, InvalidArgumentError, UnknownCodeError
from ..volumeutils import Recoder, endian_codes, native_code
from .codes import data_type_codes, intent_codes, slice_order_codes, unit_codes, xform_codes
from .extensions import Nifti1Extensions
from .slicetiming import slice_acquisition_order
from .xforms import qform_affine, qform_parameters, sform_affine

__all__ = ["Nifti1Header", "Nifti1PairHeader", "header_dtype", "header_dtd"]

header_dtd = [
    ("sizeof_hdr", "i4"),
    ("data_type", "S10"),
    ("db_name", "S18"),
    ("extents", "i4"),
    ("session_error", "i2"),
    ("regular", "S1"),
    ("dim_info", "u1"),
    ("dim", "i2", (8,)),
    ("intent_p1", "f4"),
    ("intent_p2", "f4"),
    ("intent_p3", "f4"),
    ("intent_code", "i2"),
    ("datatype", "i2"),
    ("bitpix", "i2"),
    ("slice_start", "i2"),
    ("pixdim", "f4", (8,)),
    ("vox_offset", "f4"),
    ("scl_slope", "f4"),
    ("scl_inter", "f4"),
    ("slice_end", "i2"),
    ("slice_code", "u1"),
    ("xyzt_units", "u1"),
    ("cal_max", "f4"),
    ("cal_min", "f4"),
    ("slice_duration", "f4"),
    ("toffset", "f4"),
    ("glmax", "i4"),
    ("glmin", "i4"),
    ("descrip", "S80"),
    ("aux_file", "S24"),
    ("qform_code", "i2"),
    ("sform_code", "i2"),
    ("quatern_b", "f4"),
    ("quatern_c", "f4"),
    ("quatern_d", "f4"),
    ("qoffset_x", "f4"),
    ("qoffset_y", "f4"),
    ("qoffset_z", "f4"),
    ("srow_x", "f4", (4,)),
    ("srow_y", "f4", (4,)),
    ("srow_z", "f4", (4,)),
    ("intent_name", "S16"),
    ("magic", "S4"),
]
header_dtype = np.dtype(header_dtd)

# FreeSurfer stores an ico7 surface's 163,842 vertices as 27307 x 1 x 6
_ICO7_VERTICES = 163842
_ICO7_STORED = (27307, 1, 6)

_SPACE_UNIT_MASK = 0b00000111
_TIME_UNIT_MASK = 0b00111000


def _code_for(recoder: Recoder, value: Any, what: str) -> int:
    try:
        return int(recoder.code[value])
    except (KeyError, TypeError):
        raise UnknownCodeError(f"{what} {value!r} is not a known code or label") from None


class Nifti1Header(AnalyzeHeader):
    """The header of a single-file NIfTI-1 image (``.nii``)."""

    template_dtype: ClassVar[np.dtype] = header_dtype
    _data_type_codes: ClassVar[Recoder] = data_type_codes
    _field_recoders: ClassVar[dict[str, Recoder]] = {
        "datatype": data_type_codes,
        "qform_code": xform_codes,
        "sform_code": xform_codes,
        "intent_code": intent_codes,
        "slice_code": slice_order_codes,
    }
    has_data_slope: ClassVar[bool] = True
    has_data_intercept: ClassVar[bool] = True
    is_single: ClassVar[bool] = True
    single_magic: ClassVar[bytes] = b"n+1"
    pair_magic: ClassVar[bytes] = b"ni1"
    single_vox_offset: ClassVar[int] = 352
    exts_klass: ClassVar[type] = Nifti1Extensions
    quaternion_threshold: ClassVar[float] = -np.finfo(np.float32).eps * 3
    # FreeSurfer's long-vector and ico7 shape conventions (NIfTI-1 only)
    _freesurfer_shapes: ClassVar[bool] = True
    _format_name: ClassVar[str] = "nifti1"

    def __init__(
        self,
        binaryblock: bytes | None = None,
        endianness: str | None = None,
        check: bool = True,
        extensions: Any = (),
    ) -> None:
        super().__init__(binaryblock, endianness, check)
        self.extensions = self.exts_klass(extensions)

    def copy(self) -> Nifti1Header:
        return self.__class__(self.binaryblock, self.endianness, False, self.extensions)

    @classmethod
    def from_header(cls, header: Any = None, check: bool = True) -> Nifti1Header:
        obj = super().from_header(header, check)
        if type(header) is not cls and hasattr(header, "extensions"):
            obj.extensions = cls.exts_klass(header.extensions)
        return obj

    @classmethod
    def from_fileobj(cls, fileobj: IO[bytes], endianness: str | None = None,
                     check: bool = True) -> Nifti1Header:
        """Read the binary header and any extensions that follow it."""
        raw = fileobj.read(cls.template_dtype.itemsize)
        hdr = cls(raw, endianness, check)
        extension_status = fileobj.read(4)
        if len(extension_status) < 4 or extension_status[0] == 0:
            return hdr
        if hdr.is_single:
            ext_size = hdr.get_data_offset() - fileobj.tell()
        else:
            ext_size = -1  # a pair's extensions run to the end of the .hdr file
        byteswap = endian_codes["native"] != hdr.endianness
        hdr.extensions = cls.exts_klass.from_fileobj(fileobj, ext_size, byteswap)
        return hdr

    def write_to(self, fileobj: IO[bytes]) -> None:
        """Write the header, the extension flag and the extensions."""
        if self.is_single:
            min_offset = self.single_vox_offset + self.extensions.get_sizeondisk()
            offset = self.get_data_offset()
            if offset == 0:
                self["vox_offset"] = min_offset
            elif offset < min_offset:
                raise HeaderDataError(f"vox offset set to {offset}, but need at least {min_offset}")
        super().write_to(fileobj)
        if len(self.extensions) == 0:
            if self.is_single:  # a single file always has the 4-byte flag
                fileobj.write(b"\x00" * 4)
            return
        fileobj.write(b"\x01\x00\x00\x00")
        self.extensions.write_to(fileobj, native_code != self.endianness)

    @classmethod
    def default_structarr(cls, endianness: str | None = None) -> np.ndarray:
        hdr = super().default_structarr(endianness)
        hdr["magic"] = cls.single_magic if cls.is_single else cls.pair_magic
        hdr["scl_slope"] = 1
        return hdr

    def _clean_after_mapping(self) -> None:
        self._structarr["magic"] = self.single_magic if self.is_single else self.pair_magic

    @classmethod
    def may_contain_header(cls, binaryblock: bytes) -> bool:
        """Whether ``binaryblock`` starts with a NIfTI-1 header: the magic decides.

        A wrong sizeof_hdr is left to the check battery (which fixes it with a
        warning), as nibabel does.
        """
        if len(binaryblock) < cls.template_dtype.itemsize:
            return False
        hdr = np.ndarray((), cls.template_dtype, binaryblock[: cls.template_dtype.itemsize])
        return hdr["magic"].item() in (cls.pair_magic, cls.single_magic)

    # ---- shape (NIfTI allows up to 7 dims, dim[0] > 7 is invalid) -----------

    def get_data_shape(self) -> tuple[int, ...]:
        """The data shape, reading FreeSurfer's conventions for long vectors.

        FreeSurfer stores a vector longer than dim's int16 allows as
        ``dim[1:4] = (-1, 1, 1)`` with the length in ``glmin``, and the 163,842
        vertices of an ico7 surface as ``27307 x 1 x 6``.
        """
        dims = self._structarr["dim"]
        ndims = int(dims[0])
        if ndims > 7 or ndims < 0:
            raise HeaderDataError(f"dim[0] should be between 0 and 7, not {ndims}")
        shape = super().get_data_shape()
        if not self._freesurfer_shapes:
            return shape
        if shape[:3] == (-1, 1, 1):
            length = int(self._structarr["glmin"])
            if length <= 0:
                raise HeaderDataError(f"-1 in dim[1] but {length} in glmin; "
                                      "inconsistent FreeSurfer long-vector header?")
            return (length, 1, 1) + shape[3:]
        if shape[:3] == _ICO7_STORED:
            return (_ICO7_VERTICES, 1, 1) + shape[3:]
        return shape

    def set_data_shape(self, shape: Any) -> None:
        """Set the data shape; vectors too long for dim are stored as FreeSurfer does.

        A shape ``(n, 1, 1, ...)`` with ``n`` over 32,767 gets ``dim[1] = -1``
        and ``glmin = n`` (with a warning: SPM and FSL cannot read it), and
        ``(163842, 1, 1, ...)`` becomes ``(27307, 1, 6, ...)``; both read back as
        given. NIfTI-2 headers, whose dims are 64-bit, need neither.
        """
        shape = tuple(shape)
        if not self._freesurfer_shapes:
            super().set_data_shape(shape)
            return
        if shape[:3] == (_ICO7_VERTICES, 1, 1):
            super().set_data_shape(_ICO7_STORED + shape[3:])
            return
        dim_max = np.iinfo(self._structarr["dim"].dtype).max
        if len(shape) >= 3 and tuple(shape[1:3]) == (1, 1) and _as_int(shape[0]) > dim_max:
            length = int(shape[0])
            if length > np.iinfo(self._structarr["glmin"].dtype).max:
                raise HeaderDataError(f"shape[0] {length} does not fit in glmin datatype")
            warnings.warn("Using large vector FreeSurfer hack; header will not be compatible "
                          "with SPM or FSL", stacklevel=2)
            self._set_long_vector(length, shape)
            return
        if len(shape) >= 3 and tuple(shape[:3]) == (-1, 1, 1):
            # a header marked as a long vector; the length stays in glmin
            self._set_long_vector(None, shape)
            return
        super().set_data_shape(shape)

    def _set_long_vector(self, length: int | None, shape: tuple[Any, ...]) -> None:
        super().set_data_shape((1,) + tuple(shape[1:]))
        self._structarr["dim"][1] = -1
        if length is not None:
            self._structarr["glmin"] = length

    def set_data_dtype(self, datatype: Any) -> None:
        """Set the on-disk data type; ``int`` and ``'int'`` are refused as ambiguous.

        They mean int64 to numpy, which is almost never what is wanted on
        disk; name a sized type (``np.int16``, ``'uint8'``) instead.
        """
        if not isinstance(datatype, np.dtype) and (datatype is int or
                                                   (isinstance(datatype, str) and datatype == "int")):
            raise InvalidArgumentError(f"Invalid data type {datatype!r}. Specify a sized integer, "
                             "e.g., 'uint8' or numpy.int16.")
        super().set_data_dtype(datatype)

    # ---- affines -----------------------------------------------------------

    def get_qform_quaternion(self) -> np.ndarray:
        """The qform quaternion (w, x, y, z) with w computed from the stored b, c, d."""
        from ..quaternions import fillpositive

        bcd = [self._structarr[f"quatern_{c}"] for c in "bcd"]
        return fillpositive(np.array(bcd, dtype=np.float64), self.quaternion_threshold)

    def get_qform(self, coded: bool = False) -> Any:
        """The qform affine; with ``coded``, (affine or None when code is 0, code)."""
        hdr = self._structarr
        code = int(hdr["qform_code"])
        if code == 0 and coded:
            return None, 0
        if np.any(hdr["pixdim"][1:4] < 0):
            raise HeaderDataError("pixdims[1,2,3] should be positive")
        bcd = np.array([hdr["quatern_b"], hdr["quatern_c"], hdr["quatern_d"]])
        offset = np.array([hdr["qoffset_x"], hdr["qoffset_y"], hdr["qoffset_z"]])
        affine = qform_affine(bcd, hdr["pixdim"][1:4], float(hdr["pixdim"][0]), offset,
                              self.quaternion_threshold)
        return (affine, code) if coded else affine

    def set_qform(self, affine: Any, code: Any = None, strip_shears: bool = True) -> None:
        """Store ``affine`` as the qform (None only sets the code: to ``code``, or 0).

        ``code`` None keeps a non-zero current code, else uses 'aligned'.
        Shears cannot be stored in a qform: they are stripped, or refused when
        ``strip_shears`` is False.
        """
        affine, code = self._xform_to_set("qform_code", affine, code)
        if affine is None:
            return
        hdr = self._structarr
        bcd, zooms, qfac, offset = qform_parameters(affine, strip_shears)
        hdr["qform_code"] = code
        hdr["quatern_b"], hdr["quatern_c"], hdr["quatern_d"] = bcd
        hdr["qoffset_x"], hdr["qoffset_y"], hdr["qoffset_z"] = offset
        hdr["pixdim"][0] = qfac
        hdr["pixdim"][1:4] = zooms

    def get_sform(self, coded: bool = False) -> Any:
        """The sform affine; with ``coded``, (affine or None when code is 0, code)."""
        hdr = self._structarr
        code = int(hdr["sform_code"])
        if code == 0 and coded:
            return None, 0
        affine = sform_affine(hdr["srow_x"], hdr["srow_y"], hdr["srow_z"])
        return (affine, code) if coded else affine

    def set_sform(self, affine: Any, code: Any = None) -> None:
        """Store ``affine`` as the sform (None only sets the code: to ``code``, or 0)."""
        affine, code = self._xform_to_set("sform_code", affine, code)
        if affine is None:
            return
        hdr = self._structarr
        hdr["sform_code"] = code
        hdr["srow_x"] = affine[0]
        hdr["srow_y"] = affine[1]
        hdr["srow_z"] = affine[2]

    def _xform_to_set(self, field: str, affine: Any, code: Any) -> tuple[np.ndarray | None, int]:
        """Checked (affine, code) for set_qform/set_sform; a None affine only sets the code, here.

        ``code`` None keeps a non-zero current code, else uses 'aligned' (2).
        """
        if code is None:
            code = 0 if affine is None else (int(self._structarr[field]) or 2)
        else:
            code = _code_for(xform_codes, code, field.replace("_", " "))
        if affine is None:
            # only the code changes; the stored transform stays as it is
            self._structarr[field] = code
            return None, code
        affine = np.asarray(affine)
        if affine.shape != (4, 4):
            raise ArgumentTypeError("Need 4x4 affine to set")
        return affine, code

    def get_best_affine(self) -> np.ndarray:
        """The sform if its code is set, else the qform if its code is set, else from zooms."""
        if int(self._structarr["sform_code"]) != 0:
            return self.get_sform()
        if int(self._structarr["qform_code"]) != 0:
            return self.get_qform()
        return self.get_base_affine()

    # ---- scaling -----------------------------------------------------------

    def get_slope_inter(self) -> tuple[float | None, float | None]:
        """(slope, inter); (None, None) when the slope is 0, NaN or infinite (no scaling)."""
        slope = float(self._structarr["scl_slope"])
        inter = float(self._structarr["scl_inter"])
        if slope == 0 or not np.isfinite(slope):
            return None, None
        if not np.isfinite(inter):
            raise HeaderDataError(f"Valid slope but invalid intercept {inter}")
        return slope, inter

    def set_slope_inter(self, slope: float | None, inter: float | None = None) -> None:
        """Set scaling; None means NaN (unscaled). Slope and intercept are NaN together or not at all."""
        slope = np.nan if slope is None else slope
        inter = np.nan if inter is None else inter
        if slope in (0, -np.inf, np.inf):
            raise HeaderDataError("Slope cannot be 0 or infinite")
        if inter in (-np.inf, np.inf):
            raise HeaderDataError("Intercept cannot be infinite")
        if np.isnan(slope) ^ np.isnan(inter):
            raise HeaderDataError("None or both of slope, inter should be nan")
        self._structarr["scl_slope"] = slope
        self._structarr["scl_inter"] = inter

    # ---- dim_info, units, intent -------------------------------------------

    def get_dim_info(self) -> tuple[int | None, int | None, int | None]:
        """Axes (0-based, or None) of frequency encoding, phase encoding and slices."""
        info = int(self._structarr["dim_info"])
        fields = (info & 3, (info >> 2) & 3, (info >> 4) & 3)
        return tuple(f - 1 if f else None for f in fields)  # type: ignore[return-value]

    def set_dim_info(self, freq: int | None = None, phase: int | None = None,
                     slice: int | None = None) -> None:  # noqa: A002 - nibabel's argument name
        """Set which axes are frequency, phase and slice (each 0, 1, 2 or None)."""
        for axis in (freq, phase, slice):
            if axis not in (None, 0, 1, 2):
                raise HeaderDataError("Inputs must be in [None, 0, 1, 2]")
        info = 0
        for shift, axis in ((0, freq), (2, phase), (4, slice)):
            if axis is not None:
                info |= (axis + 1) << shift
        self._structarr["dim_info"] = info

    def get_xyzt_units(self) -> tuple[str, str]:
        """Labels of the space and time units, like ('mm', 'sec')."""
        units = int(self._structarr["xyzt_units"])
        return _unit_label(units & _SPACE_UNIT_MASK), _unit_label(units & _TIME_UNIT_MASK)

    def set_xyzt_units(self, xyz: Any = None, t: Any = None) -> None:
        """Set space and time units from codes or labels (None means unknown)."""
        xyz_code = 0 if xyz is None else _code_for(unit_codes, xyz, "space unit")
        t_code = 0 if t is None else _code_for(unit_codes, t, "time unit")
        if xyz_code & ~_SPACE_UNIT_MASK:
            raise HeaderDataError(f"{xyz!r} is not a unit of space")
        if t_code & ~_TIME_UNIT_MASK:
            raise HeaderDataError(f"{t!r} is not a unit of time")
        self._structarr["xyzt_units"] = xyz_code | t_code

    def get_intent(self, code_repr: str = "label") -> tuple[Any, tuple[float, ...], str]:
        """(intent label or code, the intent's parameters, intent name)."""
        if code_repr not in ("label", "code"):
            raise ArgumentTypeError('repr can be "label" or "code"')
        code = int(self._structarr["intent_code"])
        known = code in intent_codes
        n_params = len(intent_codes.parameters[code]) if known else 0
        params = tuple(float(self._structarr[f"intent_p{i + 1}"]) for i in range(n_params))
        name = self._structarr["intent_name"].item().decode("latin-1")
        if code_repr == "code":
            return code, params, name
        if not known:
            return f"unknown code {code}", params, name
        return intent_codes.label[code], params, name

    def set_intent(self, code: Any, params: Any = (), name: str = "",
                   allow_unknown: bool = False) -> None:
        """Set intent code (or label), its parameters (all of them or none) and name."""
        params = tuple(params)
        if allow_unknown and code not in intent_codes:
            if not isinstance(code, (int, np.integer)):
                raise UnknownCodeError(f"intent {code!r} is not a known code or label")
            icode = int(code)
            if len(params) not in (0, 3):
                raise HeaderDataError("An unknown intent needs no parameters, or all 3")
        else:
            icode = _code_for(intent_codes, code, "intent")
            wanted = intent_codes.parameters[icode]
            if params and len(params) != len(wanted):
                raise HeaderDataError(f"Need params of form {wanted}, or empty")
        values = list(params) + [0.0] * (3 - len(params))
        hdr = self._structarr
        hdr["intent_code"] = icode
        hdr["intent_name"] = name
        hdr["intent_p1"], hdr["intent_p2"], hdr["intent_p3"] = values

    # ---- slice timing ------------------------------------------------------

    def get_n_slices(self) -> int:
        """Number of slices along the slice axis of dim_info."""
        slice_dim = self.get_dim_info()[2]
        if slice_dim is None:
            raise HeaderDataError("Slice dimension not set in header dim_info")
        shape = self.get_data_shape()
        if slice_dim >= len(shape):
            raise HeaderDataError(f"Slice dimension index ({slice_dim}) outside shape tuple ({shape})")
        return shape[slice_dim]

    def get_slice_duration(self) -> float:
        """Time to acquire one slice (needs the slice axis set in dim_info)."""
        if self.get_dim_info()[2] is None:
            raise HeaderDataError("Slice dimension must be set for duration to be valid")
        return float(self._structarr["slice_duration"])

    def set_slice_duration(self, duration: float) -> None:
        if self.get_dim_info()[2] is None:
            raise HeaderDataError("Slice dimension must be set for duration to be valid")
        self._structarr["slice_duration"] = duration

    def get_slice_times(self) -> tuple[float | None, ...]:
        """Acquisition time of each slice; None for slices outside slice_start..slice_end."""
        n_slices = self.get_n_slices()
        duration = self.get_slice_duration()
        label = self.get_value_label("slice_code")
        if label == "unknown":
            raise HeaderDataError('Cannot get slice times when slice code is "unknown"')
        start, end = int(self._structarr["slice_start"]), int(self._structarr["slice_end"])
        if start < 0:
            raise HeaderDataError("slice_start should be >= 0")
        if end == 0:
            end = n_slices - 1
        n_timed = end - start + 1
        if n_timed < 1:
            raise HeaderDataError("slice_end should be > slice_start")
        times = slice_acquisition_order(label, n_timed) * duration
        return (None,) * start + tuple(float(t) for t in times) + (None,) * (n_slices - end - 1)

    def set_slice_times(self, slice_times: Any) -> None:
        """Set slice_code, slice_start/end and slice_duration that reproduce ``slice_times``."""
        n_slices = self.get_n_slices()
        times = list(slice_times)
        if len(times) != n_slices:
            raise HeaderDataError("Number of slice times does not match number of slices")
        timed_at = [i for i, t in enumerate(times) if t is not None]
        if not timed_at:
            raise HeaderDataError("Not all slice times can be None")
        start, end = timed_at[0], timed_at[-1]
        timed = times[start : end + 1]
        if any(t is None for t in timed):
            raise HeaderDataError("Cannot have None in middle of slice time vector")
        timed_arr = np.asarray(timed, dtype=np.float64)
        steps = np.diff(np.sort(timed_arr))
        if len(steps) == 0 or not np.allclose(steps, steps[0]) or steps[0] == 0:
            raise HeaderDataError("Slice times not evenly spaced")
        duration = float(np.mean(steps))
        order = np.round((timed_arr - timed_arr.min()) / duration).astype(int)
        matching = [label for label in _slice_order_labels()
                    if np.array_equal(order, slice_acquisition_order(label, len(order)))]
        if not matching:
            raise HeaderDataError(f"slice ordering of {order} fits with no known scheme")
        if len(matching) > 1:
            warnings.warn(f"Multiple slice orders satisfy: {', '.join(matching)}. Choosing the first one",
                          stacklevel=2)
        hdr = self._structarr
        hdr["slice_start"] = start
        hdr["slice_end"] = end
        hdr["slice_duration"] = duration
        hdr["slice_code"] = slice_order_codes.code[matching[0]]

    # ---- checks ------------------------------------------------------------

    @classmethod
    def _get_checks(cls) -> tuple[Any, ...]:
        return super()._get_checks() + (
            cls._chk_qfac,
            cls._chk_magic,
            cls._chk_offset,
            cls._chk_qform_code,
            cls._chk_sform_code,
        )

    @classmethod
    def _get_load_checks(cls) -> tuple[Any, ...]:
        return super()._get_load_checks() + (_validation.chk_single_offset, _validation.chk_scaling,
                                               _validation.chk_quaternion, _validation.chk_sform)

    @staticmethod
    def _chk_qfac(hdr: Any, fix: bool = False) -> tuple[Any, Report]:
        if hdr["pixdim"][0] in (-1, 1):
            return hdr, Report(HeaderDataError)
        pixdim = hdr["pixdim"].copy()
        pixdim[0] = 1
        return report_problem(hdr, fix, HeaderDataError, 20, "pixdim[0] (qfac) should be 1 (default) or -1",
                              "setting qfac to 1", {"pixdim": pixdim})

    @staticmethod
    def _chk_magic(hdr: Any, fix: bool = False) -> tuple[Any, Report]:
        magic = hdr["magic"].item()
        if magic in (hdr.pair_magic, hdr.single_magic):
            return hdr, Report(HeaderDataError)
        return report_problem(hdr, fix, HeaderDataError, 45,
                              f"magic string {magic.decode('latin-1')!r} is not valid",
                              "leaving as is, but future errors are likely")

    @staticmethod
    def _chk_offset(hdr: Any, fix: bool = False) -> tuple[Any, Report]:
        offset = float(hdr["vox_offset"])
        if offset == 0:
            return hdr, Report(HeaderDataError)
        if hdr["magic"].item() == hdr.single_magic and offset < hdr.single_vox_offset:
            return report_problem(hdr, fix, HeaderDataError, 40,
                                  f"vox offset {int(offset)} too low for single file {hdr._format_name}",
                                  f"setting to minimum value of {hdr.single_vox_offset}",
                                  {"vox_offset": hdr.single_vox_offset})
        if offset % 16:
            return report_problem(hdr, fix, HeaderDataError, 30,
                                  f"vox offset (={offset:g}) not divisible by 16, not SPM compatible",
                                  "leaving at current value")
        return hdr, Report(HeaderDataError)

    @classmethod
    def _chk_qform_code(cls, hdr: Any, fix: bool = False) -> tuple[Any, Report]:
        return cls._chk_xform_code("qform_code", hdr, fix)

    @classmethod
    def _chk_sform_code(cls, hdr: Any, fix: bool = False) -> tuple[Any, Report]:
        return cls._chk_xform_code("sform_code", hdr, fix)

    @staticmethod
    def _chk_xform_code(field: str, hdr: Any, fix: bool) -> tuple[Any, Report]:
        code = int(hdr[field])
        if code in xform_codes.value_set():
            return hdr, Report(HeaderDataError)
        return report_problem(hdr, fix, HeaderDataError, 30, f"{field} {code} not valid", "setting to 0",
                              {field: 0})


class Nifti1PairHeader(Nifti1Header):
    """The header of a NIfTI-1 pair (``.hdr`` + ``.img``)."""

    is_single: ClassVar[bool] = False


def _as_int(value: Any) -> int:
    """``value`` as an int, or -1 when it is not an integer (left to the shape checks)."""
    try:
        return int(value) if int(value) == value else -1
    except (TypeError, ValueError, OverflowError):
        return -1


def _unit_label(code: int) -> str:
    try:
        return unit_codes.label[code]
    except KeyError:
        return f"<unknown code {code}>"


def _slice_order_labels() -> list[str]:
    labels = []
    for code in sorted(slice_order_codes.value_set()):
        if code != 0:
            labels.append(slice_order_codes.label[code])
    return labels
