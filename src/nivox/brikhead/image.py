"""AFNIImage: an AFNI dataset, a ``.HEAD`` text header beside a ``.BRIK`` data file.

Reading follows nibabel (always 4-D: the fourth axis lists the sub-bricks).
Beyond nibabel, nivox reads sub-bricks of mixed types and writes datasets:
``img.to_filename('x+orig.HEAD')`` (or ``'x.BRIK.gz'`` for compressed data)
writes attributes nibabel and AFNI read, keeping every attribute of a loaded
header it does not recompute (the history note among them).

``rw`` and ``makeable`` stay False as in nibabel: they promise nibabel's
generic round trip, which an AFNI dataset cannot keep for a 3-D image (it
reads back with a fourth axis of length 1). Saving works all the same.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import warnings
from typing import Any, ClassVar

import numpy as np

from .. import validation as _validation
from .._atomic import replacing_files
from ..dataobj_images import check_mmap
from ..errors import (
    AFNIImageError, ArgumentTypeError, HeaderDataError, ImageFileError, ImageFileNotFoundError,
    NivoxWarning,
)
from ..fileholders import FileHolder, FileMap
from ..filename_parser import (
    TypesFilenamesError,
    _stringify_path,
    splitext_addext,
    types_filenames,
)
from ..spatialimages import SpatialImage
from .attributes import format_AFNI_header
from .header import VIEWS, WRITABLE_CODES, AFNIHeader, _check_shape
from .proxy import AFNIArrayProxy

__all__ = ["AFNIImage", "load"]

_VIEW_IN_NAME = re.compile(r"\+(orig|acpc|tlrc)$", re.IGNORECASE)
# per DICOM axis: the ORIENT_SPECIFIC code of an index running along it, and against it
_ORIENT_CODES = {0: (0, 1), 1: (3, 2), 2: (4, 5)}
_DEFAULT_SPACE = {"orig": "ORIG", "acpc": "ACPC", "tlrc": "TLRC"}


class _MissingBrikError(AFNIImageError, ImageFileNotFoundError):
    """The ``.BRIK`` file of a dataset is not there."""


class AFNIImage(SpatialImage):
    """An AFNI dataset: load it from its ``.HEAD`` or ``.BRIK`` (``.gz``, ``.bz2``) file name."""

    header_class: ClassVar[type] = AFNIHeader
    valid_exts: ClassVar[tuple[str, ...]] = (".brik", ".head")
    files_types: ClassVar[tuple[tuple[str, str | None], ...]] = (("image", ".brik"), ("header", ".head"))
    _compressed_suffixes: ClassVar[tuple[str, ...]] = (".gz", ".bz2", ".Z", ".zst")
    makeable: ClassVar[bool] = False
    rw: ClassVar[bool] = False
    _converts_on_save: ClassVar[bool] = True  # nivox.save(img, 'x.HEAD') converts other images
    ImageArrayProxy: ClassVar[type] = AFNIArrayProxy

    def __init__(self, dataobj: Any, affine: Any, header: Any = None, extra: Any = None,
                 file_map: FileMap | None = None) -> None:
        if header is None:
            header = AFNIHeader()
            header.set_data_dtype(getattr(dataobj, "dtype", np.float32))
        super().__init__(dataobj, affine, header, extra, file_map)

    # ---- file names ---------------------------------------------------------------

    @classmethod
    def _file_map_for(cls, filespec: Any, reading: bool) -> FileMap:
        try:
            names = types_filenames(filespec, cls.files_types, trailing_suffixes=cls._compressed_suffixes,
                                    enforce_extensions=True)
        except TypesFilenamesError as err:
            raise ImageFileError(f"Filespec {_stringify_path(filespec)!r} does not look right for "
                                 f"class {cls.__name__}: {err}") from None
        header, image = names["header"], names["image"]
        # HEAD files are never compressed; a BRIK may be, whatever name was given
        for suffix in cls._compressed_suffixes:
            header = header.removesuffix(suffix)
        if reading and not os.path.exists(image):
            stem = image
            for suffix in cls._compressed_suffixes:
                stem = stem.removesuffix(suffix)
            for candidate in [stem] + [stem + suffix for suffix in cls._compressed_suffixes]:
                if os.path.exists(candidate):
                    image = candidate
                    break
        return {"image": FileHolder(filename=image), "header": FileHolder(filename=header)}

    @classmethod
    def filespec_to_file_map(cls, filespec: Any) -> FileMap:
        """File holders for the ``.BRIK`` (found with or without compression) and ``.HEAD`` of ``filespec``."""
        return cls._file_map_for(filespec, reading=True)

    @classmethod
    def path_maybe_image(cls, filename: Any, sniff: Any = None, sniff_max: int = 1024) -> tuple[bool, Any]:
        """Whether ``filename`` names an AFNI dataset: its ``.HEAD`` starts like one."""
        _, ext, _ = splitext_addext(filename, cls._compressed_suffixes)
        if ext.lower() not in cls.valid_exts:
            return False, sniff
        try:
            header_name = cls._file_map_for(filename, reading=True)["header"].filename
        except ImageFileError:
            return False, sniff
        assert header_name is not None
        if sniff is None or sniff[1] != header_name:
            try:
                with open(header_name, "rb") as stream:
                    sniff = (stream.read(max(sniff_max, 64)), header_name)
            except OSError:
                return False, sniff
        return AFNIHeader.may_contain_header(sniff[0]), sniff

    # ---- reading --------------------------------------------------------------------

    @classmethod
    def from_file_map(cls, file_map: FileMap, *, mmap: Any = True, keep_file_open: bool | None = None,
                      validation: str | None = None) -> AFNIImage:
        """Parse the ``.HEAD`` now; the ``.BRIK`` data stay on disk behind an AFNIArrayProxy.

        Every error raised is a NivoxError naming the file.
        """
        check_mmap(mmap)
        header_holder, image_holder = file_map["header"], file_map["image"]
        with _validation.mode(validation):
            name = _validation.holder_name(header_holder)
            try:
                with _validation.source(name):
                    with header_holder.get_prepare_fileobj(mode="rb") as header_file:
                        header = AFNIHeader.from_fileobj(header_file)
                    affine = header.get_affine()
                    shape = header.get_data_shape()
                    nbytes = math.prod(shape[:3]) * sum(dt.itemsize for dt in header.get_brick_dtypes())
                    _validation.check_data_layout((nbytes,), 1, 0)
                name = _validation.holder_name(image_holder)
                with _validation.source(name):
                    if image_holder.fileobj is None and not os.path.exists(str(image_holder.filename)):
                        raise _MissingBrikError(_validation.named(
                            f"no data file (.BRIK, .BRIK.gz, ...) beside {header_holder.filename}"))
                    short = _validation.check_data_fits((nbytes,), 1, 0, image_holder)
                    source = image_holder.fileobj if image_holder.fileobj is not None else image_holder.filename
                    proxy = cls.ImageArrayProxy(source, header.copy(), mmap=mmap, keep_file_open=keep_file_open)
                    proxy._problem = short
            except _validation.LOAD_ERRORS as err:
                raise _validation.named_load_error(err, name) from err
        return cls(proxy, affine, header, file_map=file_map)

    # ---- writing --------------------------------------------------------------------

    @classmethod
    def from_image(cls, img: Any) -> AFNIImage:
        """An AFNIImage of ``img``'s data and affine (any spatial image; its header is converted)."""
        if isinstance(img.header, AFNIHeader):
            header = img.header.copy()
        else:
            header = AFNIHeader()
            header.set_data_dtype(img.get_data_dtype() if hasattr(img, "get_data_dtype")
                                  else img.header.get_data_dtype())
            header.set_data_shape(img.shape)
            try:
                header.set_zooms(img.header.get_zooms())
            except (HeaderDataError, AttributeError, NotImplementedError):
                pass
        return cls(img.dataobj, img.affine, header, extra=dict(img.extra))

    def to_filename(self, filename: Any, **kwargs: Any) -> None:
        """Write ``x.HEAD`` and ``x.BRIK`` (``x.BRIK.gz`` when that name is given), atomically."""
        from ..openers import write_options

        file_map = self._file_map_for(filename, reading=False)
        level = kwargs.pop("compresslevel", None)
        with replacing_files(file_map) as temp_map, write_options(compresslevel=level):
            self.to_file_map(temp_map, _view=_view_of(file_map["header"].filename), **kwargs)
        self.file_map = file_map

    def to_file_map(self, file_map: FileMap | None = None, **kwargs: Any) -> None:
        """Write the dataset to the ``header`` and ``image`` holders of ``file_map``."""
        view = kwargs.pop("_view", None)
        if kwargs:
            raise ArgumentTypeError(f"unexpected arguments {sorted(kwargs)}")
        if file_map is None:
            file_map = self.file_map
        self.update_header()
        bricks, info = _prepare(self, view)
        with replacing_files(file_map) as targets:
            with targets["image"].get_prepare_fileobj(mode="wb") as image_file:
                for brick in bricks:
                    image_file.write(brick.tobytes(order="F"))
            with targets["header"].get_prepare_fileobj(mode="wb") as header_file:
                header_file.write(format_AFNI_header(info).encode("latin-1", "replace"))
        self.file_map = file_map


