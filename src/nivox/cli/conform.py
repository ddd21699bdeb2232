"""``nivox conform``: resample an image onto a grid of given shape, voxel size and orientation.

A command-line face of :func:`nivox.processing.conform` (FreeSurfer's
``mri_convert --conform`` geometry, RAS by default, no rescaling to uint8).
Only 3D data can be conformed: a 4D file needs ``--volume`` to pick one volume,
which alone is read.
"""

from __future__ import annotations

import argparse
from typing import Any

from ._common import add_io_arguments, axcodes_arg, pick_volume, run_transform, set_usage

__all__ = ["add_parser", "conform_image", "run"]

NAME = "conform"
_MODES = ("constant", "nearest", "reflect", "mirror", "wrap")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register the ``conform`` subcommand."""
    parser = subparsers.add_parser(
        NAME, parents=parents, help="resample to a shape, voxel size and orientation",
        description="Resample INPUT onto a grid of --out-shape voxels of --voxel-size mm, "
                    "with axes along --orientation, centred where INPUT's centre is "
                    "(nivox.processing.conform). The output keeps INPUT's header and dtype.",
    )
    add_io_arguments(parser)
    parser.add_argument("--out-shape", type=_positive_int, nargs=3, default=[256, 256, 256],
                        metavar=("I", "J", "K"), help="output shape in voxels (default 256^3)")
    parser.add_argument("--voxel-size", type=_positive_float, nargs=3, default=[1.0, 1.0, 1.0],
                        metavar=("X", "Y", "Z"), help="output voxel size in mm (default 1 1 1)")
    parser.add_argument("--orientation", type=axcodes_arg, default="RAS", metavar="CODES",
                        help="output axis codes (default RAS)")
    parser.add_argument("--order", type=int, choices=range(6), default=3, metavar="N",
                        help="spline interpolation order 0-5 (default 3; 0 is nearest "
                             "neighbour, right for label images)")
    parser.add_argument("--mode", choices=_MODES, default="constant",
                        help="how points outside INPUT are filled (default constant)")
    parser.add_argument("--cval", type=float, default=0.0,
                        help="value outside INPUT in constant mode (default 0)")
    parser.add_argument("--volume", type=int, metavar="N",
                        help="for 4D INPUT: the volume (from 0) to conform")
    set_usage(parser)
    return parser


def conform_image(img: Any, out_shape: tuple[int, int, int] = (256, 256, 256),
                  voxel_size: tuple[float, float, float] = (1.0, 1.0, 1.0),
                  orientation: str = "RAS", order: int = 3, mode: str = "constant",
                  cval: float = 0.0, volume: int | None = None) -> Any:
    """:func:`nivox.processing.conform` of ``img`` (of its volume ``volume`` if 4D)."""
    from ..processing import conform

    return conform(pick_volume(img, volume), tuple(out_shape), tuple(voxel_size), order=order,
                   mode=mode, cval=cval, orientation=orientation)


def run(args: argparse.Namespace) -> int:
    """Conform ``args.input`` into ``args.output``; exit status 1 on failure."""
    return run_transform(args, lambda img: conform_image(
        img, args.out_shape, args.voxel_size, args.orientation, args.order, args.mode, args.cval,
        args.volume))
