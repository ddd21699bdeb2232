"""Helpers shared by the formats: code tables, byte order, reading and writing arrays."""

from __future__ import annotations

import io
import math
import os
import stat
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .casting import OK_FLOATS, shared_range, type_info
from ._a2f import _block_converter, _dt_min_max, _ftype4scaled_finite, _write_data
from .errors import (
    ArgumentTypeError, InvalidArgumentError, TruncatedDataError, UnknownNameError,
    UnsupportedOperationError,
)

native_code: str = "<" if sys.byteorder == "little" else ">"
swapped_code: str = ">" if native_code == "<" else "<"


class Recoder:
    """Look up rows of a code table by any of their aliases.

    Each row is a tuple whose first element is the canonical code. ``fields``
    names the columns; ``rec.<field>[alias]`` gives that column's value for the
    row ``alias`` belongs to, and ``rec[alias]`` gives the code.

    >>> units = Recoder(((0, 'unknown'), (2, 'mm')), fields=('code', 'label'))
    >>> units.code['mm'], units.label[2], units['mm']
    (2, 'mm', 2)
    """

    def __init__(
        self,
        codes: Iterable[Sequence[Any]],
        fields: Sequence[str] = ("code",),
        map_maker: type = dict,
    ) -> None:
        self.fields = tuple(fields)
        taken = [name for name in self.fields if hasattr(type(self), name) or name in ("field1", "fields")]
        if taken:
            raise UnknownNameError(f"Recoder field names cannot be {taken}: they name Recoder attributes")
        self.field1: dict[Any, Any] = {}
        self._map_maker = map_maker
        for field in self.fields:
            setattr(self, field, map_maker())
        self.field1 = getattr(self, self.fields[0])
        self.add_codes(codes)

    def add_codes(self, code_syn_seqs: Iterable[Sequence[Any]]) -> None:
        """Add rows; every alias in a row maps to that row's values."""
        for row in code_syn_seqs:
            for alias in row:
                for field_no, field in enumerate(self.fields):
                    getattr(self, field)[alias] = row[field_no]

    def __getitem__(self, key: Any) -> Any:
        return self.field1[key]

    def __contains__(self, key: Any) -> bool:
        try:
            self.field1[key]
        except (KeyError, TypeError):
            return False
        return True

    def keys(self) -> Iterable[Any]:
        """Every alias known."""
        return self.field1.keys()

    def value_set(self, name: str | None = None) -> set[Any]:
        """The distinct values of column ``name`` (the first column by default)."""
        table = self.field1 if name is None else getattr(self, name)
        return set(table.values())


class DtypeMapper(dict):
    """A dict keyed by numpy dtypes that also finds keys given as dtype aliases.

    ``np.dtype('f4')`` and ``'f4'`` find the same entry. Byte order matters
    (``'<f4'`` and ``'>f4'`` are different keys) as it does for dtype equality.
    """

    def __getitem__(self, key: Any) -> Any:
        try:
            return super().__getitem__(key)
        except (KeyError, TypeError):
            pass
        if key is None:  # np.dtype(None) would silently mean float64
            raise UnknownNameError(key)
        try:
            wanted = np.dtype(key)
        except TypeError:
            raise UnknownNameError(key) from None
        for candidate, value in self.items():
            if isinstance(candidate, np.dtype) and candidate == wanted:
                return value
        raise UnknownNameError(key)

    def __contains__(self, key: object) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True


endian_codes = Recoder(
    (
        ("<", "little", "l", "le", "L", "LE"),
        (">", "big", "BIG", "b", "be", "B", "BE"),
        (native_code, "native", "n", "N", "=", "|", "i", "I"),
        (swapped_code, "swapped", "s", "S", "!"),
    )
)


def pretty_mapping(
    mapping: Any, getterfunc: Any = None
) -> str:
    """Text with one ``key : value`` line per item, keys padded to one width."""
    if getterfunc is None:
        def getterfunc(obj: Any, key: Any) -> Any:
            return obj[key]
    keys = list(mapping.keys())
    # nibabel's layout: keys padded to the longest plus two spaces, then ": "
    width = max((len(str(k)) for k in keys), default=0) + 2
    return "\n".join(f"{str(k).ljust(width)}: {getterfunc(mapping, k)}" for k in keys)


