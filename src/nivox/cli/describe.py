"""``nivox describe``: what an image file holds, from its header, optionally its data.

For each file: format, shape, on-disk dtype, voxel sizes with units,
orientation, affine, NIfTI qform/sform codes and intent, and the proxy's
scaling. ``--stats`` adds the data range, read one volume at a time so a long
4D series never sits in memory whole. ``--json`` prints the same as a JSON
list, one object per file. Without files it describes the bundled
``example4d.nii.gz``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import numpy as np

from ._common import (
    coded_field, fmt, image_volumes, load_image, number, run_per_file, xyzt_units,
)

__all__ = ["add_parser", "describe_file", "format_text", "run", "volume_stats"]

NAME = "describe"
_STAT_KEYS = ("min", "max", "mean", "nan", "inf")


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register the ``describe`` subcommand."""
    parser = subparsers.add_parser(
        NAME, parents=parents, help="print what image files contain",
        description="Print shape, dtype, voxel sizes, orientation, affine and scaling of "
                    "image files. Without files, describe nivox's bundled example.",
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="image files to describe")
    parser.add_argument("--stats", action="store_true",
                        help="also read the data: minimum, maximum, mean, NaN count")
    parser.add_argument("--json", action="store_true", help="print a JSON list, one object per file")
    return parser


def default_files() -> list[str]:
    """The bundled example image, described when no file is given."""
    from ..testing import data_path

    return [os.path.join(data_path, "example4d.nii.gz")]


def run(args: argparse.Namespace) -> int:
    """Describe ``args.files``; exit status 1 if any file failed, else 0."""
    return run_per_file(args, list(args.files) or default_files(),
                        lambda filename: describe_file(filename, stats=args.stats), format_text)


# ---- gathering ---------------------------------------------------------------


def describe_file(filename: str | os.PathLike[str], stats: bool = False) -> dict[str, Any]:
    """A JSON-ready dict describing the image in ``filename``.

    Raises
    ------
    FileNotFoundError
        When ``filename`` does not exist.
    nivox.errors.NivoxError
        When nivox cannot read it.
    """
    path = os.fspath(filename)
    img = load_image(path)
    from ._surfaces import is_surface_image, surface_record, surface_stats

    if is_surface_image(img):  # meshes and grayordinates: arrays and axes, no affine
        record = {"file": path, **surface_record(img)}
        if stats:
            record["stats"] = surface_stats(img)
        return record
    header = img.header
    shape = tuple(int(n) for n in img.shape)
    dtype = np.dtype(img.get_data_dtype())
    record: dict[str, Any] = {
        "file": path,
        "format": type(img).__name__,
        "shape": list(shape),
        "dtype": dtype.name if dtype.fields is None else str(dtype),
        "itemsize": dtype.itemsize,
        "byte_order": _byte_order(dtype, header),
        "zooms": [number(z) for z in header.get_zooms()],
        "units": xyzt_units(header),
    }
    affine = getattr(img, "affine", None)
    if affine is not None:
        from ..orientations import aff2axcodes

        codes = aff2axcodes(affine)
        record["orientation"] = "".join(c if c is not None else "?" for c in codes)
        record["affine"] = [[number(v) for v in row] for row in np.asarray(affine)]
    else:
        record["orientation"] = None
        record["affine"] = None
    record["qform_orientation"] = _qform_orientation(header)
    for field in ("qform_code", "sform_code"):
        record[field] = coded_field(header, field)
    record["intent"] = _intent(header)
    slope, inter = _scaling(img)
    record["scaling"] = {"slope": slope, "inter": inter}
    if _per_slice(img):
        record["scaling"]["per_slice"] = True
    if stats:
        record["stats"] = volume_stats(img.dataobj, shape)
    return record


def _qform_orientation(header: Any) -> str | None:
    """Axis codes of the header's stored qform (whatever its code); None without a qform.

    Tools that fall back to the qform see this orientation, so describe shows it
    when it differs from the image's.
    """
    get_qform = getattr(header, "get_qform", None)
    if get_qform is None:
        return None
    from ..orientations import aff2axcodes

    try:
        qform = get_qform()
        codes = aff2axcodes(qform)
    except Exception:  # an unusable stored quaternion: nothing to compare
        return None
    return "".join(c if c is not None else "?" for c in codes)


def _byte_order(dtype: np.dtype, header: Any) -> str:
    """Byte order of the file: the header's, else the data type's."""
    order = getattr(header, "endianness", None)
    if order not in ("<", ">"):
        order = dtype.byteorder
    if order in ("=", "|"):
        order = "<" if sys.byteorder == "little" else ">"
    return "big" if order == ">" else "little"


def _intent(header: Any) -> dict[str, Any] | None:
    get_intent = getattr(header, "get_intent", None)
    if get_intent is None:
        return None
    try:
        label, params, name = get_intent()
    except (KeyError, ValueError):  # an intent code outside the table
        return {"code": int(header["intent_code"]), "label": "invalid", "params": [], "name": ""}
    return {"code": int(header["intent_code"]), "label": label,
            "params": [number(p) for p in params], "name": name}


