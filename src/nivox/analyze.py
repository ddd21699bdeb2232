"""Analyze 7.5: a 348-byte header in ``.hdr`` and raw data in ``.img``.

The header layout follows the Mayo Clinic Analyze 7.5 description. Analyze
stores no orientation and no scaling; the affine comes from voxel sizes with
the origin at the volume's centre and x flipped (radiological convention).
NIfTI-1 and the SPM variants extend this header, so its machinery (dtype,
shape, zooms, offsets, the check battery, writing data) lives here.
"""

from __future__ import annotations

import math
from typing import IO, Any, ClassVar, NoReturn

import numpy as np

from . import _analyze_checks as _checks
from . import validation as _validation
from ._atomic import replacing_files
from ._chunksave import ChunkedWriter, streams
from .arrayproxy import ArrayProxy
from .arraywriters import ArrayWriter, WriterError, get_slope_inter, make_array_writer, whole_numbers_fit
from .errors import HeaderDataError, HeaderTypeError, TruncatedDataError
from .fileholders import FileHolder, FileMap, copy_file_map
from .spatialimages import SpatialHeader, SpatialImage
from .volumeutils import (
    Recoder,
    apply_read_scaling,
    array_from_file,
    make_dt_codes,
    native_code,
    seek_tell,
    shape_zoom_affine,
    swapped_code,
)
from .wrapstruct import LabeledWrapStruct

__all__ = ["AnalyzeHeader", "AnalyzeImage", "data_type_codes", "header_dtype", "header_key_dtd",
           "image_dimension_dtd", "data_history_dtd"]

header_key_dtd = [
    ("sizeof_hdr", "i4"),
    ("data_type", "S10"),
    ("db_name", "S18"),
    ("extents", "i4"),
    ("session_error", "i2"),
    ("regular", "S1"),
    ("hkey_un0", "S1"),
]
image_dimension_dtd = [
    ("dim", "i2", (8,)),
    ("vox_units", "S4"),
    ("cal_units", "S8"),
    ("unused1", "i2"),
    ("datatype", "i2"),
    ("bitpix", "i2"),
    ("dim_un0", "i2"),
    ("pixdim", "f4", (8,)),
    ("vox_offset", "f4"),
    ("funused1", "f4"),
    ("funused2", "f4"),
    ("funused3", "f4"),
    ("cal_max", "f4"),
    ("cal_min", "f4"),
    ("compressed", "i4"),
    ("verified", "i4"),
    ("glmax", "i4"),
    ("glmin", "i4"),
]
data_history_dtd = [
    ("descrip", "S80"),
    ("aux_file", "S24"),
    ("orient", "S1"),
    ("originator", "S10"),
    ("generated", "S10"),
    ("scannum", "S10"),
    ("patient_id", "S10"),
    ("exp_date", "S10"),
    ("exp_time", "S10"),
    ("hist_un0", "S3"),
    ("views", "i4"),
    ("vols_added", "i4"),
    ("start_field", "i4"),
    ("field_skip", "i4"),
    ("omax", "i4"),
    ("omin", "i4"),
    ("smax", "i4"),
    ("smin", "i4"),
]
header_dtype = np.dtype(header_key_dtd + image_dimension_dtd + data_history_dtd)

_rgb_dtype = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1")])

data_type_codes: Recoder = make_dt_codes(
    (
        (0, "none", np.void),
        (1, "binary", np.void),  # 1 bit per voxel; no numpy type reads it
        (2, "uint8", np.uint8),
        (4, "int16", np.int16),
        (8, "int32", np.int32),
        (16, "float32", np.float32),
        (32, "complex64", np.complex64),
        (64, "float64", np.float64),
        (128, "RGB", _rgb_dtype),
        (255, "all", np.void),
    )
)


