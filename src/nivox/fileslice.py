"""Read the part of an on-disk array that an index selects, and little more.

An index on an array stored in a file selects a regular grid of bytes. The
grid is described with numpy arithmetic (no Python loop per voxel): axes whose
selection is contiguous in the file fold into one *run* length, the rest give
run offsets. Runs are read in file order with ``readinto`` straight into the
result's memory. Where runs are separated by small gaps (reading ``[::2]``,
or one column of a volume), seeking over each gap costs more than reading
it, so nearby runs are read as one span into a bounded scratch buffer and the
wanted bytes are copied out with a strided view; memory stays at the size of
the result plus the scratch, whatever the gaps.

Plain files opened read-only are read with ``os.preadv``, which needs no file
position, so several threads can read through one handle without a lock;
other file objects (compressed streams, ``BytesIO``) are read with seek and
``readinto`` under ``lock``.

Fancy indices (integer or boolean arrays) read the bounding box of what they
select and index it in memory, with numpy's semantics.

nibabel's planning steps (``calc_slicedefs``, ``optimize_slicer``,
``threshold_heuristic``, ...) are importable from here too; they live in
:mod:`nivox._slicedefs` and give nibabel's results.

:func:`read_file_threaded` reads a whole array from an uncompressed file on
all cores, converting each chunk as it arrives when asked.
"""

from __future__ import annotations

import functools
import io
import math
import os
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._scaling import PARALLEL_MIN
from ._slicedefs import (
    _positive_slice,
    _simple_fileslice,
    calc_slicedefs,
    fill_slicer,
    is_axis_heuristic,
    optimize_read_slicers,
    optimize_slicer,
    read_segments,
    slice2len,
    slice2outax,
    slicers2segments,
    threshold_heuristic,
)
from ._sliceplan import (
    _as_tuple,
    _offset_grid,
    _plan_runs,
    _selection,
    _split_fancy,
    _with_axes,
    basic_selections,
    canonical_slicers,
    is_fancy,
    predict_shape,
    strided_scalar,
)
from ._threads import cpu_threads, run_parallel
from .errors import InvalidArgumentError, TruncatedDataError
from .openers import Opener

__all__ = [
    "SKIP_THRESH",
    "STREAM_SKIP_THRESH",
    "calc_slicedefs",
    "canonical_slicers",
    "fileslice",
    "fill_slicer",
    "is_fancy",
    "merge_heuristic",
    "optimize_read_slicers",
    "optimize_slicer",
    "predict_shape",
    "read_array",
    "read_segments",
    "slice2len",
    "slice2outax",
    "slicers2segments",
    "strided_scalar",
    "threshold_heuristic",
]

#: gaps between wanted runs up to this many bytes are read rather than skipped
SKIP_THRESH = 4096
#: the same for compressed files and other streams: a skipped byte of a
#: stream is decompressed anyway, so only gaps worth a whole gzip member or
#: more are skipped (and each separate read costs far more than a seek)
STREAM_SKIP_THRESH = 1 << 20
# most bytes read into scratch memory at once when reading through gaps
_SCRATCH_BYTES = 8 << 20

Heuristic = Callable[[int, int], bool]


def merge_heuristic(gap: int, run: int, skip_thresh: int = SKIP_THRESH) -> bool:
    """Whether to read through a ``gap`` of bytes between runs of ``run`` bytes.

    The default reads gaps up to ``skip_thresh`` bytes: below about a page,
    a seek and a second read cost more than the bytes in between.
    """
    return gap <= skip_thresh


# ---------------------------------------------------------------- reading


def _pread_fd(fileobj: Any) -> int | None:
    """A descriptor for positional reads when ``fileobj`` is a plain read-only file."""
    if not hasattr(os, "preadv"):
        return None
    raw = fileobj.raw if isinstance(fileobj, io.BufferedReader) else fileobj
    if not isinstance(raw, io.FileIO) or raw.closed or raw.mode != "rb":
        return None
    return raw.fileno()


