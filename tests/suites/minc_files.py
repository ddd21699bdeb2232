"""Test helpers that make MINC files the way other tools do, independently of nivox's writer.

MINC1 files are written with scipy's netCDF-3 writer; MINC2 files with h5py
directly, so tests can also make files with odd or contradictory structure.
"""

from __future__ import annotations

import bz2
import gzip
from pathlib import Path
from typing import Any

import numpy as np

_SIGNED = {np.dtype(np.uint8): np.int8, np.dtype(np.uint16): np.int16, np.dtype(np.uint32): np.int32}


def write_minc1(path: str | Path, data: np.ndarray, *, dims=("zspace", "yspace", "xspace"),
                steps=None, starts=None, cosines=None, valid_range=None, image_min=None,
                image_max=None, scale_dims=None, spacing=None, coords=None, attrs=None) -> Path:
    """A MINC1 file of ``data`` (file order), compressed when ``path`` ends with .gz/.bz2."""
    from scipy.io import netcdf_file

    path = Path(path)
    plain = path.with_suffix("") if path.suffix in (".gz", ".bz2") else path
    data = np.asarray(data)
    dtype = data.dtype
    nc = netcdf_file(plain, "w")
    for name, length in zip(dims, data.shape):
        nc.createDimension(name, length)
    for index, name in enumerate(dims):
        kind = (spacing or {}).get(name, "regular__")
        if kind == "irregular":
            var = nc.createVariable(name, "d", (name,))
            var[:] = np.asarray(coords[name], dtype=np.float64)
        else:
            var = nc.createVariable(name, "i", ())
        var.spacing = kind.encode()
        if steps is not None:
            var.step = float(steps[index])
        if starts is not None:
            var.start = float(starts[index])
        if cosines is not None and cosines[index] is not None:
            var.direction_cosines = np.asarray(cosines[index], dtype=np.float64)
    stored = data.view(_SIGNED[dtype]) if dtype in _SIGNED else data
    image = nc.createVariable("image", stored.dtype.newbyteorder(">").char, tuple(dims))
    image[:] = stored
    if dtype.kind in "iu":
        image.signtype = b"unsigned" if dtype.kind == "u" else b"signed__"
    if valid_range is not None:
        image.valid_range = np.asarray(valid_range, dtype=np.float64)
    for key, value in (attrs or {}).items():
        setattr(image, key, value)
    scale_dims = tuple(scale_dims or ())
    for name, values in (("image-min", image_min), ("image-max", image_max)):
        if values is None:
            continue
        var = nc.createVariable(name, "d", scale_dims)
        if scale_dims:
            var[:] = np.asarray(values, dtype=np.float64)
        else:
            var[...] = float(values)
    nc.close()
    if plain != path:
        content = plain.read_bytes()
        plain.unlink()
        path.write_bytes(gzip.compress(content, mtime=0) if path.suffix == ".gz" else bz2.compress(content))
    return path


def _string(h5py: Any, obj: Any, name: str, text: str) -> None:
    obj.attrs.create(name, np.bytes_(text.encode()))


def write_minc2(path: str | Path, data: np.ndarray, *, dims=("zspace", "yspace", "xspace"),
                steps=None, starts=None, cosines=None, valid_range=None, image_min=None,
                image_max=None, scale_dims=None, spacing=None, coords=None, chunks=None,
                compression=None, dim_attrs=None) -> Path:
    """A MINC2 file of ``data`` (file order) made with h5py alone."""
    import h5py

    with h5py.File(path, "w") as handle:
        root = handle.create_group("minc-2.0")
        group = root.create_group("dimensions")
        for index, name in enumerate(dims):
            kind = (spacing or {}).get(name, "regular__")
            if kind == "irregular":
                var = group.create_dataset(name, data=np.asarray(coords[name], dtype=np.float64))
            else:
                var = group.create_dataset(name, data=np.int32(0))
            _string(h5py, var, "spacing", kind)
            if steps is not None:
                var.attrs["step"] = float(steps[index])
            if starts is not None:
                var.attrs["start"] = float(starts[index])
            if cosines is not None and cosines[index] is not None:
                var.attrs["direction_cosines"] = np.asarray(cosines[index], dtype=np.float64)
            for key, value in (dim_attrs or {}).get(name, {}).items():
                var.attrs[key] = value
        image_group = root.create_group("image").create_group("0")
        image = image_group.create_dataset("image", data=np.asarray(data), chunks=chunks,
                                           compression=compression)
        _string(h5py, image, "dimorder", ",".join(dims))
        if valid_range is not None:
            image.attrs["valid_range"] = np.asarray(valid_range, dtype=np.float64)
        scale_dims = tuple(scale_dims or ())
        for name, values in (("image-min", image_min), ("image-max", image_max)):
            if values is None:
                continue
            var = image_group.create_dataset(name, data=np.asarray(values, dtype=np.float64))
            if scale_dims:
                _string(h5py, var, "dimorder", ",".join(scale_dims))
        root.create_group("info")
    return Path(path)


def check_minc_slicer(api: Any) -> None:
    """``img.slicer`` of MINC images: 3D images slice like any other; 4D ones refuse (ValueError).

    The array keeps the file's dimension order, so a 4D image's spatial axes
    are not known to be the first three (nibabel refuses too).
    """
    import pytest

    img, data = api.make_image((5, 4, 3))
    sliced = img.slicer[1:4, ::2]
    assert np.array_equal(np.asanyarray(sliced.dataobj), data[1:4, ::2])
    assert np.allclose(sliced.affine[:3, 3], (img.affine @ [1, 0, 0, 1])[:3])
    with pytest.raises(IndexError):
        img.slicer[0]
    four, _ = api.make_image((5, 4, 3, 2))
    with pytest.raises(ValueError, match="spatial"):
        four.slicer
