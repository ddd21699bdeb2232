"""FreeSurfer annotation files (``?h.aparc.annot``): a label per vertex and a colour table.

Layout (big-endian int32 throughout): vertex count; (vertex, annotation
value) pairs, where the value packs the label's colour as R + G*256 +
B*65536; a 1 saying a colour table follows; then either the old table
(entry count, table file name, then per entry a name and R, G, B, T) or the
new one (-2 for version 2, the table's size, the table file name, the
number of entries stored, then per entry its index, name, R, G, B, T).
Strings are stored as int32 length + bytes ending in NUL.

:func:`write_annot` writes the new layout with checks nibabel lacks, each
a way its files failed in FreeSurfer: labels outside the colour table are
refused (nibabel wrapped negative ones around silently), names must match
the table's rows, and colours that FreeSurfer cannot tell apart (two labels
with one colour, or black, which FreeSurfer reads as "no label") are warned
about.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._binio import Reader, file_name, read_all, writing
from ..errors import ImageFileError

__all__ = ["read_annot", "write_annot"]

_ANNOT_DT = ">i4"
#: largest colour table read (FreeSurfer's own LUT has indices below 15000)
_MAX_TABLE = 1 << 20


def _pack_rgb(rgb: np.ndarray) -> np.ndarray:
    """The annotation value of each RGB row: R + G * 2**8 + B * 2**16, shape (n, 1)."""
    shifts = 2 ** np.array([[0], [8], [16]], dtype=rgb.dtype)
    return rgb.dot(shifts)


def _string(reader: Reader, what: str) -> bytes:
    length = reader.int32(f"length of {what}")
    return reader.raw(length, what).rstrip(b"\x00")


def _read_ctab_old(reader: Reader, n_entries: int) -> tuple[np.ndarray, list[bytes]]:
    _string(reader, "colour table file name")
    if n_entries * 20 > reader.left:
        raise reader.error(f"colour table of {n_entries} entries is longer than the file")
    ctab = np.zeros((n_entries, 5), _ANNOT_DT)
    names = []
    for i in range(n_entries):
        names.append(_string(reader, f"name of entry {i}"))
        ctab[i, :4] = reader.array(_ANNOT_DT, 4, f"colour of entry {i}")
    return ctab, names


def _read_ctab_new(reader: Reader, version: int) -> tuple[np.ndarray, list[bytes]]:
    if version != 2:
        raise reader.error(f"Unrecognised .annot file version ({version})")
    max_index = reader.int32("colour table size")
    if not 0 <= max_index <= _MAX_TABLE:
        raise reader.error(f"colour table size {max_index} is outside 0 to {_MAX_TABLE}")
    ctab = np.zeros((max_index, 5), _ANNOT_DT)
    _string(reader, "colour table file name")
    count = reader.int32("number of colour table entries")
    if count < 0 or count * 24 > reader.left:
        raise reader.error(f"{count} colour table entries do not fit in the file")
    names = []
    for _ in range(count):
        index = reader.int32("colour table index")
        if not 0 <= index < max_index:
            raise reader.error(f"colour table index {index} outside the table's {max_index} entries")
        names.append(_string(reader, f"name of entry {index}"))
        ctab[index, :4] = reader.array(_ANNOT_DT, 4, f"colour of entry {index}")
    return ctab, names


def read_annot(filepath: Any, orig_ids: bool = False) -> tuple[np.ndarray, np.ndarray, list[bytes]]:
    """Read an annotation: per-vertex labels, the colour table and the label names.

    Parameters
    ----------
    filepath : str, PathLike or file object
    orig_ids : bool
        Return each vertex's annotation value as stored, rather than the
        row of its colour in the table (-1 for vertices without a label,
        or whose value is in no row).

    Returns
    -------
    labels : ndarray (n_vertices,)
    ctab : ndarray (n_labels, 5)
        R, G, B, T (255 - alpha) and the annotation value of each row.
    names : list of bytes
    """
    reader = Reader(read_all(filepath), file_name(filepath))
    vnum = reader.int32("vertex count")
    if vnum < 0:
        raise reader.error(f"negative vertex count {vnum}")
    labels = reader.array(_ANNOT_DT, vnum * 2, "vertex labels").reshape(vnum, 2)[:, 1].copy()
    if reader.left < 4 or not reader.int32("colour table flag"):
        raise reader.error("Color table not found in annotation file")
    n_entries = reader.int32("colour table entries or version")
    if n_entries > 0:
        ctab, names = _read_ctab_old(reader, n_entries)
    else:
        ctab, names = _read_ctab_new(reader, -n_entries)
    ctab[:, [4]] = _pack_rgb(ctab[:, :3])
    if not orig_ids:
        order = np.argsort(ctab[:, -1])
        values = ctab[order, -1]
        labelled = labels != 0
        stored = labels[labelled]
        pos = np.clip(np.searchsorted(values, stored), 0, max(len(values) - 1, 0))
        found = values[pos] == stored if len(values) else np.zeros(stored.shape, bool)
        rows = np.where(found, order[pos] if len(values) else -1, -1)
        labels[~labelled] = -1
        labels[labelled] = rows
    return labels, ctab, names


def write_annot(filepath: Any, labels: Any, ctab: Any, names: Any, fill_ctab: bool = True) -> None:
    """Write an annotation in FreeSurfer's new (version 2) layout.

    Parameters
    ----------
    filepath : str, PathLike or file object
    labels : array (n_vertices,)
        Row of the colour table of each vertex; -1 for no label.
    ctab : array (n_labels, 4) or (n_labels, 5)
        R, G, B, T (255 - alpha) and, in a fifth column, annotation values.
    names : sequence of str or bytes, one per row of ``ctab``
    fill_ctab : bool
        Compute the annotation values from the colours (the fifth column, if
        any, is ignored); if False, the fifth column is used and a warning
        says when it does not match the colours.
    """
    name = file_name(filepath)
    labels = np.asarray(labels)
    ctab = np.asarray(ctab)
    if labels.ndim != 1 and not (labels.ndim == 2 and 1 in labels.shape):
        raise ImageFileError(f"{name}: labels must be a vector, not shape {labels.shape}")
    labels = labels.reshape(-1)
    if labels.size and labels.dtype.kind not in "iu":
        if not np.all(labels == np.round(labels)):
            raise ImageFileError(f"{name}: labels must be whole numbers (rows of the colour table)")
        labels = labels.astype(np.int64)
    if ctab.ndim != 2 or ctab.shape[1] not in (4, 5):
        raise ImageFileError(f"{name}: ctab must have shape (n_labels, 4) or (n_labels, 5), not {ctab.shape}")
    names = list(names)
    if len(names) != ctab.shape[0]:
        raise ImageFileError(f"{name}: {len(names)} names for {ctab.shape[0]} colour table rows")
    if labels.size and (labels.min() < -1 or labels.max() >= ctab.shape[0]):
        raise ImageFileError(f"{name}: labels must be -1 (no label) or a row of the {ctab.shape[0]}-row "
                         f"colour table; found {labels.min()} to {labels.max()}")
    if fill_ctab:
        ctab = np.hstack((ctab[:, :4], _pack_rgb(ctab[:, :3])))
    elif ctab.shape[1] != 5:
        raise ImageFileError(f"{name}: fill_ctab=False needs a fifth ctab column of annotation values")
    elif not np.array_equal(ctab[:, [4]], _pack_rgb(ctab[:, :3])):
        warnings.warn(f"Annotation values in {filepath} will be incorrect", stacklevel=2)
    values = ctab[:, -1]
    used = np.unique(labels[labels >= 0])
    used_values = values[used]
    if len(np.unique(used_values)) < len(used_values):
        warnings.warn(f"{name}: labels share an annotation value (colour); FreeSurfer "
                      "reads them back as one label", stacklevel=2)
    if np.any(used_values == 0):
        warnings.warn(f"{name}: a label has annotation value 0 (black); FreeSurfer reads "
                      "its vertices as unlabelled", stacklevel=2)
    vnum = len(labels)
    annotation = np.where(labels == -1, 0, values[np.where(labels == -1, 0, labels)]) if vnum else \
        np.zeros(0, np.int64)
    parts = [np.array([vnum], _ANNOT_DT).tobytes(),
             np.column_stack((np.arange(vnum), annotation)).astype(_ANNOT_DT).tobytes(),
             np.array([1, -2, max(int(labels.max(initial=-1)) + 1, ctab.shape[0])], _ANNOT_DT).tobytes(),
             _pack_string("NOFILE"),
             np.array([ctab.shape[0]], _ANNOT_DT).tobytes()]
    for index, (row, label_name) in enumerate(zip(ctab, names)):
        parts.append(np.array([index], _ANNOT_DT).tobytes())
        parts.append(_pack_string(label_name))
        parts.append(np.asarray(row[:4]).astype(_ANNOT_DT).tobytes())
    with writing(filepath) as fobj:
        fobj.write(b"".join(parts))


def _pack_string(text: Any) -> bytes:
    raw = (text if isinstance(text, bytes) else str(text).encode()) + b"\x00"
    return np.array([len(raw)], _ANNOT_DT).tobytes() + raw
