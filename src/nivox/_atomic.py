"""Saving without ever losing the file being replaced.

Every file of an image is written to a temporary name in the target's folder
(``.nivox-tmp-XXXX-<name>``), flushed to disk, and renamed over the target
only once all of them were written. An exception on the way (a full disk, a
failing writer, an interrupt) removes the temporary files and leaves the
targets untouched. Readers that memory-mapped or opened the old file keep
reading the old bytes (a rename does not truncate the old inode).

Files of one image are renamed in a fixed order: data files first, then
headers (``.hdr``), then the SPM ``.mat``. A crash between two renames (the
only window left) can leave new data beside an old header, never a header
pointing past the end of its data file while the old one was intact. A
process killed while writing leaves the targets intact and a
``.nivox-tmp-*`` file behind, safe to delete.

A temporary left empty creates no file where there was none (an SPM image
without an affine writes no ``.mat``); it still empties an existing target.

Writing inside an enclosing :func:`replacing_files` (``to_filename`` wraps
``to_file_map``, which wraps itself too) reuses the enclosing temporaries.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextvars import ContextVar

from .fileholders import FileHolder, FileMap

__all__ = ["TEMP_PREFIX", "replacing_files"]

#: start of the name of every temporary file a save creates
TEMP_PREFIX = ".nivox-tmp-"

# temporaries of the replacements under way in this thread (or task)
_active_temps: ContextVar[frozenset[str]] = ContextVar("nivox_active_temps", default=frozenset())


@contextlib.contextmanager
def replacing_files(file_map: FileMap) -> Iterator[FileMap]:
    """Yield a file_map writing to temporary files that replace the targets on success.

    Holders with a file object, without a filename, or naming a temporary of
    an enclosing replacement are passed through unchanged.
    """
    temp_map: FileMap = {}
    temp_for_target: dict[str, str] = {}
    active = _active_temps.get()
    try:
        for key, holder in file_map.items():
            if holder.fileobj is not None or holder.filename is None or \
                    os.path.abspath(holder.filename) in active:
                temp_map[key] = holder
                continue
            target = holder.filename
            if target not in temp_for_target:  # single-file formats share one file
                temp_for_target[target] = _make_temp_beside(target)
            temp_map[key] = FileHolder(temp_for_target[target], pos=holder.pos)
        token = _active_temps.set(active | {os.path.abspath(t) for t in temp_for_target.values()})
        try:
            yield temp_map
        finally:
            _active_temps.reset(token)
        for temp in temp_for_target.values():  # fsync reports a full disk, too: before any rename
            _fsync_path(temp)
    except BaseException:
        _remove_all(temp_for_target.values())
        raise
    _rename_all(temp_for_target)


def _rename_all(temp_for_target: dict[str, str]) -> None:
    # Data files first, so a header never points at data that is not there yet.
    ordered = sorted(temp_for_target.items(), key=lambda item: _rename_rank(item[0]))
    folders = set()
    for done, (target, temp) in enumerate(ordered):
        try:
            if os.path.getsize(temp) == 0 and not os.path.exists(target):
                os.unlink(temp)  # nothing was written: do not create an empty file
                continue
            os.replace(temp, target)
        except BaseException:
            _remove_all(t for _, t in ordered[done:])
            raise
        folders.add(os.path.dirname(os.path.abspath(target)))
    for folder in folders:
        _fsync_dir(folder)


def _remove_all(paths: Iterable[str]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _make_temp_beside(target: str) -> str:
    folder, name = os.path.split(os.path.abspath(target))
    # the temporary name ends with the target's name so extension-driven
    # choices (compression, file type) come out the same
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=f"-{name}", dir=folder)
    try:
        os.fchmod(fd, _mode_for(target))
    finally:
        os.close(fd)
    return temp


def _mode_for(target: str) -> int:
    """The permissions the target has, or those a plainly created file would get (mkstemp makes 0600)."""
    try:
        return os.stat(target).st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # os.umask can only be read by setting it, which races with other threads
    # creating files; Linux publishes it in /proc
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def _fsync_path(path: str) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(folder: str) -> None:
    """Make the renames durable; best effort (not every platform can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _rename_rank(path: str) -> int:
    lower = path.lower()
    for suffix in (".gz", ".bz2", ".zst"):
        if lower.endswith(suffix):
            lower = lower[: -len(suffix)]
    if lower.endswith(".mat"):
        return 2
    return 1 if lower.endswith((".hdr", ".head")) else 0
