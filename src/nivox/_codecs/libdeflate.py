"""libdeflate's C functions, called on memory we choose.

The ``deflate`` package wraps libdeflate, but its functions return new
bytearrays: inflating a 100 MB image that way costs a 100 MB allocation whose
pages fault in 4 KiB at a time, and a copy into the output array. Its
extension module also exports libdeflate's C API, so ctypes can call the
library on numpy memory directly: the output array (whose pages numpy asks
the kernel to back with huge pages) is written once, by the decoder.

:func:`available` is False when the package is missing, when the ``auto``
choice would not pick libdeflate, or when a future build stops exporting
the symbols; callers then use :mod:`.backends` as before.
"""

from __future__ import annotations

import ctypes
import functools
import threading
import zlib
from typing import Any

import numpy as np

from . import backends

__all__ = ["PREFIX_SLACK", "available", "inflate_into", "inflate_prefix"]

_SUCCESS, _BAD_DATA, _SHORT_OUTPUT, _INSUFFICIENT_SPACE = range(4)


@functools.cache
def _library() -> Any:
    module = backends._module("libdeflate")
    if module is None:
        return None
    try:
        from deflate import _deflate

        lib = ctypes.CDLL(_deflate.__file__)
        alloc = lib.libdeflate_alloc_decompressor
        decompress = lib.libdeflate_deflate_decompress_ex
    except (ImportError, OSError, AttributeError):
        return None
    alloc.restype = ctypes.c_void_p
    alloc.argtypes = []
    decompress.restype = ctypes.c_int
    decompress.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                           ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_size_t)]
    lib.libdeflate_free_decompressor.argtypes = [ctypes.c_void_p]
    return lib


def available() -> bool:
    """Whether :func:`inflate_into` can run (libdeflate is the chosen whole-stream backend)."""
    return backends.whole_backend() == "libdeflate" and _library() is not None


class _Decompressor(threading.local):
    # a libdeflate decompressor is not thread-safe: one per thread, kept for reuse
    handle: int | None = None

    def get(self, lib: Any) -> int:
        if self.handle is None:
            self.handle = lib.libdeflate_alloc_decompressor()
            if not self.handle:  # pragma: no cover - out of memory
                raise MemoryError("libdeflate could not allocate a decompressor")
        return self.handle


_decompressor = _Decompressor()


def _address(buffer: Any) -> tuple[int, int, np.ndarray]:
    array = np.frombuffer(memoryview(buffer).cast("B"), dtype=np.uint8)
    return array.ctypes.data, array.size, array


def _inflate(source: Any, dest: Any) -> tuple[int, int, int]:
    lib = _library()
    src_at, src_len, src_keep = _address(source)
    dst_at, dst_len, dst_keep = _address(dest)
    if not dst_keep.flags.writeable:
        raise ValueError("the output buffer is read-only")
    used, written = ctypes.c_size_t(0), ctypes.c_size_t(0)
    code = lib.libdeflate_deflate_decompress_ex(
        _decompressor.get(lib), src_at, src_len, dst_at, dst_len, ctypes.byref(used), ctypes.byref(written)
    )
    del src_keep, dst_keep
    return code, used.value, written.value


def inflate_into(source: Any, dest: Any) -> tuple[int, int]:
    """Inflate the raw-deflate stream at the start of ``source`` into ``dest``.

    Returns (compressed bytes used, bytes written). The GIL is released
    while libdeflate runs, so threads inflate in parallel. Raises
    ``zlib.error`` for corrupt data or when ``dest`` is too small.
    """
    code, used, written = _inflate(source, dest)
    if code == _SUCCESS:
        return used, written
    if code == _INSUFFICIENT_SPACE:
        raise zlib.error("the stream holds more bytes than expected")
    raise zlib.error("invalid deflate data")


#: at most this many bytes at the end of a buffer filled by :func:`inflate_prefix` are not output
PREFIX_SLACK = 258  # the longest match deflate copies


def inflate_prefix(source: Any, dest: Any) -> int:
    """Inflate the start of the raw-deflate stream in ``source`` until ``dest`` is (nearly) full.

    Returns how many leading bytes of ``dest`` are output: all of the
    stream when it fits, else at least ``len(dest) - PREFIX_SLACK`` (libdeflate
    stops before a symbol that does not fit, having written everything
    before it). Raises ``zlib.error`` for corrupt data.
    """
    code, _, written = _inflate(source, dest)
    if code == _SUCCESS:
        return written
    if code == _INSUFFICIENT_SPACE:
        return max(0, len(memoryview(dest).cast("B")) - PREFIX_SLACK)
    raise zlib.error("invalid deflate data")
