"""FileHolder: where one of an image's files lives (a path, an open file object, or both)."""

from __future__ import annotations

import os
from copy import copy
from typing import IO, Any

from .errors import NivoxError

__all__ = ["FileHolder", "FileHolderError", "copy_file_map"]

FileMap = dict[str, "FileHolder"]


class FileHolderError(NivoxError, ValueError):
    """A FileHolder that cannot give a file object."""


class FileHolder:
    """A filename and/or a file object, plus the position the image data start at.

    Parameters
    ----------
    filename : str or PathLike, optional
    fileobj : file-like, optional
        Used in preference to ``filename`` when both are set.
    pos : int
        Offset in ``fileobj`` of the start of this file's content.
    """

    def __init__(
        self,
        filename: str | os.PathLike[str] | None = None,
        fileobj: IO[bytes] | None = None,
        pos: int = 0,
    ) -> None:
        self.filename = os.fspath(filename) if filename is not None else None
        self.fileobj = fileobj
        self.pos = pos

    def get_prepare_fileobj(self, *args: Any, **kwargs: Any) -> Any:
        """An :class:`~nivox.openers.ImageOpener` on the file object (seeked to ``pos``) or filename."""
        if self.fileobj is None and self.filename is None:
            raise FileHolderError("FileHolder has neither a filename nor a file object")
        from .openers import ImageOpener

        if self.fileobj is not None:
            opener = ImageOpener(self.fileobj)
            opener.seek(self.pos)
            return opener
        return ImageOpener(self.filename, *args, **kwargs)

    def same_file_as(self, other: FileHolder) -> bool:
        """True when both name the same filename and the same file object."""
        return self.filename == other.filename and self.fileobj == other.fileobj

    @property
    def file_like(self) -> str | IO[bytes] | None:
        """The file object if there is one, else the filename."""
        return self.fileobj if self.fileobj is not None else self.filename

    def __repr__(self) -> str:
        return f"FileHolder(filename={self.filename!r}, fileobj={self.fileobj!r}, pos={self.pos})"


def copy_file_map(file_map: FileMap) -> FileMap:
    """A file_map whose FileHolders are copies, sharing the file objects."""
    return {key: copy(holder) for key, holder in file_map.items()}
