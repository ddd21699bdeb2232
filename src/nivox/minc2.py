"""MINC2 images: HDF5 files (read and written through h5py, extra ``minc``).

A MINC2 file keeps its image in ``/minc-2.0/image/0/image`` (dimension order
in its ``dimorder`` attribute), the per-slice ``image-min``/``image-max``
beside it, and one variable per dimension in ``/minc-2.0/dimensions``. The
meaning of the values is MINC1's (:mod:`nivox.minc1`): same axes order,
affine and scaling.

Reading: a slice reads only the chunks it touches; reads of compressed
images inflate their chunks on all cores (:mod:`nivox._h5chunks`). A proxy
pickles as the file's name and opens it again when unpickled: no HDF5
handle ever travels.

Writing (nibabel reads MINC2 only): see :mod:`nivox._minc2write`.
"""

from __future__ import annotations

import io
import math
import os
from typing import Any, ClassVar

import numpy as np

from ._mincdims import MincDim, basic_box, is_whole
from .errors import ArgumentTypeError, MincError, MissingDependencyError, NivoxError
from .fileholders import FileMap
from .minc1 import Minc1File, Minc1Image, MincHeader, MincImageArrayProxy

__all__ = ["Hdf5Bunch", "Minc2File", "Minc2Header", "Minc2Image", "load"]

# deflate never expands data more than about 1032 times; a stored image that
# claims more than this many bytes per byte of storage is not real
_MAX_INFLATION = 1100


def h5py_module() -> Any:
    """h5py, or MissingDependencyError naming the extra."""
    try:
        import h5py  # type: ignore[import-untyped]
    except ImportError as err:
        raise MissingDependencyError("MINC2 files need h5py: pip install 'nivox[minc]'") from err
    return h5py


def _decoded(value: Any) -> Any:
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("latin-1").rstrip("\x00")
    if isinstance(value, np.ndarray) and value.dtype.kind == "S" and value.size == 1:
        return bytes(value.reshape(-1)[0]).decode("latin-1").rstrip("\x00")
    return value


class Hdf5Bunch:
    """The attributes of an HDF5 object as Python attributes (strings decoded)."""

    def __init__(self, var: Any) -> None:
        for name, value in var.attrs.items():
            setattr(self, name, value)


class Minc2File(Minc1File):
    """The MINC structure of an opened HDF5 (MINC2) file.

    Parameters
    ----------
    mincfile : h5py.File
        The opened file.
    filename : str, optional
        Used in error messages and to open the file again after unpickling.
    """

    def __init__(self, mincfile: Any, filename: str | None = None) -> None:
        self._mincfile = mincfile
        self._filename = filename if filename is not None else _h5_name(mincfile)
        self._memory: bytes | None = None
        try:
            root = mincfile["minc-2.0"]
            group = root["image"]["0"]
            self._image = group["image"]
            if not hasattr(self._image, "shape"):
                raise MincError(f"{self._name}: /minc-2.0/image/0/image is not a dataset")
            self._dimension_group = root.get("dimensions")
            shape = tuple(int(n) for n in self._image.shape)
            self._shape = shape
            self._dim_names = tuple(self._get_dimensions(self._image))
            if len(self._dim_names) != len(shape):
                raise MincError(f"{self._name}: the image has {len(shape)} axes but its dimorder "
                                f"names {len(self._dim_names)} dimensions")
            self._dims = [self._dimension(name, length) for name, length in zip(self._dim_names, shape)]
            self._spatial_dims = [name for name in self._dim_names if name.endswith("space")]
            self._image_max = group.get("image-max")
            self._image_min = group.get("image-min")
            self._dtype = self._read_dtype()
            self._check_storage()
            from ._h5chunks import filters

            self._filters = filters(self._image)
        except NivoxError:
            raise
        except Exception as err:
            raise MincError(f"{self._name}: not a readable MINC2 file: {type(err).__name__}: {err}") from None

    def _variable(self, name: str, required: bool = True) -> Any:
        raise NotImplementedError  # MINC2 finds its variables by path

    def _get_dimensions(self, var: Any) -> list[str]:
        if var is None:
            return []
        dimorder = _decoded(var.attrs.get("dimorder", ""))
        if not isinstance(dimorder, str) or not dimorder:
            return []
        # a dimorder longer than the variable's rank is a leftover: keep what fits
        return dimorder.split(",")[: len(var.shape)]

    def _attributes(self, var: Any) -> dict[str, Any]:
        if var is None:
            return {}
        return {key: _decoded(value) for key, value in var.attrs.items()}

    def _dimension(self, name: str, length: int) -> MincDim:
        group = self._dimension_group
        var = group.get(name) if group is not None and name else None
        coords = None
        if var is not None and getattr(var, "shape", None) == (length,):
            coords = lambda: np.asarray(var[()], dtype=np.float64)  # noqa: E731 - read only if irregular
        return MincDim.from_attributes(name, length, self._attributes(var), coords, self._name)

    def _read_dtype(self) -> np.dtype:
        dtype = self._image.dtype
        if dtype.kind not in "iuf" or dtype.itemsize not in (1, 2, 4, 8) or dtype.fields:
            raise MincError(f"{self._name}: image data of HDF5 type {dtype} is not a MINC image type")
        return dtype

    def _check_storage(self) -> None:
        """Refuse an image that claims far more data than the file could hold."""
        nbytes = math.prod(self._shape) * self._dtype.itemsize
        if nbytes == 0:
            return
        stored = self._image.id.get_storage_size()
        limit = stored if self._image.compression is None and not self._image.chunks else \
            stored * _MAX_INFLATION
        if nbytes > limit:
            raise MincError(f"{self._name}: the image claims {nbytes} bytes of data but the file "
                            f"stores {stored}; it is damaged or incomplete")

    def _valid_range_attribute(self) -> Any:
        return self._image.attrs.get("valid_range")

    def _scale_values(self, var: Any) -> np.ndarray:
        if not hasattr(var, "shape") or math.prod(var.shape) > max(math.prod(self._shape), 1):
            raise MincError(f"{self._name}: image-min/image-max are bigger than the image")
        return np.asarray(var[()], dtype=np.float64)

    def _raw(self, sliceobj: Any) -> np.ndarray:
        from ._h5chunks import read_box

        whole = tuple(slice(0, n) for n in self._shape)
        if is_whole(sliceobj):
            return np.asarray(read_box(self._image, whole, self._name, self._filters))
        planned = basic_box(self._shape, sliceobj)
        if planned is None:  # fancy indexing: read everything, let numpy pick
            return np.asarray(read_box(self._image, whole, self._name, self._filters))[sliceobj]
        box, rest = planned
        return np.asarray(read_box(self._image, box, self._name, self._filters))[rest]

    @classmethod
    def _reopen(cls, state: dict[str, Any]) -> Minc2File:
        return open_minc2(state["filename"], state.get("memory"))


