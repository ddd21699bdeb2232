"""CIFTI-2: data on grayordinates (surface vertices and voxels) or parcels, in a NIfTI-2 file.

``cifti2`` holds the XML header elements, ``_image`` the image class,
``parse_cifti2`` the reader (and the NIfTI extension), ``cifti2_axes`` the
axis API and ``_validate`` the checks run before writing.
"""

from .cifti2 import (
    CIFTI_BRAIN_STRUCTURES,
    CIFTI_MODEL_TYPES,
    Cifti2BrainModel,
    Cifti2Header,
    Cifti2HeaderError,
    Cifti2Image,
    Cifti2Label,
    Cifti2LabelTable,
    Cifti2Matrix,
    Cifti2MatrixIndicesMap,
    Cifti2MetaData,
    Cifti2NamedMap,
    Cifti2Parcel,
    Cifti2Surface,
    Cifti2TransformationMatrixVoxelIndicesIJKtoXYZ,
    Cifti2VertexIndices,
    Cifti2Vertices,
    Cifti2Volume,
    Cifti2VoxelIndicesIJK,
    load,
    save,
)
from .cifti2_axes import Axis, BrainModelAxis, LabelAxis, ParcelsAxis, ScalarAxis, SeriesAxis
from .parse_cifti2 import Cifti2Extension

__all__ = [
    "CIFTI_BRAIN_STRUCTURES", "CIFTI_MODEL_TYPES", "Axis", "BrainModelAxis", "Cifti2BrainModel",
    "Cifti2Extension", "Cifti2Header", "Cifti2HeaderError", "Cifti2Image", "Cifti2Label",
    "Cifti2LabelTable", "Cifti2Matrix", "Cifti2MatrixIndicesMap", "Cifti2MetaData", "Cifti2NamedMap",
    "Cifti2Parcel", "Cifti2Surface", "Cifti2TransformationMatrixVoxelIndicesIJKtoXYZ",
    "Cifti2VertexIndices", "Cifti2Vertices", "Cifti2Volume", "Cifti2VoxelIndicesIJK", "LabelAxis",
    "ParcelsAxis", "ScalarAxis", "SeriesAxis", "load", "save",
]
