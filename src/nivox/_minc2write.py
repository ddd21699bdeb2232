"""Writing MINC2 files with the HDF5 layout MINC tools write and read.

Layout (as libminc writes it): a group ``/minc-2.0`` (attributes ``ident``,
``minc_version``, ``history``) holding ``dimensions/<name>`` (one scalar
variable per dimension, with ``start``, ``step``, ``direction_cosines``,
``length``, ``spacing``, ``alignment``, ...), ``image/0/image`` (the data, in
the order its ``dimorder`` attribute names, with ``valid_range`` and
``complete``), ``image/0/image-min`` and ``image-max`` (varying over the
slowest dimensions), and ``info``. String attributes are fixed-length,
NUL-terminated, as libminc stores them. Compressed images are stored in
chunks of at most 32 voxels along each spatial axis, deflated at level 4 as
MINC tools do by default; the chunks are compressed on all cores and handed
to HDF5 already compressed.

The array is written in its own axis order (so nivox and nibabel read back
the same array); each of the three spatial axes gets the MINC dimension
(``xspace``, ``yspace``, ``zspace``) of the world axis it points along most,
with direction cosines and a start that reproduce the affine exactly.
Integer data are stored with ``image-min``/``image-max`` equal to the ends of
``valid_range``, so reading them back applies no scaling at all; an integer
type that cannot hold the values (floats stored as int16, say) gets
per-slice scaling, as MINC tools do. An image loaded from a MINC file keeps
its stored values and its slice scaling. A 1D or 2D image keeps the rest of
its affine in dimension variables it does not use (nibabel reads only
images with three spatial dimensions).
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

from ._threads import cpu_threads, run_parallel
from .errors import ImageDataError, MincError

__all__ = ["CHUNK_EDGE", "DEFAULT_LEVEL", "write_minc2"]

#: deflate level MINC tools use unless told otherwise
DEFAULT_LEVEL = 4
#: most voxels of a chunk along a spatial axis
CHUNK_EDGE = 32
_SPATIAL_NAMES = ("xspace", "yspace", "zspace")
_OTHER_NAMES = ("time", "vector_dimension")
_VERSION_TEXT = "MINC Version    1.0"
_VARID = "MINC standard variable"
# stored types MINC2 has, for the types numpy images may come in
_STORABLE = {np.dtype(t) for t in (np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32,
                                   np.float32, np.float64)}


def _string_attr(h5py: Any, obj: Any, name: str, text: str) -> None:
    """A fixed-length NUL-terminated string attribute, as libminc writes them."""
    raw = text.encode("latin-1")
    tid = h5py.h5t.C_S1.copy()
    tid.set_size(len(raw) + 1)
    tid.set_strpad(h5py.h5t.STR_NULLTERM)
    if name in obj.attrs:
        del obj.attrs[name]
    attr = h5py.h5a.create(obj.id, name.encode("latin-1"), tid, h5py.h5s.create(h5py.h5s.SCALAR))
    attr.write(np.array(raw, dtype=f"S{len(raw) + 1}"))


def _standard(h5py: Any, obj: Any, vartype: str) -> None:
    _string_attr(h5py, obj, "varid", _VARID)
    _string_attr(h5py, obj, "vartype", vartype)
    _string_attr(h5py, obj, "version", _VERSION_TEXT)


# ---------------------------------------------------------------- the plan


def _storable_dtype(dtype: np.dtype, data: np.ndarray | None) -> np.dtype:
    dtype = np.dtype(dtype).newbyteorder("=")
    if dtype in _STORABLE:
        return dtype
    if dtype.kind == "b":
        return np.dtype(np.uint8)
    if dtype.kind == "c":
        raise ImageDataError("MINC2 stores no complex data; save the real and imaginary parts separately")
    if dtype.kind == "f":
        return np.dtype(np.float32 if dtype.itemsize < 4 else np.float64)
    if dtype.kind in "iu":
        narrow = np.dtype(f"{dtype.kind}4")
        if data is not None and data.size and data.dtype.kind in "iu":
            info = np.iinfo(narrow)
            if info.min <= data.min() and data.max() <= info.max:
                return narrow
        return np.dtype(np.float64)
    raise ImageDataError(f"MINC2 cannot store data of type {dtype}")


def _axes_names(img: Any, ndim: int) -> tuple[list[int], list[str]]:
    """The array axes that are spatial, and names for the others."""
    proxy = img.dataobj
    minc = getattr(proxy, "minc_file", None)
    if minc is not None and tuple(proxy.shape) == tuple(img.shape):
        names = list(minc._dim_names)
        spatial = [i for i, name in enumerate(names) if name.endswith("space")]
        if len(spatial) == 3:
            return spatial, names
    spatial = list(range(min(ndim, 3)))
    others = list(_OTHER_NAMES) + [f"dim{i}" for i in range(5, ndim)]
    names = ["?"] * len(spatial) + others[: max(ndim - 3, 0)]
    return spatial, names


def _spatial_dims(affine: np.ndarray) -> list[dict[str, Any]]:
    """Name, step, start and direction cosines of each of the three voxel axes of ``affine``."""
    from .orientations import io_orientation

    columns = affine[:3, :3]
    norms = np.sqrt((columns**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        ornt = io_orientation(affine)
    claimed = {int(w) for w in ornt[:, 0] if not np.isnan(w)}
    taken: set[int] = set()
    world = []
    for axis in range(3):
        if np.isnan(ornt[axis, 0]):  # a zero column: any world axis no other column points along
            found = next(w for w in range(3) if w not in taken and w not in claimed)
            sign = 1.0
        else:
            found, sign = int(ornt[axis, 0]), float(ornt[axis, 1])
        taken.add(found)
        world.append((found, sign))
    rotation = np.zeros((3, 3))
    dims = []
    for axis, (w, sign) in enumerate(world):
        step = sign * norms[axis]
        if norms[axis] > 0:
            cosines = columns[:, axis] / step
        else:
            cosines = np.eye(3)[w]
        rotation[:, axis] = cosines
        dims.append({"name": _SPATIAL_NAMES[w], "step": float(step), "cosines": cosines})
    try:
        starts = np.linalg.solve(rotation, affine[:3, 3])
    except np.linalg.LinAlgError:
        raise ImageDataError("the affine's voxel axes are not independent; MINC cannot store it") from None
    for dim, start in zip(dims, starts):
        dim["start"] = float(start)
    return dims


class _Plan:
    """What will be written: stored values, type, dimensions and scaling."""

    def __init__(self, img: Any) -> None:
        shape = tuple(int(n) for n in img.shape)
        if not shape:
            raise ImageDataError("MINC cannot store an image without axes")
        if not all(shape):
            raise ImageDataError(f"MINC cannot store an empty image (shape {shape})")
        self.shape = shape
        affine = img.affine if img.affine is not None else img.header.get_best_affine()
        affine = np.asarray(affine, dtype=np.float64)
        if not np.all(np.isfinite(affine)):
            raise ImageDataError("the affine holds values that are not finite")
        spatial_axes, names = _axes_names(img, len(shape))
        zooms = tuple(img.header.get_zooms()) + (1.0,) * len(shape)
        self.dims: list[dict[str, Any]] = []
        spatial = iter(_spatial_dims(affine))
        for axis in range(len(shape)):
            if axis in spatial_axes:
                dim = next(spatial)
            else:
                dim = {"name": names[axis], "step": float(zooms[axis]) or 1.0, "start": 0.0, "cosines": None}
            dim["length"] = shape[axis]
            self.dims.append(dim)
        # a 1D or 2D image: the other world axes of the affine are dimension
        # variables the image does not use (readers complete the affine from them)
        self.unused = [dict(dim, length=1) for dim in spatial]
        # readers add the unused axes in x, y, z order: name them so (cosines carry the direction)
        free = sorted(set(_SPATIAL_NAMES) - {dim["name"] for dim in self.dims})
        for dim, name in zip(self.unused, free):
            dim["name"] = name
        self._values(img)

    def _values(self, img: Any) -> None:
        proxy = img.dataobj
        minc = getattr(proxy, "minc_file", None)
        wanted = np.dtype(img.get_data_dtype())
        if minc is not None and tuple(proxy.shape) == self.shape and \
                wanted.newbyteorder("=") == minc.get_data_dtype().newbyteorder("="):
            self._from_minc(minc)
            return
        data = np.asanyarray(proxy)
        self.dtype = _storable_dtype(wanted, data)
        self.scale_axes = 0
        if self.dtype.kind == "f":
            self.raw = np.asarray(data, dtype=self.dtype)
            finite = self.raw[np.isfinite(self.raw)]
            low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            self.valid_range = np.array([low, high])
            self.image_min = np.array(low)
            self.image_max = np.array(high)
            return
        info = np.iinfo(self.dtype)
        if data.dtype.kind in "iub" and data.size and info.min <= data.min() and data.max() <= info.max:
            self.raw = np.asarray(data, dtype=self.dtype)
            low, high = int(self.raw.min()), int(self.raw.max())
            if low == high:
                low, high = int(info.min), int(info.max)
            # image range = valid range: the stored values are the real ones
            self.valid_range = np.array([low, high], dtype=np.float64)
            self.image_min = np.array(float(low))
            self.image_max = np.array(float(high))
            return
        self._scaled(np.asarray(data, dtype=np.float64), info)

    def _scaled(self, data: np.ndarray, info: np.iinfo) -> None:
        """Integer storage of real values: each slice spans the whole valid range.

        Scaling varies over at most the two slowest axes: readers (nibabel's) take no more.
        """
        self.scale_axes = min(max(len(self.shape) - 2, 0), 2)
        slices = data.reshape(self.shape[: self.scale_axes] + (-1,))
        finite = np.where(np.isfinite(slices), slices, np.nan)
        with np.errstate(all="ignore"), _quiet():
            low = np.nan_to_num(np.nanmin(finite, axis=-1), nan=0.0)
            high = np.nan_to_num(np.nanmax(finite, axis=-1), nan=0.0)
        vmin, vmax = float(info.min), float(info.max)
        span = np.where(high > low, high - low, 1.0)
        expand = low.shape + (1,)
        with np.errstate(all="ignore"):
            stored = (np.nan_to_num(slices, nan=0.0, posinf=0.0, neginf=0.0) - low.reshape(expand)) \
                / span.reshape(expand) * (vmax - vmin) + vmin
        stored = np.clip(np.rint(stored), vmin, vmax)
        self.dtype = np.dtype(info.dtype)
        self.raw = stored.astype(self.dtype).reshape(self.shape)
        self.valid_range = np.array([vmin, vmax])
        self.image_min = low
        self.image_max = np.where(high > low, high, low)

    def _from_minc(self, minc: Any) -> None:
        self.raw = minc.get_unscaled(())
        self.dtype = np.dtype(self.raw.dtype).newbyteorder("=")
        self.raw = np.asarray(self.raw, dtype=self.dtype)
        if self.dtype.kind == "f":
            finite = self.raw[np.isfinite(self.raw)]
            low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            self.valid_range = np.array([low, high])
            self.image_min, self.image_max = np.array(low), np.array(high)
            self.scale_axes = 0
            return
        self.valid_range = minc._get_valid_range()
        imin, imax = minc._scale_arrays()
        varying = [i for i in range(len(self.shape)) if imin.shape[i] > 1 or imax.shape[i] > 1]
        self.scale_axes = max(varying) + 1 if varying else 0
        full = self.shape[: self.scale_axes] + (1,) * (len(self.shape) - self.scale_axes)
        self.image_min = np.broadcast_to(imin, full).reshape(self.shape[: self.scale_axes]).copy()
        self.image_max = np.broadcast_to(imax, full).reshape(self.shape[: self.scale_axes]).copy()


class _quiet:
    """Silence numpy's all-NaN-slice warnings for the block."""

    def __enter__(self) -> None:
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: Any) -> None:
        self._catch.__exit__(*exc)


