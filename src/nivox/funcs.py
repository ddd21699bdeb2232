"""Whole-image operations: squeeze, concatenate, split into volumes, reorient to canonical."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import ImageDataError, ImageMismatchError, InvalidArgumentError
from .orientations import OrientationError, io_orientation

__all__ = ["ConcatProxy", "as_closest_canonical", "concat_images", "four_to_three", "squeeze_image"]


def squeeze_image(img: Any) -> Any:
    """The image without length-1 axes at the end of its shape, keeping at least three axes."""
    klass = img.__class__
    shape = img.shape
    keep = len(shape)
    while keep > 3 and shape[keep - 1] == 1:
        keep -= 1
    if keep == len(shape):
        return klass.from_image(img)
    data = np.asanyarray(img.dataobj).reshape(shape[:keep])
    return klass(data, img.affine, img.header, img.extra)


def _as_image(item: Any) -> Any:
    if isinstance(item, (str, os.PathLike)):
        from .loadsave import load

        return load(item)
    return item


class ConcatProxy:
    """Arrays or proxies joined along one axis (or stacked on a new last axis), read lazily.

    Indexing reads only the pieces the index selects, each through its own
    proxy (so only the bytes needed); ``np.asarray`` fills one preallocated
    output piece by piece.
    """

    is_proxy = True

    def __init__(self, pieces: Sequence[Any], axis: int | None) -> None:
        self._pieces = list(pieces)
        first = self._pieces[0]
        self._stacked = axis is None
        if self._stacked:
            self._axis = first.ndim
            self._lengths = [1] * len(self._pieces)
            self._shape = tuple(first.shape) + (len(self._pieces),)
        else:
            self._axis = axis % first.ndim
            self._lengths = [piece.shape[self._axis] for piece in self._pieces]
            shape = list(first.shape)
            shape[self._axis] = sum(self._lengths)
            self._shape = tuple(shape)
        self._starts = np.cumsum([0] + self._lengths[:-1])
        # the dtype each piece gives when read, without reading more than one value
        # (a [0:1] slice on every axis also works for pieces with no elements)
        self._dtype = np.result_type(
            *(np.asanyarray(p[(slice(0, 1),) * p.ndim]).dtype for p in self._pieces))

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    def _piece_at(self, position: int) -> tuple[Any, int | None]:
        """The piece holding ``position`` along the joined axis, and the index inside it."""
        number = int(np.searchsorted(self._starts, position, side="right")) - 1
        return self._pieces[number], None if self._stacked else int(position - self._starts[number])

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        out = np.empty(self._shape, dtype=dtype or self._dtype)
        for piece, start, length in zip(self._pieces, self._starts, self._lengths):
            index: list[Any] = [slice(None)] * self.ndim
            index[self._axis] = int(start) if self._stacked else slice(int(start), int(start + length))
            out[tuple(index)] = np.asanyarray(piece)
        return out

    def __getitem__(self, key: Any) -> np.ndarray:
        from .fileslice import canonical_slicers, is_fancy

        if is_fancy(key if isinstance(key, tuple) else (key,)):
            return np.asarray(self)[key]
        canon = list(canonical_slicers(key, self._shape))
        real = [i for i, item in enumerate(canon) if item is not None]
        where = real[self._axis]
        chosen = np.arange(self._shape[self._axis])[canon[where]]
        # the joined axis' place in the result: output axes made before it
        out_axis = sum(1 for item in canon[:where] if not isinstance(item, (int, np.integer)))
        parts = []
        for position in np.atleast_1d(chosen):
            piece, local = self._piece_at(int(position))
            rest = canon[:where] + ([] if local is None else [local]) + canon[where + 1:]
            parts.append(np.asanyarray(piece[tuple(rest)]).astype(self._dtype, copy=False))
        if np.ndim(chosen) == 0:
            return parts[0]
        if not parts:
            shape = list(np.empty(self._shape, dtype=np.uint8)[tuple(canon)].shape)
            return np.empty(shape, dtype=self._dtype)
        return np.stack(parts, axis=out_axis)


def concat_images(images: Sequence[Any], check_affines: bool = True, axis: int | None = None) -> Any:
    """Join images (or filenames) into one: stacked on a new last axis, or along ``axis``.

    The result has the class, affine and header of the first image; its data
    are a :class:`ConcatProxy`, so nothing is read until used and a slice
    reads only what it selects (``np.asanyarray(img.dataobj)`` reads all).
    """
    images = [_as_image(img) for img in images]
    if not images:
        raise InvalidArgumentError("Cannot concatenate an empty list of images")
    first = images[0]
    shape0, affine0 = first.shape, first.affine
    for index, img in enumerate(images[1:], start=1):
        if check_affines and not np.allclose(img.affine, affine0):
            raise ImageMismatchError(f"Affine of image {index} does not match the first image's")
        if axis is None and img.shape != shape0:
            raise ImageMismatchError(f"Image {index} has shape {img.shape}, expected {shape0}")
        if axis is not None:
            other_axes = [n for n in range(len(shape0)) if n != axis % len(shape0)]
            if len(img.shape) != len(shape0) or any(img.shape[n] != shape0[n] for n in other_axes):
                raise ImageMismatchError(f"Image {index} shape {img.shape} does not fit {shape0} on axis {axis}")
    joined = ConcatProxy([img.dataobj for img in images], axis)
    return first.__class__(joined, affine0, first.header, first.extra)


def four_to_three(img: Any) -> list[Any]:
    """One 3D image per volume of a 4D image."""
    if img.ndim != 4:
        raise ImageDataError(f"Expecting four dimensions, got shape {img.shape}")
    klass = img.__class__
    data = img.dataobj
    return [klass(np.asanyarray(data[..., index]), img.affine, img.header)
            for index in range(img.shape[3])]


def as_closest_canonical(img: Any, enforce_diag: bool = False) -> Any:
    """The image with axes flipped and permuted to be closest to RAS+ (the image itself if already)."""
    ornt = io_orientation(img.affine)
    canonical = img.as_reoriented(ornt)
    if enforce_diag:
        rzs = canonical.affine[:3, :3]
        if not np.allclose(rzs, np.diag(np.diag(rzs))):
            raise OrientationError("Transformed affine is not diagonal")
    return canonical
