"""Reading the text of a PAR header: version, general information, and the image table.

A PAR file is a text header written by Philips scanners (export tool
versions 4.0, 4.1 and 4.2). It has three parts, in this order:

- ``#`` comment lines, one of which names the export tool and its version;
- ``.``-prefixed *general information* lines, ``. key : value``;
- a ``#`` block defining the columns, then one line per stored 2D image
  (slice) with the columns of the image table, space separated.

The parser keeps nibabel's names for every field (they are the keys users
index ``general_info`` and ``image_defs`` with) and its value types, so a
header read by nivox holds the same values in the same dtypes. It differs
where nibabel fails with a bare exception: every problem becomes a
:class:`~nivox.errors.PARRECError` naming the file and line.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..errors import PARRECError

__all__ = [
    "GEN_RE",
    "MAX_PAR_BYTES",
    "image_def_dtds",
    "image_def_dtype",
    "one_line",
    "parse_PAR_header",
    "supported_versions",
]

#: a PAR header larger than this is refused (real ones are at most a few MB)
MAX_PAR_BYTES = 256 << 20

# one general-information line: a marker, the key, a colon, the value (maybe empty)
GEN_RE = re.compile(r".\s+(.*?)\s*:\s*(.*)")

# General information: PAR key -> (name in general_info, type, shape).
# type None keeps the text; shape None is a vector of any length.
_GENERAL: dict[str, tuple[str, Any, Any]] = {
    "Patient name": ("patient_name", None, ()),
    "Examination name": ("exam_name", None, ()),
    "Protocol name": ("protocol_name", None, ()),
    "Examination date/time": ("exam_date", None, ()),
    "Series Type": ("series_type", None, ()),
    "Acquisition nr": ("acq_nr", int, ()),
    "Reconstruction nr": ("recon_nr", int, ()),
    "Scan Duration [sec]": ("scan_duration", float, ()),
    "Max. number of cardiac phases": ("max_cardiac_phases", int, ()),
    "Max. number of echoes": ("max_echoes", int, ()),
    "Max. number of slices/locations": ("max_slices", int, ()),
    "Max. number of dynamics": ("max_dynamics", int, ()),
    "Max. number of mixes": ("max_mixes", int, ()),
    "Patient position": ("patient_position", None, ()),
    "Preparation direction": ("prep_direction", None, ()),
    "Technique": ("tech", None, ()),
    "Scan resolution  (x, y)": ("scan_resolution", int, (2,)),
    "Scan mode": ("scan_mode", None, ()),
    "Repetition time [ms]": ("repetition_time", float, None),
    "FOV (ap,fh,rl) [mm]": ("fov", float, (3,)),
    "Water Fat shift [pixels]": ("water_fat_shift", float, ()),
    "Angulation midslice(ap,fh,rl)[degr]": ("angulation", float, (3,)),
    "Off Centre midslice(ap,fh,rl) [mm]": ("off_center", float, (3,)),
    "Flow compensation <0=no 1=yes> ?": ("flow_compensation", int, ()),
    "Presaturation     <0=no 1=yes> ?": ("presaturation", int, ()),
    "Phase encoding velocity [cm/sec]": ("phase_enc_velocity", float, (3,)),
    "MTC               <0=no 1=yes> ?": ("mtc", int, ()),
    "SPIR              <0=no 1=yes> ?": ("spir", int, ()),
    "EPI factor        <0,1=no EPI>": ("epi_factor", int, ()),
    "Dynamic scan      <0=no 1=yes> ?": ("dyn_scan", int, ()),
    "Diffusion         <0=no 1=yes> ?": ("diffusion", int, ()),
    "Diffusion echo time [ms]": ("diffusion_echo_time", float, ()),
    # from version 4.1
    "Max. number of diffusion values": ("max_diffusion_values", int, ()),
    "Max. number of gradient orients": ("max_gradient_orient", int, ()),
    # from version 4.2
    "Number of label types   <0=no ASL>": ("nr_label_types", int, ()),
    # spellings seen in some 4.2 exports for keys above
    "Series_data_type": ("series_type", None, ()),
    "Patient Position": ("patient_position", None, ()),
    "Repetition time [msec]": ("repetition_time", float, None),
    "Diffusion echo time [msec]": ("diffusion_echo_time", float, ()),
}
# keys are matched ignoring case (R11 exports capitalise "Diffusion values")
_GENERAL_LOWER = {key.lower(): spec for key, spec in _GENERAL.items()}

# The image table's columns per version, as numpy structured-dtype fields.
_V4_COLUMNS: list[tuple[Any, ...]] = [
    ("slice number", int),
    ("echo number", int),
    ("dynamic scan number", int),
    ("cardiac phase number", int),
    ("image_type_mr", int),
    ("scanning sequence", int),
    ("index in REC file", int),
    ("image pixel size", int),
    ("scan percentage", int),
    ("recon resolution", int, (2,)),
    ("rescale intercept", float),
    ("rescale slope", float),
    ("scale slope", float),
    # written as integers by most exports, but floats occur
    ("window center", float),
    ("window width", float),
    ("image angulation", float, (3,)),
    ("image offcentre", float, (3,)),
    ("slice thickness", float),
    ("slice gap", float),
    ("image_display_orientation", int),
    ("slice orientation", int),
    ("fmri_status_indication", int),
    ("image_type_ed_es", int),
    ("pixel spacing", float, (2,)),
    ("echo_time", float),
    ("dyn_scan_begin_time", float),
    ("trigger_time", float),
    ("diffusion_b_factor", float),
    ("number of averages", int),
    ("image_flip_angle", float),
    ("cardiac frequency", int),
    ("minimum RR-interval", int),
    ("maximum RR-interval", int),
    ("TURBO factor", int),
    ("Inversion delay", float),
]
_V41_EXTRA: list[tuple[Any, ...]] = [
    ("diffusion b value number", int),
    ("gradient orientation number", int),
    ("contrast type", "S30"),
    ("diffusion anisotropy type", "S30"),
    ("diffusion", float, (3,)),
]
_V42_EXTRA: list[tuple[Any, ...]] = [("label type", int)]

#: image-table field definitions per PAR version (numpy structured-dtype specs)
image_def_dtds: dict[str, list[tuple[Any, ...]]] = {
    "V4": _V4_COLUMNS,
    "V4.1": _V4_COLUMNS + _V41_EXTRA,
    "V4.2": _V4_COLUMNS + _V41_EXTRA + _V42_EXTRA,
}

#: PAR versions this reader knows the image table of
supported_versions = list(image_def_dtds)

#: the image-table dtype of the newest version (nibabel keeps this name)
image_def_dtype = np.dtype(image_def_dtds["V4.2"])


def _n_columns(fields: Iterable[tuple[Any, ...]]) -> int:
    return sum(int(np.prod(f[2])) if len(f) == 3 else 1 for f in fields)


_COLUMNS_PER_VERSION = {version: _n_columns(fields) for version, fields in image_def_dtds.items()}


def one_line(long_str: str) -> str:
    """``long_str`` with its lines stripped and joined by single spaces."""
    return " ".join(line.strip() for line in long_str.splitlines())


def _source_name(fobj: Any) -> str:
    name = getattr(fobj, "name", None)
    return str(name) if isinstance(name, (str, bytes)) or hasattr(name, "__fspath__") else "<PAR header>"


def _read_text(fobj: Any, name: str) -> str:
    """The whole header as text, read in bounded pieces."""
    pieces = []
    size = 0
    while True:
        piece = fobj.read(1 << 20)
        if not piece:
            break
        size += len(piece)
        if size > MAX_PAR_BYTES:
            raise PARRECError(f"{name}: PAR header larger than {MAX_PAR_BYTES} bytes; not a PAR file?")
        pieces.append(piece)
    if not pieces:
        return ""
    if isinstance(pieces[0], bytes):
        # exports are ASCII; names of patients may be in the local 8-bit code page
        return b"".join(pieces).decode("latin-1")
    return "".join(pieces)


def _split_header(text: str, name: str) -> tuple[str | None, list[tuple[int, str, str]], list[tuple[int, str]]]:
    """(version, [(line number, key, value)], [(line number, image line)])."""
    version = None
    general: list[tuple[int, str, str]] = []
    image_lines: list[tuple[int, str]] = []
    state = "top"
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if state == "top":
            if line.startswith("#"):
                if "image export tool" in line:
                    version = line.split()[-1]
                continue
            state = "general"
        if state == "general":
            if line.startswith("."):
                match = GEN_RE.match(line)
                if match is None:
                    raise PARRECError(f"{name}, line {number}: general information line without "
                                      f"'key : value': {line[:80]!r}")
                general.append((number, match.group(1), match.group(2)))
                continue
            state = "definitions"
        if state == "definitions":
            if line.startswith("#"):
                continue
            state = "images"
        if line.startswith("#"):
            break  # the closing comment block
        image_lines.append((number, line))
    return version, general, image_lines


def _general_value(spec: tuple[str, Any, Any], value: str, where: str) -> Any:
    _, kind, shape = spec
    if kind is None:
        return value
    try:
        if shape == ():
            return kind(value)
        parts = value.split()
        arr = np.array([kind(p) for p in parts], dtype=np.dtype(kind))
    except ValueError:
        raise PARRECError(f"{where}: cannot read {value!r} as {kind.__name__}") from None
    if shape is not None:
        if arr.size != int(np.prod(shape)):
            raise PARRECError(f"{where}: expected {int(np.prod(shape))} values, found {arr.size} in {value!r}")
        arr = arr.reshape(shape)
    return arr


def _general_info(entries: list[tuple[int, str, str]], name: str) -> dict[str, Any]:
    info: dict[str, Any] = {}
    for number, key, value in entries:
        spec = _GENERAL_LOWER.get(key.lower())
        if spec is None:
            warnings.warn(f"{name}, line {number}: unknown general information {key!r} ignored", stacklevel=4)
            continue
        info[spec[0]] = _general_value(spec, value, f"{name}, line {number} ({key})")
    return info


def _guess_version(version: str | None, image_lines: list[tuple[int, str]], name: str) -> str:
    if version in image_def_dtds:
        return version  # type: ignore[return-value]
    n_tokens = len(image_lines[0][1].split()) if image_lines else 0
    fitting = [v for v, n in _COLUMNS_PER_VERSION.items() if n <= n_tokens]
    guess = fitting[-1] if fitting else None
    warnings.warn(
        f"{name}: PAR/REC version {version!r} is not supported (only {', '.join(supported_versions)}); "
        + (f"reading its image table as {guess}" if guess else "its image table cannot be read"),
        stacklevel=3,
    )
    if guess is None:
        raise PARRECError(f"{name}: PAR/REC version {version!r} not supported and no image table to read")
    return guess


def _image_defs(image_lines: list[tuple[int, str]], version: str, name: str) -> np.ndarray:
    fields = image_def_dtds[version]
    n_columns = _COLUMNS_PER_VERSION[version]
    rows = []
    for number, line in image_lines:
        tokens = line.split()
        if len(tokens) < n_columns:
            raise PARRECError(f"{name}, line {number}: image line has {len(tokens)} values, "
                              f"{version} needs {n_columns}")
        rows.append(tokens[:n_columns])  # later columns are ignored, as nibabel does
    # one array of the text, converted a column at a time by numpy (a Python call per value
    # made loading a long fMRI series take seconds)
    table = np.array(rows, dtype=str).reshape(len(rows), n_columns)
    image_defs = np.zeros(len(rows), dtype=fields)
    column = 0
    for field in fields:
        field_name, kind = field[0], field[1]
        width = int(np.prod(field[2])) if len(field) == 3 else 1
        cells = table[:, column:column + width]
        column += width
        if np.dtype(kind).kind == "S":
            image_defs[field_name] = np.char.encode(cells[:, 0], "latin-1")
            continue
        try:
            values = cells.astype(np.dtype(kind))
        except (ValueError, OverflowError):
            bad = _first_bad(cells, kind, image_lines)
            raise PARRECError(f"{name}: cannot read {field_name!r} as {kind.__name__}: {bad}") from None
        image_defs[field_name] = values if width > 1 else values[:, 0]
    return image_defs


def _first_bad(cells: np.ndarray, kind: type, image_lines: list[tuple[int, str]]) -> str:
    for (number, _), row in zip(image_lines, cells):
        for cell in row:
            try:
                np.array([cell]).astype(np.dtype(kind))
            except (ValueError, OverflowError):
                return f"line {number} has {cell!r}"
    return "a value out of range"


def parse_PAR_header(fobj: Any) -> tuple[dict[str, Any], np.ndarray]:
    """Read a PAR header: its general information and its image table.

    Parameters
    ----------
    fobj : file-like
        The PAR file, open in text or binary mode (anything with ``read``).

    Returns
    -------
    general_info : dict
        The general information, under nibabel's names (``'max_slices'``,
        ``'angulation'``, ``'repetition_time'``, ...), with numbers as int,
        float or arrays.
    image_defs : ndarray
        Structured array, one record per image line, with the fields of the
        file's version (:data:`image_def_dtds`).

    Raises
    ------
    PARRECError
        For text that is not a PAR header of a supported layout; the message
        names the file and line.
    """
    name = _source_name(fobj)
    text = _read_text(fobj, name)
    version, general, image_lines = _split_header(text, name)
    version = _guess_version(version, image_lines, name)
    return _general_info(general, name), _image_defs(image_lines, version, name)
