"""libdeflate's compressor, called through its C API with one compressor per thread and level.

The ``deflate`` package's ``deflate_compress`` allocates (and zeroes) a new
compressor on every call and returns a new bytearray sized for the worst
case. Writing an image calls it once per 1 MiB member, so that set-up is
paid a hundred times per 100 MB. Its extension module also exports
libdeflate's C API (see :mod:`.libdeflate`), so here each thread keeps one
compressor per level and compresses from any buffer (a memoryview of the
image's own memory included) into an output buffer it reuses.

:func:`available` is False when the package is missing or a build stops
exporting the symbols; callers then use ``deflate.deflate_compress``.
"""

from __future__ import annotations

import ctypes
import functools
import threading
from typing import Any

import numpy as np

from . import backends

__all__ = ["available", "deflate"]


@functools.cache
def _library() -> Any:
    if backends._module("libdeflate") is None:
        return None
    try:
        from deflate import _deflate

        lib = ctypes.CDLL(_deflate.__file__)
        alloc = lib.libdeflate_alloc_compressor
        compress = lib.libdeflate_deflate_compress
        bound = lib.libdeflate_deflate_compress_bound
        free = lib.libdeflate_free_compressor
    except (ImportError, OSError, AttributeError):
        return None
    alloc.restype = ctypes.c_void_p
    alloc.argtypes = [ctypes.c_int]
    compress.restype = ctypes.c_size_t
    compress.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t]
    bound.restype = ctypes.c_size_t
    bound.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    free.restype = None
    free.argtypes = [ctypes.c_void_p]
    return lib


def available() -> bool:
    """Whether :func:`deflate` can run (the ``deflate`` package exports libdeflate's C API)."""
    return _library() is not None


class _Compressor:
    """One libdeflate compressor; freed with its owner (a thread's state)."""

    def __init__(self, lib: Any, level: int) -> None:
        self._lib = lib
        self.handle = lib.libdeflate_alloc_compressor(level)
        if not self.handle:  # pragma: no cover - out of memory
            raise MemoryError(f"libdeflate could not allocate a level-{level} compressor")

    def __del__(self) -> None:
        if getattr(self, "handle", None):
            self._lib.libdeflate_free_compressor(self.handle)
            self.handle = None


class _ThreadState(threading.local):
    # compressors are not thread-safe: each thread keeps its own, one per level
    def __init__(self) -> None:
        self.compressors: dict[int, _Compressor] = {}
        self.out = np.empty(0, np.uint8)


_state = _ThreadState()
# output buffers up to this size stay with their thread (a member of 1 MiB needs a bit more)
_KEEP_OUTPUT = 8 << 20


def deflate(data: Any, level: int) -> bytes:
    """``data`` (any contiguous buffer) compressed as one raw-deflate stream at libdeflate ``level`` (0-12).

    The GIL is released while libdeflate runs, so threads compress in parallel.
    """
    lib = _library()
    compressor = _state.compressors.get(level)
    if compressor is None:
        compressor = _state.compressors[level] = _Compressor(lib, level)
    source = np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8)
    bound = lib.libdeflate_deflate_compress_bound(compressor.handle, source.size)
    out = _state.out
    if out.size < bound:
        out = np.empty(bound, np.uint8)
        if bound <= _KEEP_OUTPUT:  # member-sized: keep it for the next call
            _state.out = out
    size = lib.libdeflate_deflate_compress(compressor.handle, source.ctypes.data, source.size, out.ctypes.data, bound)
    if size == 0 and source.size:  # pragma: no cover - the bound guarantees room
        raise RuntimeError("libdeflate's output exceeded its own bound")
    return out[:size].tobytes()
