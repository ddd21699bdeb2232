"""SPM2 Analyze: SPM99 Analyze plus an intercept field and a scale taken from calibration.

SPM2 renames ``funused2`` to ``scl_inter``. When ``scl_slope`` is unusable
(0, NaN or infinite), SPM2 derives the scaling from the calibrated range
(``cal_min``..``cal_max``) over the stored range (``glmin``..``glmax``).
nivox still writes only a slope (like nibabel); the intercept field is read.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from . import spm99analyze as spm99
from .analyze import header_key_dtd

__all__ = ["Spm2AnalyzeHeader", "Spm2AnalyzeImage", "header_dtype", "image_dimension_dtd", "load", "save"]

image_dimension_dtd = spm99._renamed(spm99.image_dimension_dtd, "funused2", ("scl_inter", "f4"))
header_dtype = np.dtype(header_key_dtd + image_dimension_dtd + spm99.data_history_dtd)

# the NIfTI-1 magic sits where SPM2 keeps smin; a header carrying it is NIfTI
_NIFTI1_MAGICS = (b"ni1\x00", b"n+1\x00")


class Spm2AnalyzeHeader(spm99.Spm99AnalyzeHeader):
    """The SPM2 header: SPM99's, with ``scl_inter`` and calibration-based scaling."""

    template_dtype: ClassVar[np.dtype] = header_dtype

    def get_slope_inter(self) -> tuple[float | None, float | None]:
        """Slope and intercept from ``scl_slope``/``scl_inter``, else from the calibration range.

        A non-finite intercept reads as 0. When the slope is unusable and the
        calibration or stored range is empty, ``(None, None)``: no scaling.
        Unlike nibabel, a calibration that gives a non-finite scale also
        means no scaling, rather than data turned to NaN.
        """
        hdr = self._structarr
        slope = float(hdr["scl_slope"])
        if slope != 0 and np.isfinite(slope):
            inter = float(hdr["scl_inter"])
            return slope, inter if np.isfinite(inter) else 0.0
        stored_range = float(hdr["glmax"]) - float(hdr["glmin"])
        scaled_range = float(hdr["cal_max"]) - float(hdr["cal_min"])
        if stored_range == 0 or scaled_range == 0:
            return None, None
        slope = scaled_range / stored_range
        inter = float(hdr["cal_min"]) - slope * float(hdr["glmin"])
        if not (np.isfinite(slope) and np.isfinite(inter)):
            return None, None
        return slope, inter

    def set_slope_inter(self, slope: float | None, inter: float | None = None) -> None:
        """As for SPM99; also clears ``scl_inter``, so no stale intercept rescales new data."""
        super().set_slope_inter(slope, inter)
        self._structarr["scl_inter"] = 0

    @classmethod
    def may_contain_header(cls, binaryblock: bytes) -> bool:
        """Whether ``binaryblock`` could be an SPM2 header: right sizeof_hdr and no NIfTI-1 magic."""
        if not super().may_contain_header(binaryblock):
            return False
        return bytes(binaryblock[344:348]) not in _NIFTI1_MAGICS


class Spm2AnalyzeImage(spm99.Spm99AnalyzeImage):
    """An SPM2 Analyze image: ``.hdr``, ``.img`` and optional ``.mat``."""

    header_class: ClassVar[type] = Spm2AnalyzeHeader


load = Spm2AnalyzeImage.from_filename
save = Spm2AnalyzeImage.instance_to_filename
