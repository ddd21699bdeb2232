"""``nivox roi``: crop an image to voxel ranges, keeping the affine right.

Ranges are Python slices over voxel indices, ``START:STOP[:STEP]`` with STOP
excluded, either end optional and negative numbers counting from the end
(``--x 10:50 --y :40 --z -20:``). A negative STEP flips the axis (``::-1``).
Cropping goes through ``img.slicer``, so only the voxels kept are read and the
affine moves the origin to the first voxel kept. Indices beyond the image are
errors rather than silently clipped.
"""

from __future__ import annotations

import argparse
from typing import Any

from ._common import add_io_arguments, run_transform, set_usage
from ..errors import ImageIndexError

__all__ = ["add_parser", "crop", "parse_range", "run"]

NAME = "roi"
_AXES = ("x", "y", "z", "t")


def parse_range(text: str) -> slice:
    """``'START:STOP[:STEP]'`` (parts optional) as a slice; a single index N means N:N+1."""
    parts = text.split(":")
    if len(parts) > 3:
        raise argparse.ArgumentTypeError(f"expected START:STOP[:STEP], got {text!r}")
    try:
        values = [int(p) if p.strip() else None for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START:STOP[:STEP] of integers, "
                                         f"got {text!r}") from None
    if len(values) == 1:
        if values[0] is None:
            raise argparse.ArgumentTypeError("empty range")
        start = values[0]
        return slice(start, start + 1 if start != -1 else None)
    if len(values) == 3 and values[2] == 0:
        raise argparse.ArgumentTypeError(f"step cannot be 0 in {text!r}")
    return slice(*values)


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register the ``roi`` subcommand."""
    parser = subparsers.add_parser(
        NAME, parents=parents, help="crop to voxel ranges",
        description="Crop INPUT to voxel ranges START:STOP[:STEP] (STOP excluded, from 0; "
                    "negative numbers count from the end; a negative STEP flips the axis) "
                    "and write OUTPUT with an affine that keeps voxels where they were. "
                    "Axes without a range are kept whole. Write a range that starts with "
                    "a minus sign with '=': --z=-20:.",
    )
    add_io_arguments(parser)
    for axis, name in zip(_AXES, ("first", "second", "third", "fourth (time)")):
        parser.add_argument(f"--{axis}", type=parse_range, metavar="A:B",
                            help=f"range along the {name} voxel axis")
    set_usage(parser)
    return parser


def _check_in_bounds(axis: str, item: slice, size: int) -> None:
    start, stop = item.start, item.stop
    # a backward range may stop at -size-1, just before index 0
    if (start is not None and not -size <= start < size) or (
            stop is not None and not -size - 1 <= stop <= size):
        raise ImageIndexError(f"{axis} range {_text(item)} is outside the image's {size} voxels "
                         f"along {axis} (0..{size - 1})")
    if len(range(*item.indices(size))) == 0:
        raise ImageIndexError(f"{axis} range {_text(item)} selects no voxels")


def _text(item: slice) -> str:
    parts = ["" if v is None else str(v) for v in (item.start, item.stop)]
    if item.step is not None:
        parts.append(str(item.step))
    return ":".join(parts)


def crop(img: Any, ranges: dict[str, slice | None]) -> Any:
    """``img`` cropped to ``ranges`` (axis name x/y/z/t -> slice or None for all)."""
    shape = tuple(img.shape)
    slicer = []
    for index, axis in enumerate(_AXES):
        item = ranges.get(axis)
        if index >= len(shape):
            if item is not None:
                raise ImageIndexError(f"--{axis} given but the image has {len(shape)} axes")
            continue
        item = slice(None) if item is None else item
        _check_in_bounds(axis, item, shape[index])
        slicer.append(item)
    return img.slicer[tuple(slicer)]


def run(args: argparse.Namespace) -> int:
    """Crop ``args.input`` into ``args.output``; exit status 1 on failure."""
    return run_transform(args, lambda img: crop(img, {axis: getattr(args, axis)
                                                      for axis in _AXES}))
