"""MRtrix ``.tck`` tractograms.

A text header (``mrtrix tracks``, ``key: value`` lines, ``END``) then float32
triplets in RAS+ mm: the points of each streamline followed by a NaN triplet,
and an infinite triplet at the end. Points and delimiters have the same size,
so a full read takes the data region a cache-sized block at a time, finds the
block's delimiters with a vectorised scan and copies its points straight to
their place in one float32 array: one pass over the bytes, each point written
once, no Python loop per streamline, and a peak of about the points' size. ``lazy_load=True`` reads a
few megabytes at a time instead.
"""

from __future__ import annotations

import functools
import io
import os
import threading
import warnings
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from ..errors import DataError, DataWarning, HeaderError, HeaderWarning, InvalidArgumentError
from ._io import describe, reading, remaining_size, read_into, run_threads, writing
from .array_sequence import ArraySequence, _compact_rows
from .header import Field
from .tractogram import LazyTractogram, Tractogram, TractogramItem
from .tractogram_file import TractogramFile
from .utils import peek_next

__all__ = ["TckFile"]

MEGABYTE = 1024 * 1024
# longest header accepted (a hostile file without END is not read to its end)
MAX_HEADER_BYTES = 64 * MEGABYTE
# rows handled per vectorised step (768 kB: a block is scanned and copied while in cache)
_BLOCK_ROWS = 1 << 16
_ROW = np.dtype("V12")
# most threads reading one file
_MAX_THREADS = 4
# fewest CPUs for reading on threads: on 2 CPUs (shared), a second thread measured no shorter
# wall time and ~10 % more CPU (its page faults on the output contend with the first's)
_MIN_CPUS = 4


