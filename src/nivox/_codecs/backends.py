"""Deflate backends: which library inflates, deflates and checksums, chosen per task.

Four libraries produce and read the same raw-deflate streams; they differ in
speed and in what they can do:

============  =========================  ====================  ==================
backend       package                    inflate               deflate
============  =========================  ====================  ==================
libdeflate    ``deflate``                whole members only    whole chunks only
isal          ``isal`` (Intel ISA-L)     whole and streaming   levels 0-3 only
zlib-ng       ``zlib-ng``                whole and streaming   levels 0-9
stdlib        ``zlib``                   whole and streaming   levels 0-9
============  =========================  ====================  ==================

Measured on the 2-core machine nivox is developed on (CPU time, MB/s of
output, 177 MB int16 4D image): inflate libdeflate 440, isal 360, zlib-ng 300,
zlib 220; crc32 libdeflate/isal/zlib-ng 6-12 GB/s, zlib 2-3.5 GB/s; deflate
at zlib's level 1 libdeflate 181 (ratio 1.96), isal 306 (1.92), zlib-ng 164
(1.42), zlib 71 (1.96); at level 6 libdeflate 49 (2.06), zlib-ng 26 (2.08),
zlib 13 (2.06). All of them release the GIL, so threads run them in parallel.

Hence the automatic choice, fastest first, per task:

- ``inflate_whole`` (a member whose compressed bytes and size are known):
  libdeflate, isal, zlib-ng, stdlib;
- ``inflater`` (streaming): isal, zlib-ng, stdlib (libdeflate cannot stream);
- ``deflate_whole`` (a chunk compressed at zlib level 0-9): the fastest
  library and level whose output is about as small as zlib's at that level
  (table below);
- ``crc32``: isal, libdeflate, zlib-ng, stdlib (isal first: as fast as
  libdeflate, and it releases the GIL, which the ``deflate`` package's
  ``crc32`` does not, so checksums on pool threads do not stall the others).

Levels in automatic mode, first installed library wins (sizes against zlib
at the same level, and CPU speed per core, on 1 MiB members of the
benchmark images: int16 fMRI and T1, float32 4D):

=====  =========================  =========================  =================
level  library and its level      size vs zlib               MB/s (zlib)
=====  =========================  =========================  =================
0      libdeflate 0, zlib 0       stored blocks              memory speed
1      isal 2, ``memLevel=2``     +0.8 %, +1.9 %, -2.0 %     250-290 (65-80)
2      libdeflate 1               -0.3 %, +1.0 %, -2.4 %     190-200 (60-70)
3-9    libdeflate, same level     -1.8 % to +1.7 %           85 at 3, 45 at 6
                                                             (35, 11)
=====  =========================  =========================  =================

Level 1 (the default, as nibabel's) is the fast one: ISA-L's level 2 with
its smallest level buffer, which starts a new Huffman block more often and
so comes out about 1 % smaller than with its default buffer, at the same
speed (on float data it runs at 700-900 MB/s). Level 2 gives zlib's level-1
size at about three times zlib's speed. Without isal, level 1 is libdeflate
1; without libdeflate, levels 2-9 use isal 3; then zlib-ng (at level 2
for level 1: its level 1 is 40 % bigger), then the standard library, at the
same level. A forced backend (below) uses the
level as given (isal: squeezed onto 0-3, and zlib for level 0, since ISA-L's
level 0 still compresses).

Overriding: the environment variable ``NIVOX_GZIP_BACKEND`` (read at call
time) or :func:`set_backend` / :func:`use_backend` name one backend
(``'libdeflate'``, ``'isal'``, ``'zlib-ng'``, ``'stdlib'``; ``'auto'`` is
the default). A named backend does every task it can; tasks it cannot do
(streaming, for libdeflate) use the standard library. ``'stdlib'`` also
turns off ``indexed_gzip``, so it is "no optional package at all". Every
backend gives identical decompressed bytes; compressed bytes differ between
backends (each is deterministic on its own).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import zlib
from collections.abc import Iterator
from typing import Any

from ..errors import InvalidArgumentError, MissingDependencyError

__all__ = [
    "BACKENDS",
    "available_backends",
    "crc32",
    "decode_errors",
    "deflate_whole",
    "inflate_whole",
    "inflater",
    "selected",
    "set_backend",
    "use_backend",
    "uses_optional_packages",
]

#: every backend name, fastest first
BACKENDS: tuple[str, ...] = ("libdeflate", "isal", "zlib-ng", "stdlib")
_MODULES = {"libdeflate": "deflate", "isal": "isal.isal_zlib", "zlib-ng": "zlib_ng.zlib_ng", "stdlib": "zlib"}
_ENV = "NIVOX_GZIP_BACKEND"

_forced: str | None = None


@functools.cache
def _module(name: str) -> Any:
    """The backend's module, or None when it is not installed."""
    try:
        return importlib.import_module(_MODULES[name])
    except ImportError:
        return None