def _h5_name(mincfile: Any) -> str | None:
    name = getattr(mincfile, "filename", None)
    if isinstance(name, str) and os.path.exists(name):
        return name
    return None


def open_minc2(filename: str | None, memory: bytes | None = None) -> Minc2File:
    """A :class:`Minc2File` for ``filename``, or for the file's bytes ``memory``."""
    h5py = h5py_module()
    name = filename or "<MINC2 stream>"
    try:
        handle = h5py.File(io.BytesIO(memory) if memory is not None else filename, "r")
    except NivoxError:
        raise
    except Exception as err:  # h5py reports damage as OSError, KeyError, ValueError ...
        raise MincError(f"{name}: not a readable HDF5 (MINC2) file: {err}") from None
    minc = Minc2File(handle, filename)
    minc._memory = memory
    return minc


class Minc2Header(MincHeader):
    """Header of MINC2 (HDF5) images."""

    @classmethod
    def may_contain_header(cls, binaryblock: bytes) -> bool:
        """True for the HDF5 signature."""
        return bytes(binaryblock[:4]) == b"\x89HDF"


class Minc2Image(Minc1Image):
    """A MINC2 image (HDF5): read, and written with the layout MINC tools write.

    ``to_filename(..., compresslevel=N)`` sets the deflate level (0: no
    compression); the default is MINC tools' 4.
    """

    header_class: ClassVar[type] = Minc2Header
    _compressed_suffixes: ClassVar[tuple[str, ...]] = ()  # HDF5 compresses inside the file
    rw: ClassVar[bool] = True

    @classmethod
    def _open_minc(cls, file_map: FileMap) -> Minc2File:
        holder = file_map["image"]
        if holder.fileobj is None and holder.filename is not None:
            return open_minc2(os.fspath(holder.filename))
        with holder.get_prepare_fileobj("rb") as fobj:
            memory = fobj.read()
        return open_minc2(os.fspath(holder.filename) if holder.filename else None, bytes(memory))

    @classmethod
    def from_file_map(cls, file_map: FileMap, *, mmap: Any = True, keep_file_open: bool | None = None,
                      validation: str | None = None) -> Minc2Image:
        """Read the image in ``file_map['image']``; the data stay in the file until used."""
        img = super().from_file_map(file_map, mmap=mmap, keep_file_open=keep_file_open,
                                    validation=validation)
        assert isinstance(img, Minc2Image)
        return img

    def to_file_map(self, file_map: FileMap | None = None, **kwargs: Any) -> None:
        """Write the image as MINC2 to ``file_map['image']`` (a file name or a writable file object)."""
        from ._atomic import replacing_files
        from ._minc2write import write_minc2

        if file_map is None:
            file_map = self.file_map
        level = kwargs.pop("compresslevel", None)
        if kwargs:
            raise ArgumentTypeError(f"unexpected arguments {sorted(kwargs)}")
        with replacing_files(file_map) as temp_map:
            holder = temp_map["image"]
            if holder.fileobj is not None:
                # h5py would open what a reused file object already holds (a MINC2
                # file read before) and add to it: write a fresh file, then replace
                fresh = io.BytesIO()
                write_minc2(self, fresh, level)
                holder.fileobj.seek(0)
                holder.fileobj.truncate()
                holder.fileobj.write(fresh.getbuffer())
            elif holder.filename is not None:
                write_minc2(self, os.fspath(holder.filename), level)
            else:
                raise MincError("no file name or file object to write the MINC2 image to")
        self.file_map = file_map


load = Minc2Image.from_filename

# nibabel's proxy class name, for code that imports it from here
__all__ += ["MincImageArrayProxy"]
