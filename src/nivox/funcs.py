"""Whole-image operations: squeeze, concatenate, split into volumes, reorient to canonical."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .orientations import OrientationError, io_orientation

__all__ = ["as_closest_canonical", "concat_images", "four_to_three", "squeeze_image"]


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


def concat_images(images: Sequence[Any], check_affines: bool = True, axis: int | None = None) -> Any:
    """Join images (or filenames) into one: stacked on a new last axis, or along ``axis``.

    The result has the class, affine and header of the first image. The output
    is allocated once and each image's data are read straight into it.
    """
    images = [_as_image(img) for img in images]
    if not images:
        raise ValueError("Cannot concatenate an empty list of images")
    first = images[0]
    shape0, affine0 = first.shape, first.affine
    for index, img in enumerate(images[1:], start=1):
        if check_affines and not np.allclose(img.affine, affine0):
            raise ValueError(f"Affine of image {index} does not match the first image's")
        if axis is None and img.shape != shape0:
            raise ValueError(f"Image {index} has shape {img.shape}, expected {shape0}")
        if axis is not None:
            other_axes = [n for n in range(len(shape0)) if n != axis % len(shape0)]
            if len(img.shape) != len(shape0) or any(img.shape[n] != shape0[n] for n in other_axes):
                raise ValueError(f"Image {index} shape {img.shape} does not fit {shape0} on axis {axis}")
    dtype = np.result_type(*(np.asanyarray(img.dataobj[(0,) * img.ndim]).dtype for img in images))
    if axis is None:
        out = np.empty(shape0 + (len(images),), dtype=dtype)
        for index, img in enumerate(images):
            out[..., index] = np.asanyarray(img.dataobj)
    else:
        pieces = [np.asanyarray(img.dataobj) for img in images]
        out = np.concatenate(pieces, axis=axis).astype(dtype, copy=False)
    return first.__class__(out, affine0, first.header, first.extra)


def four_to_three(img: Any) -> list[Any]:
    """One 3D image per volume of a 4D image."""
    if img.ndim != 4:
        raise ValueError(f"Expecting four dimensions, got shape {img.shape}")
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