def rec2dict(rec: np.ndarray) -> dict[str, Any]:
    """A dict of the fields of a one-element structured array."""
    return {name: rec[name] if rec.ndim == 0 else rec[name][0] for name in rec.dtype.names}


sys_is_le: bool = sys.byteorder == "little"

_BLOCK_BYTES = 8 * 2**20  # bounds every temporary made while reading, writing or scanning
_MMAP_MODES = (True, False, "c", "r", "r+")


def make_dt_codes(codes_seqs: Sequence[Sequence[Any]]) -> Recoder:
    """A data type code table from rows ``(code, label, numpy type[, niistring])``.

    Each row gains the numpy dtype and its byte-swapped twin, so a code is
    found from any of code, label, type, dtype or swapped dtype.
    """
    widths = {len(row) for row in codes_seqs}
    if not widths <= {3, 4} or len(widths) > 1:
        raise InvalidArgumentError("Sequences must be length 3 or 4")
    fields = ["code", "label", "type"] + (["niistring"] if widths == {4} else [])
    rows = []
    for row in codes_seqs:
        dtype = np.dtype(row[2])
        rows.append((*row, dtype, dtype.newbyteorder("S")))
    return Recoder(rows, fields + ["dtype", "sw_dtype"], DtypeMapper)


def fname_ext_ul_case(fname: str) -> str:
    """`fname`, or `fname` with its all-lower (all-upper) extension upper- (lower-) cased if only that exists."""
    if os.path.exists(fname):
        return fname
    stem, ext = os.path.splitext(fname)
    if ext == ext.lower():
        flipped = stem + ext.upper()
    elif ext == ext.upper():
        flipped = stem + ext.lower()
    else:  # mixed case: no single other case to try
        return fname
    return flipped if os.path.exists(flipped) else fname


def shape_zoom_affine(
    shape: Sequence[int] | np.ndarray, zooms: Sequence[float] | np.ndarray, x_flip: bool = True
) -> np.ndarray:
    """Voxel-to-mm affine from voxel sizes, with the origin at the volume's centre.

    Only the first three axes count; missing ones have size and zoom 1.
    `x_flip` negates the x zoom (radiological storage).

    >>> shape_zoom_affine((3, 5, 7), (3, 2, 1))[:3].tolist()
    [[-3.0, 0.0, 0.0, 3.0], [0.0, 2.0, 0.0, -4.0], [0.0, 0.0, 1.0, -3.0]]
    """
    shape = np.asarray(shape, dtype=float)
    zooms = np.asarray(zooms, dtype=float)
    if shape.shape != zooms.shape:
        raise InvalidArgumentError("Should be same length of zooms and shape")
    n_axes = min(3, shape.size)
    size3, zoom3 = np.ones(3), np.ones(3)
    size3[:n_axes] = shape[:n_axes]
    zoom3[:n_axes] = zooms[:n_axes]
    if x_flip:
        zoom3[0] = -zoom3[0]
    affine = np.eye(4)
    affine[:3, :3] = np.diag(zoom3)
    affine[:3, 3] = -(size3 - 1) / 2.0 * zoom3
    return affine


# ---------------------------------------------------------------------------
# Scaling arithmetic: which float type keeps scaled values finite.


def working_type(
    in_type: DTypeLike, slope: ArrayLike = 1.0, inter: ArrayLike = 0.0
) -> type[np.number]:
    """Type numpy gives ``(array_of_in_type - inter) / slope``.

    A `slope` of 1 and an `inter` of 0 are skipped, so they do not promote.
    Scalars act as 1-element arrays, so their type counts, not their value.
    """
    probe = np.ones((1,), dtype=in_type)
    with np.errstate(all="ignore"):
        if np.any(np.asarray(inter) != 0):
            probe = probe - np.atleast_1d(inter)
        if np.any(np.asarray(slope) != 1):
            probe = probe / np.atleast_1d(slope)
    return probe.dtype.type


