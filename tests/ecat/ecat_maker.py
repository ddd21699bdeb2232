"""Build ECAT 7 files byte by byte for tests (independently of nivox's writer)."""

from __future__ import annotations

import numpy as np

from nivox.ecat.structs import hdr_dtype, subhdr_dtype

CODES = {np.dtype(np.uint8): 1, np.dtype(np.int16): 6, np.dtype(np.int32): 7, np.dtype(np.float32): 5}


def ecat_bytes(frames: list[np.ndarray], factors: list[float], *, calibration: float = 2.0,
               ids: list[int] | None = None, endian: str = ">", orientation: int = 8,
               pixel_size: tuple[float, float, float] = (0.2, 0.25, 0.3),
               offsets: tuple[float, float, float] = (1.0, -2.0, 3.0), sw_version: int = 74) -> bytes:
    """An ECAT file whose matrix list rows hold ``frames`` (stored values, x-fastest order)."""
    n = len(frames)
    assert n <= 31
    ids = ids if ids is not None else [16842753 + i for i in range(n)]
    header = np.zeros((), hdr_dtype.newbyteorder(endian))
    header["magic_number"] = b"MATRIX72"
    header["sw_version"] = sw_version
    header["file_type"] = 7
    header["num_frames"] = n
    header["ecat_calibration_factor"] = calibration
    header["patient_orientation"] = orientation
    directory = np.zeros((32, 4), np.dtype(np.int32).newbyteorder(endian))
    directory[0] = [31 - n, 2, 0, n]
    blocks = [header.tobytes(), directory.tobytes()]
    block = 3
    for row, (frame, factor) in enumerate(zip(frames, factors)):
        sub = np.zeros((), subhdr_dtype.newbyteorder(endian))
        sub["data_type"] = CODES[frame.dtype.newbyteorder("=")]
        sub["num_dimensions"] = 3
        sub["x_dimension"], sub["y_dimension"], sub["z_dimension"] = frame.shape
        sub["x_offset"], sub["y_offset"], sub["z_offset"] = offsets
        sub["scale_factor"] = factor
        sub["x_pixel_size"], sub["y_pixel_size"], sub["z_pixel_size"] = pixel_size
        data = frame.astype(frame.dtype.newbyteorder(endian)).tobytes(order="F")
        n_blocks = -(-len(data) // 512)
        directory[row + 1] = [ids[row], block, block + n_blocks, 1]
        blocks.append(sub.tobytes().ljust(512, b"\0") + data.ljust(n_blocks * 512, b"\0"))
        block += 1 + n_blocks
    blocks[1] = directory.tobytes()
    return b"".join(blocks)
