"""SPM99 Analyze: Analyze 7.5 as SPM reads and writes it.

SPM reuses two Analyze fields: ``funused1`` holds a data scale factor
(``scl_slope``) and ``originator`` holds the voxel (1-based) at the world
origin as five int16 (``origin``). The full voxel-to-world matrix, when SPM
has one, lives in a ``.mat`` sidecar next to the header: variable ``mat``
maps 1-based voxel indices to world, the older ``M`` does the same with the
x axis flipped. nivox, like nibabel, reads ``mat`` first and writes both
whenever the image has an affine.

Level 4 ``.mat`` files are read and written by :mod:`nivox._matfile`;
level 5 files, as MATLAB writes them, need scipy (``pip install nivox[spm]``).
When scipy is missing the image still loads, with a warning, and the affine
comes from the header.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, ClassVar

import numpy as np

from . import _matfile
from . import validation as _validation
from .analyze import AnalyzeHeader, AnalyzeImage
from .analyze import data_history_dtd as _analyze_history_dtd
from .analyze import header_key_dtd
from .analyze import image_dimension_dtd as _analyze_dimension_dtd
from .batteryrunners import Report, report_problem
from .errors import HeaderDataError, HeaderTypeError, ImageFileError, MissingDependencyError, NivoxWarning
from .fileholders import FileHolder, FileMap

__all__ = ["Spm99AnalyzeHeader", "Spm99AnalyzeImage", "SpmAnalyzeHeader", "data_history_dtd",
           "header_dtype", "header_key_dtd", "image_dimension_dtd", "load", "save"]


def _renamed(dtd: list[tuple[Any, ...]], old: str, new: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """A copy of field list ``dtd`` with field ``old`` replaced by ``new``."""
    return [new if field[0] == old else field for field in dtd]


image_dimension_dtd = _renamed(_analyze_dimension_dtd, "funused1", ("scl_slope", "f4"))
data_history_dtd = _renamed(_analyze_history_dtd, "originator", ("origin", "i2", (5,)))
header_dtype = np.dtype(header_key_dtd + image_dimension_dtd + data_history_dtd)

# 'mat' maps 1-based voxel indices; nivox affines map 0-based ones
_ONE_BASED = np.array([[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 1, 1], [0, 0, 0, 1]], dtype=np.float64)
_ZERO_BASED = np.linalg.inv(_ONE_BASED)
# 'M' is 'mat' with world x negated (SPM's older left-right convention)
_FLIP_X = np.diag([-1.0, 1.0, 1.0, 1.0])


class SpmAnalyzeHeader(AnalyzeHeader):
    """Analyze header with SPM's scale factor: a slope, never an intercept."""

    template_dtype: ClassVar[np.dtype] = header_dtype
    has_data_slope: ClassVar[bool] = True
    has_data_intercept: ClassVar[bool] = False

    @classmethod
    def default_structarr(cls, endianness: str | None = None) -> np.ndarray:
        hdr = super().default_structarr(endianness)
        hdr["scl_slope"] = 1
        return hdr

    def get_slope_inter(self) -> tuple[float | None, float | None]:
        """``(slope, None)``, or ``(None, None)`` when the slope is 0, NaN or infinite (unusable)."""
        slope = float(self._structarr["scl_slope"])
        if slope == 0 or not np.isfinite(slope):
            return None, None
        return slope, None

    @classmethod
    def _get_load_checks(cls) -> tuple[Any, ...]:
        return (*super()._get_load_checks(), _validation.chk_scale_factor)

    def set_slope_inter(self, slope: float | None, inter: float | None = None) -> None:
        """Set the slope (None stores NaN: no scaling); the intercept must be 0, None or NaN.

        Raises
        ------
        HeaderDataError
            A slope of 0 or infinity.
        HeaderTypeError
            A non-zero intercept, which SPM headers cannot store.
        """
        slope = np.nan if slope is None else float(slope)
        if slope == 0 or np.isinf(slope):
            raise HeaderDataError("Slope cannot be 0 or infinite")
        # as nibabel: the slope is stored even when the intercept is then refused
        self._structarr["scl_slope"] = slope
        if inter is not None and not np.isnan(inter) and inter != 0:
            raise HeaderTypeError("Cannot set non-zero intercept for SPM headers")


def _origin_usable(hdr: Any) -> bool:
    """Whether the SPM origin is plausible for the image's dimensions.

    An origin beyond twice the dimension, or as far below the first voxel as
    the dimension is long, is taken as garbage in a field SPM did not write.
    All zeros means "not set" and is fine.
    """
    dims = hdr["dim"][1:4].astype(np.int64)
    origin = hdr["origin"][:3].astype(np.int64)
    if not np.any(origin):
        return True
    return not (np.any(origin >= 2 * dims) or np.any(origin <= -dims))


