"""Cifti2Image: data on grayordinates or parcels in a NIfTI-2 container, described by CIFTI-2 XML.

The data stay on disk behind the NIfTI-2 reader's proxy, reshaped to drop
the four leading length-1 NIfTI dimensions, so ``img.dataobj[:, j]`` of a
multi-gigabyte dense connectome reads that column's bytes and nothing else.

Beyond nibabel: a header that disagrees with the data shape is an error
naming the file (not a warning), the header is checked against the CIFTI-2
specification before anything is written, and a file saved without a CIFTI
intent gets the one its dimensions call for (``.dtseries.nii`` ->
ConnDenseSeries, ...), which Connectome Workbench uses to decide the file type.
"""

from __future__ import annotations

import math
import re
import warnings
from typing import Any, ClassVar

import numpy as np

from ..arrayproxy import reshape_dataobj
from ..dataobj_images import DataobjImage
from ..filebasedimages import SerializableImage
from ..fileholders import FileMap
from ..nifti1 import Nifti1Extensions
from ..nifti2 import Nifti2Header, Nifti2Image
from ..errors import HeaderDataError, NivoxWarning
from .cifti2 import Cifti2Header, Cifti2HeaderError, data_type_codes

__all__ = ["Cifti2HeaderWarning", "Cifti2Image", "LimitedNifti2Header", "load", "save"]

# (map type of each dimension) -> NIfTI intent Workbench expects for that file type
_INTENTS = {
    ("BRAIN_MODELS", "BRAIN_MODELS"): "NIFTI_INTENT_CONNECTIVITY_DENSE",
    ("SERIES", "BRAIN_MODELS"): "NIFTI_INTENT_CONNECTIVITY_DENSE_SERIES",
    ("PARCELS", "PARCELS"): "NIFTI_INTENT_CONNECTIVITY_PARCELLATED",
    ("SERIES", "PARCELS"): "NIFTI_INTENT_CONNECTIVITY_PARCELLATED_SERIES",
    ("SCALARS", "BRAIN_MODELS"): "NIFTI_INTENT_CONNECTIVITY_DENSE_SCALARS",
    ("LABELS", "BRAIN_MODELS"): "NIFTI_INTENT_CONNECTIVITY_DENSE_LABELS",
    ("SCALARS", "PARCELS"): "NIFTI_INTENT_CONNECTIVITY_PARCELLATED_SCALAR",
    ("BRAIN_MODELS", "PARCELS"): "NIFTI_INTENT_CONNECTIVITY_PARCELLATED_DENSE",
    ("PARCELS", "BRAIN_MODELS"): "NIFTI_INTENT_CONNECTIVITY_DENSE_PARCELLATED",
    ("SERIES", "PARCELS", "PARCELS"): "NIFTI_INTENT_CONNECTIVITY_PARCELLATED_PARCELLATED_SERIES",
    ("SCALARS", "PARCELS", "PARCELS"): "NIFTI_INTENT_CONNECTIVITY_PARCELLATED_PARCELLATED_SCALAR",
}


class Cifti2HeaderWarning(NivoxWarning):
    """A CIFTI-2 header that readers may reject: an index outside its surface or volume."""


class LimitedNifti2Header(Nifti2Header):
    """A NIfTI-2 header limited to the data types CIFTI-2 allows."""

    _data_type_codes = data_type_codes


def _intent_for(header: Cifti2Header, ndim: int) -> str:
    try:
        kinds = tuple(header.get_index_map(i).indices_map_to_data_type.replace("CIFTI_INDEX_TYPE_", "")
                      for i in range(ndim))
    except Cifti2HeaderError:
        return "NIFTI_INTENT_CONNECTIVITY_UNKNOWN"
    return _INTENTS.get(kinds, "NIFTI_INTENT_CONNECTIVITY_UNKNOWN")


