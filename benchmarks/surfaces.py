"""GIFTI and CIFTI-2 side by side with nibabel: ``python -m benchmarks.surfaces [--quick]``.

Cases: reading and writing a 164k-vertex surface (GZipBase64Binary, the
default encoding), reading a per-vertex time series, loading a dense
connectome header and slicing one row of it. Prints the median times and
the ratio nibabel/nivox (above 1: nivox is faster). Files are generated from
a fixed seed in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from typing import Any

import numpy as np

from .timing import Settings, measure


def _surface(n_vertices: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(16)
    angles = rng.random((n_vertices, 2)) * [np.pi, 2 * np.pi]
    verts = np.column_stack([np.sin(angles[:, 0]) * np.cos(angles[:, 1]),
                             np.sin(angles[:, 0]) * np.sin(angles[:, 1]), np.cos(angles[:, 0])])
    verts = (verts * 80).astype(np.float32)  # smooth coordinates compress like real meshes
    faces = np.sort(rng.integers(0, n_vertices, (2 * n_vertices, 3)), axis=1).astype(np.int32)
    return verts, faces


def _cases(folder: str, quick: bool) -> list[tuple[str, dict[str, Any]]]:
    import nibabel as nib

    import nivox

    n = 16_000 if quick else 163_842
    verts, faces = _surface(n)
    ours = nivox.gifti.GiftiImage.from_surface(verts, faces)
    theirs = nib.gifti.GiftiImage(darrays=[nib.gifti.GiftiDataArray(verts, "pointset"),
                                           nib.gifti.GiftiDataArray(faces, "triangle")])
    surf = os.path.join(folder, "lh.surf.gii")
    nib.save(theirs, surf)
    series = np.random.default_rng(1).standard_normal((n // 4, 100)).astype(np.float32)
    func = os.path.join(folder, "lh.func.gii")
    nib.save(nib.gifti.GiftiImage(darrays=[nib.gifti.GiftiDataArray(c, "time series")
                                           for c in series.T]), func)
    side = 2000 if quick else 12000
    bm = nib.cifti2.BrainModelAxis.from_surface(np.arange(side), side, "CortexLeft")
    dconn = os.path.join(folder, "x.dconn.nii")
    data = np.lib.format.open_memmap(os.path.join(folder, "d.npy"), "w+", np.float32, (side, side))
    data[:] = 0.5
    nib.save(nib.cifti2.Cifti2Image(data, (bm, bm)), dconn)
    return [
        ("read surface (B64GZ)", {"nibabel": lambda: nib.load(surf).agg_data(),
                                  "nivox": lambda: nivox.load(surf).agg_data()}),
        ("write surface (B64GZ)", {"nibabel": lambda: theirs.to_bytes(),
                                   "nivox": lambda: ours.to_bytes()}),
        ("read time series, 100 arrays", {"nibabel": lambda: nib.load(func).agg_data(),
                                          "nivox": lambda: nivox.load(func).agg_data()}),
        ("dconn: load + header axes", {"nibabel": lambda: nib.load(dconn).header.get_axis(0),
                                       "nivox": lambda: nivox.load(dconn).header.get_axis(0)}),
        ("dconn: load + one column", {"nibabel": lambda: np.asarray(nib.load(dconn).dataobj[:, 7]),
                                      "nivox": lambda: np.asarray(nivox.load(dconn).dataobj[:, 7])}),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small files, fewer repeats")
    args = parser.parse_args(argv)
    settings = Settings(repeats=3 if args.quick else 5)
    with tempfile.TemporaryDirectory(prefix="nivox-bench-surfaces-") as folder:
        print(f"{'operation':34} {'nibabel':>10} {'nivox':>10} {'nibabel/nivox':>14}")
        for name, fns in _cases(folder, args.quick):
            result = measure(fns, settings)
            nb, nv = result["nibabel"], result["nivox"]
            if isinstance(nb, Exception) or isinstance(nv, Exception):
                print(f"{name:34} failed: {nb if isinstance(nb, Exception) else nv}")
                continue
            print(f"{name:34} {nb.median * 1e3:8.1f}ms {nv.median * 1e3:8.1f}ms {nb.median / nv.median:13.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
