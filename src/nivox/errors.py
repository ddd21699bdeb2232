"""Every public exception and warning of nivox.

All errors derive from :class:`NivoxError` and *also* from the builtin they
stand for, so ``except ValueError`` written for nibabel keeps catching what it
caught before, and ``except NivoxError`` catches everything nivox raises.
Modules that nibabel users import these names from (``nivox.filebasedimages``,
``nivox.spatialimages``, ``nivox.deprecator``, ...) import them from here.
"""

from __future__ import annotations

import io
from xml.parsers.expat import ExpatError

__all__ = [
    "NivoxError",
    "NivoxWarning",
    "ImageFileError",
    "ImageFileNotFoundError",
    "HeaderDataError",
    "HeaderTypeError",
    "UnknownCodeError",
    "ImageDataError",
    "TruncatedDataError",
    "CorruptStreamError",
    "ExpiredDeprecationError",
    "SlicerError",
    "CastingError",
    "ImageDataTypeError",
    "ImageIndexError",
    "ImageMismatchError",
    "InvalidArgumentError",
    "ArgumentTypeError",
    "UnknownNameError",
    "UnsupportedOperationError",
    "ImageFileExistsError",
    "ImageIsADirectoryError",
    "RemoteFileError",
    "FloatingError",
    "WriterError",
    "ScalingError",
    "MissingDependencyError",
    "MGHError",
    "MincError",
    "VisibleDeprecationWarning",
    "HeaderFixWarning",
    "AFNIHeaderError",
    "AFNIImageError",
    "PARRECError",
    "XmlParseError",
    "GiftiParseError",
    "Cifti2HeaderError",
    "Cifti2ParseError",
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


class ImageFileNotFoundError(FileNotFoundError, ImageFileError):
    """The file named does not exist or cannot be accessed.

    FileNotFoundError comes first so that ``(errno, strerror, filename)`` arguments
    fill the OSError fields, as they do for the builtin.
    """


class ImageFileExistsError(FileExistsError, ImageFileError):
    """The output file exists and replacing it was not asked for."""


class ImageIsADirectoryError(IsADirectoryError, ImageFileError):
    """A folder was given where an image file was expected."""


class HeaderDataError(NivoxError, ValueError):
    """A header field has a value that is invalid or cannot be stored."""


class UnknownCodeError(HeaderDataError, KeyError):
    """A code or label that a header's code table (xform, intent, ...) does not know.

    Also a KeyError, which is what nibabel raises for unknown codes.
    """

    __str__ = Exception.__str__  # KeyError would quote the message


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


class ImageDataTypeError(NivoxError, TypeError):
    """Data of a type the operation cannot handle (floats from RGB data, dtypes that do not mix)."""


class ImageIndexError(NivoxError, IndexError):
    """An index that cannot slice an image or its data."""


class ImageMismatchError(NivoxError, ValueError):
    """Images that must share a grid (shape, affine) and do not."""


class InvalidArgumentError(NivoxError, ValueError):
    """An argument outside the values a function accepts; the message lists the valid ones."""


class ArgumentTypeError(NivoxError, TypeError):
    """An argument of a type a function does not accept."""


class UnknownNameError(NivoxError, KeyError):
    """A name or code looked up in one of nivox's tables that is not there."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""


class UnsupportedOperationError(NivoxError, io.UnsupportedOperation):
    """A file operation the stream cannot do (seeking backwards while writing, ...)."""


class RemoteFileError(NivoxError, OSError):
    """A file at a URL that could not be fetched; the message names the URL and the reason."""


class SlicerError(NivoxError, IndexError, ValueError):
    """An index that cannot select from an array of the given shape.

    An IndexError as numpy raises, and a ValueError as nibabel's
    ``fileslice.canonical_slicers`` raises.
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


class MGHError(HeaderDataError):
    """An MGH/MGZ file or header nivox cannot read or write (nibabel's name)."""


class MincError(ImageFileError):
    """A MINC1 or MINC2 file that cannot be read as an image (nibabel's ``MincError``).

    Also a ValueError (through ImageFileError); nibabel raises ValueError for
    some of the same problems.
    """


class VisibleDeprecationWarning(NivoxWarning):
    """A deprecation that users should see (unlike DeprecationWarning, shown by default)."""


class HeaderFixWarning(NivoxWarning):
    """A header problem was found and fixed while reading."""


class AFNIHeaderError(HeaderDataError):
    """An AFNI ``.HEAD`` file whose attributes cannot be parsed or make no dataset."""


class AFNIImageError(ImageDataError):
    """AFNI data (``.BRIK``) that cannot be read as its ``.HEAD`` describes."""


class PARRECError(NivoxError, ValueError):
    """A Philips PAR/REC header or data that cannot be read (the message names the file)."""


class XmlParseError(ImageFileError, ExpatError):
    """An XML document (GIFTI, CIFTI-2) that is malformed, or uses a construct refused for safety.

    Also an ExpatError, which is what nibabel's XML readers raise.
    """


class GiftiParseError(XmlParseError):
    """A GIFTI file that cannot be read: malformed XML, misplaced elements or inconsistent data."""


class Cifti2HeaderError(HeaderDataError):
    """A CIFTI-2 header that breaks the specification or disagrees with its data."""


class Cifti2ParseError(XmlParseError, Cifti2HeaderError):
    """CIFTI-2 XML that is malformed or breaks the element structure of the specification."""


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