class AnalyzeHeader(LabeledWrapStruct, SpatialHeader):
    """The Analyze 7.5 header."""

    template_dtype: ClassVar[np.dtype] = header_dtype
    _data_type_codes: ClassVar[Recoder] = data_type_codes
    _field_recoders: ClassVar[dict[str, Recoder]] = {"datatype": data_type_codes}
    sizeof_hdr: ClassVar[int] = 348
    has_data_slope: ClassVar[bool] = False
    has_data_intercept: ClassVar[bool] = False

    def __init__(self, binaryblock: bytes | None = None, endianness: str | None = None,
                 check: bool = True) -> None:
        LabeledWrapStruct.__init__(self, binaryblock, endianness, check)

    @classmethod
    def guessed_endian(cls, hdr: Any) -> str:
        """Byte order from dim[0], which must be 1-7 (or 0: then from sizeof_hdr)."""
        dim0 = int(hdr["dim"][0])
        if dim0 == 0:
            return swapped_code if int(hdr["sizeof_hdr"].byteswap()) == cls.sizeof_hdr else native_code
        return native_code if 1 <= dim0 <= 7 else swapped_code

    @classmethod
    def default_structarr(cls, endianness: str | None = None) -> np.ndarray:
        hdr = super().default_structarr(endianness)
        hdr["sizeof_hdr"] = cls.sizeof_hdr
        hdr["dim"] = 1
        hdr["dim"][0] = 0
        hdr["pixdim"] = 1
        hdr["datatype"] = 16
        hdr["bitpix"] = 32
        return hdr

    @classmethod
    def from_header(cls, header: Any = None, check: bool = True) -> AnalyzeHeader:
        """A header of this class from any header: same-class copy, else shared fields carried over."""
        if type(header) is cls:
            obj = header.copy()
            if check:
                obj.check_fix()
            return obj
        obj = cls(check=check)
        if header is None:
            return obj
        if hasattr(header, "as_analyze_map"):
            # every shared field, pixdim[0] (qfac) and pixdim[4:] (e.g. TR) included;
            # dim, datatype and bitpix are set below from the header's own API; an
            # offset belongs to the file the source came from, and may be below this
            # format's minimum (nibabel then raises), so it is not carried over
            mapping = header.as_analyze_map()
            own_fields = set(obj.keys())
            for key in mapping:
                if key in own_fields and key not in ("sizeof_hdr", "dim", "datatype", "bitpix",
                                                     "vox_offset"):
                    try:
                        obj[key] = mapping[key]
                    except (ValueError, KeyError, TypeError, OverflowError):
                        pass
            obj._clean_after_mapping()
        try:
            obj.set_data_dtype(header.get_data_dtype())
        except HeaderDataError:
            raise HeaderDataError(
                f"Input header {type(header).__name__} has datatype {header.get_data_dtype()} "
                f"but output header {cls.__name__} does not support it") from None
        obj.set_data_shape(header.get_data_shape())
        obj.set_zooms(header.get_zooms())
        if obj.has_data_slope:
            try:
                slope, inter = header.get_slope_inter()
            except (AttributeError, TypeError):
                pass
            else:
                try:
                    obj.set_slope_inter(slope, inter)
                except HeaderTypeError:
                    pass
        if check:
            obj.check_fix()
        return obj

    def _clean_after_mapping(self) -> None:
        """Make fields consistent after copying from another header type (nothing for Analyze)."""

    def as_analyze_map(self) -> AnalyzeHeader:
        """The header as a mapping of Analyze field names to values."""
        return self

    # ---- dtype, shape, zooms ----------------------------------------------

    def get_data_dtype(self) -> np.dtype:
        code = int(self._structarr["datatype"])
        dtype = self._data_type_codes.dtype[code]
        return dtype.newbyteorder(self.endianness)

    def set_data_dtype(self, datatype: Any) -> None:
        """Set the on-disk data type from a code, a label, or anything numpy reads as a dtype."""
        codes = self._data_type_codes
        code = None
        try:
            if datatype in codes:
                code = codes.code[datatype]
        except TypeError:
            pass
        if code is None:
            try:
                dtype = np.dtype(datatype)
            except TypeError:
                raise HeaderDataError(f'data dtype "{datatype}" not recognized') from None
            if dtype not in codes:
                raise HeaderDataError(f'data dtype "{datatype}" not supported')
            code = codes.code[dtype]
        dtype = codes.dtype[code]
        if dtype.itemsize == 0:
            raise HeaderDataError(f'data dtype "{datatype}" known but not supported')
        self._structarr["datatype"] = code
        self._structarr["bitpix"] = dtype.itemsize * 8

    def get_data_shape(self) -> tuple[int, ...]:
        dims = self._structarr["dim"]
        ndims = int(dims[0])
        if ndims == 0:
            return (0,)
        return tuple(int(d) for d in dims[1 : ndims + 1])

    def set_data_shape(self, shape: Any) -> None:
        """Set dim; every dimension must fit the header's integer type.

        Voxel sizes (pixdim) of axes beyond the new shape go back to 1, so a
        4D image's TR does not linger in the header of a 3D one.
        """
        shape = tuple(shape)
        ndims = len(shape)
        dims = self._structarr["dim"]
        if ndims > 7:
            raise HeaderDataError("shape has more than 7 dimensions")
        max_dim = np.iinfo(dims.dtype).max
        try:
            values = [int(s) for s in shape]
        except (TypeError, ValueError):
            raise HeaderDataError(f"shape {shape} is not a sequence of integers") from None
        if any(v != s for v, s in zip(values, shape)) or any(v < 0 or v > max_dim for v in values):
            raise HeaderDataError(f"shape {shape} does not fit in dim datatype")
        dims[:] = 1
        dims[0] = ndims
        dims[1 : ndims + 1] = values
        self._structarr["pixdim"][ndims + 1 :] = 1.0

    def get_zooms(self) -> tuple[float, ...]:
        ndim = int(self._structarr["dim"][0])
        if ndim == 0:
            return (1.0,)
        pixdims = self._structarr["pixdim"]
        return tuple(pixdims[1 : ndim + 1])

    def set_zooms(self, zooms: Any) -> None:
        ndim = int(self._structarr["dim"][0])
        zooms = np.asarray(zooms)
        if len(zooms) != ndim:
            raise HeaderDataError(f"Expecting {ndim} zoom values for ndim {ndim}")
        if np.any(zooms < 0):
            raise HeaderDataError("zooms must be positive")
        self._structarr["pixdim"][1 : ndim + 1] = zooms

    def get_base_affine(self) -> np.ndarray:
        """Affine from voxel sizes, origin at the centre of the first three axes, x flipped.

        Read from dim[1:4] and pixdim[1:4] as stored (unused axes hold 1), as
        nibabel does, so an empty header gives the identity with x flipped.
        """
        dims = self._structarr["dim"][1:4].astype(np.int64)
        zooms = self._structarr["pixdim"][1:4].astype(np.float64)
        return shape_zoom_affine(dims, zooms, self.default_x_flip)

    get_best_affine = get_base_affine

    # ---- where the data are, and their scaling -----------------------------

    def get_data_offset(self) -> int:
        """Byte offset of the data in the image file."""
        offset = self._structarr["vox_offset"]
        if not math.isfinite(float(offset)):
            raise HeaderDataError(_validation.named(f"data offset (vox_offset) is {float(offset)}"))
        return int(offset)

    def set_data_offset(self, offset: int) -> None:
        self._structarr["vox_offset"] = offset

    def get_slope_inter(self) -> tuple[float | None, float | None]:
        """Analyze stores no scaling: always (None, None)."""
        return None, None

    def set_slope_inter(self, slope: float | None, inter: float | None = None) -> None:
        """Only the no-op values are allowed: slope 1/None/NaN and intercept 0/None/NaN."""
        if (slope is None or np.isnan(slope) or slope == 1) and (
            inter is None or np.isnan(inter) or inter == 0
        ):
            return
        raise HeaderTypeError("Cannot set slope != 1 or intercept != 0 for Analyze headers")

    def data_from_fileobj(self, fileobj: IO[bytes]) -> np.ndarray:
        """The data, scaled, read from ``fileobj`` at the header's offset."""
        data = array_from_file(self.get_data_shape(), self.get_data_dtype(), fileobj,
                               offset=self.get_data_offset(), order=self.data_layout)
        slope, inter = self.get_slope_inter()
        return apply_read_scaling(data, slope, inter)

    def data_to_fileobj(self, data: Any, fileobj: IO[bytes], rescale: bool = True) -> None:
        """Write ``data`` at the header's offset in its dtype, scaling when allowed and needed.

        The scaling used is recorded in this header (slope 1, intercept 0 when
        none was needed), so ``data_from_fileobj`` reads the values back.

        Raises
        ------
        HeaderTypeError
            The data need scaling that this header type cannot store.
        """
        data = np.asanyarray(data)
        shape = self.get_data_shape()
        if data.shape != shape:
            raise HeaderDataError(f"Data should be shape {shape}, not {data.shape}")
        out_dtype = self.get_data_dtype()
        if rescale:
            try:
                writer = make_array_writer(data, out_dtype, self.has_data_slope, self.has_data_intercept)
            except WriterError as err:
                raise HeaderTypeError(str(err)) from None
        else:
            writer = ArrayWriter(data, out_dtype, check_scaling=False)
        seek_tell(fileobj, self.get_data_offset())
        writer.to_fileobj(fileobj, order=self.data_layout)
        self.set_slope_inter(*get_slope_inter(writer))

    # ---- checks ------------------------------------------------------------

    @classmethod
    def _get_checks(cls) -> tuple[Any, ...]:
        return (cls._chk_sizeof_hdr, cls._chk_datatype, cls._chk_bitpix, cls._chk_pixdims)

    @classmethod
    def _get_load_checks(cls) -> tuple[Any, ...]:
        """Checks beyond nibabel's battery, run on headers read from files.

        They find what makes data or affine unusable; none changes the
        header, so files nibabel reads load identically.
        """
        return (_validation.chk_dims, _validation.chk_finite_pixdims)

    def run_load_checks(self) -> None:
        """Run the load checks, reporting their problems as the validation mode says."""
        _validation.run_checks(self, self._get_load_checks())

    @classmethod
    def may_contain_header(cls, binaryblock: bytes) -> bool:
        """Whether the first bytes of a file could be this header (sizeof_hdr in either order)."""
        if len(binaryblock) < cls.sizeof_hdr:
            return False
        sizeof = np.ndarray(1, "<i4", binaryblock[:4])[0]
        return int(sizeof) == cls.sizeof_hdr or int(sizeof.byteswap()) == cls.sizeof_hdr

    _chk_sizeof_hdr = staticmethod(_checks.chk_sizeof_hdr)
    _chk_datatype = staticmethod(_checks.chk_datatype)
    _chk_bitpix = staticmethod(_checks.chk_bitpix)
    _chk_pixdims = staticmethod(_checks.chk_pixdims)


