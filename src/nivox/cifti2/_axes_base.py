"""The base of the CIFTI-2 axes and the checks and merges the volume-based axes share."""

from __future__ import annotations

import abc
from typing import Any

import numpy as np
from ..errors import InvalidArgumentError

__all__ = ["Axis"]


class Axis(abc.ABC):
    """One dimension of CIFTI-2 data."""

    @property
    def size(self) -> int:
        return len(self)

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def __eq__(self, other: object) -> bool: ...

    def __ne__(self, other: object) -> bool:
        return not self == other

    @abc.abstractmethod
    def __add__(self, other: Any) -> Axis: ...

    @abc.abstractmethod
    def __getitem__(self, item: Any) -> Any: ...


def _check_affine(value: Any) -> np.ndarray | None:
    if value is None:
        return None
    value = np.asanyarray(value)
    if value.shape != (4, 4):
        raise InvalidArgumentError("Affine transformation should be a 4x4 array")
    return value


def _check_volume_shape(value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    value = tuple(value)
    if len(value) != 3:
        raise InvalidArgumentError("Volume shape should be a tuple of length 3")
    if not all(isinstance(v, (int, np.integer)) for v in value):
        raise InvalidArgumentError("All elements of the volume shape should be integers")
    return tuple(int(v) for v in value)


def _same_space(a: Any, b: Any) -> bool:
    return bool(np.allclose(a.affine, b.affine)) and a.volume_shape == b.volume_shape


def _merge_space(a: Any, b: Any, what: str) -> tuple[Any, Any]:
    if a.affine is None:
        return b.affine, b.volume_shape
    if b.affine is not None and not _same_space(a, b):
        raise InvalidArgumentError(f"Trying to concatenate two {what} defined in a different brain volume")
    return a.affine, a.volume_shape


def _merge_nvertices(a: dict[str, int], b: dict[str, int], what: str) -> dict[str, int]:
    merged = dict(a)
    for name, count in b.items():
        if merged.get(name, count) != count:
            raise InvalidArgumentError(f"Trying to concatenate two {what} with inconsistent number of vertices for {name}")
        merged[name] = count
    return merged


class _VolumeSpace:
    """The affine and volume shape shared by BrainModelAxis and ParcelsAxis."""

    _affine: np.ndarray | None = None
    _volume_shape: tuple[int, ...] | None = None

    @property
    def affine(self) -> np.ndarray | None:
        """Voxel-to-space affine of the volume (None without voxels)."""
        return self._affine

    @affine.setter
    def affine(self, value: Any) -> None:
        self._affine = _check_affine(value)

    @property
    def volume_shape(self) -> tuple[int, ...] | None:
        """Shape of the volume the voxel indices point into."""
        return self._volume_shape

    @volume_shape.setter
    def volume_shape(self, value: Any) -> None:
        self._volume_shape = _check_volume_shape(value)


def _object_array(values: Any, count: int) -> np.ndarray:
    out = np.empty(count, dtype="object")
    for i, value in enumerate(values):
        out[i] = value
    return out
