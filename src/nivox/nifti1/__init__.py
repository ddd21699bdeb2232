"""NIfTI-1: header, image classes, code tables, extensions and transforms.

The package splits what one module would otherwise mix: ``codes`` (tables),
``extensions``, ``xforms`` (qform/sform maths), ``slicetiming``, ``header``
and ``image``. Everything users import from ``nibabel.nifti1`` is here.
"""

from __future__ import annotations

import os
from typing import Any

from .codes import data_type_codes, intent_codes, slice_order_codes, unit_codes, xform_codes
from .extensions import (
    Nifti1DicomExtension,
    Nifti1Extension,
    Nifti1Extensions,
    NiftiExtension,
    extension_codes,
)
from .header import Nifti1Header, Nifti1PairHeader, header_dtd, header_dtype
from .image import Nifti1Image, Nifti1Pair

__all__ = [
    "Nifti1DicomExtension", "Nifti1Extension", "Nifti1Extensions", "Nifti1Header", "Nifti1Image",
    "Nifti1Pair", "Nifti1PairHeader", "NiftiExtension", "data_type_codes", "extension_codes",
    "header_dtd", "header_dtype", "intent_codes", "load", "save", "slice_order_codes",
    "unit_codes", "xform_codes",
]


def load(filename: str | os.PathLike[str]) -> Nifti1Image | Nifti1Pair:
    """Load a NIfTI-1 image, single file or pair, from ``filename``."""
    from ..loadsave import load_as

    return load_as((Nifti1Image, Nifti1Pair), filename)


def save(img: Any, filename: str | os.PathLike[str]) -> None:
    """Save ``img`` as NIfTI-1: single file for ``.nii``, pair for ``.img``/``.hdr``."""
    from ..loadsave import save_as

    save_as((Nifti1Image, Nifti1Pair), img, filename)
