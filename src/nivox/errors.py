"""Every public exception and warning of nivox.

All errors derive from :class:`NivoxError` and *also* from the builtin they
stand for, so ``except ValueError`` written for nibabel keeps catching what it
caught before, and ``except NivoxError`` catches everything nivox raises.
Modules that nibabel users import these names from (``nivox.filebasedimages``,
``nivox.spatialimages``, ``nivox.deprecator``, ...) import them from here.
"""

from __future__ import annotations

__all__ = [
    "NivoxError",
    "NivoxWarning",
    "ImageFileError",
    "ImageFileNotFoundError",
    "HeaderDataError",
    "HeaderTypeError",
    "ImageDataError",
    "TruncatedDataError",
    "CorruptStreamError",
    "ExpiredDeprecationError",
    "CastingError",
    "FloatingError",
    "WriterError",
    "ScalingError",
    "MissingDependencyError",
    "VisibleDeprecationWarning",
    "HeaderFixWarning",
    "HeaderError",
    "DataError",
    "HeaderWarning",
    "DataWarning",
    "ExtensionWarning",
]


class NivoxError(Exception):
    """Root of every error nivox raises."""


class NivoxWarning(UserWarning):
    """Root of every warning nivox emits."""


class ImageFileError(NivoxError, ValueError):
    """A file is not an image nivox can read or write, or cannot be opened as one."""


class ImageFileNotFoundError(ImageFileError, FileNotFoundError):
    """The file named does not exist or cannot be accessed."""


class HeaderDataError(NivoxError, ValueError):
    """A header field has a value that is invalid or cannot be stored."""


class HeaderTypeError(NivoxError, TypeError):
    """A header of the wrong type, or an operation the header type cannot do."""


class ImageDataError(NivoxError, ValueError):
    """Image data that cannot be read, stored or interpreted."""


class TruncatedDataError(ImageDataError, OSError, EOFError):
    """A file holds fewer bytes of data than its header says.

    Also an OSError, which is what nibabel raises for short files.
    """


class CorruptStreamError(ImageDataError, OSError, EOFError):
    """A compressed stream that is corrupt or ends too early.

    Also an OSError and EOFError: what gzip and friends raise for such streams.
    """


class ExpiredDeprecationError(NivoxError, RuntimeError):
    """An API that nibabel deprecated and then removed; the message names the replacement."""


class CastingError(NivoxError, ValueError):
    """Values that cannot be cast to the requested type."""


class FloatingError(CastingError):
    """Floating point values that cannot be represented as asked."""


class WriterError(NivoxError, ValueError):
    """An array that cannot be written in the requested output type."""


class ScalingError(WriterError):
    """No scaling maps the array's values onto the output type."""


class MissingDependencyError(NivoxError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""


class VisibleDeprecationWarning(NivoxWarning):
    """A deprecation that users should see (unlike DeprecationWarning, shown by default)."""


class HeaderFixWarning(NivoxWarning):
    """A header problem was found and fixed while reading."""


class HeaderError(NivoxError, ValueError):
    """A tractogram file (TRK, TCK, TRX) whose header holds invalid information."""


class DataError(NivoxError, ValueError):
    """Tractogram data that are missing, truncated or inconsistent with their header."""


class HeaderWarning(NivoxWarning):
    """Something odd in a tractogram file header, worked around while reading."""


class DataWarning(NivoxWarning):
    """Tractogram data that a file format cannot hold and that are dropped."""


class ExtensionWarning(NivoxWarning):
    """A tractogram saved under an extension that is not its format's."""
