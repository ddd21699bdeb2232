"""AFNIArrayProxy: the ``.BRIK`` data, read lazily, scaled per sub-brick.

A ``.BRIK`` file holds the sub-bricks one after the other, each a Fortran-order
(i, j, k) volume of its own stored type. When every sub-brick has the same
type the file is one (i, j, k, n) array and the plain ArrayProxy machinery
reads it (memory maps, reading only the bytes a slice needs). Mixed types
are read sub-brick by sub-brick, each slice only from the sub-bricks it
touches, cast into the header's common dtype.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..arrayproxy import ArrayProxy
from ..errors import TruncatedDataError
from ..fileslice import canonical_slicers, fileslice, predict_shape, read_array

__all__ = ["AFNIArrayProxy", "read_bricks"]


def _brick_offsets(shape: tuple[int, ...], dtypes: list[np.dtype]) -> list[int]:
    voxels = math.prod(shape[:3])
    offsets, position = [], 0
    for dtype in dtypes:
        offsets.append(position)
        position += voxels * dtype.itemsize
    return offsets


def read_bricks(fileobj: Any, shape: tuple[int, ...], dtypes: list[np.dtype], common: np.dtype,
                lock: Any = None) -> np.ndarray:
    """All sub-bricks of an open ``.BRIK`` file as one (i, j, k, n) array of dtype ``common``."""
    out = np.empty(shape, common, order="F")
    for brick, (dtype, offset) in enumerate(zip(dtypes, _brick_offsets(shape, dtypes))):
        volume = read_array(fileobj, shape[:3], dtype, offset, "F", lock=lock)
        out[..., brick] = volume
    return out


class AFNIArrayProxy(ArrayProxy):
    """The data of an AFNI dataset, read (and scaled by BRICK_FLOAT_FACS) only when indexed.

    Parameters
    ----------
    file_like : str, PathLike or file-like
        The ``.BRIK`` file (compressed ones too).
    header : AFNIHeader or tuple
        The dataset's header; a ``(shape, dtype[, offset])`` tuple gives an
        unscaled proxy of one stored type.
    mmap, keep_file_open :
        As for :class:`~nivox.arrayproxy.ArrayProxy`.

    Attributes
    ----------
    scaling : ndarray or None
        The factor of each sub-brick, or None when the data are not scaled.
    """

    def __init__(self, file_like: Any, header: Any, *, mmap: bool | str = True,
                 keep_file_open: bool | None = None) -> None:
        super().__init__(file_like, header, mmap=mmap, keep_file_open=keep_file_open)
        self._scaling: np.ndarray | None = None
        self._brick_dtypes: list[np.dtype] | None = None
        self._problem: str | None = None  # set when the file was found too short at load
        if hasattr(header, "get_data_scaling"):
            self._scaling = header.get_data_scaling()
            dtypes = header.get_brick_dtypes()
            if len(set(dtypes)) > 1:
                self._brick_dtypes = dtypes

    @property
    def scaling(self) -> np.ndarray | None:
        return self._scaling

    @property
    def brick_dtypes(self) -> list[np.dtype]:
        """The stored dtype of each sub-brick."""
        n = self._shape[3] if len(self._shape) > 3 else 1
        return list(self._brick_dtypes) if self._brick_dtypes is not None else [self._dtype] * n

    def _check_present(self) -> None:
        if self._problem is not None:
            raise TruncatedDataError(self._problem)

    def _read(self, slicer: Any = None) -> np.ndarray:
        self._check_present()
        if self._brick_dtypes is None:
            return super()._read(slicer)
        return self._read_mixed(slicer)

    def _read_volume(self, brick: int, inner: Any) -> np.ndarray:
        dtypes = self._brick_dtypes
        assert dtypes is not None
        offset = self._offset + _brick_offsets(self._shape, dtypes)[brick]
        with self._fileobj() as (fileobj, lock):
            part = fileslice(fileobj, inner, self._shape[:3], dtypes[brick], offset, "F", lock=lock)
        return np.asarray(part).astype(self._dtype, copy=False)

    def _read_mixed(self, slicer: Any) -> np.ndarray:
        if slicer is None:
            with self._fileobj() as (fileobj, lock):
                assert self._brick_dtypes is not None
                return read_bricks(fileobj, self._shape, self._brick_dtypes, self._dtype, lock)
        try:
            canonical = canonical_slicers(slicer, self._shape)
        except ValueError:  # fancy indexing: read all, let numpy index
            return self._read_mixed(None)[slicer]
        axes = [i for i, item in enumerate(canonical) if item is not None]
        where = axes[3]
        wanted, inner = canonical[where], canonical[:where] + canonical[where + 1:]
        if not isinstance(wanted, slice):
            return self._read_volume(int(wanted), inner)
        bricks = range(self._shape[3])[wanted]
        if len(bricks) == 0:
            return np.empty(predict_shape(canonical, self._shape), self._dtype)
        out_axis = sum(1 for item in canonical[:where] if item is None or isinstance(item, slice))
        return np.stack([self._read_volume(b, inner) for b in bricks], axis=out_axis)

    def _get_scaled(self, dtype: Any, slicer: Any) -> np.ndarray:
        self._check_present()
        if self._brick_dtypes is None:
            raw = super()._get_scaled(None, slicer)  # unscaled: slope 1, intercept 0
        else:
            raw = self._read(slicer)
        if self._scaling is None:
            if dtype is None:
                return raw
            return raw.astype(np.promote_types(raw.dtype, dtype), copy=False)
        # as nibabel: scaled data are float64 (complex128), or wider when asked
        final = np.result_type(raw.dtype, self._scaling.dtype)
        if dtype is not None:
            final = np.promote_types(final, dtype)
        factors = self._scaling.astype(final)
        if slicer is None:
            scale = factors
        else:
            scale = np.broadcast_to(factors, self._shape)[slicer]
        return np.multiply(np.asarray(raw), scale, dtype=final)

    def get_unscaled(self) -> np.ndarray:
        """All the data as stored (in the common dtype when sub-brick types differ)."""
        return self._read()

    def reshape(self, shape: Any) -> Any:
        """A reshaped proxy; scaled or mixed-type data are read and reshaped instead."""
        if self._scaling is None and self._brick_dtypes is None:
            return super().reshape(shape)
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        return np.asarray(self).reshape(shape, order="F")
