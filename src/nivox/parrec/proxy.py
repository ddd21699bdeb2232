"""PARRECArrayProxy: the REC file's images, reordered into volumes and scaled per slice.

The REC file holds 2D images back to back (little-endian uint8/uint16, in
the order of the PAR's image lines). The output array stacks them as
``(x, y, slices[, volumes])``: output frame ``f`` (the trailing axes
flattened in Fortran order) is REC image ``slice_indices[f]``, scaled by
its own slope and intercept. A read works out which frames an index needs,
reads only those images (runs of neighbouring images in one request, and
only the in-plane part asked for) and scales them in blocks, so a volume or
a slice of a large series costs what it holds, not the whole file.
"""

from __future__ import annotations

import math
import os
import threading
from typing import Any

import numpy as np

from ..errors import ImageDataError, PARRECError, TruncatedDataError
from ..fileslice import canonical_slicers, fileslice, is_fancy
from ..openers import ImageOpener

__all__ = ["PARRECArrayProxy"]

# elements scaled per block: bounds the float64 temporaries of a scaled read
_BLOCK_ELEMENTS = 1 << 20
# read a whole span of images at once when its gaps are at most this share of it
_SPAN_SLACK = 2


def _name(file_like: Any) -> str:
    if isinstance(file_like, (str, os.PathLike)):
        return os.fsdecode(file_like)
    name = getattr(file_like, "name", None)
    return str(name) if isinstance(name, (str, bytes, os.PathLike)) else "<REC file object>"


