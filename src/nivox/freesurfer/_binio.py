"""Reading FreeSurfer's small binary files safely, and writing them atomically.

Surface, morphometry and annotation files are read whole into memory (they
are tens of MB at most) and parsed through :class:`Reader`, which checks
every count against the bytes left before allocating anything, so a
damaged or hostile file raises a NivoxError naming it, never a huge
allocation or a numpy reshape error.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import numpy as np

from .._atomic import replacing_files
from ..errors import ImageFileError, ImageFileNotFoundError, TruncatedDataError
from ..fileholders import FileHolder
from ..openers import Opener

__all__ = ["Reader", "file_name", "read_all", "writing"]


def file_name(file_like: Any) -> str:
    """A name for messages about ``file_like``."""
    if isinstance(file_like, (str, os.PathLike)):
        return os.fsdecode(file_like)
    return str(getattr(file_like, "name", "<file object>"))


def read_all(file_like: Any) -> bytes:
    """Every byte of the file named by, or open as, ``file_like`` (compressed files decompressed)."""
    try:
        with Opener(file_like, "rb") as fobj:
            return bytes(fobj.read())
    except FileNotFoundError:
        raise ImageFileNotFoundError(f"No such file or no access: '{file_name(file_like)}'") from None
    except (OSError, EOFError) as err:
        if isinstance(err, ImageFileError):
            raise
        raise ImageFileError(f"{file_name(file_like)}: cannot read: {err}") from err


@contextmanager
def writing(file_like: Any) -> Iterator[IO[bytes]]:
    """A binary file to write; a named file replaces its target only once fully written."""
    if isinstance(file_like, (str, os.PathLike)):
        target = {"image": FileHolder(filename=os.fspath(file_like))}
        with replacing_files(target) as temp, Opener(temp["image"].filename, "wb") as fobj:
            yield fobj  # type: ignore[misc]
        return
    with Opener(file_like, "wb") as fobj:
        yield fobj  # type: ignore[misc]


class Reader:
    """Sequential reads from bytes, each checked against what is left."""

    def __init__(self, data: bytes, name: str) -> None:
        self.data = data
        self.pos = 0
        self.name = name

    @property
    def left(self) -> int:
        return len(self.data) - self.pos

    def error(self, message: str) -> ImageFileError:
        return ImageFileError(f"{self.name}: {message}")

    def _take(self, nbytes: int, what: str) -> bytes:
        if nbytes < 0:
            raise self.error(f"{what}: negative size {nbytes}")
        if nbytes > self.left:
            raise TruncatedDataError(f"{self.name}: file ends at byte {len(self.data)}, but {what} "
                                     f"needs {nbytes} bytes from byte {self.pos}")
        chunk = self.data[self.pos:self.pos + nbytes]
        self.pos += nbytes
        return chunk

    def array(self, dtype: Any, count: int, what: str) -> np.ndarray:
        """``count`` values of ``dtype`` (a copy, writable)."""
        dtype = np.dtype(dtype)
        if count < 0:
            raise self.error(f"{what}: negative count {count}")
        if count * dtype.itemsize > self.left:
            raise TruncatedDataError(f"{self.name}: file ends at byte {len(self.data)}, but {what} "
                                     f"needs {count} values of {dtype.itemsize} bytes from byte {self.pos}")
        return np.frombuffer(self._take(count * dtype.itemsize, what), dtype).copy()

    def int32(self, what: str, dtype: str = ">i4") -> int:
        return int(self.array(dtype, 1, what)[0])

    def uint24(self, what: str) -> int:
        b = self._take(3, what)
        return (b[0] << 16) | (b[1] << 8) | b[2]

    def uint24_many(self, count: int, what: str) -> np.ndarray:
        raw = self.array(">u1", 3 * count, what).reshape(-1, 3).astype(np.int64)
        return (raw[:, 0] << 16) + (raw[:, 1] << 8) + raw[:, 2]

    def raw(self, nbytes: int, what: str) -> bytes:
        return self._take(nbytes, what)

    def line(self) -> bytes:
        """The bytes up to and including the next newline (or to the end)."""
        end = self.data.find(b"\n", self.pos)
        end = len(self.data) if end < 0 else end + 1
        chunk = self.data[self.pos:end]
        self.pos = end
        return chunk

    def rest(self) -> bytes:
        chunk = self.data[self.pos:]
        self.pos = len(self.data)
        return chunk
