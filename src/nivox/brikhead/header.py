"""AFNIHeader: the attributes of a ``.HEAD`` file seen through the SpatialHeader API.

``info`` keeps every attribute as read (so writing keeps the history note
and anything else nivox does not interpret); dtype, shape and zooms are
derived from it once and then follow the image, as for other headers.

Sub-bricks may each have their own storage type (``BRICK_TYPES``). nibabel
refuses such datasets; nivox reads them into the smallest dtype that holds
every sub-brick's values exactly (numpy's promotion: byte and short give
short, short and float give float, anything and complex gives complex).
``get_brick_dtypes`` gives the stored type of each sub-brick.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import IO, Any

import numpy as np

from ..errors import AFNIHeaderError, AFNIImageError
from ..spatialimages import SpatialHeader
from ..volumeutils import Recoder
from .attributes import parse_AFNI_header

__all__ = ["BRICK_DTYPES", "DATA_OFFSET", "VIEWS", "AFNIHeader", "space_codes"]

DATA_OFFSET = 0

#: BRICK_TYPES code -> stored type; AFNI's codes (2 and 4 are rare; nibabel reads 0, 1, 3, 5)
BRICK_DTYPES = {0: "B", 1: "h", 2: "i", 3: "f", 4: "d", 5: "F"}
#: the types nivox writes, which every AFNI reader (and nibabel) reads
WRITABLE_CODES = {np.dtype(np.uint8): 0, np.dtype(np.int16): 1, np.dtype(np.float32): 3,
                  np.dtype(np.complex64): 5}

_ENDIAN = {"LSB_FIRST": "<", "MSB_FIRST": ">"}

space_codes = Recoder(
    ((0, "unknown", ""), (1, "scanner", "ORIG"), (3, "talairach", "TLRC"), (4, "mni", "MNI")),
    fields=("code", "label", "space"),
)

#: SCENE_DATA[0] -> view name (the +view part of a dataset's file names)
VIEWS = {0: "orig", 1: "acpc", 2: "tlrc"}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]


def _ints(info: dict[str, Any], name: str, minimum: int, source: str | None = None) -> list[int]:
    values = _as_list(info.get(name))
    if name not in info:
        raise AFNIHeaderError(f"{_where(source)}the HEAD file has no {name} attribute")
    if len(values) < minimum or not all(isinstance(v, (int, np.integer)) for v in values):
        raise AFNIHeaderError(f"{_where(source)}{name} should hold at least {minimum} integers, not {values!r}")
    return [int(v) for v in values]


def _floats(info: dict[str, Any], name: str, count: int, source: str | None = None) -> list[float]:
    values = _as_list(info.get(name))
    if name not in info:
        raise AFNIHeaderError(f"{_where(source)}the HEAD file has no {name} attribute")
    if len(values) < count or isinstance(info[name], str):
        raise AFNIHeaderError(f"{_where(source)}{name} should hold {count} numbers, not {values!r}")
    return [float(v) for v in values[:count]]


def _where(source: str | None) -> str:
    return f"{source}: " if source else ""


def brick_dtypes(info: dict[str, Any], source: str | None = None) -> list[np.dtype]:
    """The stored dtype of each sub-brick, byte order applied."""
    n_bricks = dataset_shape(info, source)[3]
    codes = _ints(info, "BRICK_TYPES", 1, source)
    if len(codes) == 1:
        codes = codes * n_bricks
    elif len(codes) < n_bricks:
        raise AFNIHeaderError(f"{_where(source)}BRICK_TYPES gives {len(codes)} types for {n_bricks} sub-bricks")
    order = info.get("BYTEORDER_STRING")
    endian = _ENDIAN.get(order, "=") if isinstance(order, str) else "="
    dtypes = []
    for code in codes[:n_bricks]:
        if code not in BRICK_DTYPES:
            raise AFNIImageError(f"{_where(source)}can't deduce image data type: BRICK_TYPES code {code} "
                                 "is not one nivox reads (0 byte, 1 short, 2 int, 3 float, 4 double, 5 complex)")
        dtypes.append(np.dtype(endian + BRICK_DTYPES[code]))
    return dtypes


def dataset_shape(info: dict[str, Any], source: str | None = None) -> tuple[int, int, int, int]:
    """(i, j, k, sub-bricks) from DATASET_DIMENSIONS and DATASET_RANK."""
    rank = _ints(info, "DATASET_RANK", 2, source)
    dims = _ints(info, "DATASET_DIMENSIONS", 3, source)
    if rank[0] != 3:
        raise AFNIHeaderError(f"{_where(source)}DATASET_RANK[0] is {rank[0]}; AFNI datasets are 3-D")
    shape = (dims[0], dims[1], dims[2], rank[1])
    if any(n < 0 for n in shape):
        raise AFNIHeaderError(f"{_where(source)}negative dataset dimensions {shape}")
    return shape


def orient_affine(info: dict[str, Any], source: str | None = None) -> np.ndarray:
    """The RAS+ affine from ORIENT_SPECIFIC, ORIGIN and DELTA (for files without IJK_TO_DICOM_REAL)."""
    codes = _ints(info, "ORIENT_SPECIFIC", 3, source)[:3]
    origin = _floats(info, "ORIGIN", 3, source)
    delta = _floats(info, "DELTA", 3, source)
    if any(c not in range(6) for c in codes) or len({c // 2 for c in codes}) != 3:
        raise AFNIHeaderError(f"{_where(source)}ORIENT_SPECIFIC {codes} does not name three different axes")
    dicom = np.zeros((3, 4))
    for axis, code in enumerate(codes):
        dicom[code // 2, axis] = delta[axis]
        dicom[code // 2, 3] = origin[axis]
    return _dicom_to_ras(dicom)


def _dicom_to_ras(dicom: np.ndarray) -> np.ndarray:
    # AFNI's coordinates are DICOM's (x to the left, y to the back): flip both for RAS+
    return np.vstack((dicom * [[-1], [-1], [1]], [0, 0, 0, 1]))


class AFNIHeader(SpatialHeader):
    """The header of an AFNI dataset: the attributes of its ``.HEAD`` file.

    Parameters
    ----------
    info : dict, optional
        Attributes as :func:`parse_AFNI_header` gives them. None makes the
        header of a new image (float32, no attributes yet: they are filled
        in when the image is saved).
    """

    def __init__(self, info: dict[str, Any] | None = None, *, source: str | None = None) -> None:
        self.info: dict[str, Any] = {} if info is None else info
        self._source = source
        if info is None:
            self._brick_dtypes: list[np.dtype] | None = None
            super().__init__()
            return
        dtypes = brick_dtypes(self.info, source)
        self._brick_dtypes = dtypes
        common = np.result_type(*dtypes) if dtypes else np.dtype(np.float32)
        if dtypes and common.byteorder == "=" and dtypes[0].byteorder in "<>":
            common = common.newbyteorder(dtypes[0].byteorder)
        super().__init__(data_dtype=common, shape=self._calc_data_shape(), zooms=self._calc_zooms())

    # ---- construction -------------------------------------------------------

    @classmethod
    def from_header(cls, header: Any = None) -> AFNIHeader:
        """A copy of ``header``, which must be an AFNIHeader (as in nibabel)."""
        if header is None:
            raise AFNIHeaderError("Cannot create AFNIHeader from nothing.")
        if type(header) is cls:
            return header.copy()
        raise AFNIHeaderError(f"Cannot create AFNIHeader from {type(header).__name__} "
                              "(AFNIImage.from_image converts other images)")

    @classmethod
    def from_fileobj(cls, fileobj: Any) -> AFNIHeader:
        """The header in ``fileobj`` (an open ``.HEAD`` file, or its name)."""
        name = fileobj if isinstance(fileobj, str) else getattr(fileobj, "name", None)
        return cls(parse_AFNI_header(fileobj), source=name if isinstance(name, str) else None)

    @classmethod
    def may_contain_header(cls, binaryblock: bytes) -> bool:
        """Whether bytes may start a ``.HEAD`` file: white space, then ``type =``."""
        text = bytes(binaryblock).lstrip()
        return text.startswith(b"type") and b"=" in text[4:40] and b"-attribute" in text[:60]

    def copy(self) -> AFNIHeader:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.info = copy.deepcopy(self.info)
        clone._brick_dtypes = None if self._brick_dtypes is None else list(self._brick_dtypes)
        return clone

    # ---- derived values (nibabel's names) ---------------------------------------

    def _calc_data_shape(self) -> tuple[int, ...]:
        """(i, j, k, sub-bricks): AFNI datasets are always 4-D here, as in nibabel."""
        return dataset_shape(self.info, self._source)

    def _calc_zooms(self) -> tuple[float, ...]:
        """|DELTA| and the time step TAXIS_FLOATS[1] (0 without a time axis)."""
        delta = _floats(self.info, "DELTA", 3, self._source)
        taxis = _as_list(self.info.get("TAXIS_FLOATS", [0.0, 0.0]))
        step = float(taxis[1]) if len(taxis) > 1 else 0.0
        return tuple(abs(d) for d in delta) + (abs(step) if math.isfinite(step) else 0.0,)

    def get_brick_dtypes(self) -> list[np.dtype]:
        """The stored dtype of each sub-brick (all the same unless BRICK_TYPES mixes them)."""
        if self._brick_dtypes is not None and len(self._brick_dtypes) == self._n_bricks():
            return list(self._brick_dtypes)
        return [self.get_data_dtype()] * self._n_bricks()

    def _n_bricks(self) -> int:
        shape = self.get_data_shape()
        return int(math.prod(shape[3:])) if len(shape) > 3 else 1

    def set_data_dtype(self, dtype: Any) -> None:
        super().set_data_dtype(dtype)
        dtypes = getattr(self, "_brick_dtypes", None)
        if dtypes is not None and np.result_type(*dtypes) != self._dtype:
            self._brick_dtypes = None  # one type for all sub-bricks from now on

    def get_space(self) -> str:
        """The template space (TEMPLATE_SPACE: 'ORIG', 'TLRC', 'MNI', ...), '' when not given."""
        listed = self.info.get("TEMPLATE_SPACE", 0)
        if isinstance(listed, str):
            return listed
        return str(space_codes.space.get(listed, ""))  # type: ignore[attr-defined]

    def get_view(self) -> str:
        """The dataset's view, 'orig', 'acpc' or 'tlrc' (SCENE_DATA[0]; 'orig' when absent)."""
        scene = _as_list(self.info.get("SCENE_DATA"))
        return VIEWS.get(scene[0], "orig") if scene and isinstance(scene[0], int) else "orig"

    def get_affine(self) -> np.ndarray:
        """The RAS+ affine: IJK_TO_DICOM_REAL with x and y flipped (AFNI's DICOM order is LPS+).

        Files without IJK_TO_DICOM_REAL get it from ORIENT_SPECIFIC, ORIGIN and DELTA.
        """
        if "IJK_TO_DICOM_REAL" in self.info:
            matrix = np.asarray(_floats(self.info, "IJK_TO_DICOM_REAL", 12, self._source)).reshape(3, 4)
            return _dicom_to_ras(matrix)
        return orient_affine(self.info, self._source)

    get_best_affine = get_affine

    def get_data_scaling(self) -> np.ndarray | None:
        """The factor of each sub-brick (BRICK_FLOAT_FACS, 0 meaning 1), or None when there is none."""
        factors = self.info.get("BRICK_FLOAT_FACS")
        if factors is None or isinstance(factors, str):
            return None
        factors = np.atleast_1d(np.asarray(factors, dtype=np.float64))
        if not np.any(factors):
            return None
        scale = np.ones(self._n_bricks())
        n = min(len(factors), len(scale))
        given = factors[:n]
        scale[:n][given != 0] = given[given != 0]
        return scale

    def get_slope_inter(self) -> tuple[None, None]:
        """(None, None): AFNI scales per sub-brick (:meth:`get_data_scaling`), not per file."""
        return None, None

    def get_data_offset(self) -> int:
        """Where the data start in the ``.BRIK`` file: always 0."""
        return DATA_OFFSET

    def get_volume_labels(self) -> list[str] | None:
        """The label of each sub-brick (BRICK_LABS split at '~'), or None."""
        labels = self.info.get("BRICK_LABS")
        if labels is None:
            return None
        return str(labels).split("~")

    # read-only mapping over the attributes (nivox's `header` command and users listing them)
    def keys(self) -> list[str]:
        """The attribute names, in file order."""
        return list(self.info)

    def __getitem__(self, name: str) -> Any:
        return self.info[name]

    def __contains__(self, name: object) -> bool:
        return name in self.info

    def items(self) -> list[tuple[str, Any]]:
        return list(self.info.items())

    def get(self, name: str, default: Any = None) -> Any:
        return self.info.get(name, default)

    def __str__(self) -> str:
        lines = [(f"{type(self).__name__}: shape {self.get_data_shape()}, dtype {self.get_data_dtype()}, "
                  f"zooms {self.get_zooms()}")]
        lines += [f"  {name}: {value!r}"[:200] for name, value in self.info.items()]
        return "\n".join(lines)

    def data_from_fileobj(self, fileobj: IO[bytes]) -> np.ndarray:
        """The data (unscaled, in the common dtype) read from an open ``.BRIK`` file."""
        from .proxy import read_bricks

        return read_bricks(fileobj, self.get_data_shape(), self.get_brick_dtypes(), self.get_data_dtype())


def _check_shape(shape: Sequence[int]) -> tuple[int, int, int, int]:
    """``shape`` as AFNI's (i, j, k, sub-bricks); HeaderDataError for more than 4 real axes."""
    from ..errors import HeaderDataError

    shape = tuple(int(n) for n in shape)
    if len(shape) > 4 and any(n != 1 for n in shape[4:]):
        raise HeaderDataError(f"AFNI datasets have at most 4 axes (3 spatial, sub-bricks), not shape {shape}")
    padded = (shape + (1, 1, 1, 1))[:4]
    return padded[0], padded[1], padded[2], padded[3]