def better_float_of(
    first: DTypeLike, second: DTypeLike, default: type[np.floating] = np.float32
) -> type[np.floating]:
    """The more precise of two types if both are real floats, the float one if one is, else `default`."""
    floats = [np.dtype(t) for t in (first, second) if np.dtype(t).kind == "f"]
    if not floats:
        return np.dtype(default).type
    return max(floats, key=lambda dt: (type_info(dt)["nmant"], dt.itemsize)).type


def _floats_from(start: DTypeLike) -> list[type[np.floating]]:
    """OK_FLOATS at least as precise as `start`."""
    nmant = type_info(start)["nmant"]
    return [t for t in OK_FLOATS if type_info(t)["nmant"] >= nmant] or [OK_FLOATS[-1]]


def _as_float_pair(slope: ArrayLike, inter: ArrayLike, ftype: type) -> tuple[Any, Any] | None:
    with np.errstate(over="ignore"):
        pair = np.atleast_1d(slope).astype(ftype), np.atleast_1d(inter).astype(ftype)
    return pair if np.all(np.isfinite(pair[0])) and np.all(np.isfinite(pair[1])) else None


def int_scinter_ftype(
    ifmt: DTypeLike,
    slope: ArrayLike = 1.0,
    inter: ArrayLike = 0.0,
    default: type[np.floating] = np.float32,
) -> type[np.floating]:
    """Least float type, from `default` up, for ``int_array * slope + inter`` to stay finite.

    The returned type is the one `slope` and `inter` should have; the
    arithmetic happens in numpy's promotion of it with `ifmt`. Unlike nibabel,
    a type in which `slope` or `inter` itself overflows is skipped rather
    than ending the search.
    """
    info = np.iinfo(ifmt)
    extremes = np.array([info.min, info.max], dtype=ifmt)
    for ftype in _floats_from(default):
        pair = _as_float_pair(slope, inter, ftype)
        if pair is None:
            continue
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = extremes * pair[0] + pair[1]
        if np.all(np.isfinite(scaled)):
            return ftype
    raise InvalidArgumentError("Overflow using highest floating point type")


def best_write_scale_ftype(
    arr: np.ndarray,
    slope: ArrayLike = 1.0,
    inter: ArrayLike = 0.0,
    default: type[np.number] = np.float32,
) -> type[np.floating]:
    """Least float type, from `default` or `arr`'s float type up, keeping ``(arr - inter) / slope`` finite.

    Only the extremes of `arr` are tried; if no type works the most precise
    one is returned. An `arr` holding NaN or infinities gives the start type.
    """
    arr = np.asarray(arr)
    start = better_float_of(arr.dtype, default, default)
    if arr.size == 0:
        return start
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        return start  # infinities stay infinite whatever the type: nothing to gain
    mn, mx = finite_range(arr)
    if mn > mx:  # nothing finite
        return start
    extremes = np.array([mn, mx], dtype=arr.dtype)
    candidates = _floats_from(start)
    for ftype in candidates:
        pair = _as_float_pair(slope, inter, ftype)
        if pair is None:
            continue
        with np.errstate(all="ignore"):
            scaled = (extremes - pair[1]) / pair[0]
        if np.all(np.isfinite(scaled)):
            return ftype
    return candidates[-1]


def apply_read_scaling(
    arr: np.ndarray, slope: ArrayLike | None = None, inter: ArrayLike | None = None
) -> np.ndarray:
    """``arr * slope + inter`` in a type precise enough, as a new array.

    Without scaling (slope 1 or None, inter 0 or None) `arr` itself is
    returned. Integer data are scaled in the least float type, starting at
    `slope`'s (float64 if `slope` is not a float), in which the whole integer
    range stays finite; float data in numpy's promotion of the three types.
    """
    slope = 1.0 if slope is None else slope
    inter = 0.0 if inter is None else inter
    slope_a, inter_a = np.atleast_1d(slope), np.atleast_1d(inter)
    if slope_a.size != 1 or inter_a.size != 1:
        raise InvalidArgumentError("slope and inter must be scalars")
    use_slope, use_inter = bool(slope_a[0] != 1), bool(inter_a[0] != 0)
    if not (use_slope or use_inter):
        return arr
    arr = np.asarray(arr)
    if arr.dtype.kind in "iu":
        default = slope_a.dtype.type if slope_a.dtype.kind == "f" else np.float64
        ftype = int_scinter_ftype(arr.dtype, slope_a, inter_a, default)
        slope_a, inter_a = slope_a.astype(ftype), inter_a.astype(ftype)
    types = [arr.dtype] + [v.dtype for v, used in ((slope_a, use_slope), (inter_a, use_inter)) if used]
    # One converted copy, scaled in place: no second full-size temporary.
    scaled = arr.astype(np.result_type(*types))
    if use_slope:
        scaled *= slope_a[0]
    if use_inter:
        scaled += inter_a[0]
    return scaled


