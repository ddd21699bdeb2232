"""EcatImage and its array proxy: frames read on demand, scaled per frame.

Beyond nibabel: the proxy reads only the frames a slice touches (and, for
uncompressed files with ``mmap``, only the pages of those frames), opens the
file by name for each read (or keeps it open with ``keep_file_open``), is
safe from several threads and pickles as a reference to the file. Saving
writes the image's data (edited data included, scaled into each frame's
stored type) and is atomic; ECAT files are reachable from ``nivox.load``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, ClassVar

import numpy as np

from .. import validation as _validation
from .._atomic import replacing_files
from ..dataobj_images import check_mmap
from ..errors import ImageDataError, ImageFileError, ImageIndexError
from ..fileholders import FileMap
from ..fileslice import canonical_slicers, predict_shape
from ..spatialimages import SpatialFirstSlicer, SpatialImage
from .header import EcatHeader, EcatSubHeader
from .mlist import get_frame_order, read_mlist

__all__ = ["EcatImage", "EcatImageArrayProxy", "load"]


class EcatImageArrayProxy:
    """The frames of an ECAT file as one (x, y, z, frames) float64 array, read when indexed.

    Parameters
    ----------
    subheader : EcatSubHeader
        The frames' subheaders (and the file they are read from).
    """

    def __init__(self, subheader: EcatSubHeader, *, mmap: Any = False) -> None:
        self._subheader = subheader
        self._data = None
        self._mmap = mmap
        x, y, z = subheader.get_shape()
        self._shape = (x, y, z, subheader.get_nframes())

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def dtype(self) -> np.dtype:
        """float64: frames are scaled by their factors when read."""
        return np.dtype(np.float64)

    @property
    def is_proxy(self) -> bool:
        return True

    def _frames(self) -> dict[int, list[Any]]:
        return get_frame_order(self._subheader._mlist)

    def _frame(self, row: int, inner: Any = None) -> np.ndarray:
        """Frame ``row`` of the matrix list, scaled, flipped as the file says, indexed by ``inner``."""
        sub = self._subheader
        if sub.get_shape(row) != self._shape[:3]:
            raise ImageDataError(f"{sub._source_name()}frame {row} has shape {sub.get_shape(row)}, "
                                 f"not {self._shape[:3]} as the first frame")
        flips = sub._flips(None)
        if any(flips) or inner is None:
            raw = sub._get_oriented_data(sub._read_raw(row, mmap=self._mmap))
            raw = raw if inner is None else raw[inner]
        else:
            raw = sub._read_raw(row, inner, mmap=self._mmap)
        return sub._scale(raw, row)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """All frames, in acquisition order, as float64 (or ``dtype``)."""
        data = np.empty(self._shape)
        for index, (row, _) in sorted(self._frames().items()):
            data[..., index] = self._frame(row)
        if dtype is not None:
            data = data.astype(dtype, copy=False)
        return data

    def __getitem__(self, sliceobj: Any) -> np.ndarray:
        """``arr[sliceobj]``, reading only the frames it touches."""
        try:
            canonical = canonical_slicers(sliceobj, self._shape)
        except ValueError:  # fancy indexing: read everything, let numpy index
            return np.asarray(self)[sliceobj]
        axes = [i for i, item in enumerate(canonical) if item is not None]
        where = axes[3]
        wanted, inner = canonical[where], canonical[:where] + canonical[where + 1:]
        frames = self._frames()
        if not isinstance(wanted, slice):
            return np.asarray(self._frame(frames[int(wanted)][0], inner))
        indices = range(self._shape[3])[wanted]
        if len(indices) == 0:
            return np.empty(predict_shape(canonical, self._shape))
        out_axis = sum(1 for item in canonical[:where] if item is None or isinstance(item, slice))
        return np.stack([self._frame(frames[i][0], inner) for i in indices], axis=out_axis)


class _EcatSlicer(SpatialFirstSlicer):
    """``img.slicer[...]`` of an ECAT image: the slice as data with its affine (no frame subheaders)."""

    def __getitem__(self, slicer: Any) -> SpatialImage:
        slicer = self.check_slicing(slicer)
        data = np.array(self.img.dataobj[slicer], copy=True)
        if any(size == 0 for size in data.shape):
            raise ImageIndexError("Empty slice requested")
        header = self.img.header.copy()
        header._frames = header._dtype_override = None
        return EcatImage(data, self.slice_affine(slicer), header, extra=dict(self.img.extra))


class EcatImage(SpatialImage):
    """An ECAT 7 image: main header, subheaders and matrix list, frames along the fourth axis.

    ``makeable`` is False (as for nibabel's purposes): an EcatImage is made
    from a file, or from the parts of a loaded one.
    """

    header_class: ClassVar[type] = EcatHeader
    subheader_class: ClassVar[type] = EcatSubHeader
    valid_exts: ClassVar[tuple[str, ...]] = (".v",)
    files_types: ClassVar[tuple[tuple[str, str | None], ...]] = (("image", ".v"), ("header", ".v"))
    _compressed_suffixes: ClassVar[tuple[str, ...]] = (".gz", ".bz2", ".zst")
    _meta_sniff_len: ClassVar[int] = 512
    makeable: ClassVar[bool] = False
    ImageArrayProxy: ClassVar[type] = EcatImageArrayProxy
    ImageSlicer: ClassVar[type] = _EcatSlicer

    def __init__(self, dataobj: Any, affine: Any, header: Any = None, subheader: Any = None,
                 mlist: Any = None, extra: Any = None, file_map: FileMap | None = None) -> None:
        # nibabel requires header, subheader and mlist; without them the image holds data only
        # (it can be converted to other formats, not saved as ECAT)
        header = header if header is not None else EcatHeader()
        self._subheader = subheader
        self._mlist = mlist
        self._dataobj = dataobj
        if affine is not None:
            affine = np.array(affine, dtype=np.float64, copy=True)
            if affine.shape != (4, 4):
                raise ImageFileError("Affine should be shape 4,4")
        self._affine = affine
        self.extra = dict(extra) if extra is not None else {}
        self._header = header
        self.file_map = file_map if file_map is not None else self.make_file_map()
        self._data_cache = None
        self._fdata_cache = None

    @property
    def affine(self) -> np.ndarray | None:
        if self._subheader is not None and not self._subheader._check_affines():
            warnings.warn("Affines different across frames, loading affine from FIRST frame", UserWarning,
                          stacklevel=2)
        return self._affine

    def get_frame_affine(self, frame: int) -> np.ndarray:
        """The 4x4 affine of a frame."""
        return self._subheader.get_frame_affine(frame=frame)

    def get_frame(self, frame: int, orientation: Any = None) -> np.ndarray:
        """The scaled volume of a frame (row of the matrix list), flipped to ``orientation``."""
        return self._subheader.data_from_fileobj(frame, orientation)

    def get_data_dtype(self, frame: int | None = None) -> np.dtype:  # type: ignore[override]
        """The stored dtype of ``frame``; without a frame (nibabel requires one), the dtype of
        the image's values: the stored type when nothing is scaled, else float32."""
        if frame is None:
            if self._subheader is None or not isinstance(self._header, EcatHeader) \
                    or self._header._frames is None:
                return np.dtype(getattr(self._dataobj, "dtype", np.float64))
            return self._header.get_data_dtype()
        return self._subheader._get_data_dtype(frame)

    @property
    def shape(self) -> tuple[int, ...]:
        if self._subheader is None:
            return tuple(self._dataobj.shape)
        x, y, z = self._subheader.get_shape()
        return (x, y, z, self._subheader.get_nframes())

    def get_mlist(self) -> Any:
        """The matrix list."""
        return self._mlist

    def get_subheaders(self) -> EcatSubHeader:
        """The frames' subheaders."""
        return self._subheader

    @staticmethod
    def _get_fileholders(file_map: FileMap) -> tuple[Any, Any]:
        return file_map["header"], file_map["image"]

    def update_header(self) -> None:
        """Nothing to do: the main header holds neither shape nor voxel sizes."""

    # ---- reading ----------------------------------------------------------------

    @classmethod
    def from_file_map(cls, file_map: FileMap, *, mmap: Any = True, keep_file_open: bool | None = None,
                      validation: str | None = None) -> EcatImage:
        """Read main header, matrix list and subheaders now; frames when indexed.

        Every error raised is a NivoxError naming the file.
        """
        check_mmap(mmap)
        if keep_file_open not in (None, True, False):
            raise ImageFileError(f"keep_file_open must be one of {{None, True, False}}, not {keep_file_open!r}")
        header_holder, image_holder = cls._get_fileholders(file_map)
        name = _validation.holder_name(header_holder)
        with _validation.mode(validation), _validation.source(name):
            try:
                named = image_holder.fileobj is None and image_holder.filename is not None
                stream = header_holder.get_prepare_fileobj(mode="rb")
                try:
                    header = EcatHeader.from_fileobj(stream) if cls.header_class is EcatHeader \
                        else cls.header_class.from_fileobj(stream)  # type: ignore[attr-defined]
                    mlist = np.zeros((int(header["num_frames"]), 4), dtype=np.int32)
                    listed = read_mlist(stream, header.endianness)
                    if len(listed) > len(mlist):
                        raise ImageDataError(f"the matrix list holds {len(listed)} frames, the header "
                                             f"num_frames {len(mlist)}")
                    if len(listed):
                        mlist[: len(listed)] = listed
                    subheaders = cls.subheader_class(header.copy(), mlist, stream)
                finally:
                    if named and not keep_file_open:
                        stream.close()
                if named and not keep_file_open:
                    # opened by name for each read: no handle stays open, and the proxy pickles
                    subheaders.fileobj = image_holder.filename
                subheaders._problem = _frames_missing(subheaders, image_holder)
                proxy = cls.ImageArrayProxy(subheaders, mmap=mmap if named and not keep_file_open else False)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    same = subheaders._check_affines()
                if not same:
                    warnings.warn("Affines different across frames, loading affine from FIRST frame",
                                  UserWarning, stacklevel=2)
                affine = subheaders.get_frame_affine()
            except _validation.LOAD_ERRORS as err:
                raise _validation.named_load_error(err, name) from err
        header._frames = subheaders
        return cls(proxy, affine, header, subheaders, mlist, extra=None, file_map=file_map)

    @classmethod
    def from_image(cls, img: Any) -> EcatImage:
        raise NotImplementedError("Ecat images can only be generated from file objects")

    # ---- writing ----------------------------------------------------------------

    def to_file_map(self, file_map: FileMap | None = None, **kwargs: Any) -> None:
        """Write main header, matrix list, subheaders and frames (atomically for named files)."""
        if file_map is None:
            file_map = self.file_map
        from .writing import write_ecat

        with replacing_files(file_map) as targets:
            header_holder, _ = self._get_fileholders(targets)
            with header_holder.get_prepare_fileobj(mode="wb") as stream:
                write_ecat(self, stream)
        self.file_map = file_map


def _frames_missing(subheaders: EcatSubHeader, holder: Any) -> str | None:
    """Why some frame's data cannot be in the file (its size, or most its codec can expand to), or None."""
    stored, codec = _validation.available_bytes(holder)
    if stored is None:
        return None
    factor = _validation.max_expansion(codec)
    if factor is None:
        return None
    limit = stored * factor + (0 if codec is None else 1 << 16)
    for row in range(len(subheaders.subheaders)):
        shape, dtype, offset = subheaders._frame_layout(row)
        end = offset + math.prod(shape) * dtype.itemsize
        if end > limit:
            return _validation.named(f"frame {row} needs bytes up to {end}, but the file holds "
                                     + (f"{stored}" if codec is None else f"at most {limit} once decompressed"))
    return None


load = EcatImage.load
