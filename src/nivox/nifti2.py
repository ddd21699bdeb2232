"""NIfTI-2: the NIfTI-1 model with 64-bit dimensions, double precision fields and a 540-byte header.

Field order differs from NIfTI-1 (the standard regrouped fields to avoid
padding), but names and meanings are the same, so everything except the
layout, sizes and magic is inherited from the NIfTI-1 classes.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .batteryrunners import Report, report_problem
from .errors import HeaderDataError
from .nifti1 import Nifti1Header, Nifti1Image, Nifti1Pair

__all__ = ["Nifti2Header", "Nifti2Image", "Nifti2Pair", "Nifti2PairHeader", "header_dtype", "load", "save"]

header_dtd = [
    ("sizeof_hdr", "i4"),
    ("magic", "S4"),
    ("eol_check", "i1", (4,)),
    ("datatype", "i2"),
    ("bitpix", "i2"),
    ("dim", "i8", (8,)),
    ("intent_p1", "f8"),
    ("intent_p2", "f8"),
    ("intent_p3", "f8"),
    ("pixdim", "f8", (8,)),
    ("vox_offset", "i8"),
    ("scl_slope", "f8"),
    ("scl_inter", "f8"),
    ("cal_max", "f8"),
    ("cal_min", "f8"),
    ("slice_duration", "f8"),
    ("toffset", "f8"),
    ("slice_start", "i8"),
    ("slice_end", "i8"),
    ("descrip", "S80"),
    ("aux_file", "S24"),
    ("qform_code", "i4"),
    ("sform_code", "i4"),
    ("quatern_b", "f8"),
    ("quatern_c", "f8"),
    ("quatern_d", "f8"),
    ("qoffset_x", "f8"),
    ("qoffset_y", "f8"),
    ("qoffset_z", "f8"),
    ("srow_x", "f8", (4,)),
    ("srow_y", "f8", (4,)),
    ("srow_z", "f8", (4,)),
    ("slice_code", "i4"),
    ("xyzt_units", "i4"),
    ("intent_code", "i4"),
    ("intent_name", "S16"),
    ("dim_info", "u1"),
    ("unused_str", "S15"),
]
header_dtype = np.dtype(header_dtd)

# bytes after the magic that catch files mangled by text-mode transfers
_EOL_CHECK = (13, 10, 26, 10)


class Nifti2Header(Nifti1Header):
    """The header of a single-file NIfTI-2 image (``.nii``)."""

    template_dtype: ClassVar[np.dtype] = header_dtype
    pair_magic: ClassVar[bytes] = b"ni2"
    single_magic: ClassVar[bytes] = b"n+2"
    sizeof_hdr: ClassVar[int] = 540
    single_vox_offset: ClassVar[int] = 544
    # doubles store quaternions precisely; only true rounding noise is forgiven
    quaternion_threshold: ClassVar[float] = -np.finfo(np.float64).eps * 3
    _format_name: ClassVar[str] = "nifti2"
    # 64-bit dims hold any length: no FreeSurfer long-vector/ico7 conventions
    _freesurfer_shapes: ClassVar[bool] = False

    @classmethod
    def default_structarr(cls, endianness: str | None = None) -> np.ndarray:
        hdr = super().default_structarr(endianness)
        hdr["eol_check"] = _EOL_CHECK
        return hdr

    @classmethod
    def may_contain_header(cls, binaryblock: bytes) -> bool:
        if len(binaryblock) < cls.sizeof_hdr:
            return False
        hdr = np.ndarray((), cls.template_dtype, binaryblock[: cls.sizeof_hdr])
        sizeof = int(hdr["sizeof_hdr"])
        if sizeof != cls.sizeof_hdr and int(hdr["sizeof_hdr"].byteswap()) != cls.sizeof_hdr:
            return False
        return hdr["magic"].item() in (cls.pair_magic, cls.single_magic)

    @classmethod
    def _get_checks(cls) -> tuple[Any, ...]:
        return super()._get_checks() + (cls._chk_eol_check,)

    @staticmethod
    def _chk_eol_check(hdr: Any, fix: bool = False) -> tuple[Any, Report]:
        eol = tuple(int(v) for v in hdr["eol_check"])
        if eol == _EOL_CHECK:
            return hdr, Report(HeaderDataError)
        if eol == (0, 0, 0, 0):
            level, problem = 20, "EOL check all 0"
        else:
            level, problem = 40, "EOL check not 0 or 13, 10, 26, 10; data may be corrupted by EOL conversion"
        return report_problem(hdr, fix, HeaderDataError, level, problem,
                              "setting EOL check to 13, 10, 26, 10", {"eol_check": _EOL_CHECK})


class Nifti2PairHeader(Nifti2Header):
    """The header of a NIfTI-2 pair (``.hdr`` + ``.img``)."""

    is_single: ClassVar[bool] = False


class Nifti2Pair(Nifti1Pair):
    """A NIfTI-2 image stored as a header/image pair."""

    header_class: ClassVar[type] = Nifti2PairHeader
    _meta_sniff_len: ClassVar[int] = Nifti2Header.sizeof_hdr


class Nifti2Image(Nifti1Image):
    """A NIfTI-2 image in one ``.nii`` file."""

    header_class: ClassVar[type] = Nifti2Header
    _meta_sniff_len: ClassVar[int] = Nifti2Header.sizeof_hdr


def load(filename: Any) -> Nifti2Image | Nifti2Pair:
    """Load a NIfTI-2 image, single file or pair."""
    from .loadsave import load_as

    return load_as((Nifti2Image, Nifti2Pair), filename)


def save(img: Any, filename: Any) -> None:
    """Save ``img`` as NIfTI-2: single file for ``.nii``, pair for ``.img``/``.hdr``."""
    from .loadsave import save_as

    save_as((Nifti2Image, Nifti2Pair), img, filename)
