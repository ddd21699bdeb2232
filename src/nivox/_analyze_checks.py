"""Analyze 7.5 header checks: the battery ``AnalyzeHeader.check_fix`` runs.

Each check takes the header and ``fix``; it returns the header (fixed when
asked and possible) and a :class:`~nivox.batteryrunners.Report`. Headers that
extend Analyze (NIfTI, SPM) run these and add their own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .batteryrunners import Report, report_problem
from .errors import HeaderDataError

__all__ = ["chk_bitpix", "chk_datatype", "chk_pixdims", "chk_sizeof_hdr"]


def chk_sizeof_hdr(hdr: Any, fix: bool = False) -> tuple[Any, Report]:
    """sizeof_hdr must be 348 (the header size); fixed by setting it."""
    if hdr["sizeof_hdr"] == hdr.sizeof_hdr:
        return hdr, Report(HeaderDataError)
    return report_problem(hdr, fix, HeaderDataError, 30, f"sizeof_hdr should be {hdr.sizeof_hdr}",
                          f"set sizeof_hdr to {hdr.sizeof_hdr}", {"sizeof_hdr": hdr.sizeof_hdr})


def chk_datatype(hdr: Any, fix: bool = False) -> tuple[Any, Report]:
    """The datatype code must be known and of a readable type; not fixable."""
    code = int(hdr["datatype"])
    try:
        dtype = hdr._data_type_codes.dtype[code]
    except KeyError:
        problem = "recognized"
    else:
        if dtype.itemsize != 0:
            return hdr, Report(HeaderDataError)
        problem = "supported"
    return report_problem(hdr, fix, HeaderDataError, 40, f"data code {code} not {problem}",
                          "not attempting fix")


def chk_bitpix(hdr: Any, fix: bool = False) -> tuple[Any, Report]:
    """bitpix must be the datatype's size in bits; fixed by setting it."""
    try:
        dtype = hdr._data_type_codes.dtype[int(hdr["datatype"])]
    except KeyError:
        return report_problem(hdr, fix, HeaderDataError, 10, "no valid datatype to fix bitpix",
                              "no way to fix bitpix")
    bitpix = dtype.itemsize * 8
    if bitpix == hdr["bitpix"]:
        return hdr, Report(HeaderDataError)
    return report_problem(hdr, fix, HeaderDataError, 10, "bitpix does not match datatype",
                          "setting bitpix to match datatype", {"bitpix": bitpix})


def chk_pixdims(hdr: Any, fix: bool = False) -> tuple[Any, Report]:
    """Voxel sizes pixdim[1:4] must be non-zero and positive; fixed by 1 and abs."""
    pixdims = hdr["pixdim"]
    spatial = pixdims[1:4]
    problems, fixes = [], []
    level = 0
    if not np.all(spatial):
        problems.append("pixdim[1,2,3] should be non-zero")
        fixes.append("setting 0 dims to 1")
        level = 30
    if np.any(spatial < 0):
        problems.append("pixdim[1,2,3] should be positive")
        fixes.append("setting to abs of pixdim values")
        level = 35
    if not problems:
        return hdr, Report(HeaderDataError)
    fixed = pixdims.copy()
    fixed[1:4][fixed[1:4] == 0] = 1
    fixed[1:4] = np.abs(fixed[1:4])
    return report_problem(hdr, fix, HeaderDataError, level, " and ".join(problems),
                          " and ".join(fixes), {"pixdim": fixed})
