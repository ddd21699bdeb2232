"""Writing NIfTI-Zarr stores: the raw values, the pyramid levels slab by slab, the header, the OME metadata.

Used by :meth:`nivox.niftizarr.NiftiZarrImage.to_filename`; the layout is
described in :mod:`nivox.niftizarr`. Level 0 is written in slabs of whole
chunks along z (one volume at a time for 4D/5D data), each slab read from the
image's proxy (its stored values, when the dtype is kept) and halved into the
lower levels before the next one is read, so memory stays bounded by a slab.
"""

from __future__ import annotations

import io
import itertools
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _zarrstore as zs
from ._scaling import is_identity
from .arrayproxy import ArrayProxy
from .arraywriters import ArrayWriter, get_slope_inter
from .errors import ImageFileError, InvalidArgumentError
from .niftizarr import (
    _LABEL_INTENTS,
    _SPATIAL_CHUNK,
    NiftiZarrImage,
    NiftiZarrProxy,
    _zarr_shape,
)

__all__ = ["write_store"]


def write_store(img: NiftiZarrImage, location: zs.StoreLocation, temp: str | None, levels: int,
                 chunks: Any, dtype: Any, progress: Callable[[int, int], None] | None,
                 zarr_format: int = 3) -> None:
    zarr = zs.zarr_module()
    if zarr_format not in (2, 3):
        raise InvalidArgumentError(f"zarr_format must be 2 or 3, not {zarr_format!r}")
    name = location.name
    shape = tuple(int(n) for n in img.shape)
    if not 1 <= len(shape) <= 5:
        raise ImageFileError(f"cannot save {name}: NIfTI-Zarr holds 1 to 5 dimensions, not {len(shape)}")
    img.update_header()
    header = img.header.copy()
    if dtype is not None:
        header.set_data_dtype(dtype)
    out_dtype = header.get_data_dtype().newbyteorder("=")
    if out_dtype.kind == "f" and out_dtype.itemsize > 8 or out_dtype.kind == "c" and out_dtype.itemsize > 16:
        raise ImageFileError(f"cannot save {name}: Zarr has no {out_dtype} data type")
    source, scaling_pair = _raw_source(img, header, out_dtype)
    header.set_slope_inter(*scaling_pair)
    img._prepare_disk_header(header)
    zshape, axes, perm = _zarr_shape(shape)
    chunk_shape = _chunk_shape(chunks, zshape, axes, name)
    shapes = [zshape]
    for _ in range(levels - 1):
        shapes.append(zs.next_shape(shapes[-1]))
    store = location.store(read_only=False, path=temp)
    group = zarr.open_group(store=store, mode="w", zarr_format=zarr_format)
    if zarr_format == 3:
        codec: Any = zarr.codecs.BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")
        layout: dict[str, Any] = {"dimension_names": axes}
    else:  # Zarr v2 + OME 0.4, chunks in nested folders as the spec's examples
        import numcodecs

        codec = numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)
        layout = {"chunk_key_encoding": {"name": "v2", "separator": "/"}}
    with warnings.catch_warnings():
        # structured (RGB) dtypes have no Zarr v3 spec yet; zarr-python warns on each use
        warnings.simplefilter("ignore", category=UserWarning)
        arrays = [group.create_array(str(level), shape=level_shape, dtype=out_dtype,
                                     chunks=tuple(min(c, max(n, 1)) for c, n in zip(chunk_shape, level_shape)),
                                     compressors=codec, fill_value=_fill(out_dtype), **layout)
                  for level, level_shape in enumerate(shapes)]
        if zarr_format == 2:  # xarray's name for the axes of a v2 array
            for array in arrays:
                array.attrs["_ARRAY_DIMENSIONS"] = list(axes)
        labels = int(header["intent_code"]) in _LABEL_INTENTS
        _write_levels(source, len(shape), arrays, shapes, perm, chunk_shape, labels, progress)
    _write_header(group, header)
    # the OME metadata last: until it is there the store is no image to a reader
    method = "mode 2x2x2" if labels else "mean 2x2x2"
    multiscales = zs.ome_multiscales(axes, shapes, tuple(float(z) for z in header.get_zooms()),
                                     int(header["xyzt_units"]), method)
    if zarr_format == 3:
        group.attrs["ome"] = {"version": zs.OME_VERSION, "multiscales": [multiscales]}
    else:
        group.attrs["multiscales"] = [dict(multiscales, version="0.4")]


def _fill(dtype: np.dtype) -> Any:
    if dtype.fields is not None:
        return None
    return 0


