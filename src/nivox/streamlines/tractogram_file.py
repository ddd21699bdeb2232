"""The interface every tractogram file class (TRK, TCK, TRX) implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from ..errors import DataError, DataWarning, ExtensionWarning, HeaderError, HeaderWarning
from .header import Field

__all__ = [
    "TractogramFile",
    "abstractclassmethod",
    "DataError",
    "DataWarning",
    "ExtensionWarning",
    "HeaderError",
    "HeaderWarning",
]


class abstractclassmethod(classmethod):  # noqa: N801 - nibabel's name
    """A classmethod that subclasses must override."""

    __isabstractmethod__ = True

    def __init__(self, func: Any) -> None:
        func.__isabstractmethod__ = True
        super().__init__(func)


class TractogramFile(ABC):
    """A tractogram together with the header of the file it came from or goes to.

    Parameters
    ----------
    tractogram : Tractogram or LazyTractogram
        Streamlines in RAS+ mm (voxel centres at integer voxel coordinates).
    header : dict, optional
        Format-specific metadata; an empty header of the format by default.
    """

    def __init__(self, tractogram: Any, header: dict[str, Any] | None = None) -> None:
        self._tractogram = tractogram
        self._header = self.create_empty_header() if header is None else header

    @property
    def tractogram(self) -> Any:
        return self._tractogram

    @property
    def streamlines(self) -> Any:
        return self.tractogram.streamlines

    @property
    def header(self) -> dict[str, Any]:
        return self._header

    @property
    def affine(self) -> Any:
        """The voxmm -> RAS+mm affine recorded in the header (None if absent)."""
        return self.header.get(Field.VOXEL_TO_RASMM)

    @abstractclassmethod
    def is_correct_format(cls, fileobj: Any) -> bool:
        """Whether `fileobj` (a file name or a file object at the header) is of this format."""
        raise NotImplementedError

    @classmethod
    def create_empty_header(cls) -> dict[str, Any]:
        """A header for this format with nothing recorded in it."""
        return {}

    @abstractclassmethod
    def load(cls, fileobj: Any, lazy_load: bool = True) -> TractogramFile:
        """Read a file name or file object; lazily (streaming) when `lazy_load`."""
        raise NotImplementedError

    @abstractmethod
    def save(self, fileobj: Any) -> None:
        """Write to a file name (atomically) or an open binary file object."""
        raise NotImplementedError
