"""Writing ECAT 7 files: main header, directory blocks, then each frame's subheader and data.

Frames keep the blocks the matrix list gives them when those do not
overlap (so a file read and saved again is the same, block for block);
otherwise, or beyond 31 frames, the blocks are laid out afresh: directory
blocks from block 2, then the frames one after the other. Frame data are
padded to whole blocks, as the format's block layout has it. The file is
written front to back, so compressed targets work too.
"""

from __future__ import annotations

import math
from typing import IO, Any

import numpy as np

from ..errors import HeaderDataError
from .header import EcatSubHeader
from .mlist import get_frame_order
from .structs import BLOCK_SIZE

__all__ = ["write_ecat"]

_ROWS_PER_BLOCK = 31


def _stored_frames(img: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """For each row of the matrix list: the values to store (unflipped) and its subheader."""
    from .image import EcatImageArrayProxy

    sub: EcatSubHeader = img.get_subheaders()
    if sub is None:
        raise HeaderDataError("an EcatImage made without subheaders and matrix list cannot be saved as ECAT")
    rows = len(sub.subheaders)
    proxy = img.dataobj
    if isinstance(proxy, EcatImageArrayProxy) and proxy._subheader is sub:
        return [sub._read_raw(row) for row in range(rows)], [h.copy() for h in sub.subheaders]
    data = np.asarray(proxy, dtype=np.float64)
    order = get_frame_order(img.get_mlist())
    if data.ndim == 3:
        data = data[..., None]
    if data.shape[3] != len(order) or data.shape[:3] != sub.get_shape():
        raise HeaderDataError(f"data of shape {data.shape} do not fit the subheaders' "
                              f"{sub.get_shape()} x {len(order)} frames")
    calibration = float(img.header["ecat_calibration_factor"]) or 1.0
    raws: list[np.ndarray | None] = [None] * rows
    subheaders = [h.copy() for h in sub.subheaders]
    for index, (row, _) in order.items():
        values = sub._get_oriented_data(data[..., index]) / calibration  # flips undo themselves
        dtype = sub._frame_layout(row)[1]
        raw, factor = _to_stored(values, dtype)
        raws[row] = raw
        subheaders[row]["scale_factor"] = factor
        if dtype.kind in "iu" and raw.size:
            subheaders[row]["image_min"] = max(int(raw.min()), -32768)
            subheaders[row]["image_max"] = min(int(raw.max()), 32767)
    for row in range(rows):  # rows the order skips keep their stored values
        if raws[row] is None:
            raws[row] = sub._read_raw(row)
    return [r for r in raws if r is not None], subheaders


def _to_stored(values: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, float]:
    """``values`` in the frame's stored type, and the factor that gives them back."""
    if dtype.kind == "f":
        return values.astype(dtype), 1.0
    info = np.iinfo(dtype)
    finite = values[np.isfinite(values)]
    biggest = float(np.max(np.abs(finite))) if finite.size else 0.0
    if np.array_equal(finite, np.round(finite)) and info.min <= (finite.min() if finite.size else 0) \
            and (finite.max() if finite.size else 0) <= info.max:
        return np.nan_to_num(values).astype(dtype), 1.0
    factor = biggest / info.max if biggest else 1.0
    return np.clip(np.round(np.nan_to_num(values) / factor), info.min, info.max).astype(dtype), factor


def _layout(mlist: np.ndarray, sizes: list[int]) -> tuple[np.ndarray, int]:
    """The matrix list to write and the number of directory blocks."""
    n = len(sizes)
    n_dirs = max(1, math.ceil(n / _ROWS_PER_BLOCK))
    blocks = [math.ceil(size / BLOCK_SIZE) for size in sizes]
    starts = [int(mlist[row][1]) for row in range(n)]
    keep = n_dirs == 1 and all(s >= 3 for s in starts)
    if keep:
        spans = sorted(zip(starts, blocks))
        keep = all(spans[k + 1][0] > spans[k][0] + spans[k][1] for k in range(len(spans) - 1))
    out = np.array(mlist[:n], dtype=np.int64).reshape(n, 4)
    if not keep:
        position = 2 + n_dirs
        for row in range(n):
            out[row, 1] = position
            out[row, 2] = position + blocks[row]
            position += 1 + blocks[row]
    return out, n_dirs


def write_ecat(img: Any, stream: IO[bytes]) -> None:
    """Write ``img`` (an EcatImage) to ``stream`` from its first byte."""
    header = img.header
    endian = header.endianness
    raws, subheaders = _stored_frames(img)
    sizes = [raw.nbytes for raw in raws]
    mlist, n_dirs = _layout(np.asarray(img.get_mlist()), sizes)
    int32 = np.dtype(np.int32).newbyteorder(endian)
    written = 0

    def put(data: bytes, at: int) -> None:
        nonlocal written
        if at < written:
            raise HeaderDataError(f"ECAT layout overlaps at byte {at}")
        stream.write(b"\0" * (at - written))
        stream.write(data)
        written = at + len(data)

    put(header.binaryblock, 0)
    for block in range(n_dirs):
        rows = mlist[block * _ROWS_PER_BLOCK:(block + 1) * _ROWS_PER_BLOCK]
        directory = np.zeros((32, 4), dtype=np.int64)
        last = block == n_dirs - 1
        directory[0] = [_ROWS_PER_BLOCK - len(rows), 2 if last else 3 + block, 0 if block == 0 else 1 + block,
                        len(rows)]
        directory[1:len(rows) + 1] = rows
        put(directory.astype(int32).tobytes(), (1 + block) * BLOCK_SIZE)
    for row in sorted(range(len(raws)), key=lambda r: int(mlist[r][1])):
        start = (int(mlist[row][1]) - 1) * BLOCK_SIZE
        put(subheaders[row].tobytes().ljust(BLOCK_SIZE, b"\0"), start)
        data = raws[row].astype(raws[row].dtype.newbyteorder(endian)).tobytes(order="F")
        put(data.ljust(-(-len(data) // BLOCK_SIZE) * BLOCK_SIZE, b"\0"), start + BLOCK_SIZE)  # whole blocks