def _raw_source(img: NiftiZarrImage, header: Any, out_dtype: np.dtype) -> tuple[Callable[[Any], np.ndarray], tuple[Any, Any]]:
    """(a reader of F-ordered raw blocks by NIfTI index, the (slope, inter) that scales them)."""
    dataobj = img.dataobj
    slope, inter = float(header["scl_slope"]), float(header["scl_inter"])
    user_scaling = math.isfinite(slope) and slope != 0
    if not user_scaling and isinstance(dataobj, (ArrayProxy, NiftiZarrProxy)) and \
            dataobj.dtype.newbyteorder("=") == out_dtype and getattr(dataobj, "order", "F") == "F":
        # stored values copied as they are, with the source's scaling: exact and lazy
        reader = dataobj._read if isinstance(dataobj, ArrayProxy) else dataobj._raw
        return (lambda index: np.asarray(reader(index))), (float(dataobj.slope), float(dataobj.inter))
    data = np.asanyarray(dataobj)
    if user_scaling:
        writer = ArrayWriter(data, out_dtype, check_scaling=False)
        pair = (slope, inter if math.isfinite(inter) else 0.0)
    else:
        writer = img._writer_for(data, out_dtype, header)
        pair = get_slope_inter(writer)
        pair = (1.0 if pair[0] is None or not math.isfinite(pair[0]) else pair[0],
                0.0 if pair[1] is None or not math.isfinite(pair[1]) else pair[1])
    if is_identity(*pair) and data.dtype == out_dtype and not getattr(writer, "_needs_nan2zero", lambda: False)():
        return (lambda index: data[index]), pair
    buffer = io.BytesIO()
    writer.to_fileobj(buffer, order="F")
    raw = np.frombuffer(buffer.getbuffer(), out_dtype).reshape(data.shape, order="F")
    return (lambda index: raw[index]), pair


def _chunk_shape(chunks: Any, zshape: tuple[int, ...], axes: tuple[str, ...], name: str) -> tuple[int, ...]:
    """Chunk lengths in Zarr order from ``chunks`` (int, or x, y, z[, t[, c]])."""
    spatial = (chunks,) * 3 if isinstance(chunks, (int, np.integer)) else \
        tuple(chunks) if chunks is not None else (_SPATIAL_CHUNK,) * 3
    lengths = dict(zip("xyztc", [*spatial, 1, 1][:5] if len(spatial) <= 3 else [*spatial, 1][:5]))
    if any(int(n) < 1 for n in lengths.values()):
        raise InvalidArgumentError(f"cannot save {name}: chunk lengths must be positive, not {chunks}")
    return tuple(int(lengths[a]) for a in axes)


def _write_levels(source: Callable[[Any], np.ndarray], ndim: int, arrays: list[Any],
                  shapes: list[tuple[int, ...]], perm: tuple[int, ...], chunk_shape: tuple[int, ...], labels: bool,
                  progress: Callable[[int, int], None] | None) -> None:
    """Write level 0 slab by slab (whole chunks along z), each slab also pooled into the lower levels."""
    zshape = shapes[0]
    lead = len(zshape) - 3
    factors = [1]  # how many level-0 planes along z make one plane of each level
    for prev in shapes[:-1]:
        factors.append(factors[-1] * (2 if zs.pooled_axes(prev)[0] else 1))
    slab = math.lcm(chunk_shape[lead], factors[-1])
    outer = [range(n) for n in zshape[:lead]]
    blocks = list(itertools.product(*outer))
    starts = range(0, zshape[lead], slab)
    total, done = len(blocks) * len(starts), 0
    nifti_ndim = len(perm)  # padded to 3
    for lead_index in blocks:
        for z0 in starts:
            z1 = min(z0 + slab, zshape[lead])
            # the NIfTI index of this block: x, y whole, z slab, t/c single
            index: list[Any] = [slice(None)] * nifti_ndim
            index[2] = slice(z0, z1)
            for name_pos, value in zip(range(lead), lead_index):
                index[perm[name_pos]] = slice(value, value + 1)
            block = np.asarray(source(tuple(index[:ndim])))
            block = block.reshape(block.shape + (1,) * (nifti_ndim - block.ndim)).transpose(perm)
            for level, array in enumerate(arrays):
                if level:
                    block = zs.downsample(block, zs.pooled_axes(shapes[level - 1]), labels)
                low = z0 // factors[level]
                high = min(low + block.shape[lead], shapes[level][lead])
                target = tuple(slice(v, v + 1) for v in lead_index) + (slice(low, high),)
                if high > low:
                    array[target] = block[(Ellipsis, slice(0, high - low), slice(None), slice(None))]
            done += 1
            if progress is not None:
                progress(done, total)


def _write_header(group: Any, header: Any) -> None:
    buffer = io.BytesIO()
    header.write_to(buffer)
    raw = buffer.getvalue()
    has_extensions = len(header.extensions) > 0
    if not has_extensions:
        raw = raw[:header.sizeof_hdr]  # as the reference converter: no flag without extensions
    array = group.create_array("nifti", shape=(len(raw),), dtype="uint8", chunks=(len(raw),),
                               compressors=None, fill_value=0)
    array[...] = np.frombuffer(raw, np.uint8)
    array.attrs.update(zs.json_header(header, has_extensions))