class _Source:
    """Reads at absolute positions from a file object, the cheapest way it allows."""

    def __init__(self, fileobj: Any) -> None:
        self.name = getattr(fileobj, "name", None)
        self.fileobj = fileobj.fobj if isinstance(fileobj, Opener) else fileobj
        self.fd = _pread_fd(self.fileobj)
        # compressed readers that read by position (nivox's gzip reader)
        self.readinto_at = getattr(self.fileobj, "readinto_at", None) if self.fd is None else None

    @property
    def needs_lock(self) -> bool:
        return self.fd is None and self.readinto_at is None

    def decoded_buffer(self, position: int, nbytes: int) -> Any:
        """A new writable buffer of the ``nbytes`` at ``position``, if the reader can hand one over."""
        make = getattr(self.fileobj, "decoded_buffer", None)
        return None if make is None else make(position, nbytes)

    def inflate_whole_into(self, memory: np.ndarray, spare: np.ndarray | None = None) -> bool:
        """Whether the reader decompressed the whole file straight into ``memory`` (using ``spare``)."""
        inflate = getattr(self.fileobj, "inflate_whole_into", None)
        return False if inflate is None else bool(inflate(memory, spare))

    def size(self) -> int | None:
        """Bytes in the file, when that is known without reading it."""
        if self.fd is not None:
            return os.fstat(self.fd).st_size
        return None

    def eof_position(self) -> int | None:
        """Where the data ends, asked after a short read."""
        if self.fd is not None:
            return os.fstat(self.fd).st_size
        try:
            return self.fileobj.seek(0, io.SEEK_END)
        except (OSError, ValueError, io.UnsupportedOperation):
            try:
                return self.fileobj.tell()
            except (OSError, ValueError, io.UnsupportedOperation):
                return None

    def read_at(self, position: int, view: memoryview) -> int:
        """Fill ``view`` from ``position``; the count is short only at end of file."""
        done, wanted = 0, len(view)
        if self.fd is not None:
            while done < wanted:
                count = os.preadv(self.fd, [view[done:]], position + done)
                if not count:
                    break
                done += count
            return done
        if self.readinto_at is not None:
            while done < wanted:
                count = self.readinto_at(view[done:], position + done)
                if not count:
                    break
                done += count
            return done
        fileobj = self.fileobj
        fileobj.seek(position)
        readinto = getattr(fileobj, "readinto", None)
        while done < wanted:
            if readinto is not None:
                count = readinto(view[done:])
            else:
                data = fileobj.read(wanted - done)
                count = len(data)
                view[done : done + count] = data
            if not count:
                break
            done += count
        return done


def _truncated(source: _Source, offset: int, needed: int, available: int | None) -> TruncatedDataError:
    label = source.name if source.name else "<stream>"
    held = "fewer" if available is None else str(max(0, available))
    return TruncatedDataError(
        f"{os.fsdecode(label) if isinstance(label, (str, bytes, os.PathLike)) else label}: "
        f"expected {needed} bytes of array data after offset {offset}, but the file holds {held}"
    )


def _check_size(source: _Source, offset: int, nbytes: int) -> None:
    size = source.size()
    if size is not None and size < offset + nbytes:
        raise _truncated(source, offset, nbytes, size - offset)


def _byte_view(arr: np.ndarray) -> np.ndarray:
    """The bytes of contiguous ``arr``, in memory order, as a uint8 vector."""
    return arr.reshape(-1, order="A").view(np.uint8)


def _check_order(order: str) -> None:
    if order not in ("C", "F"):
        raise InvalidArgumentError(f"order must be 'C' or 'F', not {order!r}")


