"""PAR/REC reads, nivox against nibabel, side by side: ``python -m benchmarks.parrec_bench``.

A synthetic multi-volume PAR/REC pair (written by the test suite's generator)
in two layouts: volume by volume (stored in output order) and slice by slice
(all volumes of a slice, then the next: the order multi-echo and some fMRI
exports use). Times are medians of several runs; the ratio is nibabel/nivox.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _median_time(func, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
    import nibabel
    from suites.parrec_files import write_parrec

    import nivox

    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    inplane, n_slices, n_vols = ((96, 96), 30, 20) if quick else ((128, 128), 40, 60)
    print(f"PAR/REC {inplane[0]}x{inplane[1]}x{n_slices}x{n_vols} uint16, per-slice scaling; "
          "ratio = nibabel time / nivox time")
    print(f"{'case':<46}{'nibabel ms':>12}{'nivox ms':>10}{'ratio':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for order in ("volume", "slice"):
            sub = Path(folder) / order
            sub.mkdir()
            par, _, _ = write_parrec(sub, inplane=inplane, n_slices=n_slices, n_vols=n_vols, vary_scaling=True,
                                     line_order=order)
            cases = [
                ("load + get_fdata()", lambda lib: lib.load(par).get_fdata()),
                ("load + get_fdata(float32)", lambda lib: lib.load(par).get_fdata(dtype=np.float32)),
                ("one volume: dataobj[..., 7]", lambda lib: lib.load(par).dataobj[..., 7]),
                ("one slice, all volumes: dataobj[:, :, 5]", lambda lib: lib.load(par).dataobj[:, :, 5]),
            ]
            for label, case in cases:
                np.testing.assert_array_equal(case(nivox), case(nibabel))
                theirs = _median_time(lambda: case(nibabel))
                ours = _median_time(lambda: case(nivox))
                print(f"{order + ' order, ' + label:<46}{theirs * 1e3:>12.1f}{ours * 1e3:>10.1f}"
                      f"{theirs / ours:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
