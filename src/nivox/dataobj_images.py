"""DataobjImage: an image whose data is an array or an array proxy read on demand."""

from __future__ import annotations

import os
import sys
from typing import Any, TypeVar

import numpy as np

from .arrayproxy import is_proxy
from .deprecator import expired
from .errors import ImageDataError, ImageDataTypeError, InvalidArgumentError
from .filebasedimages import FileBasedImage
from .fileholders import FileMap
from .validation import mode as validation_mode

__all__ = ["DataobjImage"]

ImgT = TypeVar("ImgT", bound="DataobjImage")
FileSpec = str | os.PathLike[str]
_MMAP_VALUES = (True, False, "c", "r")


def check_mmap(mmap: Any) -> None:
    """Refuse a ``mmap`` argument outside True, False, 'c', 'r'."""
    if not any(mmap is value or (isinstance(value, str) and mmap == value) for value in _MMAP_VALUES):
        raise InvalidArgumentError(f"mmap should be one of {{True, False, 'c', 'r'}}, not {mmap!r}")


class DataobjImage(FileBasedImage):
    """An image holding ``dataobj``: an ndarray, or a proxy that reads from file when asked.

    ``get_fdata`` caches the floating point array it makes (with
    ``caching='fill'``) and returns that same array while the dtype asked for
    stays the same; ``uncache`` drops it.
    """

    def __init__(
        self,
        dataobj: Any,
        header: Any = None,
        extra: Any = None,
        file_map: FileMap | None = None,
    ) -> None:
        super().__init__(header=header, extra=extra, file_map=file_map)
        self._dataobj = dataobj
        self._fdata_cache: np.ndarray | None = None
        self._data_cache: np.ndarray | None = None

    @property
    def dataobj(self) -> Any:
        return self._dataobj

    get_data = expired("get_data()", "get_fdata() or numpy.asanyarray(img.dataobj)", since="3.0")

    def get_fdata(self, caching: str = "fill", dtype: Any = np.float64) -> np.ndarray:
        """The image data as a floating point array of ``dtype``.

        Parameters
        ----------
        caching : {'fill', 'unchanged'}
            'fill' keeps the array so the next call returns it; 'unchanged'
            neither fills nor clears the cache.
        dtype : floating point dtype
            A cached array of another dtype is not returned; the data are read
            again in the dtype asked for.
        """
        if caching not in ("fill", "unchanged"):
            raise InvalidArgumentError(
                f"caching value should be 'fill' or 'unchanged', not {caching!r}")
        dtype = np.dtype(dtype)
        if not issubclass(dtype.type, np.inexact):
            raise InvalidArgumentError(f"{dtype} should be a floating point type")
        cached = self._fdata_cache
        if cached is not None and cached.dtype.type == dtype.type:
            return cached
        self._check_float_data(dtype)
        data = np.asanyarray(self._dataobj, dtype=dtype)
        if caching == "fill":
            self._fdata_cache = data
        return data

    def _check_float_data(self, dtype: np.dtype) -> None:
        """Refuse, naming the file, data that cannot become an array of floats ``dtype``."""
        stored = getattr(self._dataobj, "dtype", None)
        where = self.get_filename() or "in-memory image"
        if stored is not None and np.dtype(stored).fields is not None:
            raise ImageDataTypeError(
                f"{where}: {np.dtype(stored)} data (such as RGB) have no floating point values; "
                "read them with np.asanyarray(img.dataobj)")
        count = 1
        for length in self.shape:
            count *= int(length)
        if count * dtype.itemsize > sys.maxsize:
            raise ImageDataError(
                f"{where}: shape {self.shape} of {dtype} needs {count * dtype.itemsize} bytes, "
                "more than this machine can address")

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if is_proxy(self._dataobj):
            # the proxy pickles as a reference to the file; cached copies of
            # its data would make the pickle as big as the image
            state["_fdata_cache"] = state["_data_cache"] = None
        return state

    @property
    def in_memory(self) -> bool:
        """True when the data are an array, or have been cached by ``get_fdata``."""
        return (
            isinstance(self._dataobj, np.ndarray)
            or self._fdata_cache is not None
            or self._data_cache is not None
        )

    def uncache(self) -> None:
        """Drop cached data; a proxy-backed image reads the file again next time."""
        self._fdata_cache = None
        self._data_cache = None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._dataobj.shape)

    @property
    def ndim(self) -> int:
        return self._dataobj.ndim

    get_shape = expired("get_shape()", "the img.shape property", since="1.2")

    @classmethod
    def from_file_map(
        cls: type[ImgT], file_map: FileMap, *, mmap: Any = True, keep_file_open: bool | None = None,
        validation: str | None = None,
    ) -> ImgT:
        raise NotImplementedError

    @classmethod
    def from_filename(
        cls: type[ImgT], filename: FileSpec, *, mmap: Any = True, keep_file_open: bool | None = None,
        validation: str | None = None,
    ) -> ImgT:
        """Load an image from ``filename``; data stay on disk until asked for.

        Parameters
        ----------
        mmap : {True, False, 'c', 'r'}
            Memory-map uncompressed data (True means 'c', copy-on-write).
        keep_file_open : {None, True, False}
            Keep the file open between reads of the proxy; None uses
            ``nivox.arrayproxy.KEEP_FILE_OPEN_DEFAULT``.
        validation : {None, 'ignore', 'warn', 'raise'}
            How problems in the file are handled (:mod:`nivox.validation`);
            None uses the current mode.
        """
        check_mmap(mmap)
        file_map = cls.filespec_to_file_map(filename)
        # a mode rather than a keyword, so every from_file_map in the class chain sees it
        with validation_mode(validation):
            return cls.from_file_map(file_map, mmap=mmap, keep_file_open=keep_file_open)

    load = from_filename

    def _files_replaced(self, file_map: FileMap) -> None:
        """After saving over the files the proxy reads, read the new files instead.

        The old files were renamed away, not rewritten, so open handles and
        memory maps keep working; but a proxy that opens by name would
        otherwise read the new file with the old layout.
        """
        if not is_proxy(self._dataobj):
            return
        source = getattr(self._dataobj, "file_like", None)
        if not isinstance(source, (str, os.PathLike)):
            return
        replaced = {os.path.abspath(h.filename) for h in file_map.values() if h.filename}
        if os.path.abspath(source) not in replaced:
            return
        fresh = type(self).from_file_map(
            file_map,
            mmap=getattr(self._dataobj, "_mmap", True),
            keep_file_open=getattr(self._dataobj, "_keep_file_open", None),
        )
        self._dataobj = fresh.dataobj
