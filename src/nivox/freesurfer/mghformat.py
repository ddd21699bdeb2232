"""FreeSurfer's MGH volume format: ``.mgh`` files, and ``.mgz`` (the same, gzip-compressed).

Layout (FreeSurfer's MGH format description; everything big-endian):

- bytes 0-89: version (1), four dimensions (the fourth is frames), data
  type code, degrees of freedom, a flag saying the geometry below is valid,
  voxel sizes, the transposed direction cosines and the world position of
  the volume's centre; zeros up to byte 284;
- the data from byte 284, x fastest (Fortran order), one frame after another,
  in one of the types FreeSurfer's own reader reads: uint8, int16, uint16,
  int32, float32, complex64 (MRI_FLOAT_COMPLEX) and float32 tensors
  (MRI_TENSOR, always 9 frames); the other FreeSurfer type codes (MRI_LONG,
  MRI_BITMAP, MRI_DOUBLE_COMPLEX, MRI_RGB) are refused, naming the file;
- scan parameters (TR, flip angle, TE, TI, FOV: five float32);
- tagged blocks (command history, phase-encode direction, per-frame
  parameters, field strength, colour tables, ...; :mod:`._mghtags`).

Beyond nibabel: the tagged blocks are kept, byte for byte, in the header
(``MGHHeader.tags``) and written back on save, so files FreeSurfer made
stay usable by FreeSurfer after a round trip; images with a singleton
trailing axis (or more than four axes of which the extra ones are
singleton) write; and an image of another format converts to MGH with its
data type when MGH stores it, or the nearest type that holds its values.
"""

from __future__ import annotations

import math
import os
from typing import Any, ClassVar

import numpy as np

from .. import validation as _validation
from .._atomic import replacing_files
from .._chunksave import ChunkedWriter, streams
from ..affines import voxel_sizes
from ..analyze import _ShortFileProxy
from ..arrayproxy import ArrayProxy, reshape_dataobj
from ..arraywriters import WriterError, make_array_writer
from ..errors import HeaderDataError, MGHError
from ..filebasedimages import SerializableImage
from ..fileholders import FileHolder, FileMap, copy_file_map
from ..filename_parser import _stringify_path
from ..spatialimages import SpatialImage
from ._mghfooter import lazy_footer_source
from ._mghheader import (  # noqa: F401  (the header's names are importable from here, as in nibabel)
    _logger,
    TAG_MRI_FRAME,
    DATA_OFFSET,
    header_dtd,
    footer_dtd,
    header_dtype,
    footer_dtype,
    hf_dtype,
    _dtdefs,
    data_type_codes,
    _NEAREST,
    TENSOR_CODE,
    TENSOR_FRAMES,
    _DEFAULT_MDC,
    mgh_dtype_for,
    MGHHeader,
    _FIXED_FIELDS,
    _fit_shape,
    _ms_per_time_unit,
)

__all__ = ["DATA_OFFSET", "MGHError", "MGHHeader", "MGHImage", "data_type_codes",
           "footer_dtype", "header_dtype", "hf_dtype", "load", "save"]

