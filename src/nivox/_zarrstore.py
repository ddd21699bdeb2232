"""Where a NIfTI-Zarr store lives, and its metadata: opening, OME multiscales, pyramids, atomic saves.

The image class is in :mod:`nivox.niftizarr`; this module holds what does not
depend on it: opening a local or fsspec store through zarr-python 3 (imported
here, only when used), the OME-NGFF ``multiscales`` attributes written and
read, the JNIfTI JSON form of the header, the 2x downsampling of the lower
pyramid levels, and the swap of a finished temporary directory into place.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import math
import os
import secrets
import shutil
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._atomic import TEMP_PREFIX, _durability
from .errors import ImageFileError, MissingDependencyError

__all__ = ["StoreLocation", "zarr_module"]

#: OME-NGFF version written (with Zarr v3); 0.4 (Zarr v2) stores are read too
OME_VERSION = "0.5"
#: the names of the array axes by number of dimensions, in Zarr (C) order
AXES = {3: ("z", "y", "x"), 4: ("t", "z", "y", "x"), 5: ("t", "c", "z", "y", "x")}
_AXIS_TYPES = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}
_SPACE_UNITS = {1: "meter", 2: "millimeter", 3: "micrometer"}
_TIME_UNITS = {8: "second", 16: "millisecond", 24: "microsecond"}
# JNIfTI short names, as the NIfTI-Zarr schema lists them
_JSON_SPACE = {0: "", 1: "m", 2: "mm", 3: "um"}
_JSON_TIME = {0: "", 8: "s", 16: "ms", 24: "us"}
_JSON_SLICE = {0: "", 1: "seq+", 2: "seq-", 3: "alt+", 4: "alt-", 5: "alt2+", 6: "alt2-"}
_JSON_XFORM = {0: "", 1: "scanner_anat", 2: "aligned_anat", 3: "talairach", 4: "mni_152",
               5: "template_other"}
# a store claiming chunks bigger than this would make one small read allocate it all
MAX_CHUNK_BYTES = 1 << 31
# the binary header plus extensions; more is not a NIfTI header
MAX_HEADER_BYTES = 64 << 20


def zarr_module() -> Any:
    """zarr-python 3, or MissingDependencyError naming the extra."""
    try:
        import zarr
    except ImportError:
        raise MissingDependencyError(
            "NIfTI-Zarr needs zarr-python 3: pip install 'nivox[zarr]'") from None
    if int(zarr.__version__.split(".")[0]) < 3:
        raise MissingDependencyError(
            f"NIfTI-Zarr needs zarr-python 3 (found {zarr.__version__}): pip install 'nivox[zarr]'")
    return zarr


def is_niftizarr_name(name: Any, suffixes: tuple[str, ...] = (".nii.zarr",)) -> bool:
    """Whether a path or URL names a ``.nii.zarr`` store (a trailing slash allowed)."""
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    return isinstance(name, str) and name.rstrip("/").lower().endswith(suffixes)


def is_zarr_name(name: Any) -> bool:
    """Whether a path or URL names a store ``load`` reads: ``.nii.zarr``, or plain ``.ome.zarr``."""
    return is_niftizarr_name(name, (".nii.zarr", ".ome.zarr"))


@dataclass(frozen=True)
class StoreLocation:
    """A store: a local directory (``path``) or an fsspec URL (``url``) with its options."""

    path: str | None = None
    url: str | None = None
    storage_options: dict[str, Any] | None = field(default=None, compare=False)

    @classmethod
    def parse(cls, where: Any, storage_options: dict[str, Any] | None = None) -> StoreLocation:
        where = os.fspath(where) if isinstance(where, os.PathLike) else where
        if not isinstance(where, str):
            raise ImageFileError(f"a NIfTI-Zarr store is named by a path or URL, not {where!r}")
        where = where.rstrip("/") or where
        if where.startswith("file://"):
            return cls(path=where[len("file://"):])
        if "://" in where or "::" in where:
            return cls(url=where, storage_options=storage_options)
        return cls(path=where)

    @property
    def name(self) -> str:
        return self.url if self.url is not None else str(self.path)

    def store(self, read_only: bool, path: str | None = None) -> Any:
        """A zarr store here (or at the local ``path`` standing in for it while written)."""
        zarr = zarr_module()
        if self.url is None:
            return zarr.storage.LocalStore(path or self.path, read_only=read_only)
        try:
            import fsspec  # noqa: F401 - zarr's FsspecStore needs it
        except ImportError:
            raise MissingDependencyError(
                f"reading {self.url} needs fsspec: pip install 'nivox[remote]'") from None
        return zarr.storage.FsspecStore.from_url(self.url, storage_options=self.storage_options,
                                                 read_only=read_only)


# ---------------------------------------------------------------- OME metadata

def ome_multiscales(axes: tuple[str, ...], shapes: list[tuple[int, ...]], zooms: tuple[float, ...],
                    xyzt_units: int, method: str) -> dict[str, Any]:
    """The ``multiscales`` entry for levels of ``shapes`` (Zarr order) and NIfTI ``zooms`` (x, y, z, t)."""
    space = _SPACE_UNITS.get(xyzt_units & 0x07, "millimeter")
    time = _TIME_UNITS.get(xyzt_units & 0x38)
    voxel = {name: _positive(zooms[i] if i < len(zooms) else 1.0) for i, name in enumerate("xyz")}
    axis_meta = []
    for name in axes:
        entry: dict[str, Any] = {"name": name, "type": _AXIS_TYPES[name]}
        if name in "xyz":
            entry["unit"] = space
        elif name == "t" and time is not None:
            entry["unit"] = time
        axis_meta.append(entry)
    datasets = []
    for level, shape in enumerate(shapes):
        scale, shift = [], []
        for axis, name in enumerate(axes):
            if name not in "xyz":
                scale.append(1.0)
                shift.append(0.0)
                continue
            # each level voxel is the mean of a window of level-0 voxels: its centre
            # sits half a window in from the corner voxel's centre
            factor = shapes[0][axis] / shape[axis] if shape[axis] else 1.0
            factor = float(round(factor)) if level else 1.0
            scale.append(voxel[name] * factor)
            shift.append(voxel[name] * (factor - 1) / 2)
        datasets.append({"path": str(level), "coordinateTransformations": [
            {"type": "scale", "scale": scale}, {"type": "translation", "translation": shift}]})
    tr = _positive(zooms[3]) if len(zooms) > 3 else 1.0
    return {"name": "", "type": method, "axes": axis_meta, "datasets": datasets,
            "coordinateTransformations": [
                {"type": "scale", "scale": [tr if name == "t" else 1.0 for name in axes]}]}


def _positive(value: float) -> float:
    value = abs(float(value))
    return value if value > 0 and math.isfinite(value) else 1.0


def read_multiscales(attrs: dict[str, Any], name: str) -> dict[str, Any]:
    """The first ``multiscales`` entry (OME 0.5 under ``ome``, 0.4 at the top), checked."""
    ome = attrs.get("ome", attrs)
    entries = ome.get("multiscales") if isinstance(ome, dict) else None
    if not isinstance(entries, list) or not entries or not isinstance(entries[0], dict):
        raise ImageFileError(f"{name}: no OME-Zarr 'multiscales' metadata in the group attributes")
    entry = entries[0]
    axes, datasets = entry.get("axes"), entry.get("datasets")
    if not isinstance(axes, list) or not all(isinstance(a, dict) for a in axes):
        raise ImageFileError(f"{name}: OME 'multiscales' has no list of 'axes'")
    names = tuple(str(a.get("name")) for a in axes)
    if not 1 <= len(names) <= 5 or len(set(names)) != len(names) or \
            not set(names) <= set(_AXIS_TYPES):
        raise ImageFileError(f"{name}: OME axes {list(names)} are not distinct names among t, c, z, y, x")
    if not isinstance(datasets, list) or not datasets or \
            not all(isinstance(d, dict) and isinstance(d.get("path"), str) for d in datasets):
        raise ImageFileError(f"{name}: OME 'multiscales' has no list of 'datasets' with paths")
    for dataset in datasets:
        path = dataset["path"]
        if not path or path.startswith("/") or ".." in path.split("/"):
            raise ImageFileError(f"{name}: OME dataset path {path!r} leaves the store")
    return entry


def level_transform(entry: dict[str, Any], level: int, name: str) -> np.ndarray:
    """The 4x4 voxel-to-level-0-voxel-scaled map of ``level`` (diagonal scale plus translation)."""
    names = [str(a.get("name")) for a in entry["axes"]]
    scale = [1.0] * len(names)
    shift = [0.0] * len(names)
    for transform in entry["datasets"][level].get("coordinateTransformations", []) or []:
        if not isinstance(transform, dict):
            continue
        try:
            if transform.get("type") == "scale":
                scale = [float(v) for v in transform["scale"]]
            elif transform.get("type") == "translation":
                shift = [float(v) for v in transform["translation"]]
        except (KeyError, TypeError, ValueError):
            raise ImageFileError(f"{name}: bad OME coordinateTransformations at level {level}") from None
    if len(scale) != len(names) or len(shift) != len(names):
        raise ImageFileError(f"{name}: OME transforms at level {level} do not match the axes")
    out = np.eye(4)
    for row, axis in enumerate("xyz"):
        if axis in names:
            out[row, row] = scale[names.index(axis)]
            out[row, 3] = shift[names.index(axis)]
    return out


def json_header(header: Any, has_extensions: bool) -> dict[str, Any]:
    """The JNIfTI form of ``header`` (optional in the spec; the binary header prevails)."""
    ndim = int(header["dim"][0])
    units = int(header["xyzt_units"])
    slope, inter = (float(header["scl_slope"]), float(header["scl_inter"]))
    freq, phase, slice_ = header.get_dim_info()

    def text(key: str) -> str:
        return bytes(header[key].tobytes()).split(b"\0")[0].decode("latin-1")

    return {
        "NIIHeaderSize": int(header["sizeof_hdr"]),
        "NIIFormat": text("magic"),
        "Dim": [int(n) for n in header["dim"][1:1 + ndim]],
        "DataType": header.get_data_dtype().name,
        "BitDepth": int(header["bitpix"]),
        "VoxelSize": [abs(float(v)) for v in header["pixdim"][1:1 + ndim]],
        "Unit": {"L": _JSON_SPACE.get(units & 0x07, ""), "T": _JSON_TIME.get(units & 0x38, "")},
        "DimInfo": {key: 0 if axis is None else axis + 1
                    for key, axis in (("Freq", freq), ("Phase", phase), ("Slice", slice_))},
        "ScaleSlope": slope if math.isfinite(slope) else 0.0,
        "ScaleOffset": inter if math.isfinite(inter) else 0.0,
        "SliceType": _JSON_SLICE.get(int(header["slice_code"]), ""),
        "FirstSliceID": int(header["slice_start"]),
        "LastSliceID": int(header["slice_end"]),
        "SliceTime": float(header["slice_duration"]),
        "MinIntensity": float(header["cal_min"]),
        "MaxIntensity": float(header["cal_max"]),
        "TimeOffset": float(header["toffset"]),
        "Description": text("descrip"),
        "AuxFile": text("aux_file"),
        "Name": text("intent_name"),
        "QForm": _JSON_XFORM.get(int(header["qform_code"]), ""),
        "SForm": _JSON_XFORM.get(int(header["sform_code"]), ""),
        "Quatern": {k: float(header[f"quatern_{k}"]) for k in "bcd"},
        "QuaternOffset": {k: float(header[f"qoffset_{k}"]) for k in "xyz"},
        "Affine": [[float(v) for v in header[f"srow_{k}"]] for k in "xyz"],
        "NIFTIExtension": [1 if has_extensions else 0, 0, 0, 0],
    }


# ---------------------------------------------------------------- pyramids

def pooled_axes(shape: tuple[int, ...]) -> tuple[bool, ...]:
    """Which of the three spatial (last) axes of a level of ``shape`` the next level halves."""
    return tuple(n >= 2 for n in shape[-3:])


def next_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    pool = pooled_axes(shape)
    return shape[:-3] + tuple(n // 2 if p else n for n, p in zip(shape[-3:], pool))


def downsample(block: np.ndarray, pool: tuple[bool, ...], labels: bool) -> np.ndarray:
    """``block`` (spatial axes last) halved along the ``pool`` axes: window means, or modes for labels."""
    lead = block.ndim - 3
    trimmed = block[(Ellipsis,) + tuple(slice(0, n - n % 2) if p else slice(None)
                                        for n, p in zip(block.shape[-3:], pool))]
    views = [trimmed]
    for axis, p in enumerate(pool):
        if not p:
            continue
        where = lead + axis
        views = [v[(slice(None),) * where + (slice(start, None, 2),)] for v in views for start in (0, 1)]
    if labels:
        # the value most frequent in each window (the first of equals)
        counts = np.stack([sum((v == w).astype(np.int8) for w in views) for v in views])
        best = np.argmax(counts, axis=0)
        return np.choose(best, views)
    if block.dtype.fields is not None:
        out = np.empty(views[0].shape, block.dtype)
        for name in block.dtype.names or ():
            out[name] = downsample(block[name], pool, labels)
        return out
    work = np.result_type(block.dtype, np.float32) if block.dtype.kind in "fc" else np.float64
    total = np.zeros(views[0].shape, work)
    for view in views:
        total += view
    total /= len(views)
    if block.dtype.kind in "iub":
        info = np.iinfo(block.dtype) if block.dtype.kind != "b" else None
        total = np.rint(total)
        if info is not None:
            np.clip(total, info.min, info.max, out=total)
    return total.astype(block.dtype)


# ---------------------------------------------------------------- atomic local saves

def temporary_sibling(target: str) -> str:
    """A new empty directory beside ``target``, named like nivox's temporary files."""
    folder, name = os.path.split(os.path.abspath(target))
    if not os.path.isdir(folder):
        from .errors import ImageFileNotFoundError

        raise ImageFileNotFoundError(f"cannot save {target}: the folder {folder} does not exist")
    path = os.path.join(folder, f"{TEMP_PREFIX}{secrets.token_hex(4)}-{name}")
    os.mkdir(path)
    return path