# ---------------------------------------------------------------- writing


def _chunks(plan: _Plan) -> tuple[int, ...]:
    edges = []
    for dim in plan.dims:
        if dim["name"].endswith("space"):
            # equal parts of at most CHUNK_EDGE: 36 voxels make chunks of 18, not 32 + 4 padded to 32
            parts = -(-dim["length"] // CHUNK_EDGE)
            edges.append(-(-dim["length"] // parts))
        elif dim["name"] == "vector_dimension":
            edges.append(dim["length"])
        else:
            edges.append(1)
    return tuple(edges)


def _write_chunks(dset: Any, data: np.ndarray, chunks: tuple[int, ...], level: int) -> None:
    """Deflate every chunk on the thread pool and store the compressed bytes as they are."""
    starts = [range(0, n, c) for n, c in zip(data.shape, chunks)]
    origins = list(itertools.product(*starts))
    batch = max(cpu_threads() * 4, 1)

    def task(origin: tuple[int, ...], slot: list[bytes], index: int) -> Callable[[], None]:
        def run() -> None:
            block = data[tuple(slice(o, o + c) for o, c in zip(origin, chunks))]
            if block.shape != chunks:  # edge chunks are stored whole, padded
                padded = np.zeros(chunks, dtype=data.dtype)
                padded[tuple(slice(0, n) for n in block.shape)] = block
                block = padded
            slot[index] = zlib.compress(np.ascontiguousarray(block).tobytes(), level)
        return run

    for first in range(0, len(origins), batch):
        group = origins[first:first + batch]
        results: list[bytes] = [b""] * len(group)
        run_parallel([task(origin, results, i) for i, origin in enumerate(group)], cpu_threads())
        for origin, compressed in zip(group, results):
            dset.id.write_direct_chunk(origin, compressed, 0)


def write_minc2(img: Any, target: Any, level: int | None = None) -> None:
    """Write ``img`` as a MINC2 file to ``target`` (a path or a writable binary file object).

    ``level`` is the deflate level, 0 for no compression; None reads the
    level ``to_filename(..., compresslevel=N)`` set, else :data:`DEFAULT_LEVEL`.
    """
    from .minc2 import h5py_module
    from .openers import _write_level

    h5py = h5py_module()
    if level is None:
        level = _write_level.get()
    level = DEFAULT_LEVEL if level is None else int(level)
    if not 0 <= level <= 9:
        raise MincError(f"compresslevel must be between 0 and 9, not {level}")
    plan = _Plan(img)
    raw = np.ascontiguousarray(plan.raw)
    names = [dim["name"] for dim in plan.dims]
    if len(set(names)) != len(names):
        raise MincError(f"two axes of the image would get the same MINC dimension: {names}")
    with h5py.File(target, "w", libver="earliest", track_order=False) as handle:
        root = handle.create_group("minc-2.0")
        _string_attr(h5py, root, "ident", "nivox")
        _string_attr(h5py, root, "minc_version", "2.3.00")
        _string_attr(h5py, root, "history", "written by nivox\n")
        dimensions = root.create_group("dimensions")
        for dim in plan.dims + plan.unused:
            _write_dimension(h5py, dimensions, dim)
        group = root.create_group("image").create_group("0")
        if level > 0:
            chunks = _chunks(plan)
            dset = group.create_dataset("image", shape=raw.shape, dtype=plan.dtype, chunks=chunks,
                                        compression="gzip", compression_opts=level, track_times=False)
            _write_chunks(dset, raw, chunks, level)
        else:
            dset = group.create_dataset("image", data=raw, track_times=False)
        _string_attr(h5py, dset, "complete", "true_")
        _string_attr(h5py, dset, "dimorder", ",".join(names))
        dset.attrs.create("valid_range", np.asarray(plan.valid_range, dtype=np.float64))
        _standard(h5py, dset, "group________")
        scale_dims = names[: plan.scale_axes]
        for name, values in (("image-min", plan.image_min), ("image-max", plan.image_max)):
            var = group.create_dataset(name, data=np.asarray(values, dtype=np.float64), track_times=False)
            if scale_dims:
                _string_attr(h5py, var, "dimorder", ",".join(scale_dims))
            _standard(h5py, var, "var_attribute")
        root.create_group("info")


def _write_dimension(h5py: Any, dimensions: Any, dim: dict[str, Any]) -> None:
    var = dimensions.create_dataset(dim["name"], data=np.int32(0), track_times=False)
    spatial = dim["name"].endswith("space")
    _string_attr(h5py, var, "alignment", "centre")
    if dim["cosines"] is not None:
        var.attrs.create("direction_cosines", np.asarray(dim["cosines"], dtype=np.float64))
    var.attrs.create("length", np.uint32(dim["length"]))
    _string_attr(h5py, var, "spacing", "regular__")
    var.attrs.create("start", np.float64(dim["start"]))
    var.attrs.create("step", np.float64(dim["step"]))
    if spatial:
        _string_attr(h5py, var, "spacetype", "native____")
        _string_attr(h5py, var, "units", "mm")
    _standard(h5py, var, "dimension____")
