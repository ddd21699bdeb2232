"""Whole-header checks against the CIFTI-2 specification, run before a file is written.

The element classes refuse what they cannot serialise at all; these checks
catch the headers that serialise but that readers such as Connectome
Workbench reject or misread: dimensions mapped twice or not at all, brain
models whose offsets do not run back to back, index lists whose lengths
disagree with their counts, vertices or voxels outside their surface or
volume, series without their attributes, label maps without label tables.
Each problem is one message that names the element.
"""

from __future__ import annotations

from typing import Any

from .cifti2 import (
    CIFTI_BRAIN_STRUCTURES,
    CIFTI_MAP_TYPES,
    CIFTI_MODEL_TYPES,
    CIFTI_SERIESUNIT_TYPES,
    Cifti2BrainModel,
    Cifti2MatrixIndicesMap,
    Cifti2NamedMap,
    Cifti2Parcel,
    Cifti2Surface,
    Cifti2Volume,
    _dims_of,
)

__all__ = ["check_header", "header_problems"]

# Problems that make a header unreadable or misread are errors; an index out of
# its surface or volume is a warning, as nibabel has always written such files.
_RANGE = "outside"

_ALLOWED = {
    "CIFTI_INDEX_TYPE_BRAIN_MODELS": (Cifti2BrainModel, Cifti2Volume),
    "CIFTI_INDEX_TYPE_PARCELS": (Cifti2Parcel, Cifti2Surface, Cifti2Volume),
    "CIFTI_INDEX_TYPE_SERIES": (),
    "CIFTI_INDEX_TYPE_SCALARS": (Cifti2NamedMap,),
    "CIFTI_INDEX_TYPE_LABELS": (Cifti2NamedMap,),
}


def check_header(header: Any, shape: tuple[int, ...] | None = None) -> tuple[list[str], list[str]]:
    """(errors, warnings): the problems that must stop a write, and those worth a warning."""
    problems = header_problems(header, shape)
    warns = [p for p in problems if _RANGE in p]
    return [p for p in problems if _RANGE not in p], warns


def header_problems(header: Any, shape: tuple[int, ...] | None = None) -> list[str]:
    """Every way ``header`` breaks the specification, or fails to describe data of ``shape``."""
    problems: list[str] = []
    matrix = header.matrix
    if len(matrix) == 0:
        return ["the Matrix has no MatrixIndicesMap"]
    mapped = matrix.mapped_indices
    ndim = len(shape) if shape is not None else max(mapped) + 1
    missing = sorted(set(range(ndim)) - set(mapped))
    if missing:
        problems.append(f"data dimension(s) {missing} have no MatrixIndicesMap")
    extra = sorted(d for d in mapped if d >= ndim or d < 0)
    if extra:
        problems.append(f"MatrixIndicesMap applies to dimension(s) {extra} the data do not have")
    for mim in matrix:
        problems.extend(_map_problems(mim))
    if shape is not None and not [p for p in problems if _RANGE not in p]:
        expected = matrix.get_data_shape()
        if tuple(expected) != tuple(shape):
            problems.append(f"the header describes data of shape {expected}, the data have shape {shape}")
    return problems


def _map_problems(mim: Cifti2MatrixIndicesMap) -> list[str]:
    kind = mim.indices_map_to_data_type
    where = f"MatrixIndicesMap of dimension(s) {_dims_of(mim)}"
    if kind not in CIFTI_MAP_TYPES:
        return [f"{where}: IndicesMapToDataType {kind!r} is not one of {', '.join(CIFTI_MAP_TYPES)}"]
    problems = [f"{where}: a {type(el).__name__} cannot be in a {kind} map"
                for el in mim if not isinstance(el, _ALLOWED[kind])]
    if kind == "CIFTI_INDEX_TYPE_BRAIN_MODELS":
        problems += _brain_model_problems(mim, where)
    elif kind == "CIFTI_INDEX_TYPE_PARCELS":
        problems += _parcel_problems(mim, where)
    elif kind == "CIFTI_INDEX_TYPE_SERIES":
        for attr in ("number_of_series_points", "series_exponent", "series_start", "series_step",
                     "series_unit"):
            if getattr(mim, attr) is None:
                problems.append(f"{where}: a series needs {attr}")
        if mim.series_unit is not None and str(mim.series_unit).upper() not in CIFTI_SERIESUNIT_TYPES:
            problems.append(f"{where}: SeriesUnit {mim.series_unit!r} is not one of {CIFTI_SERIESUNIT_TYPES}")
    else:
        named = list(mim.named_maps)
        if not named:
            problems.append(f"{where}: needs at least one NamedMap")
        for i, nm in enumerate(named):
            if nm.map_name is None:
                problems.append(f"{where}: NamedMap {i} has no MapName")
            if kind == "CIFTI_INDEX_TYPE_LABELS" and not nm.label_table:
                problems.append(f"{where}: NamedMap {i} of a labels map has no LabelTable")
    volume = mim.volume
    if volume is not None:
        dims = volume.volume_dimensions
        if dims is None or len(tuple(dims)) != 3:
            problems.append(f"{where}: Volume needs three VolumeDimensions")
        transform = volume.transformation_matrix_voxel_indices_ijk_to_xyz
        if transform is None or transform.matrix is None:
            problems.append(f"{where}: Volume needs a TransformationMatrixVoxelIndicesIJKtoXYZ")
    return problems


