"""Philips PAR/REC images (export versions 4.0, 4.1 and 4.2), read-only.

A PAR file is a text header; the REC file beside it holds the 2D images
(8- or 16-bit little-endian) in the order of the PAR's image lines.
``nivox.load('scan.PAR')`` gives a :class:`PARRECImage` whose data stay on
disk until indexed.

Axes: the image data are ``(x, y, slice[, volume])``; volumes of several
kinds (echoes, dynamics, diffusion directions, ...) share the fourth axis,
ordered by file order, or by the image table's labels with
``strict_sort=True`` (``header.get_volume_labels()`` says which volume is
which). The affine maps voxels to RAS+ millimetres from the scanner's
isocentre, by nibabel's conventions (``PARRECHeader.get_affine``).

Scaling: ``scaling='dv'`` (default, as nibabel) gives the values the scanner
console shows; ``scaling='fp'`` gives Philips' floating-point values, which
are comparable between scans (``PARRECHeader.get_data_scaling``).

Package layout: ``parse`` reads the PAR text, ``header`` interprets it,
``proxy`` reads the REC data, ``image`` ties them together.
"""

from __future__ import annotations

from ..errors import PARRECError
from .header import (
    ACQ_TO_PSL,
    DEG2RAD,
    PSL_TO_RAS,
    PARRECHeader,
    slice_orientation_codes,
    vol_is_full,
    vol_numbers,
)
from .image import PARRECImage, exts2pars, load
from .parse import (
    GEN_RE,
    image_def_dtds,
    image_def_dtype,
    one_line,
    parse_PAR_header,
    supported_versions,
)
from .proxy import PARRECArrayProxy

__all__ = [
    "ACQ_TO_PSL",
    "DEG2RAD",
    "GEN_RE",
    "PSL_TO_RAS",
    "PARRECArrayProxy",
    "PARRECError",
    "PARRECHeader",
    "PARRECImage",
    "exts2pars",
    "image_def_dtds",
    "image_def_dtype",
    "load",
    "one_line",
    "parse_PAR_header",
    "slice_orientation_codes",
    "supported_versions",
    "vol_is_full",
    "vol_numbers",
]