def _read_box(
    source: _Source,
    dest: np.ndarray,
    shape: tuple[int, ...],
    itemsize: int,
    offset: int,
    order: str,
    selections: Sequence[tuple[int, int, int, bool]],
    heuristic: Heuristic | None,
) -> None:
    """Read the box ``selections`` picks into ``dest`` (its bytes, dense, in ``order``)."""
    first, run, grid = _plan_runs(shape, itemsize, order, selections)
    if not grid:  # one contiguous run: no planning needed
        got = source.read_at(offset + first, memoryview(dest))
        if got != run:
            raise _ShortRead(offset + first + got)
        return
    if heuristic is not None:
        merge = heuristic
    elif source.fd is None:  # a compressed file or another stream
        merge = functools.partial(merge_heuristic, skip_thresh=STREAM_SKIP_THRESH)
    else:
        merge = merge_heuristic
    # how many grid axes to read through (``sieved``), and in blocks of how
    # many entries the next axis is read through when its span is too large
    span, sieved, block = run, 0, 1
    while sieved < len(grid):
        count, stride = grid[sieved]
        if not merge(stride - span, span):
            break
        full = (count - 1) * stride + span
        if full <= _SCRATCH_BYTES:
            span, sieved = full, sieved + 1
            continue
        block = max(1, (_SCRATCH_BYTES - span) // stride + 1)
        break
    inner = grid[:sieved]
    inner_bytes = run * math.prod([count for count, _ in inner])
    out_strides = [run]
    for count, _ in grid[:-1]:
        out_strides.append(out_strides[-1] * count)
    if sieved < len(grid):
        step_count, step_stride = grid[sieved]
        step_out = out_strides[sieved]
    else:  # everything is one span: a single block of one entry
        step_count, step_stride, step_out = 1, 0, 0
    outer = grid[sieved + 1 :]
    starts = np.arange(0, step_count, block, dtype=np.int64)
    entries = np.minimum(block, step_count - starts)
    file_at = (_offset_grid(outer, [s for _, s in outer])[:, None] + starts * step_stride + offset + first).ravel()
    out_at = (_offset_grid(outer, out_strides[sieved + 1 :])[:, None] + starts * step_out).ravel()
    entries = np.broadcast_to(entries, (len(file_at) // len(starts), len(starts))).ravel()

    target = memoryview(dest)
    scratch: np.ndarray | None = None
    inner_shape = [count for count, _ in reversed(inner)] + [run]
    inner_strides = [stride for _, stride in reversed(inner)] + [1]
    for position, out_pos, n_entries in zip(file_at.tolist(), out_at.tolist(), entries.tolist()):
        want = (n_entries - 1) * step_stride + span
        size = n_entries * inner_bytes
        if want == size:  # no gaps: read straight into the result
            got = source.read_at(position, target[out_pos : out_pos + size])
        else:
            if scratch is None or len(scratch) < want:
                scratch = np.empty(want, dtype=np.uint8)
            got = source.read_at(position, memoryview(scratch)[:want])
            if got == want:
                picked = as_strided(scratch, [n_entries, *inner_shape], [step_stride, *inner_strides])
                np.copyto(dest[out_pos : out_pos + size].reshape(picked.shape), picked)
        if got != want:
            raise _ShortRead(position + got)


class _ShortRead(Exception):
    """The file ended at ``position`` (internal; becomes TruncatedDataError)."""

    def __init__(self, position: int) -> None:
        super().__init__(position)
        self.position = position


def _read_selection(
    source: _Source,
    dest: np.ndarray,
    shape: tuple[int, ...],
    dtype: np.dtype,
    offset: int,
    order: str,
    selections: Sequence[tuple[int, int, int, bool]],
    heuristic: Heuristic | None,
    lock: Any,
) -> None:
    nbytes = math.prod(shape) * dtype.itemsize
    _check_size(source, offset, nbytes)
    guard = lock if (lock is not None and source.needs_lock) else nullcontext()
    try:
        with guard:
            _read_box(source, dest, shape, dtype.itemsize, offset, order, selections, heuristic)
    except _ShortRead as short:
        end = source.eof_position()
        available = (short.position if end is None else min(end, short.position)) - offset
        raise _truncated(source, offset, nbytes, available) from None


def fileslice(
    fileobj: Any,
    sliceobj: Any,
    shape: Sequence[int],
    dtype: Any,
    offset: int = 0,
    order: str = "C",
    heuristic: Heuristic | None = None,
    lock: Any = None,
) -> np.ndarray:
    """``arr[sliceobj]`` for the array ``arr`` stored in ``fileobj``, reading only what it needs.

    Parameters
    ----------
    fileobj : file-like
        Readable and seekable binary file (or :class:`~nivox.openers.Opener`).
    sliceobj : index
        Anything numpy accepts: integers, slices (any step), Ellipsis, None,
        integer or boolean arrays.
    shape, dtype, offset, order :
        The stored array: its shape, dtype, byte offset in the file, and
        memory layout ('C' or 'F').
    heuristic : callable, optional
        ``heuristic(gap, run) -> bool``: read through a gap of ``gap`` bytes
        between runs of ``run`` bytes rather than skip it. Default
        :func:`merge_heuristic`. A nibabel-style ``heuristic(slicer, dim_len,
        stride)`` (such as :func:`threshold_heuristic`) is accepted and, as in
        nibabel 5, does not change the result; the default plans the reads.
    lock : context manager, optional
        Held while reading from a file object shared with other threads.

    Returns
    -------
    ndarray or numpy scalar
        The selection, as numpy indexing would give it (a scalar for an
        all-integer index).

    Raises
    ------
    IndexError
        For indices out of range, as numpy raises.
    TruncatedDataError
        When the file ends before the data it should hold.
    """
    dtype = np.dtype(dtype)
    shape = tuple(int(n) for n in shape)
    _check_order(order)
    if heuristic is not None and is_axis_heuristic(heuristic):
        heuristic = None
    items = _as_tuple(sliceobj)
    basic = basic_selections(items, shape)
    if basic is not None:
        selections, counts = basic
        out = np.empty(counts, dtype=dtype, order="F" if order == "F" else "C")
        if out.size:
            _read_selection(_Source(fileobj), _byte_view(out), shape, dtype, offset, order, selections, heuristic, lock)
        return out
    if is_fancy(items):
        box, rest = _split_fancy(items, shape)
        return fileslice(fileobj, tuple(box), shape, dtype, offset, order, heuristic, lock)[tuple(rest)]
    canonical = canonical_slicers(items, shape)
    pairs = _with_axes(canonical, shape)
    selections = [_selection(item, length) for item, length in pairs if item is not None]
    counts = tuple(count for _, count, _, _ in selections)
    out = np.empty(counts, dtype=dtype, order=order)
    if out.size:
        _read_selection(_Source(fileobj), _byte_view(out), shape, dtype, offset, order, selections, heuristic, lock)
    post: list[Any] = []
    selected = iter(selections)
    for item, _ in pairs:
        if item is None:
            post.append(None)
        elif isinstance(item, slice):
            post.append(slice(None, None, -1) if next(selected)[3] else slice(None))
        else:
            next(selected)
            post.append(0)
    if any(item is Ellipsis for item in items):
        post.append(Ellipsis)  # numpy gives a 0-d array, not a scalar, then
    return out[tuple(post)]


def read_array(
    fileobj: Any,
    shape: Sequence[int],
    dtype: Any,
    offset: int = 0,
    order: str = "C",
    *,
    out: np.ndarray | None = None,
    lock: Any = None,
    whole_file: np.ndarray | None = None,
) -> np.ndarray:
    """Read a whole array from ``fileobj`` with ``readinto``, into ``out`` if given.

    Without ``out``, a reader that can decompress the whole array in one call
    into a buffer of its own (nivox's gzip reader, with libdeflate) hands
    that buffer over, and the result wraps it.

    ``out`` must be contiguous in ``order`` and hold exactly the array's
    bytes (its dtype may differ when the itemsizes multiply out, which is
    how a caller reads raw data into memory it will convert in place).
    ``whole_file``, when given, is byte memory ending where ``out``'s ends
    and at least ``offset`` bytes longer: room for a compressed reader to
    decompress the whole file, header and all, straight into place (and,
    in whatever lies before that, to hold the compressed bytes).

    Raises
    ------
    TruncatedDataError
        When the file ends before the array does.
    """
    dtype = np.dtype(dtype)
    shape = tuple(int(n) for n in shape)
    _check_order(order)
    nbytes = math.prod(shape) * dtype.itemsize
    if out is None and nbytes:
        source = _Source(fileobj)
        guard = lock if (lock is not None and source.needs_lock) else nullcontext()
        with guard:
            buffer = source.decoded_buffer(offset, nbytes)
        if buffer is not None:  # decompressed in one call into memory we keep: no copy
            return np.frombuffer(buffer, dtype, math.prod(shape)).reshape(shape, order=order)
    if out is None:
        out = np.empty(shape, dtype=dtype, order=order)
    contiguous = out.flags.c_contiguous if order == "C" else out.flags.f_contiguous
    if not contiguous or out.nbytes != nbytes or not out.flags.writeable:
        raise InvalidArgumentError(f"out must be a writeable {order}-contiguous array of {nbytes} bytes")
    if nbytes and whole_file is not None and whole_file.nbytes >= offset + nbytes:
        source = _Source(fileobj)
        guard = lock if (lock is not None and source.needs_lock) else nullcontext()
        split = whole_file.nbytes - offset - nbytes
        with guard:
            if source.inflate_whole_into(whole_file[split:], whole_file[:split]):
                return out
    if nbytes:
        whole = [(0, n, 1, False) for n in shape]
        _read_selection(_Source(fileobj), _byte_view(out), shape, dtype, offset, order, whole, None, lock)
    return out


# raw bytes each thread reads at a time in read_file_threaded
_FILE_CHUNK = 1 << 20


def read_file_threaded(
    path: Any, offset: int, raw_dtype: np.dtype, out: np.ndarray, order: str, convert: Any = None
) -> bool:
    """Read the whole array at ``offset`` of the uncompressed file ``path`` into ``out`` on several threads.

    Each thread takes one contiguous share of ``out`` (threads touching
    the same 2 MiB huge page of fresh memory wait for each other's page
    faults) and reads it a chunk at a time, straight into its place,
    or, with ``convert(raw, dst)``, into a small buffer of its own that it
    converts into its place, so reading and converting overlap and the
    conversion reads cache-warm memory. False (nothing read) when this does
    not pay, or when the file is too short: the caller's one-thread path
    then reads it, or reports what is missing.
    """
    threads = cpu_threads()
    if threads < 2 or out.nbytes < PARALLEL_MIN or not hasattr(os, "preadv"):
        return False
    target = out.reshape(-1, order=order)
    itemsize = raw_dtype.itemsize
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError:
        return False  # a missing or unreadable file: the caller's path says so, naming it
    try:
        if os.fstat(fd).st_size < offset + target.size * itemsize:
            return False
        step = max(1, _FILE_CHUNK // itemsize)

        def run(share: int) -> None:
            buffer = None if convert is None else np.empty(step, raw_dtype)
            begin, end = target.size * share // threads, target.size * (share + 1) // threads
            for lo in range(begin, end, step):
                hi = min(lo + step, end)
                if buffer is None:
                    pread_into(fd, target[lo:hi], offset + lo * itemsize, path)
                else:
                    raw = buffer[: hi - lo]
                    pread_into(fd, raw, offset + lo * itemsize, path)
                    convert(raw, target[lo:hi])

        run_parallel([functools.partial(run, first) for first in range(threads)], threads)
        return True
    finally:
        os.close(fd)


def pread_into(fd: int, array: np.ndarray, position: int, path: Any) -> None:
    """Fill ``array`` with the file's bytes from ``position``; a short file is TruncatedDataError."""
    view = memoryview(array).cast("B")
    done = 0
    while done < len(view):
        got = os.preadv(fd, [view[done:]], position + done)
        if got <= 0:
            raise TruncatedDataError(
                f"{os.fsdecode(path)}: the file ended at byte {position + done} while its data were read "
                "(was it changed meanwhile?)"
            )
        done += got