def finite_range(
    arr: ArrayLike, check_nan: bool = False
) -> tuple[Any, Any] | tuple[Any, Any, bool]:
    """Least and greatest finite values of `arr`, and with `check_nan` whether it holds NaN.

    ``(inf, -inf)`` when nothing is finite. Raises TypeError for
    non-numeric (including bool) arrays.

    >>> finite_range(np.array([[-1, 0, 1], [np.inf, np.nan, -np.inf]]), check_nan=True)
    (np.float64(-1.0), np.float64(1.0), True)
    """
    arr = np.asarray(arr)
    kind = arr.dtype.kind
    if kind not in "iufc":
        raise ArgumentTypeError("Can only handle numeric types")
    if arr.size == 0:
        mn, mx, has_nan = np.inf, -np.inf, False
    elif kind in "iu":
        mn, mx, has_nan = arr.min(), arr.max(), False
    else:
        mn, mx, has_nan = _inexact_range(arr)
    return (mn, mx, has_nan) if check_nan else (mn, mx)


def _inexact_range(arr: np.ndarray) -> tuple[Any, Any, bool]:
    if arr.dtype.kind == "f":
        # Fast path: reductions make no temporaries, and min propagates NaN.
        mn, mx = arr.min(), arr.max()
        if np.isfinite(mn) and np.isfinite(mx):
            return mn, mx, False
        has_nan = bool(np.isnan(mn))
        mn, mx = np.fmin.reduce(arr, axis=None), np.fmax.reduce(arr, axis=None)
        if np.isfinite(mn) and np.isfinite(mx):
            return mn, mx, has_nan
    else:
        has_nan = None
    # Infinities present (or complex): mask block by block to bound memory.
    scalar = np.dtype(arr.dtype.newbyteorder("=")).type
    mn, mx, saw_nan = scalar(np.inf), scalar(-np.inf), False
    for block in _iter_blocks(arr, "K", _BLOCK_BYTES // arr.dtype.itemsize):
        finite = np.isfinite(block)
        if has_nan is None and not saw_nan:
            saw_nan = bool(np.isnan(block).any())
        kept = block[finite]
        if kept.size:
            mn, mx = min(mn, kept.min()), max(mx, kept.max())
    return mn, mx, saw_nan if has_nan is None else has_nan


# ---------------------------------------------------------------------------
# File positioning and raw I/O



def write_zeros(fileobj: IO[bytes], count: int, block_size: int = 8194) -> None:
    """Write `count` zero bytes, at most `block_size` at a time."""
    block = bytes(block_size)
    full, rest = divmod(count, block_size)
    for _ in range(full):
        fileobj.write(block)
    if rest:
        fileobj.write(block[:rest])


def seek_tell(fileobj: IO[bytes], offset: int, write0: bool = False) -> None:
    """Move `fileobj` to `offset`, also for streams that cannot seek.

    If seeking fails, being at `offset` already is fine; with `write0`,
    zeros are written to get there (for compressed streams open for writing).
    """
    try:
        if fileobj.tell() == offset:
            return  # nothing to do, and write-mode streams may refuse any seek
    except (AttributeError, OSError):
        pass
    try:
        fileobj.seek(offset)
    except OSError as err:
        position = fileobj.tell()
        if position == offset:
            return
        if not write0:
            raise
        if position > offset:
            raise UnsupportedOperationError("Can't write to seek backwards") from err
        write_zeros(fileobj, offset - position)


def _memmap(infile: Any, dtype: np.dtype, shape: tuple[int, ...], offset: int,
            order: str, mode: str, n_bytes: int) -> np.memmap | None:
    """A memory map of the data, or None if `infile` is not a plain file."""
    target = infile if _plain_file(infile) is not None else getattr(infile, "fobj", None)
    # Only plain files: a compressed stream also has a fileno, of the wrong bytes.
    if _plain_file(target) is None:
        return None
    try:
        status = os.fstat(target.fileno())
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(status.st_mode):  # pipes and devices cannot be mapped
        return None
    size = status.st_size
    if offset + n_bytes > size:
        raise _truncated(n_bytes, max(size - offset, 0), infile)
    try:
        return np.memmap(target, dtype, mode=mode, offset=offset, shape=shape, order=order)
    except (OSError, ValueError, TypeError):
        return None


def _read_fully(infile: Any, buffer: memoryview) -> int:
    """Fill `buffer` from `infile` in bounded blocks; return the bytes read."""
    readinto = getattr(infile, "readinto", None)
    total, wanted = 0, len(buffer)
    while total < wanted:
        target = buffer[total:total + _BLOCK_BYTES]
        if readinto is not None:
            got = readinto(target) or 0
        else:
            data = infile.read(len(target))
            got = len(data)
            target[:got] = data
        if got == 0:
            break
        total += got
    return total


def array_from_file(
    shape: Sequence[int],
    in_dtype: DTypeLike,
    infile: IO[bytes],
    offset: int = 0,
    order: str = "F",
    mmap: bool | str = True,
) -> np.ndarray:
    """Array of `shape` and `in_dtype` stored at `offset` in `infile`.

    With `mmap` True (same as ``'c'``), ``'r'`` or ``'r+'``, a plain file is
    memory mapped in that mode; other file objects, or ``mmap=False``, are
    read into a new array without intermediate copies. A file too short for
    the array raises :class:`~nivox.errors.TruncatedDataError`.
    """
    if mmap not in _MMAP_MODES:
        raise InvalidArgumentError("mmap value should be one of True, False, 'c', 'r', 'r+'")
    if order not in ("F", "C"):
        raise InvalidArgumentError(f"order should be 'F' or 'C', not {order!r}")
    dtype = np.dtype(in_dtype)
    if dtype.hasobject:
        raise InvalidArgumentError(f"Cannot read object arrays ({dtype}) from a file")
    shape = tuple(int(n) for n in shape)
    n_bytes = math.prod(shape) * dtype.itemsize
    if n_bytes == 0:
        return np.empty(shape, dtype, order=order)
    available = _bytes_after(infile, offset)
    if available is not None and available < n_bytes:
        raise _truncated(n_bytes, available, infile)
    if mmap:
        mode = "c" if mmap is True else mmap
        mapped = _memmap(infile, dtype, shape, offset, order, mode, n_bytes)
        if mapped is not None:
            return mapped
    seek_tell(infile, offset)
    if n_bytes > _BLOCK_BYTES and available is None:
        # size unknown (a stream): see that data are there before allocating
        probe = infile.read(_BLOCK_BYTES)
        if len(probe) < _BLOCK_BYTES:
            raise _truncated(n_bytes, len(probe), infile)
        seek_tell(infile, offset)
    arr = np.empty(shape, dtype, order=order)
    # A flat byte view of the new array, so the file is read straight into it.
    raw = (arr.T if order == "F" else arr).reshape(-1).view(np.uint8)
    got = _read_fully(infile, memoryview(raw))
    if got < n_bytes:
        raise _truncated(n_bytes, got, infile)
    return arr


def _plain_file(fileobj: Any) -> Any:
    """The ``io.FileIO`` under `fileobj` if it is a plain file object, else None.

    Exact types only: a codec's reader may subclass ``BufferedReader`` and
    has a ``fileno``, but of the compressed bytes.
    """
    raw = fileobj.raw if type(fileobj) in (io.BufferedReader, io.BufferedRandom) else fileobj
    return raw if type(raw) is io.FileIO else None


def _bytes_after(infile: Any, offset: int) -> int | None:
    """Bytes a plain file on disk holds after `offset`; None for anything else (streams, codecs)."""
    raw = _plain_file(infile)
    if raw is None:
        return None
    try:
        info = os.fstat(raw.fileno())
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return max(info.st_size - offset, 0)


def _truncated(n_bytes: int, got: int, infile: Any) -> TruncatedDataError:
    name = getattr(infile, "name", None)
    label = os.fsdecode(name) if isinstance(name, (str, bytes, os.PathLike)) else "object"
    return TruncatedDataError(
        f"Expected {n_bytes} bytes, got {got} bytes from {label}\n - could the file be damaged?"
    )


def _iter_blocks(arr: np.ndarray, order: str, max_items: int) -> Iterator[np.ndarray]:
    """1-D pieces of `arr` in memory order `order`, each at most `max_items` long."""
    iterator = np.nditer(
        arr,
        flags=["external_loop", "buffered", "zerosize_ok", "refs_ok"],
        op_flags=[["readonly"]],
        order=order,
        buffersize=max(1, max_items),
    )
    yield from iterator


def array_to_file(
    data: ArrayLike,
    fileobj: IO[bytes],
    out_dtype: DTypeLike | None = None,
    offset: int | None = 0,
    intercept: Any = 0.0,
    divslope: Any = 1.0,
    mn: Any = None,
    mx: Any = None,
    order: str = "F",
    nan2zero: bool = True,
) -> None:
    """Write ``(clip(data, mn, mx) - intercept) / divslope`` to `fileobj` as `out_dtype`.

    For integer output the scaled values are rounded and clipped to the
    type's range, and (with `nan2zero`) NaNs are written as the integer that
    reads back as 0. A `divslope` of None, or ``mn == mx == 0``, or
    ``mx < mn``, writes zeros. `offset` None writes at the current position.
    Data are converted block by block, so no full-size temporary is made; an
    array already in `out_dtype` and `order` is written in one call, from its own memory.
    """
    if not np.isfinite(intercept) or (divslope is not None and not np.isfinite(divslope)):
        raise InvalidArgumentError("divslope and intercept must be finite")
    if divslope is not None and divslope == 0:
        raise InvalidArgumentError("divslope cannot be zero")
    if order not in ("F", "C"):
        raise InvalidArgumentError("Order should be one of F or C")
    arr = np.asanyarray(data)
    out_dt = arr.dtype if out_dtype is None else np.dtype(out_dtype)
    if offset is not None:
        seek_tell(fileobj, offset)
    no_valid_data = divslope is None or (mn is not None and mx is not None and (
        mx < mn or (mn == 0 and mx == 0)))
    if no_valid_data:
        write_zeros(fileobj, arr.size * out_dt.itemsize)
        return
    convert = _block_converter(arr, out_dt, intercept, divslope, mn, mx, nan2zero)
    unchanged = arr.dtype == out_dt and intercept == 0 and divslope == 1 and mn is None and mx is None
    if unchanged and (arr.flags.f_contiguous if order == "F" else arr.flags.c_contiguous):
        # already the bytes to write: one call, so a parallel writer can compress in place
        view = (arr.T if order == "F" else arr).reshape(-1).view(np.uint8).data
        while len(view):
            written = fileobj.write(view)
            # an unbuffered file may write part of a big buffer (Linux: at most 2 GiB a call)
            if written is None or written >= len(view):
                break
            view = view[written:]
        return
    widest = max(arr.dtype.itemsize, out_dt.itemsize, 16)
    for block in _iter_blocks(arr, order, _BLOCK_BYTES // widest):
        out = convert(block)
        fileobj.write(np.ascontiguousarray(out).view(np.uint8))


# ---------------------------------------------------------------------------
# Small helpers nibabel keeps private here and code written for it imports
# (_dt_min_max, _ftype4scaled_finite and _write_data live in _a2f).


def _is_compressed_fobj(fobj: Any) -> bool:
    """True when `fobj` is a compressed file object (gzip, bz2, zstd; nivox's or the stdlib's)."""
    from ._compression import is_compressed_fobj

    return is_compressed_fobj(fobj)