def _raw_scaling(header: AnalyzeHeader) -> tuple[float, float]:
    """The stored slope and intercept, NaN where the format has none or none is set."""
    slope = float(header["scl_slope"]) if header.has_data_slope else np.nan
    inter = float(header["scl_inter"]) if header.has_data_intercept else np.nan
    return slope, inter


class _ShortFileProxy(ArrayProxy):
    """The proxy of a file found at load to hold less data than its header says.

    Every read raises TruncatedDataError at once, before allocating room for
    data that is not there (a corrupt header can ask for terabytes).
    """

    def __init__(self, *args: Any, problem: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._problem = problem

    def _refuse(self) -> NoReturn:
        raise TruncatedDataError(self._problem)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        self._refuse()

    def __getitem__(self, slicer: Any) -> np.ndarray:
        self._refuse()

    def get_unscaled(self) -> np.ndarray:
        self._refuse()


class AnalyzeImage(SpatialImage):
    """An Analyze 7.5 image: ``.hdr`` header plus ``.img`` data."""

    header_class: ClassVar[type] = AnalyzeHeader
    _meta_sniff_len: ClassVar[int] = AnalyzeHeader.sizeof_hdr
    files_types: ClassVar[tuple[tuple[str, str | None], ...]] = (("image", ".img"), ("header", ".hdr"))
    valid_exts: ClassVar[tuple[str, ...]] = (".img", ".hdr")
    _compressed_suffixes: ClassVar[tuple[str, ...]] = (".gz", ".bz2", ".zst")
    makeable: ClassVar[bool] = True
    rw: ClassVar[bool] = True
    ImageArrayProxy: ClassVar[type] = ArrayProxy

    def __init__(self, dataobj: Any, affine: Any, header: Any = None, extra: Any = None,
                 file_map: FileMap | None = None, dtype: Any = None) -> None:
        super().__init__(dataobj, affine, header, extra, file_map)
        # offset and scaling belong to a file; a new image has neither yet
        self._header.set_data_offset(0)
        self._header.set_slope_inter(None, None)
        if dtype is not None:
            self.set_data_dtype(dtype)

    def get_data_dtype(self) -> np.dtype:
        return self._header.get_data_dtype()

    def set_data_dtype(self, dtype: Any) -> None:
        self._header.set_data_dtype(dtype)

    @classmethod
    def from_file_map(cls, file_map: FileMap, *, mmap: Any = True,
                      keep_file_open: bool | None = None, validation: str | None = None) -> AnalyzeImage:
        """Read and check the header now; the data stay on disk behind an ArrayProxy.

        ``validation`` ('ignore', 'warn', 'raise'; None: the current mode)
        says how header problems are handled (:mod:`nivox.validation`).
        Every error raised is a NivoxError naming the file.
        """
        from .dataobj_images import check_mmap

        check_mmap(mmap)
        header_holder, image_holder = file_map["header"], file_map["image"]
        with _validation.mode(validation):
            name = _validation.holder_name(header_holder)
            try:
                with _validation.source(name):
                    with header_holder.get_prepare_fileobj(mode="rb") as header_file:
                        header = cls._read_header(header_file)
                    header.run_load_checks()
                    shape, itemsize = header.get_data_shape(), header.get_data_dtype().itemsize
                    _validation.check_data_layout(shape, itemsize, header["vox_offset"])
                    offset = header.get_data_offset()
                    affine = header.get_best_affine()
                name = _validation.holder_name(image_holder)
                with _validation.source(name):
                    short = _validation.check_data_fits(shape, itemsize, offset, image_holder)
                    proxy = cls._make_proxy(image_holder, header.copy(), mmap, keep_file_open, short)
            except _validation.LOAD_ERRORS as err:
                raise _validation.named_load_error(err, name) from err
            # the header was checked and reported above; the image's copy need not be again
            with _validation.mode("ignore"):
                img = cls(proxy, None, header, file_map=file_map)
        # the affine is the header's, not derived from zooms as for a new image
        img._affine = affine
        img._load_cache = {"header": header.copy(), "affine": img._affine.copy(),
                           "file_map": copy_file_map(file_map)}
        return img

    @classmethod
    def _make_proxy(cls, holder: FileHolder, header: AnalyzeHeader, mmap: Any,
                    keep_file_open: bool | None, short: str | None) -> ArrayProxy:
        source = holder.fileobj if holder.fileobj is not None else holder.filename
        if short is not None and cls.ImageArrayProxy is ArrayProxy:
            return _ShortFileProxy(source, header, mmap=mmap, keep_file_open=keep_file_open, problem=short)
        return cls.ImageArrayProxy(source, header, mmap=mmap, keep_file_open=keep_file_open)

    @classmethod
    def _read_header(cls, fileobj: IO[bytes]) -> AnalyzeHeader:
        return cls.header_class.from_fileobj(fileobj)

    def _get_fileholders(self, file_map: FileMap) -> tuple[Any, Any]:
        return file_map["header"], file_map["image"]

    def to_file_map(self, file_map: FileMap | None = None, dtype: Any = None) -> None:
        """Write header and data to the files of ``file_map`` (the image's own by default).

        Named files are written to temporaries and renamed over the targets
        only when complete (:mod:`nivox._atomic`), so writing over the files
        the image was loaded from, even memory-mapped, is safe.
        """
        if file_map is None:
            file_map = self.file_map
        with replacing_files(file_map) as targets:
            self._write_file_map(targets, dtype)
        self.file_map = file_map
        self._files_replaced(file_map)

    def _write_file_map(self, file_map: FileMap, dtype: Any) -> None:
        # data not in memory (dask, another file's proxy) are written slab by slab
        chunked = streams(self._dataobj)
        data = self._dataobj if chunked else np.asanyarray(self._dataobj)
        self.update_header()
        # write a copy: the image's own header keeps what the user set (offset,
        # scaling, dtype), as nibabel restores it after writing
        disk_header = self._header.copy()
        if dtype is not None:
            disk_header.set_data_dtype(dtype)
        out_dtype = disk_header.get_data_dtype()
        slope, inter = _raw_scaling(disk_header)
        scaled = np.isnan(slope) and np.isnan(inter)

        def choose(sample: Any, whole: bool | None = None) -> Any:
            if scaled:
                return self._writer_for(sample, out_dtype, disk_header, whole)
            # scaling set by the user is written as is, the data only cast
            return ArrayWriter(sample, out_dtype, check_scaling=False)

        if chunked:
            writer: Any = ChunkedWriter(data, out_dtype, choose, disk_header.data_layout)
        else:
            writer = choose(data)
        if scaled:
            disk_header.set_slope_inter(*get_slope_inter(writer))
        self._prepare_disk_header(disk_header)
        header_holder, image_holder = self._get_fileholders(file_map)
        same_file = header_holder.same_file_as(image_holder) and (
            header_holder.filename is not None or header_holder.fileobj is not None)
        with header_holder.get_prepare_fileobj(mode="wb") as header_file:
            self._write_header(header_file, disk_header)
            if same_file:
                seek_tell(header_file, disk_header.get_data_offset(), write0=True)
                writer.to_fileobj(header_file, order=disk_header.data_layout)
        if not same_file:
            with image_holder.get_prepare_fileobj(mode="wb") as image_file:
                seek_tell(image_file, disk_header.get_data_offset(), write0=True)
                writer.to_fileobj(image_file, order=disk_header.data_layout)

    def _writer_for(self, data: np.ndarray, out_dtype: np.dtype, header: AnalyzeHeader,
                    whole: bool | None = None) -> Any:
        """The writer choosing scale factors for ``data``.

        Floating point data holding only whole numbers that ``out_dtype``
        can store are written unscaled (slope 1, intercept 0), so they read
        back exactly; nibabel would scale them to the type's full range.
        ``whole`` says so for data checked elsewhere (None: check ``data``).
        """
        if whole_numbers_fit(data, out_dtype) if whole is None else whole:
            return ArrayWriter(data, out_dtype, check_scaling=False)
        try:
            return make_array_writer(data, out_dtype, header.has_data_slope, header.has_data_intercept)
        except WriterError as err:
            # same class (ScalingError stays ScalingError), with the image type named
            raise type(err)(f"Cannot write {data.dtype} data as {out_dtype} in "
                            f"{type(self).__name__}: {err}") from None

    def _prepare_disk_header(self, header: AnalyzeHeader) -> None:
        """Set the header fields that describe this particular file (nothing for Analyze)."""

    def _write_header(self, fileobj: IO[bytes], header: AnalyzeHeader) -> None:
        header.write_to(fileobj)
