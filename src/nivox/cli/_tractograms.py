"""``nivox convert`` for tractograms: TRK, TCK and TRX into one another.

Streamlines are read in one pass (points straight into one array) and written
in one pass. TRK stores points against a voxel grid, so writing TRK needs the
grid: from a TRK or TRX input's header, or from ``--reference IMAGE``. A
TRX output takes its grid the same way (identity and 1x1x1 without one).
Data TCK cannot hold (per point, per streamline) are dropped with a warning.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ._progress import Progress
from ..errors import ImageFileExistsError, InvalidArgumentError

__all__ = ["TRACTOGRAM_SUFFIXES", "is_tractogram", "convert_tractogram", "grid_header"]

TRACTOGRAM_SUFFIXES = (".trk", ".tck", ".trx")


def is_tractogram(path: str | None) -> bool:
    return path is not None and os.fspath(path).lower().endswith(TRACTOGRAM_SUFFIXES)


def grid_header(affine: Any, shape: Any) -> dict[str, Any]:
    """TRK/TRX header fields describing a voxel grid (vox_to_ras, dimensions, sizes, order)."""
    from ..orientations import aff2axcodes

    affine = np.asarray(affine, np.float64)
    return {
        "voxel_to_rasmm": affine.astype(np.float32),
        "dimensions": np.asarray(shape[:3], np.int16),
        "voxel_sizes": np.sqrt((affine[:3, :3] ** 2).sum(axis=0)).astype(np.float32),
        "voxel_order": "".join(aff2axcodes(affine)).encode(),
    }


def _grid_of(tfile: Any, reference: str | None) -> dict[str, Any] | None:
    from ..loadsave import load
    from ..streamlines import TrkFile, TrxFile

    if reference is not None:
        img = load(reference)
        return grid_header(img.affine, img.shape)
    if isinstance(tfile, TrkFile):
        return {k: tfile.header[k] for k in ("voxel_to_rasmm", "dimensions", "voxel_sizes", "voxel_order")}
    if isinstance(tfile, TrxFile):
        return grid_header(tfile.header["voxel_to_rasmm"], tfile.header["dimensions"])
    return None


def convert_tractogram(input_file: str, output_file: str, reference: str | None = None,
                       force: bool = False) -> Any:
    """Convert ``input_file`` to the tractogram format of ``output_file``'s extension."""
    from .. import streamlines
    from ._common import about

    if not is_tractogram(output_file):
        raise InvalidArgumentError(f"{output_file}: a tractogram converts to .trk, .tck or .trx only")
    if os.path.exists(output_file) and not force:
        raise ImageFileExistsError(17, "File exists; use --force to replace it", output_file)
    with Progress(2) as bar:
        with about(input_file):
            bar.set_label(f"reading {input_file}")
            tfile = streamlines.load(input_file)
            bar.advance()
        with about(reference or input_file):
            grid = _grid_of(tfile, reference)
        with about(output_file):
            bar.set_label(f"writing {output_file}")
            ext = os.path.splitext(output_file)[1].lower()
            kwargs: dict[str, Any] = {}
            if ext == ".trk":
                if grid is None:
                    raise InvalidArgumentError("writing TRK needs a voxel grid: give --reference IMAGE")
                kwargs["header"] = grid
            elif ext == ".trx" and grid is not None:
                kwargs["header"] = {"voxel_to_rasmm": grid["voxel_to_rasmm"], "dimensions": grid["dimensions"]}
            out = streamlines.FORMATS.get(ext) or streamlines.EXTRA_FORMATS[ext]
            result = out(tfile.tractogram, **kwargs)
            result.save(output_file)
            bar.advance()
    return result
