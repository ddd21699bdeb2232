"""SpatialImage: image data placed in the world by a 4x4 affine, and the minimal header.

The affine maps voxel indices (i, j, k) to world coordinates (x, y, z). The
image keeps header and affine consistent through ``update_header``, which
every format calls before writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any, ClassVar, TypeVar

import numpy as np

from .dataobj_images import DataobjImage
from .deprecator import expired
from .errors import (
    HeaderDataError, HeaderTypeError, ImageDataError, ImageIndexError, InvalidArgumentError,
)
from .filebasedimages import FileBasedHeader, ImageFileError
from .fileholders import FileMap
from .volumeutils import shape_zoom_affine

__all__ = [
    "HeaderDataError",
    "HeaderTypeError",
    "ImageDataError",
    "ImageFileError",
    "SpatialFirstSlicer",
    "SpatialHeader",
    "SpatialImage",
    "supported_np_types",
]

ImgT = TypeVar("ImgT", bound="SpatialImage")
HdrT = TypeVar("HdrT", bound="SpatialHeader")


def _checked_dtype(dtype: Any) -> np.dtype:
    try:
        return np.dtype(dtype)
    except TypeError as err:
        raise HeaderDataError(f"data dtype {dtype!r} not recognized") from err


class SpatialHeader(FileBasedHeader):
    """The header every spatial format has at least: dtype, shape and voxel sizes."""

    data_layout: ClassVar[str] = "F"
    default_x_flip: ClassVar[bool] = True

    def __init__(
        self,
        data_dtype: Any = np.float32,
        shape: Sequence[int] = (0,),
        zooms: Sequence[float] | None = None,
    ) -> None:
        self.set_data_dtype(data_dtype)
        self._zooms: tuple[float, ...] = ()
        self.set_data_shape(shape)
        if zooms is not None:
            self.set_zooms(zooms)

    @classmethod
    def from_header(cls: type[HdrT], header: Any = None) -> HdrT:
        """A header of this class carrying dtype, shape and zooms of ``header``."""
        if header is None:
            return cls()
        if type(header) is cls:
            return header.copy()
        return cls(header.get_data_dtype(), header.get_data_shape(), header.get_zooms())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SpatialHeader):
            return NotImplemented
        return (self.get_data_dtype(), self.get_data_shape(), self.get_zooms()) == (
            other.get_data_dtype(),
            other.get_data_shape(),
            other.get_zooms(),
        )

    __hash__ = None  # type: ignore[assignment]

    def copy(self: HdrT) -> HdrT:
        return type(self)(self.get_data_dtype(), self.get_data_shape(), self.get_zooms())

    def get_data_dtype(self) -> np.dtype:
        return self._dtype

    def set_data_dtype(self, dtype: Any) -> None:
        self._dtype = _checked_dtype(dtype)

    def get_data_shape(self) -> tuple[int, ...]:
        return self._shape

    def set_data_shape(self, shape: Sequence[int]) -> None:
        ndim = len(shape)
        if ndim == 0:
            self._shape: tuple[int, ...] = (0,)
            self._zooms = (1.0,)
            return
        self._shape = tuple(int(s) for s in shape)
        # keep the zooms we have, pad new axes with 1
        zooms = self._zooms[:ndim]
        self._zooms = zooms + (1.0,) * (ndim - len(zooms))

    def get_zooms(self) -> tuple[float, ...]:
        return self._zooms

    def set_zooms(self, zooms: Sequence[float]) -> None:
        zooms = tuple(float(z) for z in zooms)
        if len(zooms) != len(self._shape):
            raise HeaderDataError(f"Expecting {len(self._shape)} zoom values, got {len(zooms)}")
        if any(z < 0 for z in zooms):
            raise HeaderDataError(f"zooms must be positive, got {zooms}")
        self._zooms = zooms

    def get_base_affine(self) -> np.ndarray:
        """An affine from shape and zooms alone, centred on the volume, x flipped (radiological)."""
        shape = self.get_data_shape()
        zooms = self.get_zooms()
        return shape_zoom_affine(shape, zooms, self.default_x_flip)

    get_best_affine = get_base_affine

    def data_to_fileobj(self, data: Any, fileobj: IO[bytes], rescale: bool = True) -> None:
        """Write ``data`` to ``fileobj`` in this header's dtype and layout."""
        from .volumeutils import array_to_file

        data = np.asanyarray(data)
        array_to_file(data, fileobj, self.get_data_dtype(), order=self.data_layout)

    def data_from_fileobj(self, fileobj: IO[bytes]) -> np.ndarray:
        """Read the data this header describes from ``fileobj``."""
        from .volumeutils import array_from_file

        return array_from_file(
            self.get_data_shape(), self.get_data_dtype(), fileobj, order=self.data_layout
        )