def _view_of(header_name: str | None) -> str | None:
    if not header_name:
        return None
    stem = os.path.basename(header_name)
    stem = stem[: -len(".HEAD")] if stem.upper().endswith(".HEAD") else stem
    match = _VIEW_IN_NAME.search(stem)
    return match.group(1).lower() if match else None


def _storage_dtype(dtype: np.dtype, data: np.ndarray) -> np.dtype:
    """The AFNI type (byte, short, float, complex) that data of ``dtype`` are written in."""
    native = dtype.newbyteorder("=")
    if native in WRITABLE_CODES:
        return native
    if dtype.kind in "biu" and data.size:
        low, high = data.min(), data.max()
        if 0 <= low and high <= 255:
            return np.dtype(np.uint8)
        if -32768 <= low and high <= 32767:
            return np.dtype(np.int16)
    elif dtype.kind in "biu":
        return np.dtype(np.int16)
    return np.dtype(np.complex64 if dtype.kind == "c" else np.float32)


def _bricks_of(img: AFNIImage) -> tuple[list[np.ndarray], list[np.dtype], np.ndarray | None]:
    """The sub-bricks to write (as stored), their types, and their float factors (or None)."""
    proxy = img.dataobj
    shape = _check_shape(img.shape)
    header = img.header
    if isinstance(proxy, AFNIArrayProxy) and proxy.shape == img.shape and len(img.shape) == 4 \
            and header.get_brick_dtypes() == proxy.brick_dtypes:
        # unchanged data of a loaded dataset: write the stored values and factors back as they were
        raw = np.asarray(proxy.get_unscaled()).reshape(shape, order="F")
        dtypes = [dt.newbyteorder("=") for dt in proxy.brick_dtypes]
        if all(dt in WRITABLE_CODES for dt in dtypes):
            # values came from these types, so casting back (real part of a complex common type) is exact
            return [(raw[..., b].real if dtypes[b].kind != "c" else raw[..., b]).astype(dtypes[b])
                    for b in range(shape[3])], dtypes, proxy.scaling
    data = np.asanyarray(proxy).reshape(shape, order="F")
    want = header.get_data_dtype()
    brick_types = header.get_brick_dtypes() if len(header.get_brick_dtypes()) == shape[3] else [want] * shape[3]
    bricks, dtypes = [], []
    for b in range(shape[3]):
        volume = data[..., b]
        dtype = _storage_dtype(brick_types[b], volume)
        if dtype.kind in "iu" and volume.dtype.kind in "fc" and not np.array_equal(volume, np.round(volume.real)):
            dtype = np.dtype(np.float32)  # not integers: keep them as floats, not scaled ints
        stored = volume.astype(dtype)
        if not np.array_equal(stored, volume, equal_nan=True) and volume.dtype.kind != "b":
            warnings.warn(f"AFNI stores {volume.dtype} sub-brick {b} as {dtype}: values change "
                          f"(largest difference {np.nanmax(np.abs(stored - volume)) if volume.size else 0})",
                          NivoxWarning, stacklevel=4)
        bricks.append(stored)
        dtypes.append(dtype)
    return bricks, dtypes, None


