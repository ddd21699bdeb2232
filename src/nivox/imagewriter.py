"""Write an image one volume at a time: :class:`ImageWriter`.

For pipelines that produce a 4D series volume by volume, or anything larger
than memory: the header is declared up front (shape, dtype, affine), each
:meth:`ImageWriter.write` appends the next volumes along the last axis, and
only the volumes in hand are ever in memory. The save is atomic like every
nivox save: the files are written to temporaries beside the targets and
renamed over them only when every volume was written, so an exception, a
missing volume or a killed process never leaves a partial file under the
target's name.

Data are stored as given, in the declared dtype, with no scale factor (the
range of volumes not yet written is unknown): a value the dtype cannot hold
exactly is refused with a :class:`~nivox.errors.WriterError`.
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any

import numpy as np

from ._atomic import replacing_files
from .errors import ImageDataError, ImageFileError, InvalidArgumentError, WriterError
from .openers import write_options
from .volumeutils import seek_tell

__all__ = ["ImageWriter"]


class _Declared:
    """Shape and dtype of data not yet written, for building the header."""

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.shape = shape
        self.dtype = dtype
        self.ndim = len(shape)


def _image_class(path: str) -> type:
    from .imageclasses import classes_for_extension
    from .loadsave import _extension

    for klass in classes_for_extension(_extension(path)):
        if getattr(klass, "rw", False) and hasattr(klass, "_prepare_disk_header"):
            return klass
    raise ImageFileError(f"cannot write {path} volume by volume: no format nivox streams "
                         f"uses the extension {_extension(path)!r} (.nii, .nii.gz, .hdr/.img)")


class ImageWriter:
    """Write ``path`` volume by volume; use it as a context manager.

    Parameters
    ----------
    path : str or path-like
        The image to write; the extension picks the format (``.nii``,
        ``.nii.gz``, ``.hdr``/``.img`` pairs, compressed or not).
    shape : sequence of int
        The shape of the whole image; volumes are appended along its last axis.
    dtype : numpy dtype
        The on-disk data type.
    affine : (4, 4) array or None
    header : header, optional
        Fields to keep (units, descriptions, intents, ...), as for an image.
    compresslevel : int, optional
        Compression level for a compressed ``path``.

    Examples
    --------
    >>> with ImageWriter("bold.nii.gz", (64, 64, 40, 200), "float32", affine) as out:
    ...     for t in range(200):
    ...         out.write(volume_at(t))           # (64, 64, 40) each
    """

    def __init__(self, path: str | os.PathLike[str], shape: Any, dtype: Any, affine: Any,
                 header: Any = None, compresslevel: int | None = None) -> None:
        self.path = os.fsdecode(path)
        self.shape = tuple(int(n) for n in shape)
        if not self.shape or any(n < 0 for n in self.shape):
            raise InvalidArgumentError(f"{self.path}: cannot write an image of shape {self.shape}")
        klass = _image_class(self.path)
        declared = _Declared(self.shape, np.dtype(dtype))
        image = klass(declared, affine, header)
        image.update_header()
        disk_header = image.header.copy()
        disk_header.set_data_dtype(np.dtype(dtype))
        if getattr(disk_header, "has_data_intercept", False):
            disk_header.set_slope_inter(1.0, 0.0)  # stored as given: no scaling
        elif getattr(disk_header, "has_data_slope", False):
            disk_header.set_slope_inter(1.0)
        image._prepare_disk_header(disk_header)
        self.header = disk_header
        self._disk_dtype = disk_header.get_data_dtype()
        self._image = image
        self._compresslevel = compresslevel
        self._written = 0
        self._files: list[Any] = []
        self._data_file: Any = None
        self._replacing: Any = None

    # ---- the block ---------------------------------------------------------------------

    def __enter__(self) -> ImageWriter:
        self._open()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is None and self._written != self.shape[-1]:
            missing = ImageDataError(
                f"{self.path}: {self._written} of {self.shape[-1]} volumes were written; "
                "the file was not created")
            self._abort(missing)
            raise missing
        if kind is None:
            self.close()
        else:
            self._abort(error)

    @property
    def volumes_written(self) -> int:
        """How many volumes (along the last axis) have been written."""
        return self._written

    def _open(self) -> None:
        klass = type(self._image)
        file_map = klass.filespec_to_file_map(self.path)
        self._replacing = replacing_files(file_map)
        temp_map = self._replacing.__enter__()
        try:
            header_holder, image_holder = self._image._get_fileholders(temp_map)
            same_file = header_holder.same_file_as(image_holder)
            with write_options(compresslevel=self._compresslevel):
                header_file = header_holder.get_prepare_fileobj(mode="wb")
                self._files.append(header_file)
                self._image._write_header(header_file, self.header)
                if same_file:
                    data_file = header_file
                else:
                    data_file = image_holder.get_prepare_fileobj(mode="wb")
                    self._files.append(data_file)
            seek_tell(data_file, self.header.get_data_offset(), write0=True)
            self._data_file = data_file
        except BaseException as err:
            self._abort(err)
            raise

    # ---- writing -----------------------------------------------------------------------

    def write(self, volumes: Any) -> None:
        """Append the next volume, or a block of volumes along the last axis.

        ``volumes`` has the image's shape without its last axis (one volume),
        or that shape with a last axis of any length (that many volumes).
        """
        if self._data_file is None:
            raise InvalidArgumentError(
                f"{self.path}: write inside 'with ImageWriter(...) as writer:' blocks")
        block = np.asanyarray(volumes)
        inner = self.shape[:-1]
        if block.shape == inner:
            block = block[..., np.newaxis]
        if block.shape[:-1] != inner or block.ndim != len(self.shape):
            raise ImageDataError(f"{self.path}: a volume must have shape {inner} (or {inner} "
                                 f"plus a last axis for several), not {block.shape}")
        count = block.shape[-1]
        if self._written + count > self.shape[-1]:
            raise ImageDataError(f"{self.path}: {self._written + count} volumes would exceed the "
                                 f"{self.shape[-1]} declared")
        stored = _exact_cast(block, self._disk_dtype, self.path)
        # Fortran order: the last axis varies slowest, so volumes follow each other in the file
        self._data_file.write(memoryview(np.asfortranarray(stored).reshape(-1, order="F")))
        self._written += count

    def close(self) -> None:
        """Finish the files and put them in place (done when the block ends)."""
        if self._replacing is None:
            return
        try:
            for fileobj in reversed(self._files):
                fileobj.close()
            self._files = []
        except BaseException as err:
            self._abort(err)
            raise
        replacing, self._replacing = self._replacing, None
        self._data_file = None
        replacing.__exit__(None, None, None)

    def _abort(self, error: BaseException | None) -> None:
        """Drop the temporaries: nothing appears under the target names."""
        for fileobj in reversed(self._files):
            try:
                fileobj.close()
            except Exception:  # already failing: the temporaries are removed anyway
                pass
        self._files = []
        self._data_file = None
        replacing, self._replacing = self._replacing, None
        if replacing is not None:
            failure = error if error is not None else ImageDataError(f"{self.path}: aborted")
            try:
                replacing.__exit__(type(failure), failure, failure.__traceback__)
            except BaseException:
                pass  # the context manager re-raises the error it was given


def _exact_cast(block: np.ndarray, dtype: np.dtype, path: str) -> np.ndarray:
    """``block`` as ``dtype``, refusing values that would change."""
    if block.dtype == dtype:
        return block
    if np.can_cast(block.dtype, dtype, casting="safe"):
        return block.astype(dtype)
    if block.dtype.kind == "c" and dtype.kind != "c":
        raise WriterError(f"{path}: complex values cannot be stored as {dtype}")
    converted = block.astype(dtype)
    if dtype.kind in "iub":
        values = block.astype(np.float64) if block.dtype.kind == "f" else block
        if block.dtype.kind == "f" and not np.all(np.isfinite(values)):
            raise WriterError(f"{path}: NaN or infinite values cannot be stored as {dtype}")
        info = np.iinfo(dtype)
        if values.size and (values.min() < info.min or values.max() > info.max):
            raise WriterError(f"{path}: values in [{values.min()}, {values.max()}] do not fit "
                              f"{dtype} (volumes are written without scaling)")
        if block.dtype.kind == "f" and not np.array_equal(values, np.round(values)):
            raise WriterError(f"{path}: values that are not whole numbers cannot be stored as "
                              f"{dtype} (volumes are written without scaling)")
        return converted
    with np.errstate(over="ignore", invalid="ignore"):
        back = converted.astype(block.dtype)
    if not np.array_equal(back, block, equal_nan=block.dtype.kind in "fc"):
        raise WriterError(f"{path}: some values cannot be stored exactly as {dtype}")
    return converted
