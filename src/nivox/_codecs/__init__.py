"""The compression codecs nivox reads and writes, in one table.

Each codec is a row of :data:`CODECS` (name, file extensions, magic bytes,
the pip extra that provides its backend) plus a module of this package named
after it, which implements three functions::

    available() -> bool
    open_read(fileish, *, keep_open=False) -> BinaryIO
    open_write(fileish, compresslevel, **options) -> BinaryIO

Adding a codec is therefore one module and one row. Rows are plain data, so
looking a codec up by extension or by magic bytes imports no backend; the
module (and whatever optional package it needs) is imported on first use.

Readers returned by ``open_read`` raise :class:`~nivox.errors.CorruptStreamError`
naming the file when the stream is corrupt or ends early, whatever backend
produced the failure (:class:`StreamGuard` does the translation).
"""

from __future__ import annotations

import functools
import importlib
import os
from dataclasses import dataclass
from types import ModuleType
from typing import IO, Any, Callable

from ..errors import CorruptStreamError, MissingDependencyError, NivoxError, UnknownNameError

__all__ = [
    "Codec",
    "CODECS",
    "StreamGuard",
    "by_name",
    "for_extension",
    "for_path",
    "sniff",
    "corrupt_stream_error",
]


@dataclass(frozen=True)
class Codec:
    """One compression format: how to recognise it and where its code lives.

    Parameters
    ----------
    name : str
        Short name, also the name of the module in :mod:`nivox._codecs`.
    extensions : tuple of str
        Lower-case file name suffixes, with the dot (``'.gz'``).
    magic : bytes
        The bytes every stream of this format starts with.
    extra : str or None
        The nivox extra (``pip install nivox[extra]``) that provides the
        backend when it is not in the standard library.
    default_level : int or None
        Compression level used when none is given; None means "the caller's
        default" (``Opener.default_compresslevel``).
    """

    name: str
    extensions: tuple[str, ...]
    magic: bytes
    extra: str | None = None
    default_level: int | None = None

    @property
    def module(self) -> ModuleType:
        """The module implementing this codec (imported on first use)."""
        return importlib.import_module(f"{__name__}.{self.name}")

    def available(self) -> bool:
        """Whether the backend this codec needs can be imported."""
        return bool(self.module.available())

    def require(self) -> None:
        """Raise MissingDependencyError when the backend is missing."""
        if not self.available():
            hint = f"pip install nivox[{self.extra}]" if self.extra else "a backend"
            raise MissingDependencyError(
                f"reading or writing {self.name} files ({', '.join(self.extensions)}) "
                f"needs an optional dependency; install it with `{hint}`"
            )

    def open_read(self, fileish: Any, *, keep_open: bool = False) -> IO[bytes]:
        """Open ``fileish`` (path or binary file object) for decompressed reading."""
        self.require()
        return self.module.open_read(fileish, keep_open=keep_open)

    def open_write(self, fileish: Any, compresslevel: int | None = None, **options: Any) -> IO[bytes]:
        """Open ``fileish`` for compressed writing at ``compresslevel``."""
        self.require()
        if compresslevel is None:
            compresslevel = self.default_level
        return self.module.open_write(fileish, compresslevel, **options)

    def matches(self, prefix: bytes) -> bool:
        """Whether ``prefix`` starts with this codec's magic bytes."""
        return bytes(prefix[: len(self.magic)]) == self.magic


# The registry. Order matters only for sniffing, and magics do not overlap.
CODECS: tuple[Codec, ...] = (
    Codec("gzip", (".gz",), b"\x1f\x8b"),
    Codec("bz2", (".bz2",), b"BZh"),
    Codec("zstd", (".zst",), b"\x28\xb5\x2f\xfd", extra="zstd", default_level=3),
)

_BY_NAME = {codec.name: codec for codec in CODECS}
_BY_EXT = {ext: codec for codec in CODECS for ext in codec.extensions}


def by_name(name: str) -> Codec:
    """The codec called ``name``; KeyError when there is none."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownNameError(f"no compression codec named {name!r}; known: {sorted(_BY_NAME)}") from None


def for_extension(ext: str) -> Codec | None:
    """The codec for suffix ``ext`` (``'.gz'``, any case), or None."""
    return _BY_EXT.get(ext.lower())


def for_path(path: str | os.PathLike[str], extra: dict[str, str] | None = None) -> Codec | None:
    """The codec a file name asks for by its suffix, or None when uncompressed.

    ``extra`` maps further suffixes to codec names (``{'.mgz': 'gzip'}``);
    it is how image formats declare compressed extensions of their own.
    """
    lowered = os.fsdecode(path).lower()
    for ext, name in _suffixes(tuple(extra.items()) if extra else ()):
        if lowered.endswith(ext):
            return by_name(name)
    return None


@functools.lru_cache(maxsize=64)
def _suffixes(extra: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """(suffix, codec name) pairs, longest suffix first: '.nii.gz'-style entries could refine '.gz'.

    Every read of a proxy asks for its file's codec; the table is built
    once per set of extra suffixes.
    """
    table = {ext: codec.name for ext, codec in _BY_EXT.items()}
    table.update((ext.lower(), name) for ext, name in extra)
    return tuple(sorted(table.items(), key=lambda item: len(item[0]), reverse=True))


def sniff(prefix: bytes) -> Codec | None:
    """The codec whose magic bytes start ``prefix``, or None."""
    for codec in CODECS:
        if codec.matches(prefix):
            return codec
    return None


def corrupt_stream_error(name: Any, err: BaseException) -> CorruptStreamError:
    """A CorruptStreamError for file ``name`` caused by backend error ``err``."""
    label = os.fsdecode(name) if isinstance(name, (str, bytes, os.PathLike)) and name else "<stream>"
    if isinstance(err, EOFError):
        what = "ends before the end of its compressed stream (truncated file?)"
    else:
        what = f"holds a corrupt compressed stream ({err})"
    return CorruptStreamError(f"{label}: {what}")


class StreamGuard:
    """Mixin for backend reader classes: decoding failures become CorruptStreamError.

    Put it before the backend class in the bases. ``_decode_errors`` lists the
    exception types that mean "bad data" for that backend; an ``OSError``
    carrying an errno is a real I/O failure and passes through unchanged.
    """

    _decode_errors: tuple[type[BaseException], ...] = (EOFError, OSError)
    source_name: Any = None

    def _guarded(self, method: Callable[..., Any], *args: Any) -> Any:
        try:
            return method(*args)
        except self._decode_errors as err:
            if isinstance(err, OSError) and err.errno is not None:
                raise
            if isinstance(err, NivoxError):  # the source's own error (a URL that failed): not bad data
                raise
            name = self.source_name or getattr(self, "name", None)
            raise corrupt_stream_error(name, err) from err

    def read(self, size: int | None = -1) -> bytes:
        return self._guarded(super().read, size)  # type: ignore[misc]

    def read1(self, size: int = -1) -> bytes:
        return self._guarded(super().read1, size)  # type: ignore[misc]

    def readinto(self, buffer: Any) -> int:
        return self._guarded(super().readinto, buffer)  # type: ignore[misc]

    def readline(self, size: int | None = -1) -> bytes:
        return self._guarded(super().readline, size)  # type: ignore[misc]

    def peek(self, size: int = 0) -> bytes:
        return self._guarded(super().peek, size)  # type: ignore[misc]

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._guarded(super().seek, offset, whence)  # type: ignore[misc]
