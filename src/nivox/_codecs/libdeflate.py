"""libdeflate's C functions, called on memory we choose.

The ``deflate`` package wraps libdeflate, but its functions return new
bytearrays: inflating a 100 MB image that way costs a 100 MB allocation whose
pages fault in 4 KiB at a time, and a copy into the output array; and its
``deflate_compress`` allocates (and zeroes) a new compressor on every call,
a hundred times per 100 MB written in 1 MiB members. Its extension module
also exports libdeflate's C API, so ctypes calls the library directly:
:func:`inflate_into` decodes into the output array itself (whose pages numpy
asks the kernel to back with huge pages), :func:`deflate` compresses from
any buffer with one compressor per thread and level and an output buffer it
reuses. ctypes releases the GIL during the calls.

:func:`available` (inflating; False unless the automatic choice would pick
libdeflate) and :func:`deflate_available` are False when the package is
missing or a build stops exporting the symbols; callers then use
:mod:`.backends` as before.
"""

from __future__ import annotations

import ctypes
import functools
import threading
import zlib
from typing import Any

import numpy as np

from . import backends
from ..errors import InvalidArgumentError

__all__ = ["available", "deflate", "deflate_available", "inflate_into"]

_SUCCESS, _BAD_DATA, _SHORT_OUTPUT, _INSUFFICIENT_SPACE = range(4)


@functools.cache
def _library() -> Any:
    if backends._module("libdeflate") is None:
        return None
    try:
        from deflate import _deflate

        lib = ctypes.CDLL(_deflate.__file__)
        functions = {
            "libdeflate_alloc_decompressor": (ctypes.c_void_p, []),
            "libdeflate_deflate_decompress_ex": (ctypes.c_int, [
                ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t,
                ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_size_t)]),
            "libdeflate_free_decompressor": (None, [ctypes.c_void_p]),
            "libdeflate_alloc_compressor": (ctypes.c_void_p, [ctypes.c_int]),
            "libdeflate_deflate_compress": (ctypes.c_size_t, [
                ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t]),
            "libdeflate_deflate_compress_bound": (ctypes.c_size_t, [ctypes.c_void_p, ctypes.c_size_t]),
            "libdeflate_free_compressor": (None, [ctypes.c_void_p]),
        }
        for name, (restype, argtypes) in functions.items():
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, argtypes
    except (ImportError, OSError, AttributeError):
        return None
    return lib


def available() -> bool:
    """Whether :func:`inflate_into` can run (libdeflate is the chosen whole-stream backend)."""
    return backends.whole_backend() == "libdeflate" and _library() is not None


def deflate_available() -> bool:
    """Whether :func:`deflate` can run (the ``deflate`` package exports libdeflate's C API)."""
    return _library() is not None


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
        raise InvalidArgumentError("the output buffer is read-only")
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


# ---------------------------------------------------------------- compressing


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
        raise RuntimeError("libdeflate's output exceeded its own bound")  # internal error
    return out[:size].tobytes()
