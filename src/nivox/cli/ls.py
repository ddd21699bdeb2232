"""``nivox ls``: one table row per image file, from headers alone.

Like ``nib-ls``: format, on-disk dtype, shape, voxel sizes, units and the
NIfTI qform/sform codes. Only headers are read, so listing thousands of files
is quick and files whose data are missing or damaged still list; ``--stats``
adds columns that read the data (one volume at a time). Globs are expanded
here (for shells that do not), and a folder lists the images inside it.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import numpy as np

from ._common import (
    FileFailure, about, coded_field, expand_files, fmt, jsonable, load_image, number,
    one_line_warnings, print_json, read_raw_header, report_failure, set_usage, xyzt_units,
)
from ._progress import Progress

__all__ = ["add_parser", "format_table", "list_file", "run"]

NAME = "ls"
_STAT_COLUMNS = ("min", "max", "mean", "nan")


def _field_list(text: str) -> list[str]:
    return [name for name in text.replace(",", " ").split() if name]


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register the ``ls`` subcommand."""
    parser = subparsers.add_parser(
        NAME, parents=parents, help="a table of image files, from their headers",
        description="List image files, one row each: type, dtype, shape, voxel sizes, units, "
                    "qform and sform codes. Only headers are read unless --stats is given. "
                    "FILE may be a glob (quoted) or a folder (its image files are listed).",
    )
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="image files, globs or folders (default: the current folder)")
    parser.add_argument("-s", "--stats", action="store_true",
                        help="add min, max, mean and NaN count columns (reads the data)")
    parser.add_argument("-H", "--header-fields", type=_field_list, default=[], metavar="F,F,...",
                        help="add columns with these header fields, as stored in the file")
    parser.add_argument("--json", action="store_true", help="print a JSON list, one object per file")
    parser.add_argument("-r", "--recursive", action="store_true",
                        help="list the images in the subfolders of folders too")
    parser.add_argument("--no-heading", action="store_true",
                        help="omit the line of column names")
    set_usage(parser)
    return parser


def list_file(filename: str, stats: bool = False, fields: list[str] | tuple[str, ...] = (),
              progress_label: str | None = None) -> dict[str, Any]:
    """The JSON-ready row for ``filename``; the data are read only when ``stats``."""
    with about(filename):
        img = load_image(filename)
        from ._surfaces import is_surface_image

        if is_surface_image(img):
            return _surface_row(filename, img, stats, fields)
        header = img.header
        dtype = np.dtype(img.get_data_dtype())
        record: dict[str, Any] = {
            "file": filename,
            "type": type(img).__name__,
            "dtype": dtype.name if dtype.fields is None else str(dtype),
            "shape": [int(n) for n in img.shape],
            "zooms": [number(z) for z in header.get_zooms()],
            "units": xyzt_units(header),
            "qform_code": coded_field(header, "qform_code"),
            "sform_code": coded_field(header, "sform_code"),
        }
        if fields:
            raw = read_raw_header(img)
            record["fields"] = {name: jsonable(raw[name]) if name in raw.keys() else None
                                for name in fields}
        if stats:
            from .stats import image_stats

            summary = image_stats(img, progress_label=progress_label)
            record["stats"] = {key: summary[key] for key in _STAT_COLUMNS}
    return record


def _surface_row(filename: str, img: Any, stats: bool, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The row of a GIFTI or CIFTI-2 file: arrays or axes where voxel images have voxel sizes."""
    from ._surfaces import surface_record, surface_stats

    described = surface_record(img)
    record: dict[str, Any] = {
        "file": filename, "type": type(img).__name__, "dtype": described["dtype"],
        "shape": described.get("shape", []), "zooms": [], "units": {"space": None, "time": None},
        "qform_code": None, "sform_code": None, "surface": described,
    }
    if fields:
        raw = getattr(img, "nifti_header", None)  # CIFTI-2: its NIfTI-2 container; GIFTI has none
        record["fields"] = {name: jsonable(raw[name]) if raw is not None and name in raw.keys() else None
                            for name in fields}
    if stats:
        record["stats"] = {key: value for key, value in surface_stats(img).items() if key in _STAT_COLUMNS}
    return record


def run(args: argparse.Namespace) -> int:
    """List ``args.files``; exit status 1 if any could not be read."""
    ignored: list[str] = []
    files = expand_files(args.files or [os.curdir], folders=True, recursive=args.recursive,
                         ignored=ignored)
    records = []
    skipped = 0
    with one_line_warnings(), Progress(len(files), "reading headers",
                                       enabled=None if len(files) > 1 else False) as bar:
        for filename in files:
            try:
                records.append(list_file(filename, args.stats, args.header_fields,
                                         progress_label=filename if len(files) == 1 else None))
            except FileFailure as failure:
                report_failure(failure, args.debug, bar)  # the file and why, one line
                skipped += 1
            bar.advance(label=filename)
    if args.json:
        print_json(records)
    else:
        sys.stdout.write(format_table(records, args.header_fields, args.stats,
                                      heading=not args.no_heading))
        sys.stdout.flush()
    _report_skipped(skipped, len(files), ignored)
    return 1 if skipped else 0


def _report_skipped(skipped: int, total: int, ignored: list[str]) -> None:
    """The closing count: files that could not be read, files in folders that are no images."""
    notes = []
    if skipped:
        notes.append(f"skipped {skipped} of {total} file{'s' if total != 1 else ''} "
                     "that could not be read (reasons above)")
    if ignored:
        kinds = sorted({os.path.splitext(name)[1].lower() or "no extension" for name in ignored})
        notes.append(f"ignored {len(ignored)} file{'s' if len(ignored) != 1 else ''} in folders "
                     f"with no image extension ({', '.join(kinds)})")
    if notes:
        print(f"nivox ls: {'; '.join(notes)}", file=sys.stderr, flush=True)


# ---- table -----------------------------------------------------------------------------


def _cells(record: dict[str, Any], fields: list[str], stats: bool) -> list[str]:
    units = record["units"]
    unit_text = ",".join(u for u in (units["space"], units["time"] if len(record["zooms"]) > 3
                                     else None) if u) or "-"
    coded = [c["label"] if c is not None else "-" for c in (record["qform_code"],
                                                               record["sform_code"])]
    cells = [
        record["file"], record["type"], record["dtype"],
        "x".join(str(n) for n in record["shape"]),
        "x".join(fmt(float(z)) if z is not None else "nan" for z in record["zooms"]),
        unit_text, *coded,
    ]
    if "surface" in record:  # arrays (GIFTI) or axes (CIFTI-2) in the shape and zooms columns
        from ._surfaces import ls_cells

        cells[3], cells[4] = ls_cells(record)
    cells += [fmt(record["fields"][name]) for name in fields]
    if stats:
        cells += [fmt(record["stats"][key]) for key in _STAT_COLUMNS]
    return cells


def format_table(records: list[dict[str, Any]], fields: list[str] | tuple[str, ...] = (),
                 stats: bool = False, heading: bool = True) -> str:
    """Rows of ``records`` in aligned columns (numbers right-aligned), one line each."""
    names = ["file", "type", "dtype", "shape", "zooms", "units", "qform", "sform", *fields]
    if stats:
        names += list(_STAT_COLUMNS)
    rows = [_cells(record, list(fields), stats) for record in records]
    if heading:
        rows.insert(0, names)
    widths = [max(len(row[i]) for row in rows) for i in range(len(names))]
    right = set(range(len(names) - len(_STAT_COLUMNS), len(names))) if stats else set()
    lines = []
    for row in rows:
        cells = [cell.rjust(w) if i in right else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip() + "\n")
    return "".join(lines)