def _per_slice(img: Any) -> bool:
    """Whether the proxy scales slices differently (PAR/REC)."""
    arrays = [v for v in (getattr(img.dataobj, "slope", None), getattr(img.dataobj, "inter", None))
              if isinstance(v, np.ndarray) and v.size > 1]
    return any(bool(np.any(v != v.ravel()[0])) for v in arrays)


def _scaling(img: Any) -> tuple[float | None, float | None]:
    dataobj = img.dataobj
    slope = getattr(dataobj, "slope", None)
    inter = getattr(dataobj, "inter", None)
    if slope is None and inter is None:
        return None, None  # data held in memory: nothing to scale
    if _per_slice(img):
        return None, None
    # one slope/intercept per slice (PAR/REC), all the same: that one
    slope = slope.ravel()[0] if isinstance(slope, np.ndarray) and slope.size > 1 else slope
    inter = inter.ravel()[0] if isinstance(inter, np.ndarray) and inter.size > 1 else inter
    return (None if slope is None else number(slope), None if inter is None else number(inter))


# ---- statistics ------------------------------------------------------------


def volume_stats(dataobj: Any, shape: tuple[int, ...]) -> dict[str, Any]:
    """Minimum, maximum and mean of the finite values, NaN and infinity counts.

    The data are read one 3D volume at a time, so memory stays at one volume
    whatever the length of the series. Data that are not numbers (complex,
    RGB) give ``{"error": ...}`` instead.
    """
    from .stats import stream_stats

    dtype = getattr(dataobj, "dtype", None)
    if dtype is not None and np.dtype(dtype).kind not in "biuf":
        return {"error": f"no statistics for {np.dtype(dtype)} data"}
    summary = stream_stats(lambda: image_volumes(dataobj, shape))
    return {key: summary[key] for key in _STAT_KEYS}


# ---- text output ------------------------------------------------------------


def _zooms_text(record: dict[str, Any]) -> str:
    zooms = record["zooms"]
    space, time = record["units"]["space"], record["units"]["time"]
    spatial = " x ".join(fmt(z) for z in zooms[:3]) + (f" {space}" if space else "")
    parts = [spatial]
    if len(zooms) > 3:
        parts.append(fmt(zooms[3]) + (f" {time}" if time else ""))
        parts.extend(fmt(z) for z in zooms[4:])
    return ", ".join(parts)


def _affine_lines(affine: list[list[Any]]) -> list[str]:
    cells = [[fmt(v) for v in row] for row in affine]
    width = max(len(c) for row in cells for c in row)
    return ["[" + " ".join(c.rjust(width) for c in row) + "]" for row in cells]


def format_text(record: dict[str, Any]) -> str:
    """The human-readable description of one file, as printed without ``--json``."""
    if "arrays" in record or "axes" in record:
        from ._surfaces import surface_text

        rows = surface_text(record)
        width = max(len(key) for key, _ in rows)
        return record["file"] + "\n" + "".join(f"  {key.ljust(width)}  {value}\n" for key, value in rows)
    rows: list[tuple[str, str]] = [
        ("format", record["format"]),
        ("shape", " x ".join(str(n) for n in record["shape"])),
        # byte order means nothing to one-byte values
        ("dtype", f"{record['dtype']} ({record['byte_order']} endian)"
                  if record["itemsize"] > 1 else record["dtype"]),
        ("zooms", _zooms_text(record)),
        ("orientation", record["orientation"] or "unknown"),
    ]
    qform = record.get("qform_orientation")
    if qform is not None and record["orientation"] is not None and qform != record["orientation"]:
        rows.append(("qform orientation", f"{qform} (differs: tools reading the qform see this)"))
    affine = record["affine"]
    if affine is not None:
        lines = _affine_lines(affine)
        rows.append(("affine", lines[0]))
        rows.extend(("", line) for line in lines[1:])
    for field in ("qform_code", "sform_code"):
        coded = record[field]
        if coded is not None:
            rows.append((field, f"{coded['label']} ({coded['code']})"))
    intent = record["intent"]
    if intent is not None:
        text = intent["label"]
        if intent["params"]:
            text += " (" + ", ".join(fmt(p) for p in intent["params"]) + ")"
        if intent["name"]:
            text += f" name {intent['name']!r}"
        rows.append(("intent", text))
    scaling = record["scaling"]
    if scaling.get("per_slice"):
        rows.append(("scaling", "a slope and intercept per slice"))
    elif scaling["slope"] is None and scaling["inter"] is None:
        rows.append(("scaling", "none"))
    else:
        rows.append(("scaling", f"slope {fmt(scaling['slope'])}, inter {fmt(scaling['inter'])}"))
    stats = record.get("stats")
    if stats is not None:
        if "error" in stats:
            rows.append(("range", stats["error"]))
        else:
            rows.append(("range", f"{fmt(stats['min'])} .. {fmt(stats['max'])}"))
            rows.append(("mean", fmt(stats["mean"])))
            if stats["nan"] or stats["inf"]:
                rows.append(("non-finite", f"{stats['nan']} NaN, {stats['inf']} inf"))
    width = max(len(key) for key, _ in rows)
    body = "".join(f"  {key.ljust(width)}  {value}\n" for key, value in rows)
    return f"{record['file']}\n{body}"