def _voxels_outside(voxels: Any, volume: Cifti2Volume | None) -> bool:
    if volume is None or volume.volume_dimensions is None:
        return False
    dims = tuple(volume.volume_dimensions)
    return any(not 0 <= v < d for row in voxels for v, d in zip(row, dims))


def _brain_model_problems(mim: Cifti2MatrixIndicesMap, where: str) -> list[str]:
    problems = []
    models = list(mim.brain_models)
    if not models:
        return [f"{where}: needs at least one BrainModel"]
    offset = 0
    seen: set[str] = set()
    for model in models:
        name = f"{where}: BrainModel {model.brain_structure}"
        if model.brain_structure not in CIFTI_BRAIN_STRUCTURES:
            problems.append(f"{name}: BrainStructure is not a CIFTI-2 structure")
        if model.brain_structure in seen:
            problems.append(f"{name}: the structure has more than one BrainModel")
        seen.add(model.brain_structure)
        if model.model_type not in CIFTI_MODEL_TYPES:
            problems.append(f"{name}: ModelType {model.model_type!r} is not one of {CIFTI_MODEL_TYPES}")
        if model.index_offset != offset:
            problems.append(f"{name}: IndexOffset is {model.index_offset}, the models before it end at {offset}")
        count = model.index_count if model.index_count is not None else 0
        if model.index_count is None or model.index_count < 1:
            problems.append(f"{name}: IndexCount must be a positive number")
        offset = (model.index_offset or 0) + count
        if model.model_type == "CIFTI_MODEL_TYPE_SURFACE":
            indices = model.vertex_indices
            nverts = model.surface_number_of_vertices
            if nverts is None:
                problems.append(f"{name}: a surface model needs SurfaceNumberOfVertices")
            if indices is None or len(indices) != count:
                problems.append(f"{name}: VertexIndices hold {0 if indices is None else len(indices)} "
                                f"vertices, IndexCount says {count}")
            elif nverts is not None and any(not 0 <= v < nverts for v in indices):
                problems.append(f"{name}: vertex indices outside 0..{nverts - 1}")
            if model.voxel_indices_ijk:
                problems.append(f"{name}: a surface model cannot have VoxelIndicesIJK")
        elif model.model_type == "CIFTI_MODEL_TYPE_VOXELS":
            voxels = model.voxel_indices_ijk
            if voxels is None or len(voxels) != count:
                problems.append(f"{name}: VoxelIndicesIJK hold {0 if voxels is None else len(voxels)} "
                                f"voxels, IndexCount says {count}")
            if mim.volume is None:
                problems.append(f"{name}: a voxel model needs the map to have a Volume")
            elif voxels is not None and _voxels_outside(voxels, mim.volume):
                problems.append(f"{name}: voxel indices outside the Volume {mim.volume.volume_dimensions}")
            if model.vertex_indices:
                problems.append(f"{name}: a voxel model cannot have VertexIndices")
    return problems


def _parcel_problems(mim: Cifti2MatrixIndicesMap, where: str) -> list[str]:
    problems = []
    surfaces = {s.brain_structure: s.surface_number_of_vertices for s in mim.surfaces}
    parcels = list(mim.parcels)
    if not parcels:
        problems.append(f"{where}: needs at least one Parcel")
    for parcel in parcels:
        name = f"{where}: Parcel {parcel.name!r}"
        for vertices in parcel.vertices:
            if vertices.brain_structure not in surfaces:
                problems.append(f"{name}: Vertices of {vertices.brain_structure}, which has no Surface element")
                continue
            nverts = surfaces[vertices.brain_structure]
            if nverts is not None and any(not 0 <= v < nverts for v in vertices):
                problems.append(f"{name}: vertices of {vertices.brain_structure} outside 0..{nverts - 1}")
        if parcel.voxel_indices_ijk:
            if mim.volume is None:
                problems.append(f"{name}: has voxels but the map has no Volume")
            elif _voxels_outside(parcel.voxel_indices_ijk, mim.volume):
                problems.append(f"{name}: voxel indices outside the Volume {mim.volume.volume_dimensions}")
    return problems