class Cifti2Image(DataobjImage, SerializableImage):
    """A CIFTI-2 file (``.dscalar.nii``, ``.dtseries.nii``, ``.dlabel.nii``, ``.dconn.nii``, ...).

    Parameters
    ----------
    dataobj : array-like
        The data, one dimension per CIFTI dimension.
    header : Cifti2Header or sequence of cifti2_axes.Axis
        The XML header, or one axis per data dimension.
    nifti_header : NIfTI-2 header or mapping, optional
        Fields of the NIfTI-2 container.
    extra, file_map
        As for every image.
    dtype : dtype, optional
        On-disk data type.
    """

    header_class: ClassVar[type] = Cifti2Header
    valid_exts: ClassVar[tuple[str, ...]] = Nifti2Image.valid_exts
    files_types: ClassVar[tuple[tuple[str, str | None], ...]] = Nifti2Image.files_types
    _compressed_suffixes: ClassVar[tuple[str, ...]] = Nifti2Image._compressed_suffixes
    _meta_sniff_len: ClassVar[int] = Nifti2Header.sizeof_hdr
    makeable: ClassVar[bool] = False
    rw: ClassVar[bool] = True

    def __init__(self, dataobj: Any = None, header: Any = None, nifti_header: Any = None,
                 extra: Any = None, file_map: FileMap | None = None, dtype: Any = None) -> None:
        if header is not None and not isinstance(header, Cifti2Header):
            header = Cifti2Header.from_axes(header) if len(header) else None
        super().__init__(dataobj, header=header, extra=extra, file_map=file_map)
        self._nifti_header = LimitedNifti2Header.from_header(nifti_header)
        if dtype is None and nifti_header is None:
            dtype = getattr(dataobj, "dtype", None)  # without a NIfTI header, the data's own type
        if dtype is not None:
            self.set_data_dtype(dtype)
        self.update_headers()
        try:
            expected = self.header.matrix.get_data_shape()
        except (ValueError, TypeError, AttributeError, IndexError):
            return  # an inconsistent header: saving names its problems
        if tuple(self._dataobj.shape) != expected:
            warnings.warn(f"Dataobj shape {self._dataobj.shape} does not match shape expected from "
                          f"CIFTI-2 header {expected}", stacklevel=2)

    @property
    def nifti_header(self) -> LimitedNifti2Header:
        """The NIfTI-2 header of the container."""
        return self._nifti_header

    @classmethod
    def from_file_map(cls, file_map: FileMap, *, mmap: Any = True,  # type: ignore[override]
                      keep_file_open: bool | None = None, validation: str | None = None) -> Cifti2Image:
        """Read a CIFTI-2 image; the data stay on disk behind a proxy."""
        from .parse_cifti2 import Cifti2Extension, _Cifti2AsNiftiImage

        nifti_img = _Cifti2AsNiftiImage.from_file_map(file_map, mmap=mmap, keep_file_open=keep_file_open,
                                                      validation=validation)
        where = file_map["image"].filename or "<CIFTI-2 bytes>"
        for ext in nifti_img.header.extensions:
            if isinstance(ext, Cifti2Extension):
                try:
                    cifti_header = ext.get_content()
                except Cifti2HeaderError as err:
                    msg = str(err)
                    raise type(err)(msg if where in msg else f"{where}: {msg}") from None
                break
        else:
            raise Cifti2HeaderError(f"{where}: NIfTI2 header does not contain a CIFTI-2 extension")
        dataobj = nifti_img.dataobj
        if math.prod(dataobj.shape[:4]) != 1 or len(dataobj.shape) < 5:
            raise Cifti2HeaderError(f"{where}: NIfTI dimensions {dataobj.shape} are not 1 x 1 x 1 x 1 "
                                    "followed by the CIFTI dimensions")
        dataobj = reshape_dataobj(dataobj, dataobj.shape[4:])
        try:
            expected = cifti_header.matrix.get_data_shape()
        except (ValueError, TypeError, AttributeError, IndexError, KeyError) as err:
            raise Cifti2HeaderError(f"{where}: the CIFTI-2 header is inconsistent: {err}") from None
        if tuple(dataobj.shape) != expected:
            raise Cifti2HeaderError(f"{where}: the CIFTI-2 XML describes data of shape {expected} but "
                                    f"the NIfTI dimensions give {tuple(dataobj.shape)}")
        source = nifti_img.header
        if int(source["datatype"]) not in data_type_codes.code:
            raise Cifti2HeaderError(f"{where}: data type {source.get_data_dtype()} is not one CIFTI-2 allows")
        img = cls.__new__(cls)
        DataobjImage.__init__(img, dataobj, header=None, file_map=file_map)
        img._header = cifti_header  # parsed just now: no need for the copy __init__ makes
        try:
            img._nifti_header = LimitedNifti2Header.from_header(source)  # as nibabel converts it
        except HeaderDataError:
            # fields from_header cannot set again (zero voxel sizes): keep them as read
            img._nifti_header = LimitedNifti2Header(source.binaryblock, source.endianness, False,
                                                    source.extensions)
        return img

    @classmethod
    def from_image(cls, img: Any) -> Cifti2Image:
        """``img`` itself when it is a Cifti2Image (other images have no CIFTI-2 header)."""
        if isinstance(img, cls):
            return img
        raise NotImplementedError(f"Cannot make a Cifti2Image from {type(img).__name__}")

    def to_file_map(self, file_map: FileMap | None = None, dtype: Any = None) -> None:  # type: ignore[override]
        """Write the NIfTI-2 container with the CIFTI-2 extension and the data.

        Raises :class:`Cifti2HeaderError` naming every way the header breaks the
        CIFTI-2 specification or disagrees with the data.
        """
        from .parse_cifti2 import Cifti2Extension

        self.update_headers()
        from ._validate import check_header

        errors, warns = check_header(self.header, tuple(self._dataobj.shape))
        target = re.sub(r"\.nivox-tmp-[^-]+-", "", (file_map or self.file_map)["image"].filename or "image")
        if errors:
            raise Cifti2HeaderError(f"cannot write {target}: the CIFTI-2 header is not valid: "
                                    + "; ".join(errors))
        for problem in warns:
            warnings.warn(f"{target}: {problem}", Cifti2HeaderWarning, stacklevel=2)
        header = self._nifti_header
        header.extensions = Nifti1Extensions(
            ext for ext in header.extensions if not isinstance(ext, Cifti2Extension))
        header.extensions.append(Cifti2Extension.from_bytes(self.header.to_xml()))
        if header.get_intent()[0] == "none":
            intent = _intent_for(self.header, len(self._dataobj.shape))
            header.set_intent(intent, name=_short_intent_name(intent))
        if header["qform_code"] == 0:
            header["pixdim"][:4] = 1
        data = reshape_dataobj(self._dataobj, (1, 1, 1, 1) + tuple(self._dataobj.shape))
        Nifti2Image(data, None, header, dtype=dtype).to_file_map(file_map or self.file_map)

    def update_headers(self) -> None:
        """Record the data shape in the NIfTI-2 header: dims 1-4 are 1, the CIFTI dims follow."""
        self._nifti_header.set_data_shape((1, 1, 1, 1) + tuple(self._dataobj.shape))

    def get_data_dtype(self) -> np.dtype:
        return self._nifti_header.get_data_dtype()

    def set_data_dtype(self, dtype: Any) -> None:
        self._nifti_header.set_data_dtype(dtype)


def _short_intent_name(intent: str) -> str:
    from ..nifti1 import intent_codes

    return str(intent_codes.label[intent])[:16]


load = Cifti2Image.from_filename
save = Cifti2Image.instance_to_filename