def supported_np_types(obj: Any) -> set[type]:
    """The numpy scalar types ``obj`` (a header or image) can store as its data dtype.

    Every numpy scalar type is tried, so aliases of a supported type
    (``np.longlong`` beside ``np.int64``) are in the set too. ``obj``'s dtype
    is restored afterwards.
    """
    original = obj.get_data_dtype()
    supported = set()
    for sctype in set(np.sctypeDict.values()):
        try:
            obj.set_data_dtype(sctype)
        except (HeaderDataError, ValueError, TypeError):
            continue
        if np.dtype(obj.get_data_dtype()) == np.dtype(sctype):
            supported.add(sctype)
    obj.set_data_dtype(original)
    return supported


class SpatialFirstSlicer:
    """``img.slicer[...]``: slice the first three (spatial) axes and keep a valid affine."""

    def __init__(self, img: SpatialImage) -> None:
        if not isinstance(img, SpatialImage):
            raise InvalidArgumentError("SpatialFirstSlicer works with SpatialImage objects")
        self.img = img

    def __getitem__(self, slicer: Any) -> SpatialImage:
        slicer = self.check_slicing(slicer)
        dataobj = self.img.dataobj[slicer]
        if any(size == 0 for size in dataobj.shape):
            raise ImageIndexError("Empty slice requested")
        affine = self.slice_affine(slicer)
        return self.img.__class__(np.array(dataobj, copy=True), affine, self.img.header, self.img.extra)

    def check_slicing(self, slicer: Any, return_spatial: bool = False) -> tuple[Any, ...]:
        """``slicer`` as a tuple with the spatial axes made explicit; refuse what breaks the affine."""
        if not isinstance(slicer, tuple):
            slicer = (slicer,)
        ndim = self.img.ndim
        if sum(1 for s in slicer if s is Ellipsis) > 1:
            raise ImageIndexError("an index can only have a single ellipsis ('...')")
        n_real = sum(1 for s in slicer if s is not None and s is not Ellipsis)
        expanded: list[Any] = []
        for item in slicer:
            if item is Ellipsis:
                expanded.extend([slice(None)] * (ndim - n_real))
            else:
                expanded.append(item)
        if sum(1 for s in expanded if s is not None) > ndim:
            raise ImageIndexError(f"too many indices for an image with {ndim} dimensions")
        spatial = expanded[:3] + [slice(None)] * max(0, 3 - len(expanded))
        for item in spatial:
            if item is None:
                raise ImageIndexError("New axis not permitted in spatial dimensions")
            if isinstance(item, (int, np.integer)):
                raise ImageIndexError("Scalar indices disallowed in spatial dimensions; use [x] or x:x+1")
            if not isinstance(item, slice):
                raise ImageIndexError("Cannot handle fancy indexing")
            if item.step == 0:
                raise InvalidArgumentError("slice step cannot be 0")
        if return_spatial:
            return tuple(spatial)
        return tuple(spatial + expanded[3:])

    def slice_affine(self, slicer: tuple[Any, ...]) -> np.ndarray:
        """The affine of the sliced image: steps scale axes, the first voxel kept is the new origin."""
        shape = self.img.shape
        transform = np.eye(4)
        for axis, item in enumerate(slicer[:3]):
            if axis >= len(shape):
                break
            start, _, step = item.indices(shape[axis])
            transform[axis, axis] = step
            transform[axis, 3] = start
        return self.img.affine @ transform


