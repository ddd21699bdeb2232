"""``nivox diff``: compare header fields (and optionally data) of two or more image files.

Every file is compared with the first. Header fields are read as stored in
each file (see ``nivox header``) and compared by value, not by storage type
or byte order; float fields agree when ``|a - b| <= atol + rtol * max(|a|, |b|)``
(NaN agrees with NaN). The affine each image ends up with is compared too, as
the pseudo-field ``affine``. ``--data`` compares the scaled data voxel by
voxel with the same tolerances, one volume at a time.

Exit status: 0 when the files match, 1 when they differ, 2 on errors
(as ``diff`` and ``cmp`` do).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ._common import (
    about, coded_label, image_volumes, jsonable, load_image, n_volumes, print_json,
    read_raw_header, run_guarded, set_usage, usage_error, value_text,
)
from ._progress import Progress
from ..errors import ImageDataError

__all__ = ["add_parser", "compare_data", "diff_files", "format_text", "run", "values_agree"]

NAME = "diff"
MATCH, DIFFER, ERROR = 0, 1, 2
_ABSENT = None  # a field the file's format does not have


def _field_list(text: str) -> list[str]:
    return [name for name in text.replace(",", " ").split() if name]


def _tolerance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"tolerance must be >= 0, got {text!r}")
    return value


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register the ``diff`` subcommand."""
    parser = subparsers.add_parser(
        NAME, parents=parents, help="compare headers (and data) of image files",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Compare the header fields of two or more image files, each with the "
                    "first, and print the fields that differ.\nFloat fields (and the affine) "
                    "agree when |a - b| <= atol + rtol * max(|a|, |b|); NaN agrees with NaN.\n"
                    "With --data, also compare the scaled data voxel by voxel.",
        epilog="exit status:\n  0  the files match\n  1  the files differ\n"
               "  2  a file could not be read, or the command line is wrong",
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="two or more image files")
    parser.add_argument("--atol", type=_tolerance, default=0.0, metavar="A",
                        help="absolute tolerance for float fields and data (default 0)")
    parser.add_argument("--rtol", type=_tolerance, default=0.0, metavar="R",
                        help="relative tolerance for float fields and data (default 0)")
    parser.add_argument("--data", action="store_true",
                        help="also compare the data (reads every file, one volume at a time)")
    parser.add_argument("--ignore", type=_field_list, default=[], metavar="F,F,...",
                        help="header fields not to compare")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print nothing; only the exit status tells")
    set_usage(parser)
    return parser


# ---- comparing values ----------------------------------------------------------------------


def _close(a: np.ndarray, b: np.ndarray, atol: float, rtol: float) -> np.ndarray:
    """Elementwise agreement of float arrays under the tolerances (NaN agrees with NaN)."""
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - b)
        scale = np.maximum(np.abs(a), np.abs(b))
        # an infinite difference (inf against anything else) is never within tolerance
        within = np.isfinite(diff) & (diff <= atol + rtol * scale)
        return (a == b) | (np.isnan(a) & np.isnan(b)) | within


def values_agree(a: Any, b: Any, atol: float = 0.0, rtol: float = 0.0) -> bool:
    """True when header values ``a`` and ``b`` agree; tolerances apply to float values."""
    if a is _ABSENT or b is _ABSENT:
        return a is b
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    numeric = "biufc"
    if a.dtype.kind in numeric and b.dtype.kind in numeric:
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            if a.dtype.kind == "c" or b.dtype.kind == "c":
                return values_agree(a.real, b.real, atol, rtol) and values_agree(
                    a.imag, b.imag, atol, rtol)
            return bool(np.all(_close(a.astype(np.float64), b.astype(np.float64), atol, rtol)))
        return bool(np.array_equal(a, b))
    if a.dtype.kind != b.dtype.kind:
        return False
    return bool(np.array_equal(a, b))


# ---- comparing files ---------------------------------------------------------------------


def _field_names(headers: Sequence[Any], ignore: Sequence[str]) -> list[str]:
    names: list[str] = []
    for header in headers:
        names.extend(name for name in header.keys() if name not in names)
    return [name for name in names if name not in ignore]


def compare_data(images: Sequence[Any], atol: float = 0.0, rtol: float = 0.0,
                 names: Sequence[str] | None = None) -> list[dict[str, Any] | None]:
    """Voxel comparison of each image with the first; None for the first.

    Each entry says whether the data agree and, when shapes match, how many
    voxels differ beyond the tolerances and the largest absolute and relative
    differences between finite values. ``names`` (file names) attribute read
    failures.
    """
    names = list(names) if names is not None else [f"image {i + 1}" for i in range(len(images))]
    shape = tuple(images[0].shape)
    results: list[dict[str, Any] | None] = [None]
    compared: list[tuple[int, dict[str, Any]]] = []  # (image index, its entry)
    for index, img in enumerate(images[1:], start=1):
        if tuple(img.shape) != shape:
            results.append({"agree": False, "shape": [int(n) for n in img.shape],
                            "reason": f"shape {tuple(img.shape)} differs from {shape}"})
        else:
            entry = {"agree": True, "differing_voxels": 0, "max_abs_diff": 0.0,
                     "max_rel_diff": 0.0}
            results.append(entry)
            compared.append((index, entry))
    if not compared:
        return results
    streams = [_float_volumes(images[i], shape, names[i]) for i in [0, *(i for i, _ in compared)]]
    count = n_volumes(shape)
    with Progress(count, "comparing data", enabled=None if count > 1 else False) as bar:
        for first, *others in zip(*streams):
            for (_, entry), volume in zip(compared, others):
                _accumulate(entry, first, volume, atol, rtol)
            bar.advance()
    return results


