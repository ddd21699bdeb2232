"""EcatHeader (the main header) and EcatSubHeader (the frames' subheaders, and reading frames)."""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

from ..errors import ImageDataError, ImageFileError, TruncatedDataError, UnknownNameError
from ..fileslice import fileslice
from ..openers import ImageOpener
from ..spatialimages import SpatialHeader
from ..volumeutils import native_code, swapped_code
from ..wrapstruct import WrapStruct, WrapStructError
from .mlist import get_frame_order, read_subheaders
from .structs import (
    BLOCK_SIZE,
    data_type_codes,
    file_type_codes,
    hdr_dtype,
    patient_orient_codes,
    patient_orient_neurological,
    patient_orient_radiological,
    subhdr_dtype,
)

__all__ = ["EcatHeader", "EcatSubHeader"]


class EcatHeader(WrapStruct, SpatialHeader):
    """The 512-byte main header of an ECAT 7 file.

    The data type, shape and voxel sizes live in the frames' subheaders
    (:class:`EcatSubHeader`), not here.
    """

    template_dtype = hdr_dtype
    _ft_codes = file_type_codes
    _patient_orient_codes = patient_orient_codes
    # the frames of the image this header was loaded with, if any: they answer shape, zooms and
    # dtype questions (converting a loaded image to another format needs them); a bare header cannot
    _frames: EcatSubHeader | None = None
    _dtype_override: np.dtype | None = None

    def __init__(self, binaryblock: bytes | None = None, endianness: str | None = None,
                 check: bool = True) -> None:
        if binaryblock is not None and len(binaryblock) != hdr_dtype.itemsize:
            raise WrapStructError(f"ECAT main header is {hdr_dtype.itemsize} bytes, not {len(binaryblock)}")
        super().__init__(binaryblock, endianness, check)

    def __reduce__(self) -> tuple[Any, ...]:
        # the bytes and byte order, not the 60-field structured array: small pickles
        return (type(self), (self.binaryblock, self.endianness, False))

    @classmethod
    def guessed_endian(cls, hdr: Any) -> str:
        """The byte order in which ``sw_version`` reads as a version number (ECAT 7 files: 70-79)."""
        version = int(np.asarray(hdr["sw_version"]))
        if version == 74:
            return native_code
        swapped = int(np.asarray(hdr["sw_version"]).byteswap())
        if 60 <= version < 100 and not 60 <= swapped < 100:
            return native_code
        return swapped_code

    @classmethod
    def default_structarr(cls, endianness: str | None = None) -> np.ndarray:
        """An empty header: magic MATRIX72, version 74, no frames, calibration 1."""
        structarr = super().default_structarr(endianness)
        structarr["magic_number"] = b"MATRIX72"
        structarr["sw_version"] = 74
        structarr["num_frames"] = 0
        structarr["file_type"] = 0
        structarr["ecat_calibration_factor"] = 1.0
        return structarr

    @classmethod
    def may_contain_header(cls, binaryblock: bytes) -> bool:
        """Whether bytes start an ECAT 7 file (magic number MATRIX7...)."""
        return len(binaryblock) >= hdr_dtype.itemsize and bytes(binaryblock[:7]) == b"MATRIX7"

    def copy(self) -> EcatHeader:
        clone = super().copy()
        clone._frames, clone._dtype_override = self._frames, self._dtype_override
        return clone

    def _attached(self, what: str) -> EcatSubHeader:
        if self._frames is None:
            raise NotImplementedError(f"{what} is only valid from subheaders")
        return self._frames

    def get_data_dtype(self) -> np.dtype:
        """The dtype of the image's values: the stored type when no frame is scaled, else float32.

        A bare main header does not know it (NotImplementedError, as in nibabel); the header
        of a loaded image answers from its frames' subheaders.
        """
        frames = self._attached("dtype")
        if self._dtype_override is not None:
            return self._dtype_override
        dtypes = {frames._get_data_dtype(row) for row in range(len(frames.subheaders))}
        unscaled = float(self["ecat_calibration_factor"]) == 1.0 and all(
            float(h["scale_factor"]) == 1.0 for h in frames.subheaders)
        return dtypes.pop() if unscaled and len(dtypes) == 1 else np.dtype(np.float32)

    def set_data_dtype(self, dtype: Any) -> None:
        """The dtype a conversion of the loaded image should write (frames keep their own)."""
        self._dtype_override = np.dtype(dtype)

    def get_data_shape(self) -> tuple[int, ...]:
        """(x, y, z, frames) of the loaded image; NotImplementedError for a bare header."""
        frames = self._attached("shape")
        return (*frames.get_shape(), frames.get_nframes())

    def get_zooms(self) -> tuple[float, ...]:
        """Voxel sizes (mm) of the first frame and 1 for the frame axis; NotImplementedError for a bare header."""
        return tuple(float(z) for z in self._attached("zooms").get_zooms())

    def get_patient_orient(self) -> str:
        """The patient orientation label (KeyError for a code not in the table)."""
        code = self._structarr["patient_orientation"].item()
        if code not in self._patient_orient_codes:
            raise UnknownNameError(f"Ecat Orientation CODE {code} not recognized")
        return self._patient_orient_codes[code]

    def get_filetype(self) -> str:
        """The file type label (KeyError for a code not in the table)."""
        code = self._structarr["file_type"].item()
        if code not in self._ft_codes:
            raise UnknownNameError(f"Ecat Filetype CODE {code} not recognized")
        return self._ft_codes[code]

    @classmethod
    def _get_checks(cls) -> tuple[Any, ...]:
        return ()