class TckFile(TractogramFile):
    """A tractogram in MRtrix's TCK format (points in RAS+ mm, voxel centres at integers).

    TCK keeps no data per point or per streamline; saving such data warns
    and drops it.
    """

    SUPPORTS_DATA_PER_POINT = SUPPORTS_DATA_PER_STREAMLINE = False  # points only
    MAGIC_NUMBER = b"mrtrix tracks"
    # the rows that end a streamline and the data, as written
    FIBER_DELIMITER = np.full((1, 3), np.nan, "<f4")
    EOF_DELIMITER = np.full((1, 3), np.inf, "<f4")

    def __init__(self, tractogram: Any, header: dict[str, Any] | None = None) -> None:
        super().__init__(tractogram, header)

    @classmethod
    def is_correct_format(cls, fileobj: Any) -> bool:
        """Whether `fileobj` starts with TCK's magic line (its position is kept)."""
        with reading(fileobj) as f:
            return f.read(len(cls.MAGIC_NUMBER)) == cls.MAGIC_NUMBER

    @classmethod
    def create_empty_header(cls) -> dict[str, Any]:
        return {Field.MAGIC_NUMBER: cls.MAGIC_NUMBER, Field.NB_STREAMLINES: 0, "datatype": "Float32LE"}

    @classmethod
    def load(cls, fileobj: Any, lazy_load: bool = False) -> TckFile:
        """Read a TCK file name or binary file object (at the start of the header).

        Returns a :class:`TckFile` whose tractogram is in RAS+ mm; with
        `lazy_load` a :class:`LazyTractogram` that reads as it is iterated.
        """
        hdr = cls._read_header(fileobj)
        tractogram: Tractogram
        if lazy_load:
            def items() -> Iterator[TractogramItem]:
                for pts in cls._read(fileobj, hdr):
                    yield TractogramItem(pts, {}, {})

            def moved_streamlines(affine: NDArray[Any]) -> Iterator[NDArray[Any]]:
                # LazyTractogram.streamlines' fast path: the points without an item per streamline
                if np.allclose(affine, np.eye(4)):
                    yield from cls._read(fileobj, hdr)
                    return
                rzs_t = np.ascontiguousarray(np.asarray(affine)[:3, :3].T)
                for pts in cls._read(fileobj, hdr):
                    out = pts @ rzs_t
                    out += affine[:3, 3]
                    yield out

            items.moved_streamlines = moved_streamlines  # type: ignore[attr-defined]
            tractogram = LazyTractogram.from_data_func(items)
        else:
            tractogram = Tractogram(cls._read_all(fileobj, hdr))
        tractogram.affine_to_rasmm = np.eye(4)
        hdr[Field.VOXEL_TO_RASMM] = np.eye(4)
        return cls(tractogram, header=hdr)

    # -- reading -------------------------------------------------------------

    @classmethod
    def _read_header(cls, fileobj: Any) -> dict[str, Any]:
        """Parse the text header; ``_dtype`` and ``_offset_data`` say where and how the points are."""
        name = describe(fileobj)
        with reading(fileobj) as f:
            f.seek(0, os.SEEK_SET)
            magic = f.read(len(cls.MAGIC_NUMBER))
            if magic != cls.MAGIC_NUMBER:
                raise HeaderError(f"{name}: invalid magic number {magic!r}, not a TCK file")
            text, offset_data = _read_header_text(f, name)
        hdr: dict[str, Any] = {Field.MAGIC_NUMBER: magic}
        fields: dict[str, list[str]] = {}
        key = None
        for n_line, raw in enumerate(text.split(b"\n")[1:], 1):
            line = raw.decode("utf-8", errors="replace").strip()
            if not line:
                continue
            if ":" in line:
                key, line = (part for part in line.split(":", 1))
                key = key.strip()
            if key is None:
                raise HeaderError(f"{name}: invalid header (line {n_line}): {line}")
            fields.setdefault(key, []).append(line.strip())
        hdr.update({k: "\n".join(v) for k, v in fields.items()})

        if "datatype" not in hdr:
            warnings.warn(f"{name}: Missing 'datatype' attribute in TCK header. Assuming it is Float32LE.",
                          HeaderWarning, stacklevel=3)
            hdr["datatype"] = "Float32LE"
        if not hdr["datatype"].startswith("Float32"):
            raise HeaderError(f"{name}: TCK only supports float32 dtype but 'datatype: "
                              f"{hdr['datatype']}' was specified in the header.")
        if "file" not in hdr:
            warnings.warn(f"{name}: Missing 'file' attribute in TCK header. Will try to guess it.",
                          HeaderWarning, stacklevel=3)
            hdr["file"] = f". {offset_data}"
        parts = hdr["file"].split()
        if not parts or parts[0] != ".":
            raise HeaderError(f"{name}: TCK only supports single-file - in other words the filename "
                              f"part must be specified as '.' but {hdr['file']!r} was specified.")
        try:
            offset = int(parts[1])
        except (IndexError, ValueError):
            raise HeaderError(f"{name}: invalid data offset in 'file: {hdr['file']}'") from None
        if offset < 0:
            raise HeaderError(f"{name}: negative data offset in 'file: {hdr['file']}'")
        hdr[Field.ENDIANNESS] = ">" if hdr["datatype"].endswith("BE") else "<"
        hdr["_dtype"] = np.dtype(hdr[Field.ENDIANNESS] + "f4")
        hdr["_offset_data"] = offset
        return hdr

    @classmethod
    def _read_all(cls, fileobj: Any, header: dict[str, Any]) -> ArraySequence:
        """All streamlines in one pass: one array of points with offsets and lengths."""
        name = describe(fileobj)
        offset = header["_offset_data"]
        swap = not header["_dtype"].isnative
        with reading(fileobj) as f:
            size = remaining_size(f, offset)
            f.seek(offset, os.SEEK_SET)
            if size is None:  # no size to allocate for: read it all, then compact in place
                raw = bytearray(f.read())
                if len(raw) % 12:
                    raise DataError(f"{name}: the data ({len(raw)} bytes) are not whole float32 triplets")
                rows = np.frombuffer(raw, np.float32).reshape(-1, 3)
                kept, delims = _compact(_slices(rows), rows, swap)
            else:
                if size % 12:
                    raise DataError(f"{name}: the data ({size} bytes) are not whole float32 triplets")
                # room for every row; only the pages the kept rows land on are ever touched
                rows = np.empty((size // 12, 3), np.float32)
                n_threads = _threads_for(f, size // 12)
                if n_threads > 1:
                    kept, delims = _compact_threaded(f.fileno(), offset, size // 12, rows, swap, name, n_threads)
                else:
                    kept, delims = _compact(_blocks(f, size // 12, name), rows, swap)
        _check_end(rows, kept, delims, size // 12 if size is not None else len(rows), name)
        n_points = kept - 1  # the end marker was kept as a row: drop it
        starts = np.empty(len(delims), np.intp)
        starts[:1] = 0
        starts[1:] = delims[:-1] + 1
        lengths = delims - starts
        lengths = lengths[lengths > 0]
        header[Field.NB_STREAMLINES] = len(lengths)
        _check_count(header, name)
        rows = _shrink(rows, n_points)
        offsets = np.zeros(len(lengths), np.intp)
        np.cumsum(lengths[:-1], out=offsets[1:])
        return ArraySequence._from_parts(rows, offsets, lengths)

    @classmethod
    def _read(cls, fileobj: Any, header: dict[str, Any], buffer_size: float = 4) -> Iterator[NDArray[Any]]:
        """Yield the streamlines one by one, reading `buffer_size` megabytes at a time."""
        name = describe(fileobj)
        dtype = header["_dtype"]
        block = max(12, int(buffer_size * MEGABYTE) // 12 * 12)
        with reading(fileobj) as f:
            f.seek(header["_offset_data"], os.SEEK_SET)
            leftover = np.empty((0, 3), np.float32)
            count = 0
            while True:
                buf = bytearray(block)
                n = f.readinto(buf) if hasattr(f, "readinto") else _read_to(f, buf)
                if n % 12:
                    raise DataError(f"{name}: the data end inside a float32 triplet")
                rows = np.frombuffer(buf, dtype, count=n // 4).astype(np.float32, copy=False)
                rows = rows.reshape(-1, 3)
                if not rows.flags.writeable:
                    rows = rows.copy()
                delims = _find_delimiters(rows)
                if leftover.size:
                    rows = np.concatenate([leftover, rows])
                    delims = delims + len(leftover)
                begin = 0
                for d in delims.tolist():
                    if d > begin:
                        count += 1
                        yield rows[begin:d]
                    begin = d + 1
                leftover = rows[begin:]
                if n < block:
                    break
            if not (leftover.shape == (1, 3) and np.isinf(leftover).all()):
                if count == 0:
                    raise DataError(f"{name}: Cannot find a streamline delimiter. This file might be corrupted.")
                raise DataError(f"{name}: Expecting end-of-file marker 'inf inf inf'")
            header[Field.NB_STREAMLINES] = count
            _check_count(header, name)

    # -- writing -------------------------------------------------------------

    def save(self, fileobj: Any) -> None:
        """Write as TCK (float32 little-endian) to a file name (atomically) or a binary file object."""
        header = self.create_empty_header()
        header.update(self.header)
        with writing(fileobj) as f:
            beginning = f.tell()
            self._write_header(f, header)
            count = self._write_streamlines(f)
            header[Field.NB_STREAMLINES] = count
            f.write(self.EOF_DELIMITER.tobytes())
            end = f.tell()
            f.seek(beginning, os.SEEK_SET)
            self._write_header(f, header)
            f.seek(end, os.SEEK_SET)

    def _write_streamlines(self, f: BinaryIO) -> int:
        tractogram = self.tractogram
        if not isinstance(tractogram, LazyTractogram):
            if tractogram.affine_to_rasmm is None:
                raise InvalidArgumentError("Streamlines are in a unknown space. This error can be avoided by "
                                 "setting the 'affine_to_rasmm' property.")
            _warn_dropped(tractogram.data_per_streamline.keys(), tractogram.data_per_point.keys())
            seq = tractogram.streamlines
            affine = tractogram.affine_to_rasmm
            lengths = seq._lengths
            if len(lengths) == 0:
                return 0
            rows = _compact_rows(seq)
            _write_blocks(f, rows, lengths, affine)
            return int(np.count_nonzero(lengths))
        items = iter(tractogram.to_world(lazy=True))
        try:
            first, items = peek_next(items)
        except StopIteration:
            return 0
        _warn_dropped(first.data_for_streamline.keys(), first.data_for_points.keys())
        count = 0
        batch: list[NDArray[Any]] = []
        held = 0
        for item in items:
            pts = np.asarray(item.streamline)
            batch.append(pts)
            held += len(pts)
            count += 1
            if held >= _BLOCK_ROWS:
                _write_batch(f, batch)
                batch, held = [], 0
        _write_batch(f, batch)
        return count

    @staticmethod
    def _write_header(fileobj: BinaryIO, header: dict[str, Any]) -> None:
        """Write the text header, ending with ``file: . OFFSET`` and ``END``."""
        skip = {Field.MAGIC_NUMBER, Field.NB_STREAMLINES, Field.ENDIANNESS, Field.VOXEL_TO_RASMM,
                "count", "datatype", "file"}
        lines = [f"count: {header[Field.NB_STREAMLINES]:010}", "datatype: Float32LE"]
        lines += [f"{k}: {v}" for k, v in header.items() if k not in skip and not str(k).startswith("_")]
        body = "\n".join(lines)
        if body.count(":") > len(lines):
            raise HeaderError(f"Key-value pairs cannot contain ':':\n{body}")
        out = header[Field.MAGIC_NUMBER] + b"\n" + body.encode("utf-8")
        # the offset counts its own digits: "\nfile: . " + digits + "\nEND\n"
        fixed = len(out) + len(b"\nfile: . ") + len(b"\nEND\n")
        digits = len(str(fixed))
        while len(str(fixed + digits)) != digits:
            digits += 1
        fileobj.write(out)
        fileobj.write(f"\nfile: . {fixed + digits}\nEND\n".encode())

    def __str__(self) -> str:
        hdr = self.header
        info = f"\nMAGIC NUMBER: {hdr[Field.MAGIC_NUMBER]}\n"
        info += "\n".join(f"{k}: {v}" for k, v in hdr.items() if not str(k).startswith("_"))
        return info


def _check_count(header: dict[str, Any], name: str) -> None:
    """Warn when the header's ``count`` is not the number of streamlines found (the data win,
    as in MRtrix and nibabel: files cut from bigger ones often keep the old count)."""
    try:
        announced = int(str(header.get("count", "")).strip())
    except ValueError:
        return
    found = header[Field.NB_STREAMLINES]
    if announced != found:
        warnings.warn(f"{name}: the header's count is {announced} but the file holds {found} "
                      "streamlines; using the streamlines found", HeaderWarning, stacklevel=4)


def _read_to(f: BinaryIO, buf: bytearray) -> int:
    data = f.read(len(buf))
    buf[: len(data)] = data
    return len(data)


def _read_header_text(f: BinaryIO, name: str) -> tuple[bytes, int]:
    """The header text after the magic number, and the file position just past its END line."""
    start = f.tell()
    text = b""
    while True:
        chunk = f.read(65536)
        if not chunk:
            break
        scan_from = max(0, len(text) - 5)
        text += chunk
        lines_end = _find_end_line(text, scan_from)
        if lines_end is not None:
            return text[:lines_end[0]], start + lines_end[1]
        if len(text) > MAX_HEADER_BYTES:
            raise HeaderError(f"{name}: no END line in the first {MAX_HEADER_BYTES} bytes of the header")
    lines_end = _find_end_line(text + b"\n", 0)
    if lines_end is not None and lines_end[1] <= len(text) + 1:
        return text[:lines_end[0]], start + min(lines_end[1], len(text))
    raise HeaderError(f"{name}: Missing END in the header.")


def _find_end_line(text: bytes, start: int) -> tuple[int, int] | None:
    """(end of the lines before END, position after END's newline) if a full END line is in `text`."""
    pos = max(0, start)
    while True:
        i = text.find(b"END", pos)
        if i < 0:
            return None
        line_start = text.rfind(b"\n", 0, i) + 1
        nl = text.find(b"\n", i)
        if nl < 0:
            return None
        if text[line_start:nl].strip() == b"END":
            return line_start, nl + 1
        pos = i + 3


def _blocks(f: BinaryIO, n_rows: int, name: str) -> Iterator[NDArray[np.float32]]:
    """The rows of the data region, read into one reused cache-sized buffer."""
    buf = np.empty((min(_BLOCK_ROWS, n_rows), 3), np.float32)
    done = 0
    while done < n_rows:
        block = buf[: min(_BLOCK_ROWS, n_rows - done)]
        read_into(f, block, name, "streamline data")
        yield block
        done += len(block)


def _threads_for(f: Any, n_rows: int) -> int:
    """Threads to read a file with: one per CPU (up to 4) for a plain file of a few blocks per
    thread on a machine of 4 CPUs or more; else 1 (also when the reads cannot run side by
    side: a stream, a compressed file)."""
    from .._threads import cpu_threads

    raw = getattr(f, "raw", f)
    cpus = cpu_threads()
    if cpus < _MIN_CPUS or not isinstance(raw, io.FileIO) or not hasattr(os, "preadv"):
        return 1
    return max(1, min(cpus, _MAX_THREADS, n_rows // (4 * _BLOCK_ROWS)))


def _pread_into(fd: int, block: NDArray[np.float32], at: int, name: str) -> None:
    """Fill `block` from byte `at` of the file (a positioned read: no shared file position)."""
    view = memoryview(block.reshape(-1).view(np.uint8).data)
    got = 0
    while got < len(view):
        n = os.preadv(fd, [view[got:]], at + got)
        if not n:
            raise DataError(f"{name}: the file ends inside the streamline data (it shrank while read)")
        got += n


def _compact_threaded(fd: int, offset: int, n_rows: int, out: NDArray[np.float32], swap: bool, name: str,
                      n_threads: int) -> tuple[int, NDArray[np.intp]]:
    """:func:`_compact` with the blocks dealt out to `n_threads` threads in turn.

    Each thread reads its block and finds its points on its own; the blocks
    then take their places in `out` in file order: a block learns where its
    points go when the block before it has claimed its rows, and copies them
    there while the next blocks go on. One pass, no rows moved twice.
    """
    n_blocks = -(-n_rows // _BLOCK_ROWS)
    found: list[NDArray[np.intp]] = [np.zeros(0, np.intp)] * n_blocks
    turn = threading.Condition()
    state = {"next": 0, "dest": 0, "failed": False}
    out_items = out.view(_ROW).reshape(-1)

    def work(first_block: int) -> None:
        buf = np.empty((_BLOCK_ROWS, 3), np.float32)
        try:
            for k in range(first_block, n_blocks, n_threads):
                row = k * _BLOCK_ROWS
                block = buf[: min(_BLOCK_ROWS, n_rows - row)]
                _pread_into(fd, block, offset + 12 * row, name)
                kept, idx = _points_of(block, swap)
                found[k] = idx + row
                with turn:
                    while state["next"] != k and not state["failed"]:
                        turn.wait()
                    if state["failed"]:
                        return
                    dest = state["dest"]
                    state["dest"] = dest + len(kept)
                    state["next"] = k + 1
                    turn.notify_all()
                out_items[dest : dest + len(kept)] = kept
        except BaseException:
            with turn:  # the others stop waiting for a block that will not come
                state["failed"] = True
                turn.notify_all()
            raise

    run_threads([functools.partial(work, t) for t in range(n_threads)])
    return int(state["dest"]), np.concatenate(found) if found else np.zeros(0, np.intp)


def _slices(rows: NDArray[np.float32]) -> Iterator[NDArray[np.float32]]:
    for start in range(0, len(rows), _BLOCK_ROWS):
        yield rows[start : start + _BLOCK_ROWS]


def _find_delimiters(rows: NDArray[np.float32]) -> NDArray[np.intp]:
    """Row numbers of the all-NaN rows of `rows`."""
    # x first (NaN only at delimiters, in practice), then y and z of those rows only
    idx = np.flatnonzero(np.isnan(rows[:, 0]))
    if idx.size:
        cand = rows[idx]
        idx = idx[np.isnan(cand[:, 1]) & np.isnan(cand[:, 2])]
    return idx


def _points_of(block: NDArray[np.float32], swap: bool) -> tuple[NDArray[Any], NDArray[np.intp]]:
    """The rows of `block` that are points, as 12-byte items, and where its delimiters are.

    The items are a view of the block when it has no delimiter, else a copy.
    """
    if swap:
        block.byteswap(inplace=True)
    idx = _find_delimiters(block)
    items = block.view(_ROW).reshape(-1)
    if not idx.size:
        return items, idx
    keep = np.ones(len(block), bool)
    keep[idx] = False
    # whole rows as 12-byte items: one boolean selection moves them (several times
    # faster than selecting rows of a 2D float array)
    return items[keep], idx


def _compact(blocks: Iterator[NDArray[np.float32]], out: NDArray[np.float32], swap: bool
             ) -> tuple[int, NDArray[np.intp]]:
    """Copy the rows of `blocks` that are not delimiters (all-NaN) to the front of `out`.

    Returns the number of rows kept and the delimiters' row numbers. The
    blocks may be slices of `out` itself (the kept rows never overtake the
    rows still to read). Each block is scanned and copied while it is in
    cache, so the points are written to `out` once.
    """
    out_items = out.view(_ROW).reshape(-1)
    found: list[NDArray[np.intp]] = []
    dest = 0
    first = 0  # row number of the block's first row
    for block in blocks:
        kept, idx = _points_of(block, swap)
        if idx.size:
            found.append(idx + first)
        if out_items[dest : dest + len(kept)].ctypes.data != kept.ctypes.data:
            out_items[dest : dest + len(kept)] = kept
        dest += len(kept)
        first += len(block)
    delims = np.concatenate(found).astype(np.intp, copy=False) if found else np.zeros(0, np.intp)
    return dest, delims


def _check_end(rows: NDArray[np.float32], kept: int, delims: NDArray[np.intp], n_rows: int, name: str) -> None:
    """The data must end with a delimiter then one infinite triplet (the last row kept)."""
    last = int(delims[-1]) if len(delims) else -1
    if n_rows == last + 2 and kept and np.isinf(rows[kept - 1]).all():
        return
    if len(delims) == 0:
        raise DataError(f"{name}: Cannot find a streamline delimiter. This file might be corrupted.")
    raise DataError(f"{name}: Expecting end-of-file marker 'inf inf inf' after the last delimiter "
                    f"(row {last} of {n_rows})")


def _shrink(rows: NDArray[np.float32], n: int) -> NDArray[np.float32]:
    """The first `n` rows, giving the rest of the buffer back when it can."""
    if rows.shape[0] == n:
        return rows
    if rows.flags.owndata:
        try:
            rows.resize((n, 3), refcheck=False)
            return rows
        except ValueError:
            pass
    return rows[:n]


def _warn_dropped(per_streamline: Any, per_point: Any) -> None:
    for keys, what in ((list(per_streamline), "streamlines"), (list(per_point), "points")):
        if keys:
            warnings.warn(f"TCK format does not support saving additional data alongside {what}. "
                          f"Dropping: {', '.join(map(str, keys))}", DataWarning, stacklevel=4)


def _write_blocks(f: BinaryIO, rows: NDArray[Any], lengths: NDArray[Any], affine: NDArray[Any]) -> None:
    """Write streamlines (points back to back, `lengths`) with delimiters, a block at a time."""
    from .array_sequence import _chunks
    from .tractogram import transformed

    ends = np.cumsum(lengths)
    identity = np.allclose(affine, np.eye(4))
    for i, j, row in _chunks(lengths):
        n_pts = int(ends[j - 1]) - row
        pts = rows[row : row + n_pts]
        pts = transformed(pts, affine) if not identity else pts
        lens = lengths[i:j]
        lens = lens[lens > 0]  # an empty streamline would read back as nothing: skip it
        out = np.empty((n_pts + len(lens), 3), "<f4")
        is_point = np.ones(len(out), bool)
        is_point[np.cumsum(lens + 1) - 1] = False  # each streamline's delimiter row
        out[~is_point] = np.nan
        # whole rows as 12-byte items: one boolean assignment moves all points
        out.view(_ROW).reshape(-1)[is_point] = np.ascontiguousarray(pts, "<f4").view(_ROW).reshape(-1)
        f.write(out.tobytes())


def _write_batch(f: BinaryIO, batch: list[NDArray[Any]]) -> None:
    if not batch:
        return
    lengths = np.array([len(b) for b in batch], np.intp)
    rows = np.concatenate(batch) if sum(lengths) else np.zeros((0, 3), np.float32)
    _write_blocks(f, rows, lengths, np.eye(4))
