"""Shared pieces of the CIFTI-2 header classes: the error, value checks and the code tables."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..errors import Cifti2HeaderError, InvalidArgumentError
from ..volumeutils import Recoder, make_dt_codes

__all__ = ["CIFTI_BRAIN_STRUCTURES", "CIFTI_MAP_TYPES", "CIFTI_MODEL_TYPES", "CIFTI_SERIESUNIT_TYPES",
           "Cifti2HeaderError", "data_type_codes"]


def _float_01(val: Any) -> float:
    """``val`` as a float, which must lie in [0, 1]."""
    out = float(val)
    if not 0 <= out <= 1:
        raise InvalidArgumentError("Float must be between 0 and 1 inclusive")
    return out


def _value_if_klass(val: Any, klass: type) -> Any:
    """``val`` when it is None or a ``klass``; a ValueError otherwise."""
    if val is None or isinstance(val, klass):
        return val
    raise InvalidArgumentError(f"Not a valid {klass.__name__} instance.")


def _underscore(string: str) -> str:
    """CamelCase attribute names as snake_case (``IndexOffset`` -> ``index_offset``)."""
    string = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", string)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", string).lower()


# the data types CIFTI-2 allows in the NIfTI-2 container
data_type_codes = make_dt_codes((
    (2, "uint8", np.uint8, "NIFTI_TYPE_UINT8"),
    (4, "int16", np.int16, "NIFTI_TYPE_INT16"),
    (8, "int32", np.int32, "NIFTI_TYPE_INT32"),
    (16, "float32", np.float32, "NIFTI_TYPE_FLOAT32"),
    (64, "float64", np.float64, "NIFTI_TYPE_FLOAT64"),
    (256, "int8", np.int8, "NIFTI_TYPE_INT8"),
    (512, "uint16", np.uint16, "NIFTI_TYPE_UINT16"),
    (768, "uint32", np.uint32, "NIFTI_TYPE_UINT32"),
    (1024, "int64", np.int64, "NIFTI_TYPE_INT64"),
    (1280, "uint64", np.uint64, "NIFTI_TYPE_UINT64"),
))

CIFTI_MAP_TYPES = (
    "CIFTI_INDEX_TYPE_BRAIN_MODELS",
    "CIFTI_INDEX_TYPE_PARCELS",
    "CIFTI_INDEX_TYPE_SERIES",
    "CIFTI_INDEX_TYPE_SCALARS",
    "CIFTI_INDEX_TYPE_LABELS",
)
CIFTI_MODEL_TYPES = ("CIFTI_MODEL_TYPE_SURFACE", "CIFTI_MODEL_TYPE_VOXELS")
CIFTI_SERIESUNIT_TYPES = ("SECOND", "HERTZ", "METER", "RADIAN")

# Structure names of the specification, in Connectome Workbench's order; each
# also answers to its short form (CORTEX_LEFT) and its GIFTI spelling (CortexLeft).
_STRUCTURES = (
    "CORTEX_LEFT", "CORTEX_RIGHT", "CEREBELLUM", "ACCUMBENS_LEFT", "ACCUMBENS_RIGHT", "ALL",
    "ALL_GREY_MATTER", "ALL_WHITE_MATTER", "AMYGDALA_LEFT", "AMYGDALA_RIGHT", "BRAIN_STEM",
    "CAUDATE_LEFT", "CAUDATE_RIGHT", "CEREBELLAR_WHITE_MATTER_LEFT",
    "CEREBELLAR_WHITE_MATTER_RIGHT", "CEREBELLUM_LEFT", "CEREBELLUM_RIGHT",
    "CEREBRAL_WHITE_MATTER_LEFT", "CEREBRAL_WHITE_MATTER_RIGHT", "CORTEX",
    "DIENCEPHALON_VENTRAL_LEFT", "DIENCEPHALON_VENTRAL_RIGHT", "HIPPOCAMPUS_LEFT",
    "HIPPOCAMPUS_RIGHT", "INVALID", "OTHER", "OTHER_GREY_MATTER", "OTHER_WHITE_MATTER",
    "PALLIDUM_LEFT", "PALLIDUM_RIGHT", "PUTAMEN_LEFT", "PUTAMEN_RIGHT", "THALAMUS_LEFT",
    "THALAMUS_RIGHT",
)
CIFTI_BRAIN_STRUCTURES = Recoder(
    ((s, f"CIFTI_STRUCTURE_{s}", "".join(w.capitalize() for w in s.split("_"))) for s in _STRUCTURES),
    fields=("name", "ciftiname", "guiname"),
)