class SpatialImage(DataobjImage):
    """An image in world space: data, a 4x4 affine (or None), a header and extra metadata."""

    header_class: ClassVar[type] = SpatialHeader
    ImageSlicer: ClassVar[type] = SpatialFirstSlicer

    def __init__(
        self,
        dataobj: Any,
        affine: Any,
        header: Any = None,
        extra: Any = None,
        file_map: FileMap | None = None,
    ) -> None:
        super().__init__(dataobj, header=header, extra=extra, file_map=file_map)
        if affine is not None:
            affine = np.array(affine, dtype=np.float64)
            if affine.shape != (4, 4):
                raise InvalidArgumentError(f"Affine should be shape 4,4, not {affine.shape}")
        self._affine: np.ndarray | None = affine
        if header is None and hasattr(dataobj, "dtype"):
            self._header.set_data_dtype(dataobj.dtype)
        self.update_header()

    @property
    def affine(self) -> np.ndarray | None:
        return self._affine

    get_affine = expired("get_affine()", "the img.affine property")

    def update_header(self) -> None:
        """Make the header agree with the data shape and the affine's voxel sizes."""
        header = self._header
        shape = self._dataobj.shape
        if header.get_data_shape() != shape:
            header.set_data_shape(shape)
        # the header's own placement (codes, stored quaternion, zooms) stays unless
        # the image's affine says something else
        if self._affine is None:
            return
        try:
            stored = header.get_best_affine()
        except HeaderDataError:  # a header with no placement yet (a new AFNI header): take ours
            stored = None
        if stored is not None and np.allclose(self._affine, stored):
            return
        self._affine2header()

    def _affine2header(self) -> None:
        """Write the affine into the header unconditionally (here: the voxel sizes)."""
        if self._affine is None:
            return
        voxel_sizes = np.sqrt(np.sum(self._affine[:3, :3] ** 2, axis=0))
        zooms = list(self._header.get_zooms())
        n_spatial = min(len(zooms), 3)
        zooms[:n_spatial] = voxel_sizes[:n_spatial]
        self._header.set_zooms(zooms)

    def get_data_dtype(self) -> np.dtype:
        return self._header.get_data_dtype()

    def set_data_dtype(self, dtype: Any) -> None:
        self._header.set_data_dtype(dtype)

    @classmethod
    def from_image(cls: type[ImgT], img: SpatialImage | Any) -> ImgT:
        """An image of this class with the data, affine, header fields and extra of ``img``."""
        return cls(img.dataobj, img.affine, cls.header_class.from_header(img.header), extra=img.extra.copy())

    @property
    def slicer(self) -> SpatialFirstSlicer:
        """Slice the image: ``img.slicer[10:20, ::2]`` gives an image with its affine adjusted."""
        return self.ImageSlicer(self)

    def __str__(self) -> str:
        shape = self.shape
        affine = self.affine
        return "\n".join(
            [
                str(self.__class__),
                f"data shape {shape}",
                "affine:",
                f"{affine}",
                "metadata:",
                f"{self._header}",
            ]
        )

    def orthoview(self) -> Any:
        """Show three orthogonal slices (and a time course for 4D) with matplotlib."""
        from .viewers import OrthoSlicer3D

        return OrthoSlicer3D(self.dataobj, self.affine, title=self.get_filename())

    def as_reoriented(self: ImgT, ornt: Any) -> ImgT:
        """The image with its axes permuted and flipped by orientation array ``ornt``."""
        from .orientations import apply_orientation, inv_ornt_aff

        ornt = np.asarray(ornt)
        if np.array_equal(ornt, [[axis, 1] for axis in range(len(ornt))]):
            return self
        data = apply_orientation(np.asanyarray(self.dataobj), ornt)
        affine = self.affine @ inv_ornt_aff(ornt, self.shape)
        return self.__class__(data, affine, self.header)