class PARRECArrayProxy:
    """Lazy, scaled access to the data of a REC file.

    Parameters
    ----------
    file_like : str, os.PathLike or file-like
        The REC file, or an open binary file object.
    header : PARRECHeader
        Anything with ``get_data_shape``, ``get_data_dtype``,
        ``get_sorted_slice_indices``, ``get_data_scaling`` and
        ``get_rec_shape``; read once, here.
    mmap : {True, False, 'c', 'r'}, optional, keyword only
        Accepted for nibabel compatibility and checked. The data are always
        read into memory: every read reorders or scales the images, so a
        memory map would never be returned (nibabel returns none either).
    scaling : {'dv', 'fp'}, optional, keyword only
        Which scaling to apply (see ``PARRECHeader.get_data_scaling``).

    Proxies pickle by reference to the file and are safe to read from
    several threads.
    """

    def __init__(self, file_like: Any, header: Any, *, mmap: bool | str = True, scaling: str = "dv") -> None:
        if mmap not in (True, False, "c", "r"):
            raise PARRECError("mmap should be one of {True, False, 'c', 'r'}")
        self.file_like = file_like
        self._shape = tuple(int(n) for n in header.get_data_shape())
        self._dtype = np.dtype(header.get_data_dtype())
        self._slice_indices = np.asarray(header.get_sorted_slice_indices(), dtype=np.intp)
        self._mmap = mmap
        self._slice_scaling = header.get_data_scaling(scaling)
        self._rec_shape = tuple(int(n) for n in header.get_rec_shape())
        self._lock = threading.RLock()

    # ------------------------------------------------------------ description

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the REC file's values (before scaling)."""
        return self._dtype

    @property
    def is_proxy(self) -> bool:
        return True

    @property
    def offset(self) -> int:
        """Where the data start in the REC file: always 0."""
        return 0

    @property
    def slope(self) -> np.ndarray | None:
        """Per-slice slopes, shaped ``(1, 1) + shape[2:]`` (None when unscaled)."""
        return None if self._slice_scaling is None else self._slice_scaling[0]

    @property
    def inter(self) -> np.ndarray | None:
        """Per-slice intercepts, shaped ``(1, 1) + shape[2:]`` (None when unscaled)."""
        return None if self._slice_scaling is None else self._slice_scaling[1]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.file_like!r} shape={self._shape} dtype={self._dtype}>"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    # ------------------------------------------------------------ reading

    def _n_frames(self) -> int:
        return math.prod(self._shape[2:])

    def _check_file_size(self, positions: np.ndarray) -> None:
        """Refuse, before allocating anything, to read past the end of a plain REC file."""
        if positions.size == 0 or not isinstance(self.file_like, (str, os.PathLike)):
            return
        if ImageOpener.codec_for(self.file_like) is not None:
            return  # compressed: the reader reports a short stream itself
        frame_bytes = self._rec_shape[0] * self._rec_shape[1] * self._dtype.itemsize
        needed = (int(positions.max()) + 1) * frame_bytes
        try:
            size = os.path.getsize(self.file_like)
        except OSError as err:
            raise TruncatedDataError(f"{_name(self.file_like)}: cannot read the REC file ({err.strerror})") from None
        if size < needed:
            raise TruncatedDataError(
                f"{_name(self.file_like)}: the REC file holds {size} bytes, but the PAR header describes "
                f"{needed} (images of {self._rec_shape[0]}x{self._rec_shape[1]} {self._dtype.itemsize * 8}-bit); "
                "is the REC file truncated, or not the PAR's?"
            )

    def _read_images(self, sel0: slice, sel1: slice, positions: np.ndarray) -> np.ndarray:
        """REC images ``positions`` (in that order), in-plane part ``sel0, sel1``: shape (n0, n1, len)."""
        self._check_file_size(positions)
        if positions.size == 0:
            n0 = len(range(*sel0.indices(self._rec_shape[0])))
            n1 = len(range(*sel1.indices(self._rec_shape[1])))
            return np.empty((n0, n1, 0), self._dtype, order="F")
        unique, inverse = np.unique(positions, return_inverse=True)
        breaks = np.flatnonzero(np.diff(unique) != 1) + 1
        starts, ends = np.r_[0, breaks], np.r_[breaks, unique.size]
        span = int(unique[-1] - unique[0] + 1)
        if len(starts) > 1 and span <= _SPAN_SLACK * unique.size:
            # few gaps: one read of the whole span, then pick
            runs = [(int(unique[0]), int(unique[-1]) + 1)]
            pick: np.ndarray | None = unique - unique[0]
        else:
            runs = [(int(unique[a]), int(unique[b - 1]) + 1) for a, b in zip(starts, ends)]
            pick = None
        opener = ImageOpener(self.file_like)
        lock = None if opener.me_opened else self._lock  # a file object given to us may be shared
        with opener:
            # the shape given ends at the run: what lies beyond may be missing (a short file)
            parts = [fileslice(opener, (sel0, sel1, slice(a, b)), self._rec_shape[:2] + (b,), self._dtype, 0,
                               "F", lock=lock)
                     for a, b in runs]
        block = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=2)
        if pick is not None:
            block = block[:, :, pick]
        if not (inverse.size == unique.size and np.array_equal(inverse, np.arange(unique.size))):
            block = block[:, :, inverse.ravel()]
        return block

    def _plan(self, slicer: Any) -> tuple[slice, slice, np.ndarray, tuple[int, ...], tuple[Any, ...]]:
        """(in-plane slices, frames needed (Fortran order), their grid shape, index applied after)."""
        shape = self._shape
        items = canonical_slicers(slicer, shape)
        real = [item for item in items if item is not None]
        post: list[Any] = []
        inplane: list[slice] = []
        axis = 0
        for item in items:
            if item is None:
                post.append(None)
                continue
            if axis < 2:
                if isinstance(item, slice):
                    inplane.append(item)
                    post.append(slice(None))
                else:
                    inplane.append(slice(item, item + 1))
                    post.append(0)
            elif isinstance(item, slice):
                post.append(slice(None))  # integers on trailing axes are applied to the frame grid
            axis += 1
        grid = np.arange(self._n_frames()).reshape(shape[2:], order="F")
        frames = grid[tuple(real[2:])]
        frames = np.asarray(frames)
        return inplane[0], inplane[1], frames.ravel(order="F"), frames.shape, tuple(post)

    def _get(self, slicer: Any, scaled: bool, dtype: Any) -> np.ndarray:
        if slicer is not None and is_fancy(slicer):
            # integer or boolean arrays: read what the basic part needs, then index in memory
            return np.asarray(self._get(None, scaled, dtype)[slicer])
        whole = slicer is None
        sel0, sel1, frames, grid_shape, post = self._plan(() if whole else slicer)
        raw = self._read_images(sel0, sel1, self._slice_indices[frames])
        n0, n1 = raw.shape[:2]
        if scaled:
            raw = self._scale(raw, frames, dtype)
        elif dtype is not None:
            raw = raw.astype(np.promote_types(raw.dtype, dtype), copy=False)
        out = raw.reshape((n0, n1) + grid_shape, order="F")
        return out if whole else np.asarray(out[post])

    def _scale(self, raw: np.ndarray, frames: np.ndarray, dtype: Any) -> np.ndarray:
        if self._slice_scaling is None:
            if dtype is None:
                return raw
            return raw.astype(np.promote_types(raw.dtype, dtype), copy=False)
        slope_all, inter_all = (np.asarray(v) for v in self._slice_scaling)
        n_frames = self._n_frames()
        slopes = np.broadcast_to(slope_all, (1, 1) + self._shape[2:]).reshape(n_frames, order="F")[frames]
        inters = np.broadcast_to(inter_all, (1, 1) + self._shape[2:]).reshape(n_frames, order="F")[frames]
        compute = np.result_type(raw, slopes, inters)
        out_dtype = compute if dtype is None else np.dtype(dtype)
        compute = np.promote_types(compute, out_dtype)
        out = np.empty(raw.shape, out_dtype, order="F")
        step = max(1, _BLOCK_ELEMENTS // max(1, raw.shape[0] * raw.shape[1]))
        slopes, inters = slopes.astype(compute), inters.astype(compute)
        for start in range(0, raw.shape[2], step):
            part = slice(start, start + step)
            if out_dtype == compute:
                # straight into the result: no temporary
                target = out[:, :, part]
                np.multiply(raw[:, :, part], slopes[part], out=target)
                np.add(target, inters[part], out=target)
            else:
                block = raw[:, :, part] * slopes[part]
                block += inters[part]
                out[:, :, part] = block
        return out

    def _guarded(self, slicer: Any, scaled: bool, dtype: Any) -> np.ndarray:
        try:
            return self._get(slicer, scaled, dtype)
        except MemoryError:
            raise ImageDataError(
                f"{_name(self.file_like)}: not enough memory to read the {self._shape} data "
                "(read it in slices: img.dataobj[...])"
            ) from None

    def get_unscaled(self) -> np.ndarray:
        """All the data as stored in the REC file (reordered, not scaled)."""
        return self._guarded(None, False, None)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """All the data, scaled; in ``dtype`` if given (the scaling is computed in float64 first)."""
        arr = self._guarded(None, True, dtype)
        if dtype is not None:
            arr = arr.astype(dtype, copy=False)
        return arr

    def __getitem__(self, slicer: Any) -> np.ndarray:
        """The scaled data ``slicer`` selects, reading only the images it needs."""
        return self._guarded(slicer, True, None)
