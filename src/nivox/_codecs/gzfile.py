"""A gzip reader's access to its file: which version it is, and reading its bytes by position.

Every read of an image proxy opens its file again (unless the proxy keeps
it open), so this is on the path of every read:

- :func:`real_path` resolves symbolic links once per file, not per read;
- :func:`pread_for` reads bytes at a position without moving a shared
  file position;
- :class:`FileAccess` is one read's access: it looks the file up by a stat,
  for the index of that version of the file, and opens the file only if
  bytes must be read from it (a read served from memory opens nothing).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from ..errors import NivoxError

__all__ = ["FileAccess", "FileReplaced", "Pread", "pread_for", "real_path"]

Pread = Callable[[int, int], bytes]

_real_paths: dict[str, tuple[str, int, int]] = {}  # path as given -> (real path, device, inode)


def real_path(path: str, status: os.stat_result) -> str:
    """``os.path.realpath(path)``, remembered while the file found there stays the same file.

    Resolving symbolic links at every read cost a few ``lstat`` calls.
    """
    known = _real_paths.get(path)
    if known is not None and known[1:] == (status.st_dev, status.st_ino):
        return known[0]
    if len(_real_paths) >= 4096:
        _real_paths.clear()
    real = os.path.realpath(path)
    _real_paths[path] = (real, status.st_dev, status.st_ino)
    return real


def pread_for(fd: int) -> Pread:
    """``pread(offset, count)`` on ``fd``: safe to call from several threads at once."""
    if hasattr(os, "pread"):
        return lambda offset, count: os.pread(fd, count, offset)
    lock = threading.Lock()  # pragma: no cover - Windows

    def pread(offset: int, count: int) -> bytes:  # pragma: no cover - Windows
        with lock:
            os.lseek(fd, offset, os.SEEK_SET)
            return os.read(fd, count)

    return pread


class FileReplaced(NivoxError, OSError):
    """The file opened for a read is not the one its index was looked up for (it was replaced meanwhile)."""


def _version(status: os.stat_result) -> tuple[int, int, int, int]:
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


class FileAccess:
    """One read's access to the file at ``path`` (or to the open ``fd``, which it does not close).

    ``lookup(status, pread)`` gives the index of the file version a stat
    found (reading the file through ``pread`` if it must). A read served
    from memory (the head, the last read, members or a stream decoded
    ahead) then costs one system call (the stat), not three (open, fstat,
    close): while other threads decode ahead, each call that gives up the
    interpreter lock can cost tens of microseconds to get it back. A file
    opened later is checked to be the version looked up, else
    :class:`FileReplaced` (the read then looks again).
    """

    def __init__(self, path: Any, fd: int | None, lookup: Callable[[os.stat_result, Pread], Any]) -> None:
        self._path = path
        self._fd = fd
        self._mine = False
        self._lock = threading.Lock()
        self._pread: Pread | None = None if fd is None else pread_for(fd)
        self._looked_up = os.fstat(fd) if fd is not None else os.stat(path)
        try:
            self.index = lookup(self._looked_up, self.pread)  # a first look scans members: may open the file
        except BaseException:
            self.close()
            raise

    def pread(self, offset: int, count: int) -> bytes:
        if self._pread is None:
            with self._lock:
                if self._pread is None:
                    fd = os.open(self._path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
                    if _version(os.fstat(fd)) != _version(self._looked_up):
                        os.close(fd)
                        raise FileReplaced(f"{os.fsdecode(self._path)}: the file was replaced while it was read")
                    self._fd, self._mine = fd, True
                    self._pread = pread_for(fd)
        return self._pread(offset, count)

    def close(self) -> None:
        if self._mine and self._fd is not None:
            os.close(self._fd)
            self._fd = None
