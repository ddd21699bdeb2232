"""Loading over HTTP by byte range, nivox against nibabel's ``from_url``: ``python -m benchmarks.remote_bench``.

A synthetic 4-D int16 image served by a local HTTP server on 127.0.0.1 (the
test suite's, which honours ``Range`` and counts requests and body bytes),
as ``.nii`` and as a nivox-written ``.nii.gz``. For each case: a header-only
load, one volume deep in the series, and the whole data; time (median of a
few runs), bytes transferred and requests per run. nibabel's ``from_url``
downloads the whole file for every case (it does not decompress, so for
``.nii.gz`` nibabel's side is ``urlopen`` + ``gzip.decompress`` + ``from_bytes``);
nivox reads the ranges it needs.
"""

from __future__ import annotations

import gzip
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable

import numpy as np


def _measure(server: Any, func: Callable[[], Any], repeat: int) -> tuple[float, int, int]:
    times, nbytes, requests = [], 0, 0
    for _ in range(repeat):
        before_bytes, before_requests = server.bytes_sent, len(server.log)
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
        nbytes, requests = server.bytes_sent - before_bytes, len(server.log) - before_requests
    return statistics.median(times), nbytes, requests


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
    import nibabel
    from test__remote import _Server

    import nivox

    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    shape = (64, 64, 32, 20) if quick else (96, 96, 48, 60)
    repeat = 3
    data = np.random.default_rng(0).integers(0, 1000, shape, dtype=np.int16)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in ("bold.nii", "bold.nii.gz"):
            nivox.save(nivox.Nifti1Image(data, np.eye(4)), root / name)
        server = _Server(root, honour_range=True)
        try:
            print(f"4-D int16 {shape}; bytes and requests per run; ratio = nibabel time / nivox time")
            print(f"{'case':<34}{'nibabel ms':>11}{'MB':>8}{'req':>5}{'nivox ms':>10}{'MB':>8}{'req':>5}{'ratio':>7}")
            last = shape[3] - 1
            for name in ("bold.nii", "bold.nii.gz"):
                url = server.url(name)

                def nib_load(url: str = url) -> Any:
                    if not url.endswith(".gz"):
                        return nibabel.Nifti1Image.from_url(url)
                    with urllib.request.urlopen(url) as response:
                        return nibabel.Nifti1Image.from_bytes(gzip.decompress(response.read()))

                cases = {
                    "header only": (lambda: nib_load().header, lambda: nivox.load(url).header),
                    f"volume {last}": (lambda: nib_load().dataobj[..., last],
                                       lambda: nivox.load(url).dataobj[..., last]),
                    "whole data": (lambda: nib_load().get_fdata(), lambda: nivox.load(url).get_fdata()),
                }
                for case, (theirs, ours) in cases.items():
                    t_nib, b_nib, r_nib = _measure(server, theirs, repeat)
                    t_nv, b_nv, r_nv = _measure(server, ours, repeat)
                    print(f"{name + ': ' + case:<34}{t_nib * 1e3:>11.1f}{b_nib / 1e6:>8.2f}{r_nib:>5}"
                          f"{t_nv * 1e3:>10.1f}{b_nv / 1e6:>8.2f}{r_nv:>5}{t_nib / t_nv:>7.2f}")
        finally:
            server.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
