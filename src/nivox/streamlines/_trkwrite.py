"""Writing TRK records: in-memory tractograms a block of streamlines at a time, lazy
ones in batches of items; either way one pass and bounded temporaries."""

from __future__ import annotations

from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from ..errors import DataError, InvalidArgumentError
from ._trkrecords import pack
from .array_sequence import _chunks, _compact_rows
from .header import Field
from .tractogram import LazyTractogram, transformed
from .trk import (MAX_NB_NAMED_PROPERTIES_PER_STREAMLINE, MAX_NB_NAMED_SCALARS_PER_POINT,
                  encode_value_in_name, get_affine_rasmm_to_trackvis)
from .utils import peek_next

_BATCH_POINTS = 1 << 20


def _names(widths: dict[str, int], limit: int, what: str) -> tuple[list[str], NDArray[Any]]:
    if len(widths) > limit:
        raise InvalidArgumentError(f"Can only store {limit} named {what} in the TRK format.")
    keys = sorted(widths)
    encoded = np.zeros(limit, dtype="S20")
    for i, key in enumerate(keys):
        encoded[i] = encode_value_in_name(widths[key], key)
    return keys, encoded


def _empty(header: np.ndarray) -> None:
    for count in (Field.NB_STREAMLINES, Field.NB_SCALARS_PER_POINT, Field.NB_PROPERTIES_PER_STREAMLINE):
        header[count] = 0


def write_records(tractogram: Any, header: np.ndarray, f: BinaryIO) -> None:
    """Write the records of `tractogram` (RAS+ mm) in voxmm; fill the counts and names of `header`."""
    to_trackvis = get_affine_rasmm_to_trackvis(header)
    if isinstance(tractogram, LazyTractogram):
        _write_lazy(tractogram.to_world(lazy=True).apply_affine(to_trackvis, lazy=True), header, f)
        return
    if tractogram.affine_to_rasmm is None:
        raise InvalidArgumentError("Streamlines are in a unknown space. This error can be avoided by setting "
                         "the 'affine_to_rasmm' property.")
    seq = tractogram.streamlines
    if len(seq) == 0:
        _empty(header)
        return
    # the same composition nibabel's lazy to_world + apply_affine makes
    affine = np.dot(to_trackvis, np.dot(tractogram.affine_to_rasmm, np.eye(4)))
    dps = tractogram.data_per_streamline
    dpp = tractogram.data_per_point
    prop_keys, header["property_name"][:] = _names(
        {k: int(np.asarray(dps[k]).shape[-1]) for k in dps}, MAX_NB_NAMED_PROPERTIES_PER_STREAMLINE,
        "data_per_streamline (also known as 'properties' in the TRK format)")
    scal_keys, header["scalar_name"][:] = _names(
        {k: int(dpp[k].common_shape[-1]) for k in dpp}, MAX_NB_NAMED_SCALARS_PER_POINT,
        "data_per_point (also known as 'scalars' in the TRK format)")
    lengths = seq._lengths
    for k in scal_keys:
        if not np.array_equal(dpp[k]._lengths, lengths):
            raise DataError("Missing scalars for some points!")
    rows = _compact_rows(seq)
    scal = [_compact_rows(dpp[k]) for k in scal_keys]
    props = np.concatenate([np.asarray(dps[k], np.float64).reshape(len(seq), -1) for k in prop_keys],
                           axis=1) if prop_keys else None
    identity = np.allclose(affine, np.eye(4))
    ends = np.cumsum(lengths)
    for i, j, row in _chunks(lengths):
        n = int(ends[j - 1]) - row
        pts = rows[row : row + n]
        if not identity:
            pts = transformed(pts, affine)
        s = np.concatenate([c[row : row + n].reshape(n, -1) for c in scal], axis=1) if scal else None
        f.write(pack(pts, s, None if props is None else props[i:j], lengths[i:j].astype(np.int64)).tobytes())
    header[Field.NB_STREAMLINES] = len(seq)
    header[Field.NB_SCALARS_PER_POINT] = sum(c.reshape(len(c), -1).shape[1] for c in scal)
    header[Field.NB_PROPERTIES_PER_STREAMLINE] = 0 if props is None else props.shape[1]


def _write_lazy(tractogram: LazyTractogram, header: np.ndarray, f: BinaryIO) -> None:
    items = iter(tractogram)
    try:
        first, items = peek_next(items)
    except StopIteration:
        _empty(header)
        return
    dfs, dfp = first.data_for_streamline, first.data_for_points
    prop_keys, header["property_name"][:] = _names(
        {k: int(np.asarray(dfs[k]).shape[-1]) for k in dfs}, MAX_NB_NAMED_PROPERTIES_PER_STREAMLINE,
        "data_per_streamline (also known as 'properties' in the TRK format)")
    scal_keys, header["scalar_name"][:] = _names(
        {k: int(np.asarray(dfp[k]).shape[-1]) for k in dfp}, MAX_NB_NAMED_SCALARS_PER_POINT,
        "data_per_point (also known as 'scalars' in the TRK format)")
    n_scal = n_prop = None
    count = 0
    batch: list[tuple[NDArray[Any], NDArray[Any], NDArray[Any]]] = []
    held = 0
    for t in items:
        pts = np.asarray(t.streamline)
        if any(len(d) != len(pts) for d in t.data_for_points.values()):
            raise DataError("Missing scalars for some points!")
        sc = np.concatenate([np.zeros((len(pts), 0))] + [np.asarray(t.data_for_points[k]).reshape(len(pts), -1)
                                                         for k in scal_keys], axis=1)
        pr = np.concatenate([np.zeros(0)] + [np.asarray(t.data_for_streamline[k]).ravel() for k in prop_keys])
        if n_scal is None:
            n_scal, n_prop = sc.shape[1], len(pr)
        elif sc.shape[1] != n_scal:
            raise DataError("Nb. of scalars differs from one point to another!")
        elif len(pr) != n_prop:
            raise DataError("Nb. of properties differs from one streamline to another!")
        batch.append((pts, sc, pr))
        held += len(pts)
        count += 1
        if held >= _BATCH_POINTS:
            _flush(batch, f)
            batch, held = [], 0
    _flush(batch, f)
    header[Field.NB_STREAMLINES] = count
    header[Field.NB_SCALARS_PER_POINT] = n_scal or 0
    header[Field.NB_PROPERTIES_PER_STREAMLINE] = n_prop or 0


def _flush(batch: list[tuple[NDArray[Any], NDArray[Any], NDArray[Any]]], f: BinaryIO) -> None:
    if not batch:
        return
    lengths = np.array([len(p) for p, _, _ in batch], np.int64)
    pts = np.concatenate([p.reshape(-1, 3) for p, _, _ in batch])
    sc = np.concatenate([s for _, s, _ in batch])
    pr = np.stack([p for _, _, p in batch])
    f.write(pack(pts, sc if sc.shape[1] else None, pr if pr.shape[1] else None, lengths).tobytes())
