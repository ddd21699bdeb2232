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
import json
import math
import os
import sys
import traceback
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["add_parser", "describe_file", "format_text", "run", "volume_stats"]

NAME = "describe"
_PROG = "nivox"


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
    files = list(args.files) or default_files()
    status = 0
    records = []
    for filename in files:
        try:
            record = describe_file(filename, stats=args.stats)
        except Exception as exc:  # every failure becomes one line naming the file
            if args.debug:
                traceback.print_exc()
            print(f"{_PROG}: error: {filename}: {_one_line(exc, filename)}", file=sys.stderr)
            status = 1
            continue
        if args.json:
            records.append(record)
        else:
            sys.stdout.write(format_text(record))
            sys.stdout.flush()
    if args.json:
        json.dump(records, sys.stdout, indent=2)
        sys.stdout.write("\n")
        sys.stdout.flush()  # a closed pipe fails here, inside main's handler
    return status


def _one_line(exc: BaseException, filename: str) -> str:
    message = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror and not exc.filename2:
        # name the file only when it is not the one already in front of the message
        same = exc.filename is None or os.fspath(exc.filename) == filename
        message = exc.strerror if same else f"{exc.strerror}: {os.fspath(exc.filename)!r}"
    # library messages often start with the file name, which the line already begins with
    message = message.removeprefix(f"{filename}: ")
    return " ".join(message.split())


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
    import nivox

    path = os.fspath(filename)
    if not os.path.exists(path):
        raise FileNotFoundError(2, "No such file or directory", path)
    if os.path.isdir(path):
        raise IsADirectoryError(21, "Is a directory, not an image file", path)
    img = nivox.load(path)
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
        "zooms": [_number(z) for z in header.get_zooms()],
        "units": _units(header),
    }
    affine = getattr(img, "affine", None)
    if affine is not None:
        from ..orientations import aff2axcodes

        codes = aff2axcodes(affine)
        record["orientation"] = "".join(c if c is not None else "?" for c in codes)
        record["affine"] = [[_number(v) for v in row] for row in np.asarray(affine)]
    else:
        record["orientation"] = None
        record["affine"] = None
    for field in ("qform_code", "sform_code"):
        record[field] = _coded_field(header, field)
    record["intent"] = _intent(header)
    slope, inter = _scaling(img)
    record["scaling"] = {"slope": slope, "inter": inter}
    if stats:
        record["stats"] = volume_stats(img.dataobj, shape)
    return record


def _number(value: Any) -> float | int | None:
    """A JSON-safe number: NaN and infinities become None."""
    number = float(value)
    if not math.isfinite(number):
        return None
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _byte_order(dtype: np.dtype, header: Any) -> str:
    """Byte order of the file: the header's, else the data type's."""
    order = getattr(header, "endianness", None)
    if order not in ("<", ">"):
        order = dtype.byteorder
    if order in ("=", "|"):
        order = "<" if sys.byteorder == "little" else ">"
    return "big" if order == ">" else "little"


def _units(header: Any) -> dict[str, str | None]:
    get_units = getattr(header, "get_xyzt_units", None)
    if get_units is None:
        return {"space": None, "time": None}
    space, time = get_units()
    return {"space": None if space == "unknown" else space,
            "time": None if time == "unknown" else time}


def _coded_field(header: Any, field: str) -> dict[str, Any] | None:
    try:
        code = int(header[field])
    except (KeyError, ValueError, TypeError, IndexError):
        return None  # this format has no such field
    try:
        label = header.get_value_label(field)
    except (KeyError, ValueError, AttributeError):
        label = "invalid"
    return {"code": code, "label": label}


def _intent(header: Any) -> dict[str, Any] | None:
    get_intent = getattr(header, "get_intent", None)
    if get_intent is None:
        return None
    try:
        label, params, name = get_intent()
    except (KeyError, ValueError):  # an intent code outside the table
        return {"code": int(header["intent_code"]), "label": "invalid", "params": [], "name": ""}
    return {"code": int(header["intent_code"]), "label": label,
            "params": [_number(p) for p in params], "name": name}


def _scaling(img: Any) -> tuple[float | None, float | None]:
    dataobj = img.dataobj
    slope = getattr(dataobj, "slope", None)
    inter = getattr(dataobj, "inter", None)
    if slope is None and inter is None:
        return None, None  # data held in memory: nothing to scale
    return (None if slope is None else _number(slope), None if inter is None else _number(inter))


