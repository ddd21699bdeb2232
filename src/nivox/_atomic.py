"""Saving without ever losing the file being replaced.

Every file of an image is written to a temporary name in the target's folder
(``.nivox-tmp-XXXX-<name>``) and renamed over the target only once all of
them were written. An exception on the way (a full disk, a failing writer,
an interrupt) removes the temporary files and leaves the targets untouched.
Readers that memory-mapped or opened the old file keep reading the old bytes
(a rename does not truncate the old inode).

Files of one image are renamed in a fixed order: data files first, then
headers (``.hdr``), then the SPM ``.mat``. A crash between two renames (the
only window left) can leave new data beside an old header, never a header
pointing past the end of its data file while the old one was intact. A
process killed while writing leaves the targets intact and a
``.nivox-tmp-*`` file behind, safe to delete.

Durability (:data:`DURABILITY`, read at every save; initial value from the
environment variable ``NIVOX_FSYNC``):

``'replace'`` (default)
    A temporary that replaces an existing file is flushed to disk (fsync)
    before the rename, and the folder after it, so a power loss leaves the
    old file or the new one, never a half-written one. A brand-new file is
    renamed without waiting for the disk: a crash may lose it, but no data
    that existed before the save.
``'always'``
    Every temporary is flushed, and the folder after the renames.
``'never'``
    Nothing is flushed; saves stay atomic for other processes, not for a
    power loss (scratch files).

A flushed save does not wait for the disk only at the end: a helper thread
flushes what was written so far while the writer goes on, so the final
fsync has little left (here, on a virtual disk flushing about 1 GB/s, that
hid 60-70 ms of a 56 MB compressed save). An uncompressed file is written
faster than the disk flushes (118 MB: 40 ms to write, 130 ms to flush), so
replacing one stays bound by the disk.

Where a rename would free a big old file (4 MiB or more, with no other
name), the old file first gets a second name ``.nivox-tmp-old-*``, removed
on another thread after the rename: releasing the blocks and cached pages
of 118 MB took 30-60 ms, which the save no longer waits for.

A temporary left empty creates no file where there was none (an SPM image
without an affine writes no ``.mat``); it still empties an existing target.

Writing inside an enclosing :func:`replacing_files` (``to_filename`` wraps
``to_file_map``, which wraps itself too) reuses the enclosing temporaries.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextvars import ContextVar

from .errors import ImageFileNotFoundError, InvalidArgumentError
from .fileholders import FileHolder, FileMap

__all__ = ["DURABILITY", "DURABILITY_MODES", "TEMP_PREFIX", "replacing_files"]

#: start of the name of every temporary file a save creates
TEMP_PREFIX = ".nivox-tmp-"
#: the values :data:`DURABILITY` may take
DURABILITY_MODES = ("replace", "always", "never")
#: when saves fsync: 'replace' (only temporaries that replace a file), 'always' or 'never'
DURABILITY: str = os.environ.get("NIVOX_FSYNC", "replace")

# old files at least this big are unlinked on a helper thread after the rename
_BACKGROUND_UNLINK = 4 << 20
# seconds between two flushes of a temporary while it is written
_SYNC_INTERVAL = 0.005

# temporaries of the replacements under way in this thread (or task)
_active_temps: ContextVar[frozenset[str]] = ContextVar("nivox_active_temps", default=frozenset())


def _durability() -> str:
    mode = str(DURABILITY).strip().lower()
    if mode not in DURABILITY_MODES:
        raise InvalidArgumentError(
            f"nivox._atomic.DURABILITY (or NIVOX_FSYNC) must be one of {', '.join(DURABILITY_MODES)}, "
            f"not {DURABILITY!r}"
        )
    return mode


def _needs_sync(mode: str, target: str) -> bool:
    return mode == "always" or (mode == "replace" and os.path.exists(target))


class _Temp:
    """A temporary file beside its target, with the descriptor mkstemp opened (read-write whatever its mode).

    When the save must be durable, a helper thread flushes the file while it
    is being written.
    """

    def __init__(self, target: str, mode: str) -> None:
        folder, name = os.path.split(os.path.abspath(target))
        # the temporary name ends with the target's name so extension-driven
        # choices (compression, file type) come out the same
        try:
            self.fd, self.path = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=f"-{name}", dir=folder)
        except FileNotFoundError:
            # the error would name the temporary; the user knows only the target
            raise ImageFileNotFoundError(
                f"cannot save {target}: the folder {folder} does not exist") from None
        self.error: OSError | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        try:
            os.fchmod(self.fd, _mode_for(target))
            if _needs_sync(mode, target):
                self._thread = threading.Thread(target=self._flush_while_written, name="nivox-fsync", daemon=True)
                self._thread.start()
        except BaseException:
            self.close()
            _remove_all([self.path])
            raise

    def _flush_while_written(self) -> None:
        sync = getattr(os, "fdatasync", os.fsync)
        while not self._stop.wait(_SYNC_INTERVAL):
            try:
                sync(self.fd)
            except OSError as err:  # reported by finish(): this descriptor has seen it now
                self.error = err
                return

    def _join(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def finish(self, sync: bool) -> None:
        """Stop the helper; with ``sync``, flush what is left (and raise what the helper met)."""
        self._join()
        if sync:
            if self.error is not None:
                raise self.error
            os.fsync(self.fd)

    def close(self) -> None:
        self._join()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


@contextlib.contextmanager
def replacing_files(file_map: FileMap) -> Iterator[FileMap]:
    """Yield a file_map writing to temporary files that replace the targets on success.

    Holders with a file object, without a filename, or naming a temporary of
    an enclosing replacement are passed through unchanged.
    """
    temp_map: FileMap = {}
    temps: dict[str, _Temp] = {}
    active = _active_temps.get()
    mode = _durability()
    try:
        for key, holder in file_map.items():
            if holder.fileobj is not None or holder.filename is None or \
                    os.path.abspath(holder.filename) in active:
                temp_map[key] = holder
                continue
            target = holder.filename
            if target not in temps:  # single-file formats share one file
                temps[target] = _Temp(target, mode)
            temp_map[key] = FileHolder(temps[target].path, pos=holder.pos)
        token = _active_temps.set(active | {os.path.abspath(t.path) for t in temps.values()})
        try:
            yield temp_map
        finally:
            _active_temps.reset(token)
        synced = False
        for target, temp in temps.items():  # fsync reports a full disk, too: before any rename
            sync = _needs_sync(mode, target)
            temp.finish(sync)
            synced = synced or sync
    except BaseException:
        for temp in temps.values():
            temp.close()
        _remove_all(t.path for t in temps.values())
        raise
    finally:
        for temp in temps.values():
            temp.close()
    _rename_all({target: temp.path for target, temp in temps.items()})
    if synced:  # make the renames durable too
        for folder in {os.path.dirname(os.path.abspath(target)) for target in temps}:
            _fsync_dir(folder)


def _rename_all(temp_for_target: dict[str, str]) -> None:
    # Data files first, so a header never points at data that is not there yet.
    ordered = sorted(temp_for_target.items(), key=lambda item: _rename_rank(item[0]))
    for done, (target, temp) in enumerate(ordered):
        try:
            if os.path.getsize(temp) == 0 and not os.path.exists(target):
                os.unlink(temp)  # nothing was written: do not create an empty file
                continue
            _replace(temp, target)
        except BaseException:
            _remove_all(t for _, t in ordered[done:])
            raise


def _replace(temp: str, target: str) -> None:
    """Rename ``temp`` over ``target``; a big old file is then unlinked on a helper thread."""
    old = _keep_old(target)
    try:
        os.replace(temp, target)
    except BaseException:
        if old is not None:
            with contextlib.suppress(OSError):  # the rename's error is the one to report
                os.unlink(old)
        raise
    if old is not None:
        # non-daemon: the interpreter waits for it at exit, so no link is left behind
        threading.Thread(target=_remove_all, args=([old],), name="nivox-unlink").start()


def _keep_old(target: str) -> str | None:
    """A second name for a big old ``target``, so the rename does not free its blocks; None if not worth it."""
    try:
        info = os.lstat(target)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_size < _BACKGROUND_UNLINK:
        return None
    old = os.path.join(os.path.dirname(os.path.abspath(target)), f"{TEMP_PREFIX}old-{secrets.token_hex(6)}")
    try:
        os.link(target, old, follow_symlinks=False)
    except (OSError, NotImplementedError):  # no hard links here: free in the rename
        return None
    return old


def _remove_all(paths: Iterable[str]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


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
