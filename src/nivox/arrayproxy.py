"""Array proxies: arrays that stay in their file until they are indexed.

An :class:`ArrayProxy` knows where an image's data lives (file, offset,
shape, dtype, memory order) and how to scale it (slope, intercept). It reads
nothing until asked: ``proxy[...]`` reads only the bytes the index needs
(:func:`nivox.fileslice.fileslice`), ``np.asarray(proxy)`` reads everything.

The read path is built to touch memory as little as possible:

- uncompressed files with ``mmap`` enabled are memory-mapped; unscaled data
  comes back as a map of the file, scaled data is computed from the map;
- a full read of a big uncompressed file named by path (``mmap=False``)
  runs on all cores: each thread reads chunks straight into their place in
  the result, or, when the result is converted, into a small buffer of its
  own that it converts into place, so reading and converting overlap;
- otherwise a full read goes with ``readinto`` straight into the result; when
  the result is scaled into a wider type, the raw bytes are read into the
  tail of the result's own memory and converted front to back, so no second
  full-size buffer exists;
- scaling runs in chunks through a small buffer in the dtype nibabel would
  compute in, then casts into the requested dtype, so asking for float32
  never builds a float64 array of the whole image yet gives the same values
  (:mod:`nivox._scaling`).
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ._scaling import convert_in_parallel, converter, is_identity, scaled_dtype, scaling
from .errors import (
    ArgumentTypeError, ImageDataError, ImageFileNotFoundError, InvalidArgumentError, TruncatedDataError,
)
from . import _compression, openers
from .fileslice import _byte_view, fileslice, read_array, read_file_threaded
from .openers import ImageOpener

__all__ = [
    "KEEP_FILE_OPEN_DEFAULT",
    "ArrayLike",
    "ArrayProxy",
    "get_obj_dtype",
    "is_proxy",
    "reshape_dataobj",
    "scaled_dtype",
]

#: whether proxies keep their file open between reads when not told; read
#: when each proxy is created, so assigning it changes proxies made afterwards
KEEP_FILE_OPEN_DEFAULT: bool = False



@runtime_checkable
class ArrayLike(Protocol):
    """What nivox accepts as an image's data: numpy arrays and array proxies."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    @property
    def ndim(self) -> int: ...

    def __array__(self, dtype: Any = None, /) -> np.ndarray: ...

    def __getitem__(self, key: Any, /) -> Any: ...