class MGHImage(SpatialImage, SerializableImage):
    """A FreeSurfer MGH image (``.mgh``, or gzip-compressed ``.mgz``)."""

    header_class: ClassVar[type] = MGHHeader
    header: MGHHeader
    valid_exts: ClassVar[tuple[str, ...]] = (".mgh", ".mgz")
    files_types: ClassVar[tuple[tuple[str, str | None], ...]] = (("image", ".mgh"),)
    _compressed_suffixes: ClassVar[tuple[str, ...]] = ()
    _meta_sniff_len: ClassVar[int] = header_dtype.itemsize
    makeable: ClassVar[bool] = True
    rw: ClassVar[bool] = True
    ImageArrayProxy: ClassVar[type] = ArrayProxy

    def __init__(self, dataobj: Any, affine: Any, header: Any = None, extra: Any = None,
                 file_map: FileMap | None = None) -> None:
        shape = tuple(dataobj.shape)
        fitted = _fit_shape(shape)
        if fitted != shape and (len(shape) < 3 or len(fitted) == 4):
            dataobj = reshape_dataobj(dataobj, fitted)
        super().__init__(dataobj, affine, header=header, extra=extra, file_map=file_map)

    @classmethod
    def filespec_to_file_map(cls, filespec: Any) -> FileMap:
        filespec = _stringify_path(filespec)
        if os.path.splitext(filespec)[1].lower() == ".mgz":
            return {"image": FileHolder(filename=filespec)}
        return super().filespec_to_file_map(filespec)

    @classmethod
    def _meta_filename(cls, filename: Any) -> str:
        return _stringify_path(filename)

    @classmethod
    def from_file_map(cls, file_map: FileMap, *, mmap: Any = True, keep_file_open: bool | None = None,
                      validation: str | None = None) -> MGHImage:
        """Read the header (and what follows the data) now; the data stay on disk behind an ArrayProxy.

        Every error raised is a NivoxError naming the file.
        """
        from ..dataobj_images import check_mmap

        check_mmap(mmap)
        holder = file_map["image"]
        with _validation.mode(validation):
            name = _validation.holder_name(holder)
            try:
                with _validation.source(name):
                    with holder.get_prepare_fileobj(mode="rb") as fileobj:
                        header = cls.header_class.from_fileobj(fileobj, footer_source=lazy_footer_source(holder))
                    shape, itemsize = header.get_data_shape(), header.get_data_dtype().itemsize
                    _validation.check_data_layout(shape, itemsize, DATA_OFFSET)
                    affine = header.get_affine()
                    short = _validation.check_data_fits(shape, itemsize, DATA_OFFSET, holder)
                    source = holder.fileobj if holder.fileobj is not None else holder.filename
                    spec = header.copy()
                    if short is not None:
                        proxy: ArrayProxy = _ShortFileProxy(source, spec, mmap=mmap,
                                                            keep_file_open=keep_file_open, problem=short)
                    else:
                        proxy = cls.ImageArrayProxy(source, spec, mmap=mmap, keep_file_open=keep_file_open)
            except _validation.LOAD_ERRORS as err:
                raise _validation.named_load_error(err, name) from err
            with _validation.mode("ignore"):
                img = cls(proxy, affine, header, file_map=file_map)
        img._load_cache = {"header": header.copy(), "affine": affine.copy(),
                           "file_map": copy_file_map(file_map)}
        return img

    def to_file_map(self, file_map: FileMap | None = None, **kwargs: Any) -> None:
        """Write to ``file_map`` (the image's own by default); named files are replaced atomically."""
        if file_map is None:
            file_map = self.file_map
        with replacing_files(file_map) as targets:
            self._write(targets["image"])
        self.file_map = file_map
        self._files_replaced(file_map)

    def _write(self, holder: FileHolder) -> None:
        # data not in memory (dask, another file's proxy) are written slab by slab
        chunked = streams(self._dataobj)
        data = self._dataobj if chunked else np.asanyarray(self._dataobj)
        self.update_header()
        header = self._header
        shape = header.get_data_shape()
        if data.shape != shape:
            if math.prod(data.shape) != math.prod(shape) or _fit_shape(data.shape)[:3] != shape[:3]:
                raise HeaderDataError(f"Data should be shape ({', '.join(str(s) for s in shape)})")
            if not chunked:  # slabs in Fortran order are the same bytes whatever singleton axes
                data = data.reshape(shape, order="F")  # singleton axes only: no copy of the values
        if int(header["type"]) == TENSOR_CODE and shape[3:] != (TENSOR_FRAMES,):
            # FreeSurfer reads an MRI_TENSOR file as 9 frames whatever its header says
            raise MGHError(f"{holder.filename or 'MGH file'}: MRI_TENSOR data need {TENSOR_FRAMES} frames "
                           f"(a 3 x 3 tensor per voxel), not shape {shape}; set another data type "
                           "(header.set_data_dtype) to save them")
        out_dtype = header.get_data_dtype()

        def choose(sample: Any, whole: bool | None = None) -> Any:
            try:
                return make_array_writer(sample, out_dtype, False, False)
            except WriterError as err:
                raise WriterError(f"Cannot write {sample.dtype} data as {out_dtype.name} in MGHImage, which "
                                  f"stores no scale factor: {err}") from None

        writer = ChunkedWriter(data, out_dtype, choose, "F") if chunked else choose(data)
        # written front to back: a compressed stream cannot go back
        with holder.get_prepare_fileobj(mode="wb") as fileobj:
            fileobj.write(header._header_bytes())
            writer.to_fileobj(fileobj, order="F")
            fileobj.write(header._footer_bytes())

    def update_header(self) -> None:
        """Make the header agree with the data shape, and with the affine when that changed.

        A header whose own affine matches the image's is left alone, so
        files FreeSurfer wrote with unnormalised cosines keep them.
        """
        header = self._header
        fitted = _fit_shape(tuple(self._dataobj.shape))
        if tuple(int(d) for d in header["dims"]) != fitted + (1,) * (4 - len(fitted)):
            header.set_data_shape(fitted)
        if self._affine is None or np.allclose(self._affine, header.get_best_affine()):
            return
        self._affine2header()

    def _affine2header(self) -> None:
        """Voxel sizes, cosines and centre from the affine (as FreeSurfer's save_mgh.m)."""
        if self._affine is None:
            return
        hdr = self._header
        shape = np.array(self._dataobj.shape[:3])
        shape = np.concatenate([shape, np.ones(3 - len(shape))]) if len(shape) < 3 else shape
        sizes = voxel_sizes(self._affine)
        cosines = self._affine[:3, :3] / sizes
        centre = self._affine.dot(np.hstack((shape / 2.0, [1])))[:3]
        hdr["delta"] = sizes
        hdr["Mdc"] = cosines.T
        hdr["Pxyz_c"] = centre

    #: the MGH dtype data of a dtype are written in (``nivox convert`` reports the change)
    _nearest_dtype = staticmethod(mgh_dtype_for)

    @classmethod
    def _fields_not_kept(cls, img: Any) -> list[str]:
        """What of ``img``'s header an MGH file has no place for (fields that hold something)."""
        header = img.header
        if isinstance(header, MGHHeader) or not hasattr(header, "keys"):
            return []
        notes = []
        keys = set(header.keys())
        if "descrip" in keys and bytes(header["descrip"]).strip(b"\x00 "):
            notes.append(f"MGH keeps no description (descrip {bytes(header['descrip']).decode('latin-1')!r})")
        if "intent_code" in keys and int(header["intent_code"]):
            notes.append(f"MGH keeps no intent (intent_code {int(header['intent_code'])})")
        if getattr(header, "extensions", None):
            notes.append(f"MGH keeps no header extensions ({len(header.extensions)} dropped)")
        return notes

    @classmethod
    def from_image(cls, img: Any) -> MGHImage:
        """An MGH image of ``img``: its data (in the nearest MGH type), affine, and, from MGH, header and tags."""
        header = cls.header_class.from_header(img.header)
        return cls(img.dataobj, img.affine, header, extra=img.extra.copy())


load = MGHImage.from_filename
save = MGHImage.instance_to_filename
