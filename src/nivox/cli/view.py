"""``nivox view``: save an orthogonal-slice snapshot (sagittal, coronal, axial) of an image.

Renders :class:`nivox.viewers.OrthoSlicer3D` on matplotlib's non-interactive
Agg backend, so it works without a display, and saves the figure (PNG, or
any format matplotlib writes, by extension). The cursor sits at a voxel
(``--voxel``) or a world point in mm (``--world``); the default is the
viewer's (the world origin when inside the image, else the centre). For 4D
data only the chosen ``--volume`` is read.
"""

from __future__ import annotations

import argparse
import os
import textwrap
from typing import Any

import numpy as np

from ._common import (
    about, load_image, pick_volume, run_guarded, set_usage, usage_error,
)
from ..errors import ImageFileExistsError, InvalidArgumentError

__all__ = ["add_parser", "render", "run"]

NAME = "view"


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register the ``view`` subcommand."""
    parser = subparsers.add_parser(
        NAME, parents=parents, help="save an orthogonal-slice snapshot",
        description="Save three slices through a voxel of FILE to an image file (PNG, SVG, "
                    "PDF, ... by extension): coronal at top left, sagittal at top right and "
                    "axial at bottom left, each labelled with anatomical directions. Needs "
                    "matplotlib (pip install nivox[viewer]).",
    )
    parser.add_argument("file", nargs="?", metavar="FILE", help="image file to show")
    parser.add_argument("-o", "--output", metavar="OUT", help="picture file to write (.png, ...)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--voxel", type=int, nargs=3, metavar=("I", "J", "K"),
                       help="voxel indices (from 0) the slices go through")
    where.add_argument("--world", type=float, nargs=3, metavar=("X", "Y", "Z"),
                       help="world coordinates in mm the slices go through")
    parser.add_argument("--volume", type=int, default=None, metavar="N",
                        help="for 4D FILE: the volume to show (from 0; default 0)")
    parser.add_argument("--cmap", default="gray", help="matplotlib colour map (default gray)")
    parser.add_argument("--clim", type=float, nargs=2, metavar=("LOW", "HIGH"),
                        help="value range of the colour map (default: 1st to 99th percentile)")
    parser.add_argument("--title", help="figure title (default: file name and position; "
                                        "'' for none)")
    parser.add_argument("--dpi", type=float, default=100.0, help="resolution (default 100)")
    parser.add_argument("-f", "--force", action="store_true", help="replace OUT if it exists")
    set_usage(parser)
    return parser


def _voxel_of_world(affine: np.ndarray, world: Any, shape: tuple[int, ...]) -> np.ndarray:
    voxel = np.linalg.solve(affine[:3, :3], np.asarray(world, float) - affine[:3, 3])
    index = np.round(voxel).astype(int)
    if np.any(index < 0) or np.any(index >= np.array(shape[:3])):
        raise InvalidArgumentError(f"world point {tuple(float(w) for w in world)} mm lies outside the "
                         f"image (voxel {tuple(np.round(voxel, 2).tolist())}, shape "
                         f"{shape[:3]})")
    return index


def render(img: Any, voxel: Any = None, world: Any = None, volume: int | None = None,
           cmap: str = "gray", clim: Any = None, title: str | None = None) -> Any:
    """An OrthoSlicer3D on the Agg backend showing ``img`` at ``voxel`` or ``world``.

    Returns the viewer; save ``viewer.figs[0]`` and ``close()`` it when done.
    """
    import matplotlib

    matplotlib.use("Agg")
    from ..viewers import OrthoSlicer3D

    if len(img.shape) > 3 and volume is None:
        volume = 0
    vol_img = pick_volume(img, volume)
    shape = tuple(int(n) for n in vol_img.shape)
    if len(shape) != 3:
        raise InvalidArgumentError(f"cannot show data of shape {tuple(img.shape)}: it needs 3 spatial axes")
    affine = np.eye(4) if vol_img.affine is None else np.asarray(vol_img.affine, float)
    if voxel is not None:
        index = np.asarray(voxel, int)
        if np.any(index < 0) or np.any(index >= np.array(shape)):
            raise InvalidArgumentError(f"voxel {tuple(index.tolist())} lies outside the image of shape "
                             f"{shape}")
    elif world is not None:
        index = _voxel_of_world(affine, world, shape)
    else:
        index = None
    viewer = OrthoSlicer3D(np.asanyarray(vol_img.dataobj), affine, title=None)
    try:
        if index is not None:
            viewer.set_position(*(affine[:3, :3] @ index + affine[:3, 3]))
        if clim is not None:
            viewer.clim = clim
        viewer.cmap = cmap
        if title is None:
            title = _default_title(img, viewer, affine, volume)
        if title:
            fit_title(viewer.figs[0], title)
    except Exception:
        viewer.close()
        raise
    return viewer


def fit_title(fig: Any, title: str) -> None:
    """Put ``title`` above the panels, wrapped to the figure's width.

    Parts of the title separated by two spaces are kept whole where they fit; the
    figure grows by the extra lines, so the title never covers the panels.
    """
    text = fig.suptitle(title)
    renderer = fig.canvas.get_renderer()
    fig_width = fig.get_window_extent(renderer).width
    title_width = text.get_window_extent(renderer).width
    if title_width <= 0.96 * fig_width:
        return
    chars = max(10, int(0.92 * fig_width * len(title) / title_width))
    lines: list[str] = []
    for part in title.split("  "):
        for piece in textwrap.wrap(part, chars, break_long_words=True, break_on_hyphens=False):
            if lines and len(lines[-1]) + 2 + len(piece) <= chars:
                lines[-1] += "  " + piece
            else:
                lines.append(piece)
    text.set_text("\n".join(lines))
    line_height = text.get_window_extent(renderer).height / len(lines)
    extra = (len(lines) - 1) * line_height / fig.dpi  # inches added above the panels
    height = fig.get_figheight()
    scale = height / (height + extra)
    for axes in fig.axes:  # keep every panel where it was, in inches from the bottom
        x0, y0, width, panel_height = axes.get_position().bounds
        axes.set_position([x0, y0 * scale, width, panel_height * scale])
    fig.set_figheight(height + extra)


def _default_title(img: Any, viewer: Any, affine: np.ndarray, volume: int | None) -> str:
    name = os.path.basename(img.get_filename() or "image")
    position = viewer.position
    index = np.round(np.linalg.solve(affine[:3, :3], position - affine[:3, 3])).astype(int)
    text = (f"{name}  voxel ({', '.join(map(str, index))})  "
            f"world ({', '.join(f'{w:.1f}' for w in position)}) mm")
    return text + (f"  volume {volume}" if volume is not None else "")


def run(args: argparse.Namespace) -> int:
    """Save the snapshot of ``args.file`` to ``args.output``; exit status 1 on failure."""
    if args.file is None or args.output is None:
        return usage_error(args, "give FILE and -o OUT")

    def body() -> int:
        with about(args.output):
            if os.path.exists(args.output) and not args.force:
                raise ImageFileExistsError(17, "File exists; use --force to replace it", args.output)
        with about(args.file):
            img = load_image(args.file)
            viewer = render(img, args.voxel, args.world, args.volume, args.cmap, args.clim,
                            args.title)
        try:
            with about(args.output):
                viewer.figs[0].savefig(args.output, dpi=args.dpi)
        finally:
            viewer.close()
        return 0

    return run_guarded(args, body, args.file)
