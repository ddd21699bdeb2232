"""Saving without ever losing the file being replaced.

Every file of an image is written to a temporary name in the target's folder,
flushed to disk, and renamed over the target only once all of them were
written. An exception on the way removes the temporary files and leaves the
targets untouched. Readers that memory-mapped or opened the old file keep
reading the old bytes (a rename does not truncate the old inode).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator

from .fileholders import FileHolder, FileMap

__all__ = ["replacing_files"]


@contextlib.contextmanager
def replacing_files(file_map: FileMap) -> Iterator[FileMap]:
    """Yield a file_map writing to temporary files that replace the targets on success.

    Holders with a file object, or without a filename, are passed through
    unchanged: there is no path to replace atomically.
    """
    temp_map: FileMap = {}
    temp_for_target: dict[str, str] = {}
    try:
        for key, holder in file_map.items():
            if holder.fileobj is not None or holder.filename is None:
                temp_map[key] = holder
                continue
            target = holder.filename
            if target not in temp_for_target:  # single-file formats share one file
                temp_for_target[target] = _make_temp_beside(target)
            temp_map[key] = FileHolder(temp_for_target[target], pos=holder.pos)
        yield temp_map
    except BaseException:
        for temp in temp_for_target.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
        raise
    # Data files first, so a header never points at data that is not there yet.
    for target, temp in sorted(temp_for_target.items(), key=lambda item: _is_header(item[0])):
        _fsync_path(temp)
        os.replace(temp, target)


def _make_temp_beside(target: str) -> str:
    folder, name = os.path.split(os.path.abspath(target))
    # the temporary name ends with the target's name so extension-driven
    # choices (compression, file type) come out the same
    fd, temp = tempfile.mkstemp(prefix=".nivox-tmp-", suffix=f"-{name}", dir=folder)
    os.close(fd)
    # keep the permissions a plainly created file would get (mkstemp makes 0600)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temp, 0o666 & ~umask)
    return temp


def _fsync_path(path: str) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _is_header(path: str) -> bool:
    lower = path.lower()
    for suffix in (".gz", ".bz2", ".zst"):
        if lower.endswith(suffix):
            lower = lower[: -len(suffix)]
    return lower.endswith((".hdr", ".head", ".mat"))
