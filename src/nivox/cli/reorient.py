"""``nivox reorient``: permute and flip the voxel axes to a named orientation (RAS by default).

Only the order and direction of the stored axes change: the data are not
resampled, and the affine changes so that every voxel keeps its world
position. The target is given as axis codes, the direction each voxel axis
points to: ``RAS`` (NIfTI's world convention, the default), ``LPS`` (DICOM's),
``LIA`` (FreeSurfer's) and so on. Oblique images get the closest orientation.
"""

from __future__ import annotations

import argparse
from typing import Any

from ._common import add_io_arguments, axcodes_arg, run_transform, set_usage
from ..errors import ImageDataError

__all__ = ["add_parser", "reorient", "run"]

NAME = "reorient"


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register the ``reorient`` subcommand."""
    parser = subparsers.add_parser(
        NAME, parents=parents, help="flip and permute voxel axes to an orientation",
        description="Write INPUT with its voxel axes permuted and flipped so that they point "
                    "along the given axis codes (RAS by default, or LPS, LIA, ...). The data "
                    "are not resampled; the affine keeps every voxel at its world position.",
    )
    add_io_arguments(parser)
    parser.add_argument("--to", type=axcodes_arg, default="RAS", metavar="CODES",
                        help="target axis codes, such as RAS (default), LPS or LIA")
    set_usage(parser)
    return parser


def reorient(img: Any, codes: str = "RAS") -> Any:
    """``img`` with its first three axes flipped and permuted to axis codes ``codes``."""
    from ..orientations import axcodes2ornt, io_orientation, ornt_transform

    if len(img.shape) < 3:
        raise ImageDataError(f"reorienting needs 3 spatial axes; image shape is {img.shape}")
    if img.affine is None:
        raise ImageDataError("the image has no affine, so its orientation is unknown")
    transform = ornt_transform(io_orientation(img.affine), axcodes2ornt(codes))
    return img.as_reoriented(transform)


def run(args: argparse.Namespace) -> int:
    """Reorient ``args.input`` into ``args.output``; exit status 1 on failure."""
    return run_transform(args, lambda img: reorient(img, args.to))
