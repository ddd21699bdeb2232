"""Zstandard through the optional ``zstandard`` package (``pip install nivox[zstd]``).

Reading uses ``zstandard``'s decompression objects rather than its stream
reader because the stream reader returns a short read, not an error, when a
file ends in the middle of a frame; here that is a CorruptStreamError.
Concatenated frames are read as one stream.
"""

from __future__ import annotations

import abc
import builtins
import io
import os
from typing import IO, Any

from . import corrupt_stream_error
from ..errors import InvalidArgumentError, UnsupportedOperationError

__all__ = ["ZstdReader", "ZstdWriter", "available", "open_read", "open_write"]

# compressed bytes fed to the decompressor at a time
_READ_SIZE = 1 << 17


def available() -> bool:
    """Whether ``zstandard`` can be imported."""
    try:
        import zstandard  # noqa: F401
    except ImportError:
        return False
    return True


class ZstdReader(io.RawIOBase):
    """Raw, seekable (forward cheaply, backward by rewinding) zstd decoder.

    Parameters
    ----------
    source : binary file object
        The compressed stream, positioned at its first frame.
    name : str or None
        File name used in error messages.
    close_source : bool
        Close ``source`` when this reader is closed.
    """

    def __init__(self, source: IO[bytes], name: Any = None, close_source: bool = False) -> None:
        import zstandard

        super().__init__()
        self._zstd = zstandard
        self._source = source
        self.name = name
        self._close_source = close_source
        self._dctx = zstandard.ZstdDecompressor()
        self._start = source.tell() if source.seekable() else 0
        self._reset()

    def _reset(self) -> None:
        self._dobj = self._dctx.decompressobj()
        self._in_frame = False  # bytes of an unfinished frame have been fed
        self._pending = memoryview(b"")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._source.seekable()

    def tell(self) -> int:
        return self._pos

    def _decode(self, data: bytes) -> bytes:
        parts = []
        try:
            while data:
                if self._dobj.eof:
                    self._dobj = self._dctx.decompressobj()
                self._in_frame = True
                parts.append(self._dobj.decompress(data))
                if not self._dobj.eof:
                    break
                self._in_frame = False
                data = self._dobj.unused_data
        except self._zstd.ZstdError as err:
            raise corrupt_stream_error(self.name, err) from err
        return b"".join(parts)

    def _fill(self) -> bool:
        """Decode until output is pending; False at a clean end of stream."""
        while not self._pending:
            chunk = self._source.read(_READ_SIZE)
            if not chunk:
                if self._in_frame:
                    raise corrupt_stream_error(self.name, EOFError())
                return False
            self._pending = memoryview(self._decode(chunk))
        return True

    def readinto(self, buffer: Any) -> int:
        with memoryview(buffer) as view, view.cast("B") as out:
            if not out or not self._fill():
                return 0
            count = min(len(out), len(self._pending))
            out[:count] = self._pending[:count]
            self._pending = self._pending[count:]
            self._pos += count
            return count

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("zstd streams can only seek from the start or current position")
        if offset < 0:
            raise InvalidArgumentError(f"negative seek position {offset}")
        if offset < self._pos:
            self._source.seek(self._start)
            self._reset()
        while self._pos < offset and self._fill():
            skip = min(offset - self._pos, len(self._pending))
            self._pending = self._pending[skip:]
            self._pos += skip
        return self._pos

    def fileno(self) -> int:
        """Descriptor of the compressed file being read."""
        return self._source.fileno()

    def close(self) -> None:
        if not self.closed and self._close_source:
            self._source.close()
        super().close()


def open_read(fileish: Any, *, keep_open: bool = False) -> IO[bytes]:
    """Open a zstd path or binary file object for reading."""
    if isinstance(fileish, (str, bytes, os.PathLike)):
        raw = ZstdReader(builtins.open(fileish, "rb"), name=fileish, close_source=True)
    else:
        raw = ZstdReader(fileish, name=getattr(fileish, "name", None))
    return ZstdBufferedReader(raw, buffer_size=_READ_SIZE)


class ZstdBufferedReader(io.BufferedReader):
    """What :func:`open_read` returns: a buffered :class:`ZstdReader`."""


class ZstdWriter(io.BufferedIOBase):
    """Compressing writer whose position counts uncompressed bytes, as GzipFile's does.

    ``zstandard``'s own writer reports compressed bytes from ``tell()``;
    writers that pad to a header's data offset need the uncompressed one.
    Seeking forward writes zeros; seeking backward is an OSError.
    """

    def __init__(self, target: IO[bytes], level: int, name: Any = None, close_target: bool = False) -> None:
        import zstandard

        super().__init__()
        # a content checksum lets readers detect corruption the decoder cannot
        compressor = zstandard.ZstdCompressor(level=level, write_checksum=True)
        self._writer = compressor.stream_writer(target, closefd=close_target)
        self._target = target
        self._pos = 0
        self.name = name

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        with memoryview(data) as view:
            count = view.nbytes
        self._writer.write(data)
        self._pos += count
        return count

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("zstd writers can only seek from the start or current position")
        if offset < self._pos:
            raise UnsupportedOperationError("negative seek in write mode")
        zeros = bytes(min(offset - self._pos, _READ_SIZE))
        while self._pos < offset:
            self.write(zeros[: offset - self._pos])
        return self._pos

    def fileno(self) -> int:
        """Descriptor of the compressed file being written."""
        return self._target.fileno()

    def flush(self) -> None:
        if not self._writer.closed:  # IOBase.close flushes after we closed it
            self._writer.flush()

    def close(self) -> None:
        if not self.closed:
            try:
                self._writer.close()
            finally:
                super().close()


def open_write(fileish: Any, compresslevel: int | None) -> IO[bytes]:
    """Open a zstd path or binary file object for writing at ``compresslevel``."""
    level = 3 if compresslevel is None else int(compresslevel)
    if isinstance(fileish, (str, bytes, os.PathLike)):
        return ZstdWriter(builtins.open(fileish, "wb"), level, name=fileish, close_target=True)
    return ZstdWriter(fileish, level, name=getattr(fileish, "name", None))


class ZstdFile(abc.ABC):
    """Open a zstd file: ``ZstdFile(file, mode='rb', *, level=None)``, like ``compression.zstd``'s.

    Gives nivox's reader (:class:`ZstdBufferedReader`) for modes 'r'/'rb'
    and its writer (:class:`ZstdWriter`) for 'w'/'wb'; both are instances of
    this class, so ``isinstance(f, ZstdFile)`` tells a zstd stream.
    ``options`` and ``zstd_dict`` are not supported (ValueError when given).
    """

    def __new__(  # type: ignore[misc]
        cls,
        file: Any,
        mode: str = "r",
        *,
        level: int | None = None,
        options: Any = None,
        zstd_dict: Any = None,
    ) -> IO[bytes]:
        if options is not None or zstd_dict is not None:
            raise InvalidArgumentError("nivox's zstd files take a compression level only, no options or dictionary")
        base = mode.replace("b", "")
        if base == "r":
            return open_read(file)
        if base == "w":
            return open_write(file, level)
        raise InvalidArgumentError(f"zstd files open with mode 'r' or 'w' (binary), not {mode!r}")


ZstdFile.register(ZstdBufferedReader)
ZstdFile.register(ZstdWriter)


def __getattr__(name: str) -> Any:
    # zstandard's error class, imported only when asked for
    if name == "ZstdError":
        import zstandard

        return zstandard.ZstdError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