def commit_directory(temp: str, target: str) -> None:
    """Put the finished ``temp`` directory in place of ``target``.

    A new target is one rename. An existing one is swapped with ``temp`` in
    one atomic step where the system can (Linux ``renameat2`` with
    ``RENAME_EXCHANGE``), else renamed aside first (a short window without
    ``target``); the old store is then deleted.
    """
    target = os.path.abspath(target)
    mode = _durability()
    exists = os.path.lexists(target)
    if mode == "always" or (mode == "replace" and exists):
        _sync_tree(temp)
    if not exists:
        os.rename(temp, target)
        return
    if os.path.isdir(target) and not os.path.islink(target) and _exchange(temp, target):
        shutil.rmtree(temp, ignore_errors=True)  # temp now holds the old store
        return
    old = os.path.join(os.path.dirname(target), f"{TEMP_PREFIX}old-{secrets.token_hex(6)}")
    os.rename(target, old)
    try:
        os.rename(temp, target)
    except BaseException:
        os.rename(old, target)
        raise
    if os.path.isdir(old) and not os.path.islink(old):
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.unlink(old)


def _exchange(first: str, second: str) -> bool:
    """Swap two paths atomically (Linux renameat2); False where that is not available."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange)
    return result == 0


def _sync_tree(root: str) -> None:
    """Flush every file and folder under ``root`` to disk (best effort for folders)."""
    for folder, _, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        with contextlib.suppress(OSError):
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