class _SharedHandle:
    """The lock, and the file kept open, shared by a proxy and its copies.

    Closing happens when the last proxy using it goes away.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.opener: ImageOpener | None = None

    def close(self) -> None:
        opener, self.opener = self.opener, None
        if opener is not None:
            opener.close_if_mine()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown or a file already gone
            pass


def _check_keep_file_open(value: Any) -> bool:
    if value is None:
        value = KEEP_FILE_OPEN_DEFAULT
        if value not in (True, False):
            raise InvalidArgumentError(f"nivox.arrayproxy.KEEP_FILE_OPEN_DEFAULT must be True or False, not {value!r}")
    if value not in (True, False):
        raise InvalidArgumentError(f"keep_file_open must be one of {{None, True, False}}, not {value!r}")
    return bool(value)


def _opener_policy(file_like: Any, keep_file_open: bool) -> tuple[bool, bool]:
    """(keep the file handle open, keep one opener for the proxy's life).

    A file object given to the proxy is the caller's: it is never held or
    replaced. A file named by path keeps one opener (and handle) when asked
    to. Without ``keep_file_open``, one opener is still kept for a gzip file
    when gzip reads go through ``_compression.IndexedGzipFile`` (nibabel's
    switch, off in nivox): that reader keeps its seek index in the opener,
    and re-opening would throw it away. nivox's own gzip reader keeps seek
    points in a process-wide cache, so it needs no persistent opener.
    """
    if openers._is_fileobj(file_like):
        return False, False
    if keep_file_open:
        return True, True
    indexed = bool(_compression.HAVE_INDEXED_GZIP) and getattr(
        ImageOpener.codec_for(file_like), "name", None) == "gzip"
    return False, indexed


def _parse_spec(spec: Any) -> tuple[tuple[int, ...], np.dtype, int, Any, Any]:
    if hasattr(spec, "get_data_shape"):
        shape = spec.get_data_shape()
        dtype = spec.get_data_dtype()
        offset = spec.get_data_offset()
        get_slope_inter = getattr(spec, "get_slope_inter", None)
        slope, inter = get_slope_inter() if get_slope_inter is not None else (None, None)
    elif isinstance(spec, tuple) and 2 <= len(spec) <= 5:
        shape, dtype, offset, slope, inter = spec + (0, None, None)[len(spec) - 2 :]
    else:
        raise ArgumentTypeError("spec must be a header (with get_data_shape, ...) or a tuple (shape, dtype[, offset[, slope[, inter]]])")
    shape = tuple(int(n) for n in shape)
    if any(n < 0 for n in shape):
        raise InvalidArgumentError(f"array shape {shape} has a negative length")
    return (
        shape,
        np.dtype(dtype),
        int(offset),
        1.0 if slope is None else slope,
        0.0 if inter is None else inter,
    )


class ArrayProxy:
    """An array stored in a file, read (and scaled) only when indexed.

    Parameters
    ----------
    file_like : str, os.PathLike or file-like
        File name (opened through :class:`~nivox.openers.ImageOpener`, so
        compressed files work), or an open binary file object.
    spec : header or tuple
        A header with ``get_data_shape()``, ``get_data_dtype()``,
        ``get_data_offset()`` and optionally ``get_slope_inter()``; or a tuple
        ``(shape, dtype[, offset[, slope[, inter]]])``. A slope or intercept
        of None means 1 or 0.
    mmap : {True, False, 'c', 'r'}, optional
        Memory-map uncompressed files: True or 'c' copy-on-write, 'r'
        read-only; False reads into memory.
    order : {'F', 'C'}, optional
        Memory order of the data in the file (default ``_default_order``).
    keep_file_open : {None, True, False}, optional
        True keeps one handle open for the proxy's life (and its copies');
        False opens the file on every read; None uses
        :data:`KEEP_FILE_OPEN_DEFAULT`. Ignored for an open file object,
        which the proxy reads but never closes. ``_keep_file_open`` and
        ``_persist_opener`` hold the decision, under nibabel's names.
    """

    _default_order = "F"

    def __init__(
        self,
        file_like: Any,
        spec: Any,
        *,
        mmap: bool | str = True,
        order: str | None = None,
        keep_file_open: bool | None = None,
    ) -> None:
        if mmap not in (True, False, "c", "r"):
            raise InvalidArgumentError(f"mmap should be one of {{True, False, 'c', 'r'}}, not {mmap!r}")
        default_order = self._default_order
        if "order" in dir(type(self)):
            # nibabel 5.0 renamed the subclass hook `order` to `_default_order`; honour the old one
            warnings.warn(
                f"Class {type(self)} has an `order` class variable. ArrayProxy subclasses should "
                "rename this variable to `_default_order` to avoid conflict with instance variables.",
                DeprecationWarning, stacklevel=2)
            default_order = getattr(type(self), "order")  # noqa: B009 - instance attribute of the same name
        order = default_order if order is None else order
        if order not in ("F", "C"):
            raise InvalidArgumentError(f"order should be 'F' or 'C', not {order!r}")
        self.file_like = file_like
        self._shape, self._dtype, self._offset, self._slope, self._inter = _parse_spec(spec)
        self._mmap = mmap
        self.order = order
        self._keep_file_open, self._persist_opener = _opener_policy(
            file_like, _check_keep_file_open(keep_file_open))
        self._shared = _SharedHandle()

    # ------------------------------------------------------------ description

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the data in the file (before scaling)."""
        return self._dtype

    @property
    def offset(self) -> int:
        return self._offset

    @property
    def slope(self) -> Any:
        return self._slope

    @property
    def inter(self) -> Any:
        return self._inter

    @property
    def is_proxy(self) -> bool:
        return True

    @property
    def is_compressed(self) -> bool:
        """Whether the file is read through a decompressor."""
        return ImageOpener.codec_for(self.file_like) is not None

    @property
    def _lock(self) -> threading.RLock:
        return self._shared.lock

    @property
    def _opener(self) -> ImageOpener | None:
        # the opener kept for the proxy's life (nibabel's name), once a read has made it
        return self._shared.opener

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.file_like!r} shape={self._shape} dtype={self._dtype}>"

    # ------------------------------------------------------------ file access

    def _mmap_mode(self) -> str | None:
        if self._mmap is False or not isinstance(self.file_like, (str, os.PathLike)):
            return None
        if not self._shape or self.is_compressed:
            return None
        return "c" if self._mmap is True else str(self._mmap)

    @contextmanager
    def _fileobj(self) -> Iterator[tuple[Any, Any]]:
        """(open file, lock to hold while reading it or None)."""
        shared = self._shared
        # looked up at each use, so a replacement ImageOpener class (or a patch) takes effect
        opener_class = openers.ImageOpener
        if self._persist_opener:
            with shared.lock:
                if shared.opener is None or shared.opener.closed:
                    shared.opener = opener_class(self.file_like, keep_open=self._keep_file_open)
                opener = shared.opener
            yield opener, shared.lock
            return
        with opener_class(self.file_like) as opener:
            # a file object given to us may be shared; our own handle is not
            yield opener, (None if opener.me_opened else shared.lock)

    def _nbytes(self) -> int:
        return math.prod(self._shape) * self._dtype.itemsize

    def _memmap(self, mode: str) -> np.ndarray:
        nbytes = self._nbytes()
        if nbytes == 0:
            return np.empty(self._shape, self._dtype, order=self.order)
        try:
            # mapped through the proxy's opener, so a kept-open handle is reused;
            # the map stays valid after a handle opened for this read closes
            with self._fileobj() as (opener, lock), (lock or contextlib.nullcontext()):
                fobj = opener.fobj
                size = os.fstat(fobj.fileno()).st_size
                if size < self._offset + nbytes:
                    raise TruncatedDataError(
                        f"{os.fsdecode(self.file_like)}: expected {nbytes} bytes of array data after "
                        f"offset {self._offset}, but the file holds {max(0, size - self._offset)}"
                    )
                return np.memmap(
                    fobj, self._dtype, mode=mode, offset=self._offset, shape=self._shape, order=self.order
                )
        except FileNotFoundError as err:
            if isinstance(err, ImageFileNotFoundError):
                raise
            raise ImageFileNotFoundError(f"cannot read {os.fsdecode(self.file_like)!r}: no such file") from err

    def _read(self, slicer: Any = None) -> np.ndarray:
        """The unscaled data, or the part ``slicer`` selects."""
        mode = self._mmap_mode()
        if mode is not None:
            whole = self._memmap(mode)
            if slicer is None:
                return whole
            part = whole[slicer]
        else:
            out = None
            if slicer is None and self._plain_path():
                out = np.empty(self._shape, self._dtype, order=self.order)
                if read_file_threaded(self.file_like, self._offset, self._dtype, out, self.order):
                    return out
            with self._fileobj() as (fileobj, lock):
                if slicer is None:
                    return read_array(fileobj, self._shape, self._dtype, self._offset, self.order, out=out, lock=lock)
                part = fileslice(fileobj, slicer, self._shape, self._dtype, self._offset, self.order, lock=lock)
        # an all-integer index gives a numpy scalar; proxies give 0-d arrays
        return part if isinstance(part, np.ndarray) else np.asarray(part)

    def _read_into_tail(self, out: np.ndarray) -> np.ndarray:
        """Read the whole raw array into the last bytes of ``out``'s memory."""
        raw_size = self._dtype.itemsize
        if not raw_size or out.itemsize % raw_size or out.dtype.hasobject:
            return self._read()
        memory = _byte_view(out)
        start = memory.size - self._nbytes()
        tail = memory[start:].view(self._dtype)
        # room before the tail lets a compressed file decompress header and all into place
        # (and hold its compressed bytes before that)
        whole_file = memory if start >= self._offset else None
        with self._fileobj() as (fileobj, lock):
            read_array(fileobj, tail.shape, self._dtype, self._offset, "C", out=tail, lock=lock, whole_file=whole_file)
        return tail.reshape(self._shape, order=self.order)

    # ------------------------------------------------------------ data

    def _get_scaled(self, dtype: Any, slicer: Any) -> np.ndarray:
        try:
            return self._scaled(dtype, slicer)
        except MemoryError:
            name = os.fsdecode(self.file_like) if isinstance(self.file_like, (str, os.PathLike)) \
                else getattr(self.file_like, "name", "<file object>")
            raise ImageDataError(
                f"{name}: not enough memory to read the {self._shape} {self._dtype} data "
                "(read it in slices: img.dataobj[...])"
            ) from None

    def _scaled(self, dtype: Any, slicer: Any) -> np.ndarray:
        want = None if dtype is None else np.dtype(dtype)
        if is_identity(self._slope, self._inter):
            if want is None or want == self._dtype:
                return self._read(slicer)
            compute = product = want  # a plain cast, as ``raw.astype(want)``
            slope, inter = np.ones((), want), np.zeros((), want)
        else:
            compute, product, slope, inter = scaling(self._dtype, self._slope, self._inter, want)
            want = compute if want is None else want
        convert = converter(slope, inter, compute, product)
        if slicer is None and self._mmap_mode() is None:
            out = np.empty(self._shape, want, order=self.order)
            if self._plain_path() and read_file_threaded(
                self.file_like, self._offset, self._dtype, out, self.order, convert
            ):
                return out
            raw = self._read_into_tail(out)
        else:
            raw = self._read(slicer)
            out = np.empty_like(raw, dtype=want, subok=False)
        convert_in_parallel(raw, out, convert)
        return out

    def _plain_path(self) -> bool:
        """Whether the data lie in an uncompressed file named by path, readable without a shared handle."""
        return isinstance(self.file_like, (str, os.PathLike)) and not self.is_compressed and not self._keep_file_open

    def get_unscaled(self) -> np.ndarray:
        """All the data as stored in the file, without scaling."""
        return self._read()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """All the data, scaled, in ``dtype`` (default: the scaled dtype)."""
        arr = self._get_scaled(dtype, None)
        if copy and isinstance(arr, np.memmap):
            arr = np.array(arr)
        return arr

    def __getitem__(self, slicer: Any) -> np.ndarray:
        """The scaled data ``slicer`` selects, reading only what it needs."""
        return self._get_scaled(None, slicer)

    def reshape(self, shape: int | Sequence[int]) -> ArrayProxy:
        """A proxy of the same data with another shape (one length may be -1)."""
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        shape = tuple(int(n) for n in shape)
        size = math.prod(self._shape)
        unknown = [i for i, n in enumerate(shape) if n == -1]
        if len(unknown) > 1:
            raise InvalidArgumentError("can only specify one unknown dimension")
        if any(n < -1 for n in shape):
            raise InvalidArgumentError(f"negative dimensions not allowed: {shape}")
        if unknown:
            known = math.prod([n for n in shape if n != -1])
            if known == 0 or size % known:
                raise InvalidArgumentError(f"cannot reshape array of size {size} into shape {shape}")
            shape = shape[: unknown[0]] + (size // known,) + shape[unknown[0] + 1 :]
        if math.prod(shape) != size:
            raise InvalidArgumentError(f"cannot reshape array of size {size} into shape {shape}")
        reshaped = self.__copy__()  # shares the open file and lock
        reshaped._shape = shape
        return reshaped

    def copy(self) -> ArrayProxy:
        """A proxy of the same data.

        As nibabel: for a named file the copy opens its own handle under its
        own lock; an open file object is shared, with the lock guarding its
        position. (``copy.copy`` and ``reshape`` always share.)
        """
        clone = self.__copy__()
        if isinstance(self.file_like, (str, os.PathLike)):
            clone._shared = _SharedHandle()
        return clone

    def __copy__(self) -> ArrayProxy:
        # not through __getstate__, which drops the shared handle for pickling
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_shared"]  # locks and open files do not pickle
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._shared = _SharedHandle()


def is_proxy(obj: Any) -> bool:
    """Whether ``obj`` is an array proxy (has a true ``is_proxy`` attribute)."""
    try:
        return bool(obj.is_proxy)
    except AttributeError:
        return False


def reshape_dataobj(obj: Any, shape: Sequence[int]) -> Any:
    """``obj`` reshaped: a proxy stays a proxy, anything else goes through numpy."""
    return obj.reshape(shape) if hasattr(obj, "reshape") else np.reshape(obj, shape)


def get_obj_dtype(obj: Any) -> np.dtype:
    """The dtype ``np.asarray(obj)`` would have, reading at most one element."""
    if isinstance(obj, ArrayProxy):
        return scaled_dtype(obj.dtype, obj.slope, obj.inter)
    if is_proxy(obj):
        shape = tuple(obj.shape)
        if all(shape):
            return np.asanyarray(obj[(0,) * len(shape)]).dtype
        return np.asanyarray(obj[...]).dtype
    if isinstance(obj, np.ndarray):
        return obj.dtype
    return np.asanyarray(obj).dtype
