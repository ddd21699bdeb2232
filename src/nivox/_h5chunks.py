"""Reading a box of a chunked, deflate-compressed HDF5 dataset with all cores.

h5py serialises every call into the HDF5 library, so its own reads inflate
one chunk after another. Here the compressed bytes of each chunk are fetched
through h5py (``read_direct_chunk``, quick: no decoding) and inflated on the
thread pool (libdeflate or zlib release the GIL), each straight into its
place in the result.

Only the filter pipelines MINC tools write are handled this way (deflate,
optionally after shuffle); any other layout, and chunks that are not stored
(fill values), are read by h5py itself, so results are always h5py's.
"""

from __future__ import annotations

import itertools
import threading
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

from ._threads import cpu_threads, run_parallel
from .errors import MincError

__all__ = ["PARALLEL_MIN_CHUNKS", "filters", "read_box"]

#: a read touching fewer chunks than this is left to h5py
PARALLEL_MIN_CHUNKS = 4

_DEFLATE, _SHUFFLE = 1, 2


def filters(dset: Any) -> tuple[int, ...] | None:
    """The filter codes of ``dset`` if every one is handled here, else None."""
    if dset.chunks is None:
        return None
    plist = dset.id.get_create_plist()
    codes = tuple(plist.get_filter(i)[0] for i in range(plist.get_nfilters()))
    if _DEFLATE not in codes or any(code not in (_DEFLATE, _SHUFFLE) for code in codes):
        return None
    return codes


def _inflate_into(data: bytes, out: np.ndarray) -> bool:
    """Inflate the zlib stream ``data`` into ``out``'s bytes; False if it does not fill them exactly."""
    target = out.reshape(-1).view(np.uint8)
    try:
        from ._codecs import libdeflate

        fast = libdeflate.available() and len(data) > 6 and (data[0] * 256 + data[1]) % 31 == 0 \
            and not data[1] & 0x20
    except ImportError:  # pragma: no cover - the codec package is part of nivox
        fast = False
    if fast:
        try:
            _, written = libdeflate.inflate_into(memoryview(data)[2:], target)
        except zlib.error:
            return False
        return written == target.size and \
            zlib.adler32(target.data) == int.from_bytes(data[-4:], "big")
    inflater = zlib.decompressobj()
    try:
        decoded = inflater.decompress(data, target.size + 1)
    except zlib.error:
        return False
    if len(decoded) != target.size or not inflater.eof:
        return False
    target[:] = np.frombuffer(decoded, np.uint8)
    return True


def _unshuffle(raw: np.ndarray, itemsize: int) -> np.ndarray:
    flat = raw.reshape(-1).view(np.uint8)
    return flat.reshape(itemsize, -1).T.copy().reshape(-1)


def read_box(dset: Any, box: tuple[slice, ...], name: str, pipeline: Any = False) -> np.ndarray:
    """``dset[box]`` for slices with positive steps, inflating chunks in parallel where possible.

    ``pipeline`` is what :func:`filters` says of ``dset`` (worked out here if not given).
    """
    if pipeline is False:
        pipeline = filters(dset)
    if pipeline is None or dset.ndim == 0:
        return dset[box] if box else dset[()]
    starts = [s.start for s in box]
    stops = [s.stop for s in box]
    chunks = dset.chunks
    ranges = [range(lo // c * c, hi, c) if hi > lo else range(0) for lo, hi, c in zip(starts, stops, chunks)]
    count = int(np.prod([len(r) for r in ranges]))
    if count < PARALLEL_MIN_CHUNKS:
        return dset[box]
    dtype = dset.dtype
    out = np.empty(tuple(hi - lo for lo, hi in zip(starts, stops)), dtype=dtype)
    tasks: list[Callable[[], None]] = []
    for origin in itertools.product(*ranges):
        tasks.append(_chunk_task(dset, origin, starts, stops, out, pipeline, name))
    # a read made on one of nivox's own pool threads stays on it: waiting there for
    # more pool threads could wait for ever
    nested = threading.current_thread().name.startswith("nivox")
    run_parallel(tasks, 1 if nested else cpu_threads())
    steps = tuple(slice(None, None, s.step) if s.step not in (None, 1) else slice(None) for s in box)
    return out[steps]


def _chunk_task(dset: Any, origin: tuple[int, ...], starts: list[int], stops: list[int],
                out: np.ndarray, pipeline: tuple[int, ...], name: str) -> Callable[[], None]:
    chunk_shape = dset.chunks
    inside = tuple(slice(max(lo, o) - o, min(hi, o + c) - o)
                   for o, c, lo, hi in zip(origin, chunk_shape, starts, stops))
    target = tuple(slice(max(lo, o) - lo, min(hi, o + c) - lo)
                   for o, c, lo, hi in zip(origin, chunk_shape, starts, stops))

    def run() -> None:
        chunk = _decoded_chunk(dset, origin, pipeline, name)
        if chunk is None:  # not stored, or a layout left to HDF5: let it decide
            region = tuple(slice(o + s.start, o + s.stop) for o, s in zip(origin, inside))
            out[target] = dset[region]
        else:
            out[target] = chunk[inside]

    return run


def _decoded_chunk(dset: Any, origin: tuple[int, ...], pipeline: tuple[int, ...], name: str) -> np.ndarray | None:
    try:
        mask, data = dset.id.read_direct_chunk(origin)
    except (KeyError, OSError, ValueError, RuntimeError):
        return None
    dtype = dset.dtype
    chunk = np.empty(dset.chunks, dtype=dtype)
    applied = [code for i, code in enumerate(pipeline) if not mask & (1 << i)]
    if applied and applied[-1] == _DEFLATE:
        if not _inflate_into(data, chunk):
            raise MincError(f"{name}: a compressed chunk of the image at {origin} is damaged")
        applied = applied[:-1]
    elif _DEFLATE in applied:
        return None  # filters in an order MINC tools do not write
    else:
        if len(data) != chunk.nbytes:
            raise MincError(f"{name}: a chunk of the image at {origin} has {len(data)} bytes, "
                            f"not {chunk.nbytes}")
        chunk.reshape(-1).view(np.uint8)[:] = np.frombuffer(data, np.uint8)
    if applied == [_SHUFFLE]:
        chunk = _unshuffle(chunk, dtype.itemsize).view(dtype).reshape(dset.chunks)
    elif applied:
        return None
    return chunk