def available_backends() -> list[str]:
    """Names of the installed backends, fastest first ('stdlib' is always last)."""
    return [name for name in BACKENDS if _module(name) is not None]


def _check_name(name: str) -> str:
    name = name.strip().lower().replace("_", "-")
    if name in ("", "auto"):
        return "auto"
    if name not in BACKENDS:
        raise InvalidArgumentError(f"unknown gzip backend {name!r}; choose one of {', '.join(('auto',) + BACKENDS)}")
    if _module(name) is None:
        raise MissingDependencyError(
            f"gzip backend {name!r} is not installed; install it with `pip install nivox[fast]`"
        )
    return name


def selected() -> str:
    """The backend choice in force: 'auto' or one backend's name."""
    if _forced is not None:
        return _forced
    return _check_name(os.environ.get(_ENV, "auto"))


def set_backend(name: str | None) -> None:
    """Use backend ``name`` for everything from now on (None or 'auto': choose per task).

    Overrides ``NIVOX_GZIP_BACKEND``. Meant for tests and benchmarks: the
    setting is process-wide.
    """
    global _forced
    _forced = None if name is None else _check_name(name)


@contextlib.contextmanager
def use_backend(name: str | None) -> Iterator[None]:
    """Context manager: :func:`set_backend` for the duration, then restore."""
    global _forced
    previous = _forced
    set_backend(name)
    try:
        yield
    finally:
        _forced = previous


def uses_optional_packages() -> bool:
    """False when the standard library alone is asked for (no indexed_gzip either)."""
    return selected() != "stdlib"


def _pick(task_order: tuple[str, ...]) -> tuple[str, Any]:
    choice = selected()
    if choice != "auto":
        return (choice, _module(choice)) if choice in task_order else ("stdlib", zlib)
    for name in task_order:
        module = _module(name)
        if module is not None:
            return name, module
    return "stdlib", zlib  # pragma: no cover - stdlib is in every order


_INFLATE_WHOLE = ("libdeflate", "isal", "zlib-ng", "stdlib")
_STREAM = ("isal", "zlib-ng", "stdlib")
_CRC = ("isal", "libdeflate", "zlib-ng", "stdlib")


def whole_backend() -> str:
    """Name of the backend :func:`inflate_whole` uses now."""
    return _pick(_INFLATE_WHOLE)[0]


def stream_backend() -> str:
    """Name of the backend :func:`inflater` uses now."""
    return _pick(_STREAM)[0]


def deflate_backend(level: int = 1) -> str:
    """Name of the backend :func:`deflate_whole` uses now for zlib ``level`` (default 1)."""
    return _deflate_plan(level)[0]


