"""Tractograms: TRK, TCK and TRX files with nibabel's ``streamlines`` API.

``load`` picks the format from the file's first bytes (else its extension)
and returns a :class:`TractogramFile` whose tractogram is in RAS+ mm;
``save`` writes a :class:`Tractogram` in the format its file name's
extension names.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from ..errors import ExtensionWarning, InvalidArgumentError
from .array_sequence import ArraySequence
from .header import Field
from .tractogram import LazyTractogram, Tractogram
from .tractogram_file import TractogramFile
from .tck import TckFile
from .trk import TrkFile
from .trx import TrxFile

__all__ = [
    "ArraySequence", "EXTRA_FORMATS", "Field", "FORMATS", "LazyTractogram", "TckFile", "Tractogram",
    "TractogramFile", "TrkFile", "TrxFile", "ExtensionWarning", "detect_format",
    "is_supported", "load", "save",
]

#: extension -> tractogram file class, for the formats nibabel also has
FORMATS: dict[str, type[TractogramFile]] = {
    ".trk": TrkFile,
    ".tck": TckFile,
}
#: formats nibabel does not have; load, save and detect_format use them after FORMATS
#: (kept out of FORMATS because code written for nibabel iterates FORMATS)
EXTRA_FORMATS: dict[str, type[TractogramFile]] = {
    ".trx": TrxFile,
}


def is_supported(fileobj: Any) -> bool:
    """Whether `fileobj` (file name or file object at its start) is a tractogram nivox reads."""
    return detect_format(fileobj) is not None


def detect_format(fileobj: Any) -> type[TractogramFile] | None:
    """The tractogram file class for `fileobj`: by its first bytes, else by its extension."""
    for klass in (*FORMATS.values(), *EXTRA_FORMATS.values()):
        try:
            if klass.is_correct_format(fileobj):
                return klass
        except OSError:
            pass
    if isinstance(fileobj, (str, os.PathLike)):
        ext = os.path.splitext(os.fspath(fileobj))[1].lower()
        return FORMATS.get(ext, EXTRA_FORMATS.get(ext))
    return None


def load(fileobj: Any, lazy_load: bool = False) -> TractogramFile:
    """Read a tractogram file; its streamlines come out in RAS+ mm.

    Parameters
    ----------
    fileobj : str, os.PathLike or binary file object
        A file name, or a file object at the start of the file.
    lazy_load : bool, optional
        Read streamlines only while they are iterated (bounded memory).

    Returns
    -------
    TractogramFile
        A :class:`TrkFile`, :class:`TckFile` or :class:`TrxFile`.
    """
    klass = detect_format(fileobj)
    if klass is None:
        raise InvalidArgumentError(f"Unknown format for 'fileobj': {fileobj}")
    return klass.load(fileobj, lazy_load=lazy_load)


def save(tractogram: Any, filename: Any, **kwargs: Any) -> None:
    """Write a tractogram in the format of `filename`'s extension.

    Parameters
    ----------
    tractogram : Tractogram or TractogramFile
        A :class:`Tractogram` is wrapped in the format's file class with
        `kwargs` (e.g. ``header=``); a :class:`TractogramFile` is written
        as it is (no `kwargs` then).
    filename : str or os.PathLike
    """
    klass = detect_format(filename)
    if isinstance(tractogram, Tractogram):
        if klass is None:
            raise InvalidArgumentError(f"Unknown tractogram file format: '{filename}'")
        tractogram_file = klass(tractogram, **kwargs)
    else:
        tractogram_file = tractogram
        if klass is None or not isinstance(tractogram_file, klass):
            warnings.warn("The extension you specified is unusual for the provided "
                          "'TractogramFile' object.", ExtensionWarning, stacklevel=2)
        if kwargs:
            raise InvalidArgumentError("A 'TractogramFile' object was provided, no need for keyword arguments.")
    tractogram_file.save(filename)
