"""bz2 through the standard library."""

from __future__ import annotations

import bz2
import os
from typing import IO, Any

from . import StreamGuard

__all__ = ["GuardedBZ2File", "available", "open_read", "open_write"]


class GuardedBZ2File(StreamGuard, bz2.BZ2File):
    """A ``bz2.BZ2File`` whose reads raise CorruptStreamError on bad data."""

    _decode_errors = (EOFError, OSError)


def available() -> bool:
    """bz2 is in the standard library."""
    return True


def _opened(fileish: Any, mode: str, **kwargs: Any) -> GuardedBZ2File:
    stream = GuardedBZ2File(fileish, mode, **kwargs)
    stream.source_name = fileish if isinstance(fileish, (str, bytes, os.PathLike)) else getattr(
        fileish, "name", None
    )
    return stream


def open_read(fileish: Any, *, keep_open: bool = False) -> IO[bytes]:
    """Open a bz2 path or binary file object for reading."""
    return _opened(fileish, "rb")


def open_write(fileish: Any, compresslevel: int | None) -> IO[bytes]:
    """Open a bz2 path or binary file object for writing (levels 1-9)."""
    level = 9 if compresslevel is None else min(9, max(1, int(compresslevel)))
    return _opened(fileish, "wb", compresslevel=level)