class EcatSubHeader:
    """The subheaders of an ECAT file's frames, and reading each frame's data.

    Parameters
    ----------
    hdr : EcatHeader
        The main header.
    mlist : (frames, 4) array
        The matrix list.
    fileobj : file-like, str or PathLike
        The open ECAT file, or its name (then opened for each read, which
        keeps this object picklable and free of open handles).
    """

    _subhdrdtype = subhdr_dtype
    _data_type_codes = data_type_codes

    def __init__(self, hdr: EcatHeader, mlist: Any, fileobj: Any) -> None:
        self._header = hdr
        self.endianness = hdr.endianness
        self._mlist = mlist
        self.fileobj = fileobj
        self._lock = threading.RLock()
        self._problem: str | None = None  # data found missing at load: raised on reading
        if isinstance(fileobj, (str, os.PathLike)):
            with ImageOpener(fileobj) as opened:
                self.subheaders = read_subheaders(opened, mlist, hdr.endianness)
        else:
            self.subheaders = read_subheaders(fileobj, mlist, hdr.endianness)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        name = getattr(self.fileobj, "name", None)
        if not isinstance(self.fileobj, (str, os.PathLike)) and isinstance(name, str) and os.path.exists(name):
            state["fileobj"] = name  # an open file does not pickle; its name does
        # one copy of the 70-field dtype, not one per frame: a proxy pickles small
        subheaders = state.pop("subheaders")
        state["_packed"] = b"".join(h.tobytes() for h in subheaders)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        packed = state.pop("_packed")
        self.__dict__.update(state)
        dtype = subhdr_dtype if self.endianness is native_code else subhdr_dtype.newbyteorder(self.endianness)  # type: ignore[arg-type]
        self.subheaders = [np.frombuffer(packed, dtype, 1, i * dtype.itemsize).reshape(()).copy()
                           for i in range(len(packed) // dtype.itemsize)]
        self._lock = threading.RLock()

    def _subheader(self, frame: int) -> np.ndarray:
        try:
            return self.subheaders[frame]
        except IndexError:
            raise ImageDataError(f"{self._source_name()}no subheader for frame {frame} "
                                 f"({len(self.subheaders)} read from the matrix list)") from None

    def _source_name(self) -> str:
        name = self.fileobj if isinstance(self.fileobj, (str, os.PathLike)) else getattr(self.fileobj, "name", None)
        return f"{os.fsdecode(name)}: " if isinstance(name, (str, bytes, os.PathLike)) else ""

    def get_shape(self, frame: int = 0) -> tuple[int, int, int]:
        """(x, y, z) of a frame."""
        subhdr = self._subheader(frame)
        return subhdr["x_dimension"].item(), subhdr["y_dimension"].item(), subhdr["z_dimension"].item()

    def get_nframes(self) -> int:
        """How many frames the matrix list holds."""
        return len(get_frame_order(self._mlist))

    def _check_affines(self) -> bool:
        """Whether every frame has the same affine."""
        n = self.get_nframes()
        if n <= 1:
            return True
        first = self.get_frame_affine(0)
        return all(np.allclose(first, self.get_frame_affine(i)) for i in range(1, n))

    def get_frame_affine(self, frame: int = 0) -> np.ndarray:
        """The affine of a frame: voxel sizes on the diagonal, the volume centred on the offsets."""
        subhdr = self._subheader(frame)
        offsets = np.array([subhdr["x_offset"], subhdr["y_offset"], subhdr["z_offset"]])
        zooms = self.get_zooms(frame=frame)
        centre = (np.array(self.get_shape(frame)) - 1) / 2.0
        affine = np.diag(zooms)
        affine[:3, -1] = offsets - centre * zooms[:-1]
        return affine

    def get_zooms(self, frame: int = 0) -> tuple[Any, ...]:
        """Voxel sizes in mm (the subheader stores cm) and 1 for the frame axis."""
        subhdr = self._subheader(frame)
        return (subhdr["x_pixel_size"] * 10, subhdr["y_pixel_size"] * 10, subhdr["z_pixel_size"] * 10, 1)

    def _get_data_dtype(self, frame: int) -> np.dtype:
        code = self._subheader(frame)["data_type"].item()
        if code not in self._data_type_codes.dtype:  # type: ignore[attr-defined]
            raise ImageDataError(f"{self._source_name()}frame {frame} has unknown data type code {code}")
        return self._data_type_codes.dtype[code]  # type: ignore[attr-defined]

    def _get_frame_offset(self, frame: int = 0) -> int:
        """Byte offset of a frame's data (the block after its subheader)."""
        return int(self._mlist[frame][1]) * BLOCK_SIZE

    def _flips(self, orientation: Any) -> tuple[bool, bool, bool]:
        if orientation is None:
            code = self._header["patient_orientation"]
        elif orientation == "neurological":
            code = patient_orient_neurological[0]
        elif orientation == "radiological":
            code = patient_orient_radiological[0]
        else:
            raise ImageFileError("orientation should be None, neurological or radiological")
        if code in patient_orient_neurological:
            return True, True, True
        if code in patient_orient_radiological:
            return False, True, True
        return False, False, False

    def _get_oriented_data(self, raw_data: np.ndarray, orientation: Any = None) -> np.ndarray:
        """``raw_data`` flipped as ``patient_orientation`` (or ``orientation``) says."""
        flips = self._flips(orientation)
        return raw_data[tuple(slice(None, None, -1) if f else slice(None) for f in flips)]

    def _frame_layout(self, frame: int) -> tuple[tuple[int, int, int], np.dtype, int]:
        dtype = self._get_data_dtype(frame)
        if self.endianness is not native_code:
            dtype = dtype.newbyteorder(self.endianness)  # type: ignore[arg-type]
        return self.get_shape(frame), dtype, self._get_frame_offset(frame)

    def _read_raw(self, frame: int, inner: Any = None, mmap: Any = False) -> np.ndarray:
        """The stored values of ``frame`` (index ``inner`` into the unflipped volume), reading only those."""
        if self._problem is not None:
            raise TruncatedDataError(self._problem)
        shape, dtype, offset = self._frame_layout(frame)
        key = (slice(None),) * 3 if inner is None else inner
        source = self.fileobj
        if isinstance(source, (str, os.PathLike)):
            if mmap and ImageOpener.codec_for(source) is None:
                size = os.path.getsize(source)
                if offset + int(np.prod(shape)) * dtype.itemsize > size:
                    raise TruncatedDataError(f"{os.fsdecode(source)}: frame {frame} lies beyond the end of the file")
                mapped = np.memmap(source, dtype, "c" if mmap is True else mmap, offset, shape, order="F")
                return np.asarray(mapped[key])
            with ImageOpener(source) as opened:
                return np.asarray(fileslice(opened, key, shape, dtype, offset, "F"))
        with self._lock:
            return np.asarray(fileslice(source, key, shape, dtype, offset, "F"))

    def raw_data_from_fileobj(self, frame: int = 0, orientation: Any = None) -> np.ndarray:
        """The stored values of a frame, flipped to ``orientation`` (None: the file's)."""
        return self._get_oriented_data(self._read_raw(frame), orientation)

    def _scale(self, raw: np.ndarray, frame: int) -> np.ndarray:
        # two products in this order, as nibabel: calibration, then the frame's factor
        data = raw * self._header["ecat_calibration_factor"].item()
        return data * self._subheader(frame)["scale_factor"].item()

    def data_from_fileobj(self, frame: int = 0, orientation: Any = None) -> np.ndarray:
        """A frame's values: stored values times calibration factor times the frame's scale factor."""
        return self._scale(self.raw_data_from_fileobj(frame, orientation), frame)