def _dicom_grid(affine: np.ndarray) -> tuple[list[int], list[float], list[float], np.ndarray]:
    """ORIENT_SPECIFIC, ORIGIN, DELTA and IJK_TO_DICOM_REAL (3x4) of a RAS+ affine."""
    dicom = affine[:3] * np.array([[-1.0], [-1.0], [1.0]])
    matrix = dicom[:, :3]
    codes, origin, delta = [], [], []
    used: set[int] = set()
    for axis in range(3):
        column = np.abs(matrix[:, axis])
        order = [int(i) for i in np.argsort(-column) if int(i) not in used]
        world = order[0] if order else axis
        used.add(world)
        sign = 1.0 if matrix[world, axis] >= 0 else -1.0
        codes.append(_ORIENT_CODES[world][0 if sign > 0 else 1])
        size = float(np.sqrt(np.sum(matrix[:, axis] ** 2))) or 1.0
        delta.append(sign * size)
        origin.append(float(dicom[world, 3]))
    return codes, origin, delta, dicom


def _prepare(img: AFNIImage, view: str | None) -> tuple[list[np.ndarray], dict[str, Any]]:
    """The sub-bricks to write and the attributes of the ``.HEAD`` file."""
    shape = _check_shape(img.shape)
    bricks, dtypes, factors = _bricks_of(img)
    header = img.header
    info = dict(header.info)
    affine = img.affine if img.affine is not None else header.get_base_affine()
    if img.affine is None and len(header.get_zooms()) >= 3:
        affine = np.diag(list(header.get_zooms()[:3]) + [1.0])
    codes, origin, delta, dicom = _dicom_grid(np.asarray(affine, dtype=np.float64))
    old_view = header.get_view() if info else None
    view = view or old_view or "orig"
    n = shape[3]
    info.setdefault("TYPESTRING", "3DIM_HEAD_ANAT" if n == 1 or _tr(header) else "3DIM_HEAD_FUNC")
    scene = list(info.get("SCENE_DATA", [])) if isinstance(info.get("SCENE_DATA"), list) else []
    if len(scene) < 3:
        scene = [0, 0 if n == 1 else (2 if _tr(header) else 11), 0 if info["TYPESTRING"].endswith("ANAT") else 1,
                 -999, -999, -999, -999, -999]
    scene[0] = {v: k for k, v in VIEWS.items()}[view]
    info["SCENE_DATA"] = scene
    if view != old_view or "TEMPLATE_SPACE" not in info:
        info["TEMPLATE_SPACE"] = _DEFAULT_SPACE[view]
    info["DATASET_RANK"] = [3, n, 0, 0, 0, 0, 0, 0]
    info["DATASET_DIMENSIONS"] = [shape[0], shape[1], shape[2], 0, 0]
    info["BRICK_TYPES"] = [WRITABLE_CODES[dt] for dt in dtypes]
    info["BYTEORDER_STRING"] = "LSB_FIRST" if np.little_endian else "MSB_FIRST"
    info["ORIENT_SPECIFIC"] = codes
    info["ORIGIN"] = origin
    info["DELTA"] = delta
    cardinal = np.zeros((3, 4))
    for axis, code in enumerate(codes):
        cardinal[code // 2, axis] = delta[axis]
        cardinal[code // 2, 3] = origin[axis]
    info["IJK_TO_DICOM"] = [float(v) for v in cardinal.ravel()]
    info["IJK_TO_DICOM_REAL"] = [float(v) for v in dicom.ravel()]
    stats = []
    for b, brick in enumerate(bricks):
        values = np.abs(brick) if brick.dtype.kind == "c" else brick
        values = values[np.isfinite(values)] if values.dtype.kind == "f" else values
        factor = float(factors[b]) if factors is not None and factors[b] else 1.0
        stats += [float(values.min()) * factor, float(values.max()) * factor] if values.size else [0.0, 0.0]
    info["BRICK_STATS"] = stats
    info["BRICK_FLOAT_FACS"] = [float(f) for f in factors] if factors is not None else [0.0] * n
    labels = header.get_volume_labels()
    if labels is None or len(labels) != n:
        info["BRICK_LABS"] = "~".join(f"#{b}" for b in range(n))
    tr = _tr(header)
    if tr:
        nums = list(info.get("TAXIS_NUMS", [])) if isinstance(info.get("TAXIS_NUMS"), list) else []
        nums = (nums + [0, 0, 77002, -999, -999, -999, -999, -999][len(nums):]) if len(nums) < 8 else nums
        nums[0] = n
        info["TAXIS_NUMS"] = nums
        floats = list(info.get("TAXIS_FLOATS", [])) if isinstance(info.get("TAXIS_FLOATS"), list) else []
        floats = floats + [0.0, 0.0, 0.0, 0.0, 0.0, -999999.0, -999999.0, -999999.0][len(floats):]
        floats[1] = float(tr)
        info["TAXIS_FLOATS"] = floats
        if info["TAXIS_NUMS"][1] == 0:
            info.pop("TAXIS_OFFSETS", None)
    else:
        for name in ("TAXIS_NUMS", "TAXIS_FLOATS", "TAXIS_OFFSETS"):
            info.pop(name, None)
    if "IDCODE_STRING" not in info:
        digest = hashlib.sha256(format_AFNI_header(info).encode("latin-1", "replace")).hexdigest()
        info["IDCODE_STRING"] = "NVX_" + digest[:22]
    return bricks, info


def _tr(header: AFNIHeader) -> float:
    zooms = header.get_zooms()
    return float(zooms[3]) if len(zooms) > 3 and math.isfinite(zooms[3]) and zooms[3] > 0 else 0.0


load = AFNIImage.from_filename
