"""``nivox header``: every field of a file's header, as stored, with labels for coded values.

The header is read again from the file rather than taken from the loaded
image, whose header has scaling and data offset reset (those live on the data
proxy): this command shows what the file holds. Coded fields (datatype,
qform/sform, intent, slice order) get their label, and the packed fields
``xyzt_units`` and ``dim_info`` are unpacked. NIfTI extensions are listed with
code and size.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._common import (
    about, coded_label, jsonable, load_image, print_json, read_raw_header, run_guarded,
    set_usage, usage_error, value_text,
)

__all__ = ["add_parser", "format_text", "header_record", "run"]

NAME = "header"


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register the ``header`` subcommand."""
    parser = subparsers.add_parser(
        NAME, parents=parents, help="all header fields of one file, labelled",
        description="Print every field of an image file's header as stored in the file, "
                    "with the label of coded values (datatype, qform_code, ...) and the "
                    "unpacked units and dim_info, then any NIfTI extensions.",
    )
    parser.add_argument("file", nargs="?", metavar="FILE", help="image file")
    parser.add_argument("--json", action="store_true", help="print a JSON object")
    set_usage(parser)
    return parser


def _packed_labels(header: Any) -> dict[str, str]:
    labels = {}
    if hasattr(header, "get_xyzt_units") and "xyzt_units" in header.keys():
        space, time = header.get_xyzt_units()
        labels["xyzt_units"] = f"space {space}, time {time}"
    if hasattr(header, "get_dim_info") and "dim_info" in header.keys():
        names = ("freq", "phase", "slice")
        axes = header.get_dim_info()
        labels["dim_info"] = ", ".join(f"{n} {'-' if a is None else a}" for n, a in zip(names, axes))
    return labels


def _extensions(header: Any) -> list[dict[str, Any]]:
    found = []
    for ext in getattr(header, "extensions", ()):
        code = int(ext.get_code())
        from ..nifti1 import extension_codes

        # Recoder builds its per-field maps (here .label) at run time
        labels = extension_codes.label  # type: ignore[attr-defined]
        label = str(labels[code]) if code in extension_codes else "unknown"
        found.append({"code": code, "label": label, "size": int(ext.get_sizeondisk())})
    return found


def header_record(filename: str) -> dict[str, Any]:
    """The header of ``filename``: fields (numpy values, as stored), labels and extensions.

    ``jsonable`` of the result is ready for JSON.
    """
    img = load_image(filename)
    header = read_raw_header(img)
    if not hasattr(header, "keys") and hasattr(header, "general_info"):
        # a PAR header: its general information, and what the image table holds
        fields = dict(header.general_info)
        fields["image lines"] = len(header.image_defs)
        fields["image table columns"] = ", ".join(header.image_defs.dtype.names or ())
        return {"file": filename, "format": type(img).__name__, "header": type(header).__name__,
                "byte_order": "little", "fields": fields, "labels": {}, "extensions": []}
    fields = {name: header[name] for name in header.keys()}
    labels = {name: label for name in header.keys()
              if (label := coded_label(header, name)) is not None}
    labels.update(_packed_labels(header))
    return {
        "file": filename,
        "format": type(img).__name__,
        "header": type(header).__name__,
        "byte_order": "big" if getattr(header, "endianness", "<") == ">" else "little",
        "fields": fields,
        "labels": labels,
        "extensions": _extensions(header),
    }


def format_text(record: dict[str, Any]) -> str:
    """The text form: a title line, then one labelled line per field."""
    lines = [f"{record['file']}  ({record['header']}, {record['byte_order']} endian)"]
    width = max((len(name) for name in record["fields"]), default=0)
    for name, value in record["fields"].items():
        text = value_text(value)
        label = record["labels"].get(name)
        if label is not None:
            text += f"  ({label})"
        lines.append(f"  {name.ljust(width)}  {text}")
    for ext in record["extensions"]:
        lines.append(f"  extension  code {ext['code']} ({ext['label']}), {ext['size']} bytes")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Print the header of ``args.file``; exit status 1 if it cannot be read."""
    if args.file is None:
        return usage_error(args, "give the FILE whose header to print")

    def body() -> int:
        with about(args.file):
            record = header_record(args.file)
        if args.json:
            print_json(jsonable(record))
        else:
            sys.stdout.write(format_text(record))
            sys.stdout.flush()
        return 0

    return run_guarded(args, body, args.file)
