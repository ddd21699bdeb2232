"""MINC2 cases: reading a compressed MINC2 file (nibabel and nivox), and writing one (nivox only).

The file is the subject's image saved by nivox as MINC2 with MINC tools'
layout (chunks of 32 voxels, deflate level 4). nibabel reads it through
h5py, which inflates one chunk after another; nivox inflates the chunks on
all cores. nibabel cannot write MINC2, so the save row has no ratio.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .report import Row
from .timing import measure, measure_split


def _minc_file(ctx: Any, s: Any) -> Any:
    path = ctx.scratch / s.spec.key / "minc" / "img.mnc"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        ctx.nivox.save(ctx.nivox.load(str(s.ref.nii)), str(path))
    return path


def run_minc(ctx: Any, s: Any) -> None:
    from .cases import _fill, _index, _line

    path = _minc_file(ctx, s)
    loaders = {attr: functools.partial(lib.load, str(path)) for attr, lib in (("nibabel", ctx.nib),
                                                                              ("nivox", ctx.nivox))}
    row = ctx.add(Row("minc", "MINC2 load + get_fdata", s.name, "nivox .mnc (deflate 4)",
                      note="h5py inflates serially; nivox on all cores"))
    _fill(row, measure({k: (lambda f=f: f().get_fdata()) for k, f in loaders.items()}, ctx.settings))
    ctx.log(_line(row))
    shape = s.spec.shape
    key = (slice(None), slice(None), shape[2] // 2) + (0,) * (len(shape) - 3)
    row = ctx.add(Row("minc", "MINC2 slice [:, :, mid]", s.name, "nivox .mnc (deflate 4)"))
    _fill(row, measure_split(loaders, functools.partial(_index, key=key), None, ctx.settings), 0)
    ctx.log(_line(row))
    data = np.asanyarray(ctx.nivox.load(str(s.ref.nii)).dataobj)
    image = ctx.nivox.Nifti1Image(data, np.eye(4))
    target = path.with_name("saved.mnc")
    row = ctx.add(Row("minc", "MINC2 save (nibabel cannot)", s.name, ".mnc deflate 4"))
    _fill(row, measure({"nivox": lambda: ctx.nivox.save(image, str(target))}, ctx.settings))
    ctx.log(_line(row))