class Spm99AnalyzeHeader(SpmAnalyzeHeader):
    """SPM99 header: scale factor plus the voxel at the world origin."""

    def get_origin_affine(self) -> np.ndarray:
        """Affine from voxel sizes (x flipped) placing ``origin`` (1-based voxel) at world 0.

        An all-zero or implausible origin (see the check battery) means the
        centre of the volume.
        """
        hdr = self._structarr
        dims = hdr["dim"][1:4].astype(np.float64)
        origin = hdr["origin"][:3].astype(np.float64)
        if not np.any(origin) or not _origin_usable(hdr):
            origin = (dims + 1) / 2
        scales = hdr["pixdim"][1:4].astype(np.float64)
        if self.default_x_flip:
            scales[0] = -scales[0]
        affine = np.eye(4)
        affine[:3, :3] = np.diag(scales)
        affine[:3, 3] = -scales * (origin - 1)
        return affine

    get_best_affine = get_origin_affine

    def set_origin_from_affine(self, affine: Any) -> None:
        """Set ``origin`` from the translations of ``affine`` over its voxel sizes.

        Like SPM99 and nibabel, this ignores rotations and the x flip and
        truncates to whole voxels; it is not the inverse of
        :meth:`get_origin_affine` for flipped affines.

        Raises
        ------
        HeaderDataError
            ``affine`` is not 4x4, or the origin does not fit the int16 field.
        """
        affine = np.asarray(affine, dtype=np.float64)
        if affine.shape != (4, 4):
            raise HeaderDataError(f"Need 4x4 affine to set origin, not shape {affine.shape}")
        voxel_sizes = np.sqrt(np.sum(affine[:3, :3] ** 2, axis=0))
        with np.errstate(divide="ignore", invalid="ignore"):
            origin = np.trunc(-affine[:3, 3] / voxel_sizes + 1)
        limits = np.iinfo(np.int16)
        if not np.all(np.isfinite(origin)) or np.any(origin < limits.min) or np.any(origin > limits.max):
            raise HeaderDataError(f"origin {origin} from affine does not fit the int16 origin field")
        self._structarr["origin"][:3] = origin

    @classmethod
    def _get_checks(cls) -> tuple[Any, ...]:
        return (*super()._get_checks(), cls._chk_origin)

    @staticmethod
    def _chk_origin(hdr: Any, fix: bool = False) -> tuple[Any, Report]:
        if _origin_usable(hdr):
            return hdr, Report(HeaderDataError)
        return report_problem(hdr, fix, HeaderDataError, 20, "very large origin values relative to dims",
                              "leaving as set, ignoring for affine")


class Spm99AnalyzeImage(AnalyzeImage):
    """An SPM99 Analyze image: ``.hdr``, ``.img`` and, when there is an affine, ``.mat``."""

    header_class: ClassVar[type] = Spm99AnalyzeHeader
    files_types: ClassVar[tuple[tuple[str, str | None], ...]] = (
        ("image", ".img"), ("header", ".hdr"), ("mat", ".mat"))
    has_affine: ClassVar[bool] = True
    makeable: ClassVar[bool] = True
    rw: ClassVar[bool] = True

    @classmethod
    def from_file_map(cls, file_map: FileMap, *, mmap: Any = True, keep_file_open: bool | None = None,
                      validation: str | None = None) -> Spm99AnalyzeImage:
        """Read header and data as Analyze does; take the affine from the ``.mat`` when there is one."""
        img = super().from_file_map(file_map, mmap=mmap, keep_file_open=keep_file_open,
                                    validation=validation)
        holder = file_map.get("mat")
        try:
            affine = _read_mat_affine(holder)
        except _validation.LOAD_ERRORS as err:
            raise _validation.named_load_error(err, None if holder is None else _validation.holder_name(holder)) \
                from err
        if affine is not None:
            img._affine = affine
            img._load_cache["affine"] = affine.copy()
        return img  # type: ignore[return-value]

    def _write_file_map(self, file_map: FileMap, dtype: Any) -> None:
        """Write header and data, then the affine (as ``mat`` and ``M``) to the ``.mat`` file."""
        if self._affine is not None and "mat" not in file_map:
            raise ImageFileError(f"file_map of {type(self).__name__} needs a 'mat' entry to store the affine")
        super()._write_file_map(file_map, dtype)
        if self._affine is None:
            return
        mat = self._affine @ _ZERO_BASED
        with file_map["mat"].get_prepare_fileobj(mode="wb") as mat_file:
            # nibabel writes M first; keep the same bytes
            _matfile.write_mat(mat_file, {"M": _FLIP_X @ mat, "mat": mat})


def _read_mat_affine(holder: FileHolder | None) -> np.ndarray | None:
    """The affine stored in the ``.mat`` sidecar, or None when there is no usable sidecar."""
    if holder is None or (holder.fileobj is None and
                          (holder.filename is None or not os.path.exists(holder.filename))):
        return None
    name = holder.filename or "the .mat file object"
    with holder.get_prepare_fileobj(mode="rb") as mat_file:
        content = mat_file.read()
    if not content:
        return None
    try:
        variables = _matfile.read_mat(content, name=name)
    except MissingDependencyError as err:
        warnings.warn(f"{err}; using the affine from the header instead", NivoxWarning, stacklevel=3)
        return None
    if "mat" in variables:
        mat = _first_affine(variables["mat"], name)
    elif "M" in variables:
        mat = _FLIP_X @ _first_affine(variables["M"], name)
    else:
        raise ImageFileError(f'{name}: mat file found but no "mat" or "M" in it')
    return mat @ _ONE_BASED


def _first_affine(value: Any, name: str) -> np.ndarray:
    """A 4x4 matrix; SPM stores one per volume as 4x4xN, the first is the image's."""
    array = np.asarray(value)
    if array.ndim == 3 and array.shape[:2] == (4, 4) and array.shape[2] > 0:
        if array.shape[2] > 1:
            warnings.warn(f'More than one affine in "mat" matrix of {name}, using first',
                          NivoxWarning, stacklevel=4)
        array = array[:, :, 0]
    if array.shape != (4, 4) or array.dtype.kind not in "biuf":
        raise ImageFileError(f"{name}: the affine should be a real 4x4 matrix, "
                             f"not {array.dtype} of shape {array.shape}")
    return array.astype(np.float64)


load = Spm99AnalyzeImage.from_filename
save = Spm99AnalyzeImage.instance_to_filename