# ---- statistics ------------------------------------------------------------


def _volumes(dataobj: Any, shape: tuple[int, ...]) -> Iterator[np.ndarray]:
    if len(shape) <= 3:
        yield np.asanyarray(dataobj)
        return
    spatial = (slice(None),) * 3
    for index in np.ndindex(*shape[3:]):
        yield np.asanyarray(dataobj[spatial + index])


def volume_stats(dataobj: Any, shape: tuple[int, ...]) -> dict[str, Any]:
    """Minimum, maximum and mean of the finite values, NaN and infinity counts.

    The data are read one 3D volume at a time, so memory stays at one volume
    whatever the length of the series.
    """
    low, high = math.inf, -math.inf
    total, n_finite, n_nan, n_inf = 0.0, 0, 0, 0
    for volume in _volumes(dataobj, shape):
        if volume.dtype.kind not in "biuf":
            return {"error": f"no statistics for {volume.dtype} data"}
        if volume.dtype.kind == "f":
            nan, inf = np.isnan(volume), np.isinf(volume)
            here_nan, here_inf = int(np.count_nonzero(nan)), int(np.count_nonzero(inf))
            n_nan += here_nan
            n_inf += here_inf
            values = volume[~(nan | inf)] if here_nan or here_inf else volume
        else:
            values = volume
        if values.size:
            low = min(low, float(values.min()))
            high = max(high, float(values.max()))
            total += float(values.sum(dtype=np.float64))
            n_finite += int(values.size)
    return {
        "min": _number(low) if n_finite else None,
        "max": _number(high) if n_finite else None,
        "mean": total / n_finite if n_finite else None,
        "nan": n_nan,
        "inf": n_inf,
    }


# ---- text output ------------------------------------------------------------


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _zooms_text(record: dict[str, Any]) -> str:
    zooms = record["zooms"]
    space, time = record["units"]["space"], record["units"]["time"]
    spatial = " x ".join(_fmt(z) for z in zooms[:3]) + (f" {space}" if space else "")
    parts = [spatial]
    if len(zooms) > 3:
        parts.append(_fmt(zooms[3]) + (f" {time}" if time else ""))
        parts.extend(_fmt(z) for z in zooms[4:])
    return ", ".join(parts)


def _affine_lines(affine: list[list[Any]]) -> list[str]:
    cells = [[_fmt(v) for v in row] for row in affine]
    width = max(len(c) for row in cells for c in row)
    return ["[" + " ".join(c.rjust(width) for c in row) + "]" for row in cells]


def format_text(record: dict[str, Any]) -> str:
    """The human-readable description of one file, as printed without ``--json``."""
    rows: list[tuple[str, str]] = [
        ("format", record["format"]),
        ("shape", " x ".join(str(n) for n in record["shape"])),
        # byte order means nothing to one-byte values
        ("dtype", f"{record['dtype']} ({record['byte_order']} endian)"
                  if record["itemsize"] > 1 else record["dtype"]),
        ("zooms", _zooms_text(record)),
        ("orientation", record["orientation"] or "unknown"),
    ]
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
            text += " (" + ", ".join(_fmt(p) for p in intent["params"]) + ")"
        if intent["name"]:
            text += f" name {intent['name']!r}"
        rows.append(("intent", text))
    scaling = record["scaling"]
    if scaling["slope"] is None and scaling["inter"] is None:
        rows.append(("scaling", "none"))
    else:
        rows.append(("scaling", f"slope {_fmt(scaling['slope'])}, inter {_fmt(scaling['inter'])}"))
    stats = record.get("stats")
    if stats is not None:
        if "error" in stats:
            rows.append(("range", stats["error"]))
        else:
            rows.append(("range", f"{_fmt(stats['min'])} .. {_fmt(stats['max'])}"))
            rows.append(("mean", _fmt(stats["mean"])))
            if stats["nan"] or stats["inf"]:
                rows.append(("non-finite", f"{stats['nan']} NaN, {stats['inf']} inf"))
    width = max(len(key) for key, _ in rows)
    body = "".join(f"  {key.ljust(width)}  {value}\n" for key, value in rows)
    return f"{record['file']}\n{body}"
