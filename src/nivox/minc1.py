"""MINC1 images: netCDF-3 files of the Montreal Neurological Institute's format.

The netCDF structure is read by scipy's netCDF-3 reader (``scipy.io.netcdf_file``,
extra ``minc``); this module only interprets what it finds. Uncompressed
files are memory-mapped, so a slice reads only the pages it touches;
``.mnc.gz``/``.bz2``/``.zst`` files are decompressed into memory once.

MINC stores data in the order of its dimensions, slowest first (usually
``zspace, yspace, xspace``), and nivox, like nibabel, keeps that order: the
array axes are the file's dimensions, and column ``i`` of the affine belongs
to the ``i``-th spatial dimension. Integer data are mapped to real values
slice by slice: values are clipped to ``valid_range`` and stretched linearly
onto ``[image-min, image-max]`` of their slice (see :class:`Minc1File`).

Saving a MINC1 image writes MINC2 (:mod:`nivox.minc2`): nivox writes no MINC1.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import IO, Any, ClassVar

import numpy as np

from ._mincdims import MincDim, broadcast_index, is_whole, scaled_read, scaling
from .errors import ArgumentTypeError, ImageDataError, MincError, MissingDependencyError, NivoxError
from .fileholders import FileMap
from .spatialimages import SpatialHeader, SpatialImage

__all__ = ["Minc1File", "Minc1Header", "Minc1Image", "MincError", "MincHeader", "MincImageArrayProxy",
           "load"]

# netCDF type code and MINC signtype -> numpy type; MINC's default sign is
# unsigned for bytes and signed for everything else
_INT_TYPES = {
    ("b", "unsigned"): np.uint8,
    ("b", "signed__"): np.int8,
    ("h", "unsigned"): np.uint16,
    ("h", "signed__"): np.int16,
    ("i", "unsigned"): np.uint32,
    ("i", "signed__"): np.int32,
}
_DEFAULT_SIGN = {"b": "unsigned", "h": "signed__", "i": "signed__"}


def _netcdf_file() -> Any:
    try:
        from scipy.io import netcdf_file  # type: ignore[import-untyped]
    except ImportError as err:
        raise MissingDependencyError(
            "reading MINC1 files needs scipy: pip install 'nivox[minc]'") from err
    return netcdf_file


def _decoded(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("latin-1").rstrip("\x00")
    return value


class _BoundedReader(io.RawIOBase):
    """A file that never returns more than it holds: a corrupt length cannot make a huge read.

    scipy's netCDF reader asks for as many bytes as a header field says; a
    buffered file object allocates the whole request first.
    """

    def __init__(self, raw: IO[bytes], size: int) -> None:
        self._raw = raw
        self._size = size

    @property
    def closed(self) -> bool:  # type: ignore[override]
        # closed with the file under it: scipy then leaves a memory map
        # that arrays still use alone, rather than warning at garbage collection
        return bool(self._raw.closed)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._raw.fileno()

    def tell(self) -> int:
        return self._raw.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def read(self, size: int | None = -1) -> bytes:
        left = max(self._size - self._raw.tell(), 0)
        size = left if size is None or size < 0 else min(int(size), left)
        return self._raw.read(size)


def open_netcdf(source: Any, filename: str | None) -> Any:
    """Open ``source`` (a path, or bytes in memory) with scipy's netCDF-3 reader.

    A path is memory-mapped. Any failure becomes a :class:`MincError` naming the file.
    """
    netcdf_file = _netcdf_file()
    name = filename or "<MINC1 stream>"
    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            return netcdf_file(_BoundedReader(io.BytesIO(source), len(source)), "r", mmap=False)
        with open(source, "rb") as raw:
            size = os.fstat(raw.fileno()).st_size
            return netcdf_file(_BoundedReader(raw, size), "r", mmap=True)
    except NivoxError:
        raise
    except MemoryError:
        raise
    except Exception as err:  # scipy reports damage with whatever exception it met
        raise MincError(f"{name}: not a readable netCDF (MINC1) file: {err}") from None


class Minc1File:
    """The MINC structure of an opened netCDF file: dimensions, data type, scaling, affine.

    Parameters
    ----------
    mincfile : scipy.io.netcdf_file
        The opened file (scipy's reader, or any object with its ``variables``).
    filename : str, optional
        Used in error messages and to open the file again after unpickling.
    """

    def __init__(self, mincfile: Any, filename: str | None = None) -> None:
        self._mincfile = mincfile
        self._filename = filename if filename is not None else _name_of(mincfile)
        self._memory: bytes | None = None  # the file's bytes, when it was read into memory
        try:
            self._image = self._variable("image")
            self._dim_names = tuple(self._get_dimensions(self._image))
            shape = tuple(int(n) for n in self._image.shape)
            if len(self._dim_names) != len(shape):
                raise MincError(f"{self._name}: the image has {len(shape)} axes but "
                                f"{len(self._dim_names)} dimension names")
            self._dims = [self._dimension(name, length) for name, length in zip(self._dim_names, shape)]
            self._spatial_dims = [name for name in self._dim_names if name.endswith("space")]
            self._image_max = self._variable("image-max", required=False)
            self._image_min = self._variable("image-min", required=False)
            self._shape = shape
            self._dtype = self._read_dtype()
        except NivoxError:
            raise
        except Exception as err:
            raise MincError(f"{self._name}: not a readable MINC file: {type(err).__name__}: {err}") from None

    # ---- what differs between MINC1 and MINC2 -----------------------------

    @property
    def _name(self) -> str:
        return self._filename or "<MINC stream>"

    def _variable(self, name: str, required: bool = True) -> Any:
        found = self._mincfile.variables.get(name)
        if found is None and required:
            raise MincError(f"{self._name}: no variable {name!r} in this MINC1 file")
        return found

    def _get_dimensions(self, var: Any) -> list[str]:
        if var is None:
            return []
        return [str(name) for name in var.dimensions]

    def _attributes(self, var: Any) -> dict[str, Any]:
        if var is None:
            return {}
        return {key: _decoded(value) for key, value in getattr(var, "_attributes", {}).items()}

    def _dimension(self, name: str, length: int) -> MincDim:
        var = self._variable(name, required=False)
        coords = None
        if var is not None and len(var.shape) == 1 and var.shape[0] == length:
            coords = lambda: np.asarray(var.data, dtype=np.float64)  # noqa: E731 - read only if irregular
        return MincDim.from_attributes(name, length, self._attributes(var), coords, self._name)

    def _read_dtype(self) -> np.dtype:
        code = self._image.typecode()
        if code in ("f", "d"):
            return np.dtype(f">{code}")
        if code not in _DEFAULT_SIGN:
            raise MincError(f"{self._name}: image data of netCDF type {code!r} is not a MINC image type")
        sign = self._attributes(self._image).get("signtype", _DEFAULT_SIGN[code])
        if (code, sign) not in _INT_TYPES:
            raise MincError(f"{self._name}: signtype {sign!r} is not 'signed__' or 'unsigned'")
        return np.dtype(_INT_TYPES[(code, sign)]).newbyteorder(">")

    def _raw(self, sliceobj: Any) -> np.ndarray:
        data = self._image.data
        raw = data if is_whole(sliceobj) else data[sliceobj]
        return np.asarray(raw).view(self._dtype)

    def _scale_values(self, var: Any) -> np.ndarray:
        return np.asarray(var.data, dtype=np.float64)

    def _valid_range_attribute(self) -> Any:
        attrs = self._attributes(self._image)
        if "valid_range" in attrs:
            return attrs["valid_range"]
        if "valid_min" in attrs and "valid_max" in attrs:
            return [attrs["valid_min"], attrs["valid_max"]]
        return None

    # ---- the header API -----------------------------------------------------

    def get_data_dtype(self) -> np.dtype:
        """The stored data type (MINC1 files are big-endian)."""
        return self._dtype

    def get_data_shape(self) -> tuple[int, ...]:
        """The image shape, in the file's dimension order (slowest first)."""
        return self._shape

    def get_zooms(self) -> tuple[float, ...]:
        """Voxel sizes: the absolute step of every dimension (1 where none is given)."""
        return tuple(abs(dim.step) for dim in self._dims)

    def get_affine(self) -> np.ndarray:
        """Voxel to world affine of the spatial dimensions, in the image's dimension order.

        An image with one or two spatial dimensions (a slice) gets the missing
        world axes from the file's unused dimension variables (MINC defaults
        where there are none), after its own: the affine is always 4x4.
        """
        spatial = [dim for dim in self._dims if dim.name in self._spatial_dims]
        if not 1 <= len(spatial) <= 3 or len({dim.name for dim in spatial}) != len(spatial):
            raise MincError(f"{self._name}: the image has spatial dimensions {self._spatial_dims}; "
                            "MINC images have one to three of xspace, yspace, zspace")
        missing = [name for name in ("xspace", "yspace", "zspace") if name not in self._spatial_dims]
        spatial += [self._dimension(name, 1) for name in missing[: 3 - len(spatial)]]
        if len(spatial) != 3:
            raise MincError(f"{self._name}: spatial dimensions {self._spatial_dims} are not MINC's "
                            "xspace, yspace, zspace")
        for dim in spatial:
            dim.check_regular(self._name)
        rotation = np.eye(3)
        steps = np.zeros(3)
        starts = np.zeros(3)
        for index, dim in enumerate(spatial):
            rotation[:, index] = dim.cosines(3)
            steps[index] = dim.step
            starts[index] = dim.start
        affine = np.eye(4)
        affine[:3, :3] = rotation * steps
        affine[:3, 3] = rotation @ starts
        return affine

    def _get_valid_range(self) -> np.ndarray:
        """The stored values that map onto [image-min, image-max]; the type's range if not given."""
        info = np.iinfo(self._dtype)
        given = self._valid_range_attribute()
        if given is None:
            return np.array([info.min, info.max], dtype=np.float64)
        try:
            valid = np.asarray(given, dtype=np.float64).reshape(-1)[:2]
        except (TypeError, ValueError):
            raise MincError(f"{self._name}: valid_range {given!r} is not two numbers") from None
        if valid.size != 2 or not np.all(np.isfinite(valid)):
            raise MincError(f"{self._name}: valid_range {given!r} is not two finite numbers")
        if valid[0] < info.min or valid[1] > info.max:
            raise MincError(f"{self._name}: valid_range {valid.tolist()} is outside the range of "
                            f"the stored type {self._dtype}")
        return valid

    def _scale_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """image-min and image-max shaped to broadcast against the whole image."""
        ndim = len(self._shape)
        arrays = []
        for var, default in ((self._image_min, 0.0), (self._image_max, 1.0)):
            if var is None:
                arrays.append(np.full((1,) * ndim, default))
                continue
            dims = self._get_dimensions(var)
            values = self._scale_values(var)
            arrays.append(self._broadcastable(values, dims))
        return arrays[0], arrays[1]

    def _broadcastable(self, values: np.ndarray, dims: Sequence[str]) -> np.ndarray:
        positions = [self._dim_names.index(d) if d in self._dim_names else -1 for d in dims]
        if -1 in positions or positions != sorted(set(positions)):
            raise MincError(f"{self._name}: image-min/image-max vary over dimensions {list(dims)}, "
                            f"not over image dimensions in order {list(self._dim_names)}")
        expected = tuple(self._shape[p] for p in positions)
        if values.shape != expected:
            raise MincError(f"{self._name}: image-min/image-max have shape {values.shape}, "
                            f"the image dimensions {list(dims)} say {expected}")
        shape = [1] * len(self._shape)
        for position in positions:
            shape[position] = self._shape[position]
        return values.reshape(shape)

    def _scaling(self) -> tuple[float, float, np.ndarray, np.ndarray]:
        # worked out on first use, then kept (two threads may both work it out: same result)
        cached = self.__dict__.get("_cached_scaling")
        if cached is None:
            cached = self.__dict__["_cached_scaling"] = scaling(self)
        return cached

    def get_scaled_data(self, sliceobj: Any = ()) -> np.ndarray:
        """The real values of the image, or of ``img[sliceobj]``.

        Floating point data are returned as stored (in native byte order);
        integer data as float64, clipped to the valid range and scaled per slice.
        """
        return scaled_read(self, sliceobj)

    def get_unscaled(self, sliceobj: Any = ()) -> np.ndarray:
        """The stored values of the image, or of ``img[sliceobj]``, without scaling."""
        index = broadcast_index(self._shape, sliceobj)
        return self._read_raw(index)

    def _read_raw(self, sliceobj: Any) -> np.ndarray:
        try:
            raw = self._raw(sliceobj)
        except (IndexError, TypeError):
            raise
        except NivoxError:
            raise
        except Exception as err:
            raise MincError(f"{self._name}: cannot read the image data: {err}") from None
        return raw.astype(raw.dtype.newbyteorder("="), copy=False)

    # ---- pickling: by file name, never an open handle ----------------------

    def __getstate__(self) -> dict[str, Any]:
        if self._memory is not None:
            return {"memory": self._memory, "filename": self._filename}
        if self._filename is None or not os.path.exists(self._filename):
            raise ArgumentTypeError(f"{type(self).__name__} of {self._name} was not opened from a file; "
                            "it cannot be pickled")
        return {"filename": self._filename}

    def __setstate__(self, state: dict[str, Any]) -> None:
        fresh = type(self)._reopen(state)
        self.__dict__.update(fresh.__dict__)

    @classmethod
    def _reopen(cls, state: dict[str, Any]) -> Minc1File:
        return open_minc1(state["filename"], state.get("memory"))


def _name_of(mincfile: Any) -> str | None:
    name = getattr(mincfile, "filename", None)
    if isinstance(name, (str, os.PathLike)):
        return os.fspath(name)
    return None


def open_minc1(filename: str | None, memory: bytes | None = None) -> Minc1File:
    """A :class:`Minc1File` for ``filename`` (memory-mapped), or for the file's bytes ``memory``."""
    source: Any = memory if memory is not None else filename
    minc = Minc1File(open_netcdf(source, filename), filename)
    minc._memory = memory
    return minc


class MincImageArrayProxy:
    """The data of a MINC file, read and scaled when indexed.

    Pickles as a reference to the file (no data, no open handle); reading is
    safe from several threads.
    """

    def __init__(self, minc_file: Minc1File) -> None:
        self.minc_file = minc_file
        self._shape = tuple(minc_file.get_data_shape())

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the scaled values (float64 for stored integers)."""
        stored = self.minc_file.get_data_dtype()
        return stored.newbyteorder("=") if stored.kind == "f" else np.dtype(np.float64)

    @property
    def is_proxy(self) -> bool:
        return True

    @property
    def file_like(self) -> str | None:
        """The file the data are read from (None for a file held in memory)."""
        return self.minc_file._filename

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        arr = self.minc_file.get_scaled_data(())
        if dtype is not None:
            arr = arr.astype(dtype, copy=False)
        return arr

    def __getitem__(self, sliceobj: Any) -> np.ndarray:
        return self.minc_file.get_scaled_data(sliceobj)

    def get_unscaled(self) -> np.ndarray:
        """The stored values, without clipping or scaling."""
        return self.minc_file.get_unscaled(())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._shape} of {self.minc_file._name}>"


class MincHeader(SpatialHeader):
    """The header of MINC images: data type, shape (file dimension order) and voxel sizes."""

    # the file's dimension order is C order: slowest first
    data_layout: ClassVar[str] = "C"
    #: saved integer data carry per-slice scaling (image-min/image-max), so any values fit
    scales_per_slice: ClassVar[bool] = True

    def data_to_fileobj(self, data: Any, fileobj: IO[bytes], rescale: bool = True) -> None:
        """Not possible: MINC data live in a netCDF or HDF5 structure, not at a byte offset."""
        raise NotImplementedError("MINC data cannot be written to a plain file object")

    def data_from_fileobj(self, fileobj: IO[bytes]) -> np.ndarray:
        """Not possible: MINC data live in a netCDF or HDF5 structure, not at a byte offset."""
        raise NotImplementedError("MINC data cannot be read from a plain file object")


class Minc1Header(MincHeader):
    """Header of MINC1 (netCDF) images."""

    @classmethod
    def may_contain_header(cls, binaryblock: bytes) -> bool:
        """True for the netCDF classic and 64-bit offset signatures."""
        return bytes(binaryblock[:4]) in (b"CDF\x01", b"CDF\x02")


class Minc1Image(SpatialImage):
    """A MINC1 image (netCDF-3), read only; saving writes MINC2.

    Axes are the file's dimensions, slowest first, so a 4D image has time
    first: ``spatial_axes_first`` is False for it.
    """

    header_class: ClassVar[type] = Minc1Header
    _meta_sniff_len: ClassVar[int] = 4
    valid_exts: ClassVar[tuple[str, ...]] = (".mnc",)
    files_types: ClassVar[tuple[tuple[str, str | None], ...]] = (("image", ".mnc"),)
    _compressed_suffixes: ClassVar[tuple[str, ...]] = (".gz", ".bz2", ".zst")
    _spatial_dims_first: ClassVar[bool] = False
    makeable: ClassVar[bool] = True
    rw: ClassVar[bool] = False

    ImageArrayProxy: ClassVar[type] = MincImageArrayProxy

    @classmethod
    def _open_minc(cls, file_map: FileMap) -> Minc1File:
        holder = file_map["image"]
        name = holder.filename
        if holder.fileobj is None and name is not None and \
                not os.fspath(name).lower().endswith(cls._compressed_suffixes):
            return open_minc1(os.fspath(name))
        with holder.get_prepare_fileobj("rb") as fobj:
            try:
                memory = fobj.read()
            except NivoxError as err:
                if name and os.fspath(name) in str(err):
                    raise
                raise MincError(f"{name or '<MINC1 stream>'}: {err}") from None
        return open_minc1(os.fspath(name) if name is not None else None, bytes(memory))

    @classmethod
    def from_file_map(cls, file_map: FileMap, *, mmap: Any = True, keep_file_open: bool | None = None,
                      validation: str | None = None) -> Minc1Image:
        """Read the image in ``file_map['image']``; the data stay in the file until used."""
        from .dataobj_images import check_mmap

        check_mmap(mmap)
        if keep_file_open not in (None, True, False):
            raise MincError(f"keep_file_open must be one of {{None, True, False}}, not {keep_file_open!r}")
        from .validation import mode as validation_mode

        with validation_mode(validation):
            minc = cls._open_minc(file_map)
            return cls._from_minc(minc, file_map)

    @classmethod
    def _from_minc(cls, minc: Minc1File, file_map: FileMap) -> Any:
        affine = minc.get_affine()
        if affine.shape != (4, 4):
            raise MincError(f"{minc._name}: the image has {affine.shape[0] - 1} spatial dimensions, "
                            "not the 3 MINC images need")
        header = cls.header_class(minc.get_data_dtype(), minc.get_data_shape(), minc.get_zooms())
        return cls(cls.ImageArrayProxy(minc), affine, header, extra=None, file_map=file_map)

    @property
    def slicer(self) -> Any:
        """``img.slicer[...]``, for images whose first three axes are the spatial ones (up to 3D).

        A 4D MINC image has its time (or vector) axis where the file puts it,
        usually first, so which axes are spatial is not known: ValueError, as nibabel.
        """
        from .imageclasses import spatial_axes_first

        if not spatial_axes_first(self):
            raise ImageDataError(f"cannot tell which axes of this {type(self).__name__} of shape "
                                 f"{self.shape} are spatial (MINC keeps the file's dimension order); "
                                 "slice img.dataobj instead")
        return super().slicer

    def to_file_map(self, file_map: FileMap | None = None, **kwargs: Any) -> None:
        """Write the image as MINC2 (nivox writes no MINC1)."""
        from .minc2 import Minc2Image

        if file_map is None:
            file_map = self.file_map
        Minc2Image.from_image(self).to_file_map(file_map, **kwargs)

    def _files_replaced(self, file_map: FileMap) -> None:
        """After saving over its own file, read the MINC2 file that replaced it."""
        from .minc2 import Minc2Image

        if self.__class__ is Minc1Image and isinstance(self._dataobj, MincImageArrayProxy):
            replaced = {os.path.abspath(h.filename) for h in file_map.values() if h.filename}
            source = self._dataobj.file_like
            if source is not None and os.path.abspath(source) in replaced:
                self._dataobj = Minc2Image.from_file_map(file_map).dataobj
            return
        super()._files_replaced(file_map)


load = Minc1Image.from_filename