def inflate_whole(data: Any, size: int) -> bytes | bytearray:
    """Inflate the complete raw-deflate stream ``data`` that holds ``size`` bytes.

    Bytes after the end of the stream are ignored. The result is shorter
    than ``size`` only if the stream is; a stream that is longer, corrupt or
    cut short raises one of :func:`decode_errors`. libdeflate returns a
    (writable) bytearray, the others bytes.
    """
    name, module = _pick(_INFLATE_WHOLE)
    if name == "libdeflate":
        return module.deflate_decompress(data, max(size, 1))
    out = module.decompress(data, -15, max(size, 1))
    if len(out) > size:
        raise zlib.error(f"stream holds more than the {size} bytes expected")
    return out


def inflater(copyable: bool = False) -> Any:
    """A new streaming raw-deflate decompressor with zlib's ``decompressobj`` interface.

    ``copyable=True`` asks for one whose state can be copied (``.copy()``):
    in automatic mode that skips isal for zlib-ng or the standard library.
    """
    if copyable and selected() == "auto":
        for name in _STREAM:
            module = _module(name)
            if module is not None and hasattr(module.decompressobj(-15), "copy"):
                return module.decompressobj(-15)
    return _pick(_STREAM)[1].decompressobj(-15)


def _isal_level(level: int) -> int:
    # ISA-L has levels 0-3; spread zlib's 0-9 over them
    return 0 if level <= 0 else min(3, (level + 2) // 3)


# automatic choice per zlib level: (backend, its level), fastest first; see the module docstring
_AUTO_DEFLATE: dict[int, tuple[tuple[str, int], ...]] = {
    0: (("libdeflate", 0), ("zlib-ng", 0), ("stdlib", 0)),
    1: (("isal", 2), ("libdeflate", 1), ("zlib-ng", 2), ("stdlib", 1)),  # zlib-ng 1 is 40 % bigger
    **{level: (("libdeflate", 1 if level == 2 else level), ("isal", 3), ("zlib-ng", level), ("stdlib", level))
       for level in range(2, 10)},
}
# ISA-L's smallest level buffer: more, better-fitted Huffman blocks for about the same time
_ISAL_MEM_LEVEL = 2


def _deflate_plan(level: int) -> tuple[str, int]:
    """(backend, backend level) :func:`deflate_whole` uses now for zlib ``level``."""
    level = min(9, max(0, int(level)))
    choice = selected()
    if choice == "auto":
        for name, own_level in _AUTO_DEFLATE[level]:
            if _module(name) is not None:
                return name, own_level
        return "stdlib", level  # pragma: no cover - stdlib is in every plan
    if choice == "isal":  # ISA-L's level 0 still compresses: stored blocks come from zlib
        return (choice, _isal_level(level)) if level else ("stdlib", 0)
    return choice, level


def deflate_whole(data: Any, level: int) -> bytes | bytearray:
    """``data`` compressed as one complete raw-deflate stream at zlib ``level`` (0-9).

    The automatic choice of library and level per zlib level is in the
    module docstring; a forced backend uses the same level (isal: squeezed
    onto 0-3).
    """
    name, own_level = _deflate_plan(level)
    module = _module(name)
    if name == "libdeflate":
        from . import libdeflate

        if libdeflate.deflate_available():
            return libdeflate.deflate(data, own_level)
        return module.deflate_compress(data, own_level)
    if name == "isal":
        compressor = module.compressobj(own_level, module.DEFLATED, -15, _ISAL_MEM_LEVEL)
        return compressor.compress(data) + compressor.flush()
    return module.compress(data, own_level, -15)


def crc32(data: Any, value: int = 0) -> int:
    """CRC-32 of ``data`` continuing from ``value``, with the fastest backend allowed."""
    return _pick(_CRC)[1].crc32(data, value)


def decode_errors() -> tuple[type[BaseException], ...]:
    """Exception types the installed backends raise for bad compressed data."""
    errors: list[type[BaseException]] = [zlib.error]
    for name, attr in (("libdeflate", "DeflateError"), ("isal", "error"), ("zlib-ng", "error")):
        module = _module(name)
        if module is not None:
            errors.append(getattr(module, attr))
    return tuple(errors)
