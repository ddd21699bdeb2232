"""Open plain or compressed files, or wrap open file objects, behind one interface.

:class:`Opener` picks a codec from the file name's suffix through the codec
registry (:mod:`nivox._codecs`); every compression nivox knows is handled
there, nowhere else. :class:`ImageOpener` additionally knows the compressed
suffixes image formats declare (``.mgz`` is gzip), and formats can add more
with :meth:`Opener.register_extension`.

Compression level when writing, first that applies: the ``compresslevel``
given to :class:`Opener`; the one set by :func:`write_options` (which
``img.to_filename(..., compresslevel=N)`` and ``nivox.save(..., compresslevel=N)``
use); the module attribute :data:`default_compresslevel`; the class
attribute ``Opener.default_compresslevel`` (1, as nibabel's). All are read
when a file is opened. gzip's layout, threads and backends are set in
:mod:`nivox._codecs.gzip` and :mod:`nivox._codecs.backends`.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import operator
import os
from bz2 import BZ2File
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import IO, Any, ClassVar, Protocol, runtime_checkable

from . import _codecs
from ._codecs.gzip import DeterministicGzipFile
from .errors import ArgumentTypeError, ImageFileNotFoundError, InvalidArgumentError

__all__ = [
    "BZ2File", "Fileish", "Opener", "ImageOpener", "DeterministicGzipFile",
    "default_compresslevel", "write_options",
]

#: compression level for writes that give none; None defers to ``Opener.default_compresslevel``
default_compresslevel: int | None = None

_write_level: contextvars.ContextVar[int | None] = contextvars.ContextVar("nivox_write_level", default=None)


@contextlib.contextmanager
def write_options(*, compresslevel: int | None = None) -> Iterator[None]:
    """Within the block (this thread or task only), files opened for writing use ``compresslevel``.

    None changes nothing. ``to_filename`` uses this for its ``compresslevel`` keyword.
    """
    if compresslevel is not None:
        compresslevel = operator.index(compresslevel)
    token = _write_level.set(compresslevel if compresslevel is not None else _write_level.get())
    try:
        yield
    finally:
        _write_level.reset(token)

# keyword arguments Opener understands; compression-only ones are ignored for
# uncompressed files so callers need not know which kind they open
_COMPRESSION_KWARGS = ("compresslevel", "keep_open", "mtime")
_OPEN_KWARGS = ("buffering", "encoding", "errors", "newline")


@runtime_checkable
class Fileish(Protocol):
    """Anything with ``read`` or ``write`` is used as an open file."""

    def read(self, size: int = -1, /) -> bytes: ...


def _is_fileobj(obj: Any) -> bool:
    return hasattr(obj, "read") or hasattr(obj, "write")


class Opener:
    """An open file, compressed or not, that closes only what it opened itself.

    Parameters
    ----------
    fileish : str, os.PathLike or file-like
        A file name, opened (and decompressed according to its suffix); or an
        object with ``read``/``write``, used as it is.
    mode : str, optional
        Mode for opening a file name (default ``'rb'``); ignored for file objects.
    compresslevel : int, optional
        Compression level when writing compressed files (default
        :attr:`default_compresslevel`, or the codec's own default for zstd).
    keep_open : bool, optional
        For gzip reads: the file will be held open for many seeks, so prefer a
        reader that indexes seek points.
    **kwargs
        ``mtime`` (gzip writes), or ``buffering``/``encoding``/... for
        uncompressed files.

    Examples
    --------
    >>> with Opener('image.nii.gz', 'wb') as f:   # doctest: +SKIP
    ...     f.write(b'data')
    """

    #: compression level when writing and none is given (gzip, bz2)
    default_compresslevel: ClassVar[int] = 1
    #: extra suffix -> codec name, on top of the registry's; a value may also be
    #: nibabel's ``(opener, argument_names)`` pair: ``opener(fileish, **kwargs)``
    #: is called with the keyword arguments (``mode`` among them) it names
    compress_ext_map: ClassVar[dict[str, Any]] = {}
    #: match compressed suffixes in any case ('.GZ' is gzip); False: exact case only
    compress_ext_icase: ClassVar[bool] = True
    # codec names under the attribute names nibabel code uses, so
    # ``ImageOpener.compress_ext_map['.mgz'] = ImageOpener.gz_def`` works
    gz_def: ClassVar[str] = "gzip"
    bz2_def: ClassVar[str] = "bz2"
    zstd_def: ClassVar[str] = "zstd"

    fobj: Any
    me_opened: bool

    def __init__(self, fileish: str | os.PathLike[str] | IO[Any] | Any, *args: Any, **kwargs: Any) -> None:
        if _is_fileobj(fileish):
            self.fobj = fileish
            self.me_opened = False
            self._name = getattr(fileish, "name", None)
            self._mode: str | None = None
            return
        if len(args) > 2:
            raise ArgumentTypeError(f"Opener takes at most mode and compresslevel positionally, got {len(args)} arguments")
        names = ("mode", "compresslevel")[: len(args)]
        for key, value in zip(names, args):
            if key in kwargs:
                raise ArgumentTypeError(f"Opener got multiple values for argument {key!r}")
            kwargs[key] = value
        mode = kwargs.pop("mode", "rb")
        known = _COMPRESSION_KWARGS + _OPEN_KWARGS
        unknown = sorted(set(kwargs) - set(known))
        if unknown:
            raise ArgumentTypeError(f"{unknown[0]!r} is an invalid keyword argument for Opener")
        self._name = fileish
        self.me_opened = True
        custom = self._custom_opener(fileish)
        if custom is not None:
            func, arg_names = custom
            self._mode = mode
            given = dict(kwargs, mode=mode)
            self.fobj = func(fileish, **{key: given[key] for key in arg_names if key in given})
            return
        codec = self.codec_for(fileish)
        try:
            if codec is None:
                self._mode = mode
                options = {key: kwargs[key] for key in _OPEN_KWARGS if key in kwargs}
                self.fobj = open(fileish, mode, **options)
            else:
                self._mode = self._binary_mode(mode)
                self.fobj = self._open_compressed(codec, fileish, self._mode, kwargs)
        except FileNotFoundError as err:
            action = "read" if self._mode is None or "r" in self._mode else "write"
            raise ImageFileNotFoundError(
                f"cannot {action} {os.fsdecode(fileish)!r}: {err.strerror or 'no such file or directory'}"
            ) from err

    @staticmethod
    def _binary_mode(mode: str) -> str:
        if "t" in mode:
            raise InvalidArgumentError(f"compressed files open in binary mode only, not {mode!r}")
        base = mode.replace("b", "")
        if base not in ("r", "w", "a", "x"):
            raise InvalidArgumentError(f"invalid mode {mode!r} for a compressed file")
        return base + "b"

    def _open_compressed(self, codec: _codecs.Codec, path: Any, mode: str, kwargs: dict[str, Any]) -> Any:
        if mode == "rb":
            keep_open = bool(kwargs.get("keep_open", False))
            if codec.name == "gzip":
                # late import: _compression describes the codecs this module opens
                from . import _compression

                return _compression.gzip_open(path, "rb", keep_open=keep_open)
            return codec.open_read(path, keep_open=keep_open)
        if mode != "wb":
            raise InvalidArgumentError(f"compressed files open for 'rb' or 'wb', not {mode!r}")
        level = kwargs.get("compresslevel")
        if level is None:
            level = _write_level.get()
        if level is None and codec.default_level is not None:
            level = codec.default_level
        if level is None:
            level = default_compresslevel if default_compresslevel is not None else self.default_compresslevel
        options = {"mtime": kwargs["mtime"]} if codec.name == "gzip" and "mtime" in kwargs else {}
        return codec.open_write(path, level, **options)

    @classmethod
    def _custom_opener(cls, fileish: Any) -> tuple[Callable[..., Any], tuple[str, ...]] | None:
        """A user's ``(opener, argument_names)`` pair registered for this file's suffix, if any."""
        name = os.fsdecode(fileish)
        for ext, value in cls.compress_ext_map.items():
            if isinstance(value, tuple) and isinstance(ext, str) and cls._ends_with(name, ext):
                func, arg_names = value
                return func, tuple(arg_names)
        return None

    @classmethod
    def _ends_with(cls, name: str, ext: str) -> bool:
        if cls.compress_ext_icase:
            return name.lower().endswith(ext.lower())
        return name.endswith(ext)

    @classmethod
    def codec_for(cls, fileish: Any) -> _codecs.Codec | None:
        """The codec a file name's suffix selects for this class, or None."""
        if _is_fileobj(fileish):
            return None
        name = os.fsdecode(fileish)
        extra = {ext: value for ext, value in cls.compress_ext_map.items()
                 if isinstance(ext, str) and isinstance(value, str)}
        codec = _codecs.for_path(name, extra=extra)
        if codec is not None and not cls.compress_ext_icase:
            # exact case only: '.GZ' is not gzip for this class
            suffixes = [*codec.extensions, *(ext for ext, value in extra.items() if value == codec.name)]
            if not any(name.endswith(ext) for ext in suffixes):
                return None
        return codec

    @classmethod
    def register_extension(cls, ext: str, codec: str | tuple[Callable[..., Any], tuple[str, ...]]) -> None:
        """Make files ending in ``ext`` open through codec ``codec`` for this class.

        ``codec`` is a codec name ('gzip'), or nibabel's ``(opener, argument_names)`` pair.
        """
        if isinstance(codec, str):
            _codecs.by_name(codec)  # fail now on unknown names
        if "compress_ext_map" not in vars(cls):
            # a subclass registering must not change its parent's table
            cls.compress_ext_map = dict(cls.compress_ext_map)
        cls.compress_ext_map[ext] = codec

    @property
    def name(self) -> Any:
        """The file name given, or the file object's ``name`` (None without one)."""
        return self._name

    @property
    def mode(self) -> str:
        """The mode the file was opened with."""
        if self._mode is not None:
            return self._mode
        mode = getattr(self.fobj, "mode", None)
        if isinstance(mode, str):
            return mode
        raise AttributeError(f"{type(self.fobj).__name__} object has no attribute 'mode'")

    @property
    def closed(self) -> bool:
        return bool(self.fobj.closed)

    def read(self, size: int = -1, /) -> bytes:
        return self.fobj.read(size)

    def readinto(self, buffer: Any, /) -> int | None:
        return self.fobj.readinto(buffer)

    def readline(self, size: int = -1, /) -> bytes:
        return self.fobj.readline(size)

    def write(self, data: Any, /) -> int | None:
        return self.fobj.write(data)

    def writelines(self, lines: Iterable[Any], /) -> None:
        self.fobj.writelines(lines)

    def seek(self, pos: int, whence: int = io.SEEK_SET, /) -> int:
        return self.fobj.seek(pos, whence)

    def tell(self, /) -> int:
        return self.fobj.tell()

    def fileno(self, /) -> int:
        return self.fobj.fileno()

    def flush(self, /) -> None:
        self.fobj.flush()

    def close(self, /) -> None:
        self.fobj.close()

    def close_if_mine(self) -> None:
        """Close the file only if this Opener opened it."""
        if self.me_opened:
            self.close()

    def __enter__(self) -> Opener:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self.close_if_mine()

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.fobj)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name!r}, mode={self._mode!r})"


class ImageOpener(Opener):
    """Opener that also knows the compressed suffixes of image formats.

    ``.mgz`` (FreeSurfer) is gzip. A format adds its own with
    ``ImageOpener.register_extension('.ext', 'gzip')``.
    """

    compress_ext_map: ClassVar[dict[str, str]] = {".mgz": "gzip"}
