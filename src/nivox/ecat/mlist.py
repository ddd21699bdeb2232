"""The ECAT matrix list (directory): which blocks hold each frame, and in which order.

Each directory block holds 32 rows of four int32: a housekeeping row
``(free rows, next directory block, previous directory block, rows used)``
and up to 31 frame rows ``(matrix id, first block, last block, status)``,
where the first block is the frame's subheader and the data follow it.
Blocks are numbered from 1; the first directory block is block 2.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..errors import HeaderDataError, ImageDataError
from ..volumeutils import native_code
from .structs import BLOCK_SIZE, subhdr_dtype

__all__ = ["get_frame_order", "get_series_framenumbers", "read_mlist", "read_subheaders"]

# a chain of directory blocks longer than this is taken for a loop in a damaged file
_MAX_DIRECTORY_BLOCKS = 1 << 16


class MlistOrderError(ImageDataError, OSError):
    """The matrix list's frame numbers do not give an order (also an OSError, as in nibabel)."""


def _name(fileobj: Any) -> str:
    name = getattr(fileobj, "name", None)
    return f"{name}: " if isinstance(name, str) else ""


def _read_block(fileobj: Any, block_no: int, what: str) -> bytes:
    fileobj.seek((block_no - 1) * BLOCK_SIZE)
    data = fileobj.read(BLOCK_SIZE)
    if len(data) < BLOCK_SIZE:
        raise HeaderDataError(f"{_name(fileobj)}the {what} at block {block_no} lies beyond the end of the file")
    return data


def read_mlist(fileobj: Any, endianness: str) -> np.ndarray | list:
    """The (frames, 4) matrix list read from the directory blocks of ``fileobj``.

    Columns: matrix id, first block (the subheader), last block, status.
    A directory block whose free and used counts do not add up to 31 gives
    an empty list, as in nibabel.

    Raises
    ------
    HeaderDataError
        A directory block beyond the end of the file, or a chain of
        directory blocks that loops; the message names the file.
    """
    dtype = np.dtype(np.int32)
    if endianness is not native_code:
        dtype = dtype.newbyteorder(endianness)  # type: ignore[arg-type]
    parts = []
    block_no = 2
    seen: set[int] = set()
    while True:
        if block_no in seen or len(seen) > _MAX_DIRECTORY_BLOCKS:
            raise HeaderDataError(f"{_name(fileobj)}the matrix list's directory blocks loop (block {block_no})")
        seen.add(block_no)
        rows = np.frombuffer(_read_block(fileobj, block_no, "matrix list"), dtype).reshape(32, 4)
        n_free, next_block, _, n_used = (int(v) for v in rows[0])
        if n_free + n_used != 31 or not 0 <= n_used <= 31:
            return []
        parts.append(rows[1:n_used + 1].astype(np.int32))
        if next_block <= 2:  # 2 (back to the first) ends the chain; 0 and 1 too
            break
        block_no = next_block
    return np.vstack(parts)


def get_frame_order(mlist: Any) -> dict[int, list[Any]]:
    """Time-ordered frames: {frame index: [row of the matrix list, matrix id]}.

    Frames are sorted by matrix id; rows with an id of 0 or less are not
    frames. A warning says when the rows are not stored in that order
    (frames are then read in id order, which is the acquisition order).
    """
    ids = np.asarray(mlist)[:, 0].copy()
    n_valid = int(np.sum(ids > 0))
    if ids.size:
        ids[ids <= 0] = ids.max() + 1  # not frames: sorted to the end
    order = np.argsort(ids, kind="stable")
    if not np.array_equal(order, np.sort(order)):
        warnings.warn(f"Frames stored out of order; true order = {order}\n"
                      "frames will be accessed in order STORED, NOT true order", UserWarning, stacklevel=2)
    return {i: [order[i], ids[order[i]]] for i in range(n_valid)}


def get_series_framenumbers(mlist: Any) -> dict[int, int]:
    """{row of the matrix list: number of that frame in the acquired series, counting from 1}.

    Raises
    ------
    OSError
        (MlistOrderError) When the matrix ids give no consistent order.
    """
    n_rows = len(mlist)
    order = get_frame_order(mlist)
    numbers = np.arange(n_rows - len(order), n_rows)
    result = {}
    for stored, (position, _) in order.items():
        if not 0 <= position < len(numbers):
            raise MlistOrderError("Error in header or mlist order unknown")
        result[stored] = numbers[position] + 1
    return result


def read_subheaders(fileobj: Any, mlist: Any, endianness: str) -> list[np.ndarray]:
    """The subheader (a 0-d structured array) of each row of ``mlist``, up to the first unused row."""
    dtype = subhdr_dtype if endianness is native_code else subhdr_dtype.newbyteorder(endianness)  # type: ignore[arg-type]
    subheaders = []
    for _, block_no, _, _ in np.asarray(mlist):
        if block_no == 0:
            break
        if block_no < 0:
            raise HeaderDataError(f"{_name(fileobj)}the matrix list points to block {block_no}")
        data = _read_block(fileobj, int(block_no), "frame subheader")
        subheaders.append(np.frombuffer(data[: dtype.itemsize], dtype).reshape(()).copy())
    return subheaders
