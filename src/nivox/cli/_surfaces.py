"""What ``describe`` and ``ls`` say about surface (GIFTI) and grayordinate (CIFTI-2) files.

Neither has an affine, voxel sizes or a single array: a GIFTI file is a list
of data arrays (a mesh's coordinates and triangles, values per vertex); a
CIFTI-2 file is a matrix whose dimensions are described by axes (grayordinates
by structure, parcels, a series, named maps).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ._common import fmt, number

__all__ = ["is_surface_image", "surface_record", "surface_stats", "surface_text", "ls_cells"]

_CHUNK_BYTES = 64 << 20  # statistics read CIFTI data in pieces of about this size


def is_surface_image(img: Any) -> bool:
    """Whether ``img`` is a GIFTI or CIFTI-2 image (described by this module)."""
    return type(img).__name__ in ("GiftiImage", "Cifti2Image")


def _gifti_record(img: Any) -> dict[str, Any]:
    from ..gifti.util import gifti_encoding_codes
    from ..nifti1 import data_type_codes, intent_codes, xform_codes

    arrays = []
    for da in img.darrays:
        entry: dict[str, Any] = {
            "intent": str(intent_codes.label[da.intent]),
            "dtype": str(data_type_codes.label[da.datatype]),
            "shape": [int(d) for d in da.dims],
            "encoding": str(gifti_encoding_codes.specs[da.encoding]),
            "meta": {str(k): str(v) for k, v in da.meta.items()},
        }
        if da.coordsys is not None and intent_codes.label[da.intent] == "pointset":
            entry["space"] = [str(xform_codes.label[da.coordsys.dataspace]),
                              str(xform_codes.label[da.coordsys.xformspace])]
        arrays.append(entry)
    dtypes = {a["dtype"] for a in arrays}
    return {
        "format": "GiftiImage",
        "version": img.version,
        "arrays": arrays,
        "dtype": dtypes.pop() if len(dtypes) == 1 else ("mixed" if dtypes else "none"),
        "labels": len(img.labeltable.labels),
        "meta": {str(k): str(v) for k, v in img.meta.items()},
    }


def _axis_record(axis: Any) -> dict[str, Any]:
    kind = type(axis).__name__
    record: dict[str, Any] = {"type": kind, "length": len(axis)}
    if kind == "SeriesAxis":
        record.update(start=number(axis.start), step=number(axis.step), unit=axis.unit)
    elif kind == "BrainModelAxis":
        structures = []
        for name, _, part in axis.iter_structures():
            surface = name in axis.nvertices
            structures.append({"structure": str(name).replace("CIFTI_STRUCTURE_", ""),
                               "model": "surface" if surface else "voxels", "count": len(part),
                               **({"vertices": int(axis.nvertices[name])} if surface else {})})
        record["structures"] = structures
        if axis.volume_shape is not None:
            record["volume_shape"] = list(axis.volume_shape)
    elif kind == "ParcelsAxis":
        record["parcels"] = [str(n) for n in axis.name[:5]]
    else:
        record["maps"] = [str(n) for n in axis.name[:5]]
    return record


def _cifti_record(img: Any) -> dict[str, Any]:
    header = img.nifti_header
    label, _, name = header.get_intent()
    dtype = np.dtype(img.get_data_dtype())
    return {
        "format": "Cifti2Image",
        "shape": [int(n) for n in img.shape],
        "dtype": dtype.name,
        "intent": {"code": int(header["intent_code"]), "label": str(label), "name": name},
        "axes": [_axis_record(img.header.get_axis(i)) for i in range(len(img.shape))],
    }


def surface_record(img: Any) -> dict[str, Any]:
    """A JSON-ready description of a GIFTI or CIFTI-2 image."""
    return _gifti_record(img) if type(img).__name__ == "GiftiImage" else _cifti_record(img)


def _cifti_pieces(img: Any) -> Iterator[np.ndarray]:
    """The data in slabs along the last axis (contiguous on disk), a bounded size each."""
    shape = img.shape
    per_index = max(int(np.prod(shape[:-1])) * np.dtype(img.get_data_dtype()).itemsize, 1)
    step = max(_CHUNK_BYTES // per_index, 1)
    for start in range(0, shape[-1], step):
        yield np.asanyarray(img.dataobj[..., start:start + step])


def surface_stats(img: Any) -> dict[str, Any]:
    """min, max, mean, NaN and inf counts of all data values (GIFTI: every array but triangles)."""
    from .stats import stream_stats

    if type(img).__name__ == "GiftiImage":
        def pieces() -> Iterator[np.ndarray]:
            for da in img.darrays:  # values, not a mesh's vertex numbers
                if da.intent != 1009 and da.data is not None and np.asarray(da.data).dtype.kind in "biuf":
                    yield np.asarray(da.data)
    else:
        def pieces() -> Iterator[np.ndarray]:
            yield from _cifti_pieces(img)
    summary = stream_stats(pieces)
    return {key: summary[key] for key in ("min", "max", "mean", "nan", "inf")}


def _axis_text(axis: dict[str, Any]) -> str:
    kind = axis["type"].replace("Axis", "").lower()
    text = f"{kind} ({axis['length']})"
    if kind == "series":
        text += f": from {fmt(axis['start'])} by {fmt(axis['step'])} {axis['unit'].lower()}"
    elif kind == "brainmodel":
        parts = [f"{s['structure'].lower()} {s['count']}"
                 + (f"/{s['vertices']} vertices" if s["model"] == "surface" else " voxels")
                 for s in axis["structures"]]
        text = f"grayordinates ({axis['length']}): " + ", ".join(parts)
    elif kind == "parcels":
        text += ": " + ", ".join(axis["parcels"]) + (", ..." if axis["length"] > 5 else "")
    else:
        text += ": " + ", ".join(repr(m) for m in axis["maps"]) + (", ..." if axis["length"] > 5 else "")
    return text


def surface_text(record: dict[str, Any]) -> list[tuple[str, str]]:
    """The rows ``describe`` prints for a surface record."""
    rows: list[tuple[str, str]] = [("format", record["format"])]
    if record["format"] == "GiftiImage":
        rows.append(("arrays", str(len(record["arrays"]))))
        for i, arr in enumerate(record["arrays"]):
            text = f"{arr['intent']} {'x'.join(str(d) for d in arr['shape'])} {arr['dtype']} ({arr['encoding']})"
            if "space" in arr:
                text += f", {arr['space'][0]} space"
            rows.append((f"  [{i}]", text))
        if record["labels"]:
            rows.append(("labels", str(record["labels"])))
        for key, value in record["meta"].items():
            rows.append((f"meta {key}", value))
    else:
        rows.append(("shape", " x ".join(str(n) for n in record["shape"])))
        rows.append(("dtype", record["dtype"]))
        intent = record["intent"]
        rows.append(("intent", intent["label"] + (f" name {intent['name']!r}" if intent["name"] else "")))
        for i, axis in enumerate(record["axes"]):
            rows.append((f"axis {i}", _axis_text(axis)))
    stats = record.get("stats")
    if stats is not None:
        rows.append(("range", f"{fmt(stats['min'])} .. {fmt(stats['max'])}"))
        rows.append(("mean", fmt(stats["mean"])))
        if stats["nan"] or stats["inf"]:
            rows.append(("non-finite", f"{stats['nan']} NaN, {stats['inf']} inf"))
    return rows


def ls_cells(record: dict[str, Any]) -> tuple[str, str]:
    """The (shape, zooms) cells of an ``ls`` row: arrays or axes instead of voxel sizes."""
    if record["type"] == "GiftiImage":
        arrays = record["surface"]["arrays"]
        return ",".join(f"{a['intent']}:{'x'.join(str(d) for d in a['shape'])}" for a in arrays) or "-", "-"
    axes = record["surface"]["axes"]
    return "x".join(str(n) for n in record["shape"]), ",".join(
        a["type"].replace("Axis", "").lower() for a in axes)
