"""Grayordinate axes: BrainModelAxis (vertices and voxels) and ParcelsAxis (named sets of them)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from . import cifti2
from ._axes_base import Axis, _merge_nvertices, _merge_space, _same_space, _VolumeSpace
from ..errors import ImageIndexError, InvalidArgumentError

__all__ = ["BrainModelAxis", "ParcelsAxis"]


class BrainModelAxis(_VolumeSpace, Axis):
    """Grayordinates: each element a surface vertex or a voxel of a named brain structure.

    Parameters
    ----------
    name : str or sequence of str
        Structure of each element (one name for all of them); any spelling
        :meth:`to_cifti_brain_structure_name` understands.
    voxel : (N, 3) int array, optional
        Voxel indices (-1 for surface elements).
    vertex : (N,) int array, optional
        Vertex indices (-1 for voxel elements).
    affine, volume_shape
        The volume of the voxels (needed when there are voxels).
    nvertices : dict
        Number of vertices of each surface structure.
    """

    def __init__(self, name: Any, voxel: Any = None, vertex: Any = None, affine: Any = None,
                 volume_shape: Any = None, nvertices: dict[str, int] | None = None) -> None:
        if voxel is None:
            if vertex is None:
                raise InvalidArgumentError("At least one of voxel or vertex indices should be defined")
            count = len(vertex)
            self.voxel = np.full((count, 3), -1, dtype=int)
        else:
            count = len(voxel)
            self.voxel = np.asanyarray(voxel, dtype=int)
        self.vertex = np.full(count, -1, dtype=int) if vertex is None else np.asanyarray(vertex, dtype=int)
        if isinstance(name, str):
            name = [self.to_cifti_brain_structure_name(name)] * self.vertex.size
        self.name = name
        self.nvertices = {self.to_cifti_brain_structure_name(k): v for k, v in (nvertices or {}).items()}
        present = set(self.name.tolist())
        self.nvertices = {k: v for k, v in self.nvertices.items() if k in present}
        surface = self.surface_mask
        has_voxels = not surface.all()
        if has_voxels and (affine is None or volume_shape is None):
            raise InvalidArgumentError("Affine and volume shape should be defined for BrainModelAxis containing voxels")
        # a surface-only axis has no volume, whatever was passed
        self.affine, self.volume_shape = (affine, volume_shape) if has_voxels else (None, None)
        if np.any(self.vertex[surface] < 0):
            raise InvalidArgumentError("Undefined vertex indices found for surface elements")
        if np.any(self.voxel[~surface] < 0):
            raise InvalidArgumentError("Undefined voxel indices found for volumetric elements")
        for attr in ("name", "voxel", "vertex"):
            expected = (self.size, 3) if attr == "voxel" else (self.size,)
            if getattr(self, attr).shape != expected:
                raise InvalidArgumentError(f"Input {attr} has incorrect shape ({getattr(self, attr).shape}) "
                                 "for BrainModelAxis axis")

    @classmethod
    def from_mask(cls, mask: Any, name: str = "other", affine: Any = None) -> BrainModelAxis:
        """The nonzero elements of a 1-D (surface) or 3-D (volume) mask."""
        affine = np.eye(4) if affine is None else np.asanyarray(affine)
        if affine.shape != (4, 4):
            raise InvalidArgumentError(f"Affine transformation should be a 4x4 array or None, not {affine!r}")
        mask = np.asanyarray(mask)
        selected = mask != 0
        if selected.ndim == 1:
            return cls.from_surface(np.flatnonzero(selected), selected.size, name=name)
        if selected.ndim == 3:
            return cls(name, voxel=np.argwhere(selected), affine=affine, volume_shape=mask.shape)
        raise InvalidArgumentError("Mask should be either 1-dimensional (for surfaces) or 3-dimensional "
                         f"(for volumes), not {mask.ndim}-dimensional")

    @classmethod
    def from_surface(cls, vertices: Any, nvertex: int, name: str = "Other") -> BrainModelAxis:
        """Vertices ``vertices`` of a surface of ``nvertex`` vertices."""
        cifti_name = cls.to_cifti_brain_structure_name(name)
        return cls(cifti_name, vertex=vertices, nvertices={cifti_name: nvertex})

    @classmethod
    def from_index_mapping(cls, mim: cifti2.Cifti2MatrixIndicesMap) -> BrainModelAxis:
        """The axis of a brain-models map."""
        models = list(mim.brain_models)
        for bm in models:  # counts checked against the index lists before anything is allocated
            indices = bm.vertex_indices if bm.model_type == "CIFTI_MODEL_TYPE_SURFACE" else bm.voxel_indices_ijk
            if bm.index_count is None or bm.index_offset is None or indices is None \
                    or len(indices) != bm.index_count:
                raise cifti2.Cifti2HeaderError(
                    f"BrainModel {bm.brain_structure}: IndexCount {bm.index_count} but "
                    f"{0 if indices is None else len(indices)} indices")
        total = sum(bm.index_count for bm in models)
        voxel = np.full((total, 3), -1, dtype=int)
        vertex = np.full(total, -1, dtype=int)
        names = np.full(total, "", dtype=object)
        nvertices: dict[str, int] = {}
        affine = shape = None
        for bm in models:
            span = slice(bm.index_offset, bm.index_offset + bm.index_count)
            surface = bm.model_type == "CIFTI_MODEL_TYPE_SURFACE"
            indices = bm.vertex_indices if surface else bm.voxel_indices_ijk
            if not 0 <= bm.index_offset <= total - bm.index_count or indices is None \
                    or len(indices) != bm.index_count:
                raise cifti2.Cifti2HeaderError(
                    f"BrainModel {bm.brain_structure}: IndexOffset {bm.index_offset} and IndexCount "
                    f"{bm.index_count} do not fit its {0 if indices is None else len(indices)} indices "
                    f"among {total} grayordinates")
            names[span] = bm.brain_structure
            if surface:
                vertex[span] = np.asarray(list(indices), dtype=int)
                nvertices[bm.brain_structure] = bm.surface_number_of_vertices
            else:
                voxel[span] = np.asarray(list(indices), dtype=int).reshape(-1, 3)
                if affine is None:
                    if mim.volume is None or mim.volume.transformation_matrix_voxel_indices_ijk_to_xyz is None:
                        raise cifti2.Cifti2HeaderError(
                            f"BrainModel {bm.brain_structure} has voxels but the map has no Volume")
                    shape = mim.volume.volume_dimensions
                    affine = mim.volume.transformation_matrix_voxel_indices_ijk_to_xyz.matrix
        if total and (names == "").any():
            raise cifti2.Cifti2HeaderError("BrainModels overlap: some grayordinates belong to no model")
        return cls(names.astype(str), voxel, vertex, affine, shape, nvertices)

    def to_mapping(self, dim: int) -> cifti2.Cifti2MatrixIndicesMap:
        """A brain-models map for data dimension ``dim``."""
        mim = cifti2.Cifti2MatrixIndicesMap([dim], "CIFTI_INDEX_TYPE_BRAIN_MODELS")
        for name, span, part in self.iter_structures():
            surface = name in self.nvertices
            if not surface and mim.volume is None:
                transform = cifti2.Cifti2TransformationMatrixVoxelIndicesIJKtoXYZ(-3, self.affine)
                mim.volume = cifti2.Cifti2Volume(self.volume_shape, transform)
            mim.append(cifti2.Cifti2BrainModel(
                span.start, len(part),
                "CIFTI_MODEL_TYPE_SURFACE" if surface else "CIFTI_MODEL_TYPE_VOXELS",
                name,
                self.nvertices[name] if surface else None,
                None if surface else cifti2.Cifti2VoxelIndicesIJK(part.voxel),
                cifti2.Cifti2VertexIndices(part.vertex) if surface else None,
            ))
        return mim

    def iter_structures(self) -> Iterator[tuple[str, slice, BrainModelAxis]]:
        """(structure, slice, sub-axis) for each run of elements of one structure."""
        names = self.name
        if names.size == 0:
            return
        starts = np.flatnonzero(np.r_[True, names[1:] != names[:-1]])
        for i, start in enumerate(starts):
            start = int(start)
            stop = int(starts[i + 1]) if i + 1 < len(starts) else None
            yield names[start], slice(start, stop), self[start:stop]

    @staticmethod
    def to_cifti_brain_structure_name(name: Any) -> str:
        """The CIFTI-2 name (CIFTI_STRUCTURE_...) of a structure.

        Accepts the CIFTI name, the short or GIFTI name (``CortexLeft``),
        ``'cortex_left'``, ``'left cortex'``, or a (structure, side) tuple.
        """
        structures = cifti2.CIFTI_BRAIN_STRUCTURES
        if name in structures:
            return structures.ciftiname[name]
        if not isinstance(name, str):
            if len(name) == 1:  # a structure without a side
                structure, side = name[0], "both"
            else:
                structure, side = name
                if structure.lower() in ("left", "right", "both"):
                    side, structure = name
        else:
            for side in ("left", "right", "both"):
                n = len(side)
                lower = name.lower()
                if lower[:n] == side:
                    structure = name[n + 1:] if name[n:n + 1] in ("_", " ") else name[n:]
                    break
                if lower[-n:] == side:
                    structure = name[:-n - 1] if name[-n - 1:-n] in ("_", " ") else name[:-n]
                    break
            else:
                side, structure = "both", name
        if side.lower() == "both":
            proposed = f"CIFTI_STRUCTURE_{structure.upper()}"
        else:
            proposed = f"CIFTI_STRUCTURE_{structure.upper()}_{side.upper()}"
        if proposed not in cifti2.CIFTI_BRAIN_STRUCTURES.ciftiname:
            raise InvalidArgumentError(f"{name} was interpreted as {proposed}, which is not a valid CIFTI brain structure")
        return proposed

    @property
    def surface_mask(self) -> np.ndarray:
        """True for the elements that are surface vertices."""
        return np.isin(self.name, list(self.nvertices)) if self.nvertices else np.zeros(self.name.shape, bool)

    @property
    def volume_mask(self) -> np.ndarray:
        """True for the elements that are voxels."""
        return ~self.surface_mask

    @property
    def name(self) -> np.ndarray:
        """The CIFTI structure name of each element."""
        return self._name

    @name.setter
    def name(self, values: Any) -> None:
        values = np.asanyarray(values)
        unique, inverse = np.unique(values, return_inverse=True)  # convert each distinct name once
        converted = np.array([self.to_cifti_brain_structure_name(str(u)) for u in unique.tolist()],
                             dtype="U" if len(unique) else "U1")
        self._name = converted[inverse.reshape(-1)] if len(unique) else np.array([], dtype="U1")

    def __len__(self) -> int:
        return int(self.name.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BrainModelAxis) or len(self) != len(other):
            return False
        if (self.affine is None) != (other.affine is None):
            return False
        if self.affine is not None and not _same_space(self, other):
            return False
        return (self.nvertices == other.nvertices and np.array_equal(self.name, other.name)
                and np.array_equal(self.voxel[self.volume_mask], other.voxel[other.volume_mask])
                and np.array_equal(self.vertex[self.surface_mask], other.vertex[other.surface_mask]))

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Any) -> BrainModelAxis:
        if not isinstance(other, BrainModelAxis):
            return NotImplemented
        affine, shape = _merge_space(self, other, "BrainModels")
        nvertices = _merge_nvertices(self.nvertices, other.nvertices, "BrainModels")
        return type(self)(np.append(self.name, other.name), np.concatenate((self.voxel, other.voxel)),
                          np.append(self.vertex, other.vertex), affine, shape, nvertices)

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, (int, np.integer)):
            return self.get_element(item)
        if isinstance(item, str):
            raise ImageIndexError("Can not index an Axis with a string (except for ParcelsAxis)")
        return type(self)(self.name[item], self.voxel[item], self.vertex[item], self.affine,
                          self.volume_shape, self.nvertices)

    def get_element(self, index: int) -> tuple[str, np.ndarray | int, str]:
        """(model type, vertex or voxel index, structure) of element ``index``."""
        surface = self.name[index] in self.nvertices
        kind = "CIFTI_MODEL_TYPE_" + ("SURFACE" if surface else "VOXELS")
        return kind, (self.vertex if surface else self.voxel)[index], self.name[index]


class ParcelsAxis(_VolumeSpace, Axis):
    """Parcels: each element a named set of voxels and of vertices per surface structure.

    Parameters
    ----------
    name : sequence of str
    voxels : sequence of (K, 3) int arrays
    vertices : sequence of dicts {structure: vertex indices}
    affine, volume_shape, nvertices
        As for :class:`BrainModelAxis`.
    """

    def __init__(self, name: Any, voxels: Any, vertices: Any, affine: Any = None,
                 volume_shape: Any = None, nvertices: dict[str, int] | None = None) -> None:
        self.name = np.asanyarray(name, dtype="U")
        self.voxels = np.empty(len(voxels), dtype="object")
        for i, vox in enumerate(voxels):
            self.voxels[i] = vox
        self.vertices = np.empty(len(vertices), dtype="object")
        for i, vert in enumerate(vertices):
            self.vertices[i] = vert
        self.affine = affine
        self.volume_shape = volume_shape
        self.nvertices = {BrainModelAxis.to_cifti_brain_structure_name(k): v
                          for k, v in (nvertices or {}).items()}
        for attr in ("name", "voxels", "vertices"):
            if getattr(self, attr).shape != (self.size,):
                raise InvalidArgumentError(f"Input {attr} has incorrect shape ({getattr(self, attr).shape}) for Parcel axis")

    @classmethod
    def from_brain_models(cls, named_brain_models: Sequence[tuple[str, BrainModelAxis]]) -> ParcelsAxis:
        """One parcel per (name, BrainModelAxis) pair."""
        affine = shape = None
        names, all_voxels, all_vertices = [], [], []
        nvertices: dict[str, int] = {}
        for parcel_name, bm in named_brain_models:
            names.append(parcel_name)
            voxels = bm.voxel[bm.volume_mask]
            if len(voxels):
                if affine is None:
                    affine, shape = bm.affine, bm.volume_shape
                elif not np.allclose(affine, bm.affine) or shape != bm.volume_shape:
                    raise InvalidArgumentError("Can not combine brain models defined in different volumes "
                                     "into a single Parcel axis")
            all_voxels.append(voxels)
            vertices = {}
            for name, _, part in bm.iter_structures():
                if name in bm.nvertices:
                    if nvertices.get(name, bm.nvertices[name]) != bm.nvertices[name]:
                        raise InvalidArgumentError(f"Got multiple conflicting number of vertices for surface structure {name}")
                    nvertices[name] = bm.nvertices[name]
                    vertices[name] = part.vertex
            all_vertices.append(vertices)
        return cls(names, all_voxels, all_vertices, affine, shape, nvertices)

    @classmethod
    def from_index_mapping(cls, mim: cifti2.Cifti2MatrixIndicesMap) -> ParcelsAxis:
        """The axis of a parcels map."""
        volume = mim.volume
        shape = None if volume is None else volume.volume_dimensions
        affine = None if volume is None else volume.transformation_matrix_voxel_indices_ijk_to_xyz.matrix
        nvertices = {s.brain_structure: s.surface_number_of_vertices for s in mim.surfaces}
        names, all_voxels, all_vertices = [], [], []
        for parcel in mim.parcels:
            ijk = parcel.voxel_indices_ijk
            voxels = np.zeros((0 if ijk is None else len(ijk), 3), dtype="i4")
            if len(voxels):
                voxels[:] = list(ijk)
            vertices = {}
            for vert in parcel.vertices:
                if vert.brain_structure not in nvertices:
                    raise InvalidArgumentError(f"Number of vertices for surface structure {vert.brain_structure} not defined")
                vertices[vert.brain_structure] = np.array(list(vert), dtype=int)
            names.append(parcel.name)
            all_voxels.append(voxels)
            all_vertices.append(vertices)
        return cls(names, all_voxels, all_vertices, affine, shape, nvertices)

    def to_mapping(self, dim: int) -> cifti2.Cifti2MatrixIndicesMap:
        """A parcels map for data dimension ``dim``."""
        mim = cifti2.Cifti2MatrixIndicesMap([dim], "CIFTI_INDEX_TYPE_PARCELS")
        if self.affine is not None:
            transform = cifti2.Cifti2TransformationMatrixVoxelIndicesIJKtoXYZ(-3, matrix=self.affine)
            mim.volume = cifti2.Cifti2Volume(self.volume_shape, transform)
        for name, count in self.nvertices.items():
            mim.append(cifti2.Cifti2Surface(name, count))
        for name, voxels, vertices in zip(self.name, self.voxels, self.vertices):
            parcel = cifti2.Cifti2Parcel(name, cifti2.Cifti2VoxelIndicesIJK(voxels))
            for structure, indices in vertices.items():
                parcel.vertices.append(cifti2.Cifti2Vertices(structure, indices))
            mim.append(parcel)
        return mim

    def __len__(self) -> int:
        return int(self.name.size)

    def __eq__(self, other: object) -> bool:
        if (type(self) is not type(other) or len(self) != len(other)  # type: ignore[arg-type]
                or not np.array_equal(self.name, other.name)  # type: ignore[attr-defined]
                or self.nvertices != other.nvertices  # type: ignore[attr-defined]
                or any(not np.array_equal(a, b) for a, b in zip(self.voxels, other.voxels))):  # type: ignore[attr-defined]
            return False
        if (self.affine is None) != (other.affine is None):  # type: ignore[attr-defined]
            return False
        if self.affine is not None and not _same_space(self, other):
            return False
        for mine, theirs in zip(self.vertices, other.vertices):  # type: ignore[attr-defined]
            if len(mine) != len(theirs):
                return False
            if any(k not in theirs or not np.array_equal(v, theirs[k]) for k, v in mine.items()):
                return False
        return True

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Any) -> ParcelsAxis:
        if not isinstance(other, ParcelsAxis):
            return NotImplemented
        affine, shape = _merge_space(self, other, "ParcelsAxis")
        nvertices = _merge_nvertices(self.nvertices, other.nvertices, "ParcelsAxis")
        return type(self)(np.append(self.name, other.name), np.append(self.voxels, other.voxels),
                          np.append(self.vertices, other.vertices), affine, shape, nvertices)

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, str):
            found = np.flatnonzero(self.name == item)
            if len(found) == 0:
                raise ImageIndexError(f"Parcel {item} not found")
            if len(found) > 1:
                raise ImageIndexError(f"Multiple parcels with name {item} found")
            return self.voxels[found[0]], self.vertices[found[0]]
        if isinstance(item, (int, np.integer)):
            return self.get_element(item)
        return type(self)(self.name[item], self.voxels[item], self.vertices[item], self.affine,
                          self.volume_shape, self.nvertices)

    def get_element(self, index: int) -> tuple[str, np.ndarray, dict[str, np.ndarray]]:
        """(name, voxels, vertices) of parcel ``index``."""
        return self.name[index], self.voxels[index], self.vertices[index]
