"""AFNI datasets: a ``.HEAD`` attribute file beside a ``.BRIK`` data file (``.BRIK.gz``, ``.BRIK.bz2``).

nibabel's names: :class:`AFNIImage`, :class:`AFNIHeader`,
:class:`AFNIArrayProxy`, :func:`parse_AFNI_header`, :class:`AFNIHeaderError`,
:class:`AFNIImageError`, ``load``. The package splits by concern:
``attributes`` (the ``.HEAD`` text), ``header``, ``proxy`` and ``image``
(reading and writing).
"""

from ..errors import AFNIHeaderError, AFNIImageError
from .attributes import _unpack_var, format_AFNI_header, parse_AFNI_header  # noqa: F401 - nibabel's tests use _unpack_var
from .header import DATA_OFFSET, AFNIHeader, space_codes
from .image import AFNIImage, load
from .proxy import AFNIArrayProxy

__all__ = [
    "DATA_OFFSET",
    "AFNIArrayProxy",
    "AFNIHeader",
    "AFNIHeaderError",
    "AFNIImage",
    "AFNIImageError",
    "format_AFNI_header",
    "load",
    "parse_AFNI_header",
    "space_codes",
]
