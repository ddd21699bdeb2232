"""NIfTI-1 image classes: ``Nifti1Pair`` (.hdr + .img) and ``Nifti1Image`` (.nii)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._chunksave import data_dtype, data_range, streams
from ..analyze import AnalyzeImage
from ..filebasedimages import SerializableImage
from ..fileholders import FileMap
from .header import Nifti1Header, Nifti1PairHeader
from ..errors import ArgumentTypeError, InvalidArgumentError

__all__ = ["Nifti1Image", "Nifti1Pair"]

# dtype aliases resolved when the image is saved, from the data's values
_DEFERRED_DTYPES = ("compat", "smallest")
_INT_CANDIDATES = (np.uint8, np.int16, np.int32)


class Nifti1Pair(AnalyzeImage):
    """A NIfTI-1 image stored as a header/image pair."""

    header_class: ClassVar[type] = Nifti1PairHeader
    _meta_sniff_len: ClassVar[int] = 348
    rw: ClassVar[bool] = True

    def __init__(self, dataobj: Any, affine: Any, header: Any = None, extra: Any = None,
                 file_map: FileMap | None = None, dtype: Any = None) -> None:
        # int64 data silently saved as int64 breaks many tools: ask for intent
        data_dtype = getattr(dataobj, "dtype", None)
        if header is None and dtype is None and data_dtype is not None and \
                np.dtype(data_dtype) in (np.dtype(np.int64), np.dtype(np.uint64)):
            raise InvalidArgumentError(
                f"Image data has type {np.dtype(data_dtype)}, which may cause incompatibilities with "
                "other tools. To use this type, pass an explicit header or dtype argument to "
                f"{type(self).__name__}()."
            )
        self._pending_dtype: str | None = None
        super().__init__(dataobj, affine, header, extra, file_map, dtype)
        # a new header gets both forms, even where the affine equals its default
        if header is None and affine is not None:
            self._affine2header()

    def update_header(self) -> None:
        super().update_header()
        header = self._header
        header["magic"] = header.single_magic if header.is_single else header.pair_magic

    def _affine2header(self) -> None:
        """Store the image affine as the sform ('aligned') and the qform ('unknown').

        ``update_header`` calls this only when the affine differs from the
        header's best affine, so codes and quaternions read from a file survive
        a load/save round trip.
        """
        if self._affine is None:
            return
        header = self._header
        header.set_sform(self._affine, code="aligned")
        header.set_qform(self._affine, code="unknown")

    # ---- affines through the image (keep img.affine in step) ---------------

    def get_qform(self, coded: bool = False) -> Any:
        return self._header.get_qform(coded)

    def set_qform(self, affine: Any, code: Any = None, strip_shears: bool = True,
                  **kwargs: Any) -> None:
        """Set the header's qform; ``update_affine`` (default True) refreshes ``img.affine``."""
        update_affine = kwargs.pop("update_affine", True)
        if kwargs:
            raise ArgumentTypeError(f"Unexpected keyword argument(s) {kwargs}")
        self._header.set_qform(affine, code, strip_shears)
        if update_affine:
            self._refresh_affine()

    def get_sform(self, coded: bool = False) -> Any:
        return self._header.get_sform(coded)

    def set_sform(self, affine: Any, code: Any = None, **kwargs: Any) -> None:
        """Set the header's sform; ``update_affine`` (default True) refreshes ``img.affine``."""
        update_affine = kwargs.pop("update_affine", True)
        if kwargs:
            raise ArgumentTypeError(f"Unexpected keyword argument(s) {kwargs}")
        self._header.set_sform(affine, code)
        if update_affine:
            self._refresh_affine()

    def _refresh_affine(self) -> None:
        best = self._header.get_best_affine()
        if self._affine is None:
            self._affine = best
        else:
            self._affine[:] = best

    # ---- dtype, including the deferred 'compat' and 'smallest' ------------

    def get_data_dtype(self, finalize: bool = False) -> Any:
        """The on-disk dtype; 'compat'/'smallest' until ``finalize`` picks one from the data."""
        if self._pending_dtype is None:
            return self._header.get_data_dtype()
        if not finalize:
            return self._pending_dtype
        self.set_data_dtype(self._choose_dtype(self._pending_dtype))
        return self._header.get_data_dtype()

    def set_data_dtype(self, datatype: Any) -> None:
        """Set the dtype; also the aliases 'mask' (uint8), 'compat' and 'smallest'.

        'compat' (an Analyze-compatible type) and 'smallest' (the narrowest of
        uint8/int16/int32) are resolved from the data when saved or by
        ``get_data_dtype(finalize=True)``; see :meth:`_choose_dtype`.
        """
        if isinstance(datatype, str) and datatype in _DEFERRED_DTYPES:
            self._pending_dtype = datatype
            return
        if isinstance(datatype, str) and datatype == "mask":
            datatype = np.uint8
        self._pending_dtype = None
        self._header.set_data_dtype(datatype)

    def _choose_dtype(self, alias: str) -> np.dtype:
        """The dtype 'compat' or 'smallest' stands for, from the data's type and values.

        As nibabel: 'compat' keeps uint8/int16/int32/float32, narrows int8
        and uint16 by value, and takes int32 (float32) for other integer
        (floating point) data whose values fit; 'smallest' takes the
        narrowest of uint8/int16/int32 for integer data. Boolean data
        become uint8 (nibabel raises).
        """
        chunked = streams(self._dataobj)  # data not in memory: their range is read slab by slab
        data = self._dataobj if chunked else np.asanyarray(self._dataobj)
        dtype = data_dtype(data) if chunked else data.dtype
        if dtype == np.bool_:
            return np.dtype(np.uint8)
        low = high = None
        if chunked and dtype.kind in "iuf":
            low, high = data_range(data)
        elif data.size and dtype.kind in "iuf":
            low, high = data.min(), data.max()
        if alias == "compat":
            if dtype in (np.uint8, np.int16, np.int32, np.float32):
                return np.dtype(dtype)
            if dtype == np.int8:
                return np.dtype(np.uint8 if low is None or low >= 0 else np.int16)
            if dtype == np.uint16:
                return np.dtype(np.int16 if high is None or high <= np.iinfo(np.int16).max else np.int32)
            candidates: tuple[Any, ...] = (np.int32,) if dtype.kind in "iu" else \
                (np.float32,) if dtype.kind == "f" else ()
            what = "an Analyze-compatible dtype"
        else:
            candidates = _INT_CANDIDATES if dtype.kind in "iu" else ()
            what = "an integer type with fewer than 64 bits"
        for candidate in candidates:
            if low is None or _holds(candidate, low, high):
                return np.dtype(candidate)
        raise InvalidArgumentError(
            f"Cannot automatically cast array (of type {dtype}) to {what}. "
            "Please set_data_dtype() to an explicit data type."
        )

    def to_file_map(self, file_map: FileMap | None = None, dtype: Any = None) -> None:
        pending = self._pending_dtype
        if pending is not None:
            self.get_data_dtype(finalize=True)
        try:
            if isinstance(dtype, str) and dtype in _DEFERRED_DTYPES:
                dtype = self._choose_dtype(dtype)
            elif isinstance(dtype, str) and dtype == "mask":
                dtype = np.uint8
            super().to_file_map(file_map, dtype=dtype)
        finally:
            # like nibabel: an alias stays an alias, to be resolved again at the next save
            if pending is not None:
                self._pending_dtype = pending

    def _prepare_disk_header(self, header: Any) -> None:
        # a single file with offset 0 gets the first offset after header and extensions
        if header.is_single and header.get_data_offset() == 0:
            header.set_data_offset(header.single_vox_offset + header.extensions.get_sizeondisk())

    # ---- reading -----------------------------------------------------------

    @classmethod
    def from_file_map(cls, file_map: FileMap, *, mmap: Any = True,
                      keep_file_open: bool | None = None, validation: str | None = None) -> Nifti1Pair:
        img = super().from_file_map(file_map, mmap=mmap, keep_file_open=keep_file_open,
                                    validation=validation)
        # scaling and offset now live on the proxy; the image header shows neither
        img._header.set_slope_inter(None, None)
        img._header.set_data_offset(0)
        return img

    def as_reoriented(self, ornt: Any) -> Nifti1Pair:
        """Reoriented image; dim_info axes follow the data axes."""
        img = super().as_reoriented(ornt)
        if img is self:
            return img
        ornt = np.asarray(ornt)
        new_axes = [None if axis is None else int(ornt[axis, 0]) for axis in self.header.get_dim_info()]
        img.header.set_dim_info(*new_axes)
        return img


def _holds(dtype: Any, low: Any, high: Any) -> bool:
    """Whether ``dtype``'s range holds ``low`` and ``high``."""
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else np.finfo(dtype)
    return bool(low >= info.min and high <= info.max)


class Nifti1Image(Nifti1Pair, SerializableImage):
    """A NIfTI-1 image in one ``.nii`` file (header, extensions, data)."""

    header_class: ClassVar[type] = Nifti1Header
    valid_exts: ClassVar[tuple[str, ...]] = (".nii",)
    files_types: ClassVar[tuple[tuple[str, str | None], ...]] = (("image", ".nii"),)

    def _get_fileholders(self, file_map: FileMap) -> tuple[Any, Any]:
        return file_map["image"], file_map["image"]

    @classmethod
    def from_file_map(cls, file_map: FileMap, *, mmap: Any = True,
                      keep_file_open: bool | None = None, validation: str | None = None) -> Nifti1Image:
        single_map = {"header": file_map["image"], "image": file_map["image"]}
        img = super().from_file_map(single_map, mmap=mmap, keep_file_open=keep_file_open,
                                    validation=validation)
        img.file_map = file_map
        img._load_cache["file_map"] = {"image": single_map["image"]}
        return img  # type: ignore[return-value]