def _float_volumes(img: Any, shape: tuple[int, ...], name: str) -> Iterator[np.ndarray]:
    with about(name):
        for volume in image_volumes(img.dataobj, shape):
            if volume.dtype.kind == "c":
                raise ImageDataError("comparing complex data is not supported")
            yield volume.astype(np.float64, copy=False)


def _accumulate(entry: dict[str, Any], a: np.ndarray, b: np.ndarray, atol: float,
                rtol: float) -> None:
    bad = ~_close(a, b, atol, rtol)
    count = int(np.count_nonzero(bad))
    entry["differing_voxels"] += count
    entry["agree"] = entry["agree"] and count == 0
    finite = np.isfinite(a) & np.isfinite(b) & (a != b)
    if np.any(finite):
        diff = np.abs(a[finite] - b[finite])
        scale = np.maximum(np.abs(a[finite]), np.abs(b[finite]))
        entry["max_abs_diff"] = max(entry["max_abs_diff"], float(diff.max()))
        entry["max_rel_diff"] = max(entry["max_rel_diff"], float((diff / scale).max()))


def diff_files(files: Sequence[str], atol: float = 0.0, rtol: float = 0.0, data: bool = False,
               ignore: Sequence[str] = ()) -> dict[str, Any]:
    """Compare ``files`` (each with the first); the differing fields and the data comparison.

    Returns a dict with ``files``, ``match`` (bool), ``fields`` (name -> per-file
    values, numpy values or None where absent, only for fields that differ),
    ``labels`` (name -> per-file labels for coded fields) and ``data``
    (per-file comparison from :func:`compare_data`, when asked).
    """
    images, headers = [], []
    for filename in files:
        with about(filename):
            img = load_image(filename)
            images.append(img)
            headers.append(read_raw_header(img))
    differing: dict[str, list[Any]] = {}
    labels: dict[str, list[str | None]] = {}
    for name in _field_names(headers, ignore):
        values = [h[name] if name in h.keys() else _ABSENT for h in headers]
        if not all(values_agree(values[0], v, atol, rtol) for v in values[1:]):
            differing[name] = values
            coded = [coded_label(h, name) if name in h.keys() else None for h in headers]
            if any(c is not None for c in coded):
                labels[name] = coded
    if "affine" not in ignore:
        affines = [img.affine for img in images]
        if not all(values_agree(affines[0], a, atol, rtol) for a in affines[1:]):
            differing["affine"] = affines
    result: dict[str, Any] = {"files": list(files), "fields": differing, "labels": labels}
    match = not differing
    if data:
        result["data"] = compare_data(images, atol, rtol, names=files)
        match = match and all(entry is None or entry["agree"] for entry in result["data"])
    result["match"] = match
    return result


# ---- output ----------------------------------------------------------------------------------


def _data_text(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "-"
    if "reason" in entry:
        return entry["reason"]
    if entry["agree"]:
        return "same"
    return (f"{entry['differing_voxels']} voxels differ (max abs diff {entry['max_abs_diff']:.6g}, "
            f"max rel diff {entry['max_rel_diff']:.6g})")


def format_text(result: dict[str, Any], width: int | None = None) -> str:
    """The differing fields as a table, a row per field and a column per file, ``width`` wide.

    When the full file names do not fit, the columns are numbered and the names
    listed above; a row still too wide (an affine, long names) is printed below
    the table with one wrapped line per file. ``width`` defaults to the terminal's.
    """
    if result["match"]:
        return "files match\n"
    if width is None:
        width = shutil.get_terminal_size().columns
    files = result["files"]
    rows = []
    for name, values in result["fields"].items():
        coded = result["labels"].get(name, [None] * len(values))
        cells = []
        for value, label in zip(values, coded):
            text = "-" if value is _ABSENT else value_text(value)
            cells.append(text if label is None else f"{text} ({label})")
        rows.append([name, *cells])
    if "data" in result:
        rows.append(["DATA", *(_data_text(entry) for entry in result["data"])])
    named = [["field", *(f"{i + 1}: {name}" for i, name in enumerate(files))], *rows]
    text = _columns(named)
    if max(len(line) for line in text.splitlines()) <= width:
        return text
    legend = "".join(f"{i + 1}: {name}\n" for i, name in enumerate(files))
    heading = ["field", *(str(i + 1) for i in range(len(files)))]
    narrow = [row for row in rows if len(_columns([heading, row]).rstrip("\n")) <= width]
    while narrow and max(map(len, _columns([heading, *narrow]).splitlines())) > width:
        narrow.remove(max(narrow, key=lambda row: max(map(len, row[1:]))))
    wide = [row for row in rows if row not in narrow]
    parts = [legend]
    if narrow:
        parts.append(_columns([heading, *narrow]))
    for row in wide:
        parts.append(row[0] + "\n")
        for i, cell in enumerate(row[1:]):
            lead = f"  {i + 1}: "
            lines = textwrap.wrap(cell, max(width, len(lead) + 20), initial_indent=lead,
                                  subsequent_indent=" " * len(lead), break_on_hyphens=False)
            parts.append("\n".join(lines or [lead.rstrip()]) + "\n")
    return "".join(parts)


def _columns(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() + "\n"
                   for row in rows)


def run(args: argparse.Namespace) -> int:
    """Compare ``args.files``: status 0 when they match, 1 when they differ, 2 on errors."""
    if len(args.files) < 2:
        return usage_error(args, "give two or more files to compare")

    def body() -> int:
        result = diff_files(args.files, args.atol, args.rtol, args.data, args.ignore)
        if args.json:
            print_json(jsonable(result))
        elif not args.quiet:
            sys.stdout.write(format_text(result))
            sys.stdout.flush()
        return MATCH if result["match"] else DIFFER

    return run_guarded(args, body, args.files[0], error_status=ERROR)
