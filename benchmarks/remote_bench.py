"""Loading over HTTP by byte range, nivox against nibabel's ``from_url``: ``python -m benchmarks.remote_bench``.

The fMRI and HCP-like synthetic images of :mod:`benchmarks.data` (``--quick``:
the small variants; default: full size) are served by a local HTTP server on
127.0.0.1 (the test suite's, which honours ``Range`` and counts requests and
body bytes) as three files each: ``.nii`` and ``.nii.gz`` written by nibabel
(the ``.nii.gz`` one deflate stream) and ``.nii.gz`` written by nivox
(independent members with the member table at the end). For each: a
header-only load, one volume in the middle of the series, and the whole
data; time (median of a few runs), bytes transferred and requests per run.

nibabel's ``from_url`` downloads the whole file for every case; it does not
decompress, so for ``.nii.gz`` nibabel's side is ``urlopen`` +
``gzip.decompress`` + ``from_bytes``. nivox reads the ranges it needs. For
the single-stream ``.nii.gz``, "cold" forgets the seek points before every
run (a first read into the file), "index" starts each run from an index
saved by an earlier full read (``save_index`` / ``load_index``, as a later
run or another process would).
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


def _measure(server: Any, func: Callable[[], Any], repeat: int,
             before_each: Callable[[], None] | None = None) -> tuple[float, int, int]:
    times, nbytes, requests = [], 0, 0
    for _ in range(repeat):
        if before_each is not None:
            before_each()
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
    from nivox import _remotestream
    from nivox._codecs import gzip as nvgzip

    from .data import FULL, QUICK, default_workdir, ensure_files

    args = argv if argv is not None else sys.argv[1:]
    quick = "--quick" in args
    specs = QUICK if quick else FULL
    repeat = 3 if quick else 1
    print(f"nivox by range against nibabel's whole download, local HTTP; median of {repeat} run(s); "
          "MB and requests per run; ratio = nibabel time / nivox time")
    header = (f"{'file':<30}{'case':<16}{'nibabel ms':>11}{'MB':>9}{'req':>5}"
              f"{'nivox ms':>10}{'MB':>9}{'req':>5}{'ratio':>7}")
    for kind in ("fmri", "hcp"):
        spec = specs[kind]
        files = ensure_files(spec, default_workdir())
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "nibabel.nii").symlink_to(files.nii)
            (root / "nibabel.nii.gz").symlink_to(files.nib_gz)
            nivox.save(nivox.load(files.nii), root / "nivox.nii.gz")
            server = _Server(root, honour_range=True)
            middle = spec.shape[3] // 2
            print(f"\n{spec.label}: {spec.nbytes / 1e6:.0f} MB of data")
            print(header)
            try:
                for name in ("nibabel.nii", "nibabel.nii.gz", "nivox.nii.gz"):
                    url = server.url(name)
                    size = (root / name).stat().st_size

                    def theirs(url: str = url) -> Any:
                        if not url.endswith(".gz"):
                            return nibabel.Nifti1Image.from_url(url)
                        with urllib.request.urlopen(url) as response:
                            return nibabel.Nifti1Image.from_bytes(gzip.decompress(response.read()))

                    cases: list[tuple[str, Callable[[], Any], Callable[[], Any], Any]] = [
                        ("header only", lambda: theirs().header, lambda: nivox.load(url).header, None),
                        (f"volume {middle}", lambda: theirs().dataobj[..., middle],
                         lambda: nivox.load(url).dataobj[..., middle], None),
                        ("whole data", lambda: np.asarray(theirs().dataobj),
                         lambda: np.asarray(nivox.load(url).dataobj), None),
                    ]
                    sidecar = root / f"{name}.nvidx"

                    def with_index(url: str = url, sidecar: Path = sidecar) -> None:
                        _remotestream.clear()  # as a new process that loads the saved index
                        nvgzip.load_index(url, sidecar)

                    if name == "nibabel.nii.gz":
                        cases[1] = (f"volume {middle} cold", cases[1][1], cases[1][2], _remotestream.clear)
                        cases.insert(2, (f"volume {middle} index", cases[1][1], cases[1][2], with_index))
                    for case, nib_func, nv_func, before_each in cases:
                        if case.endswith("index"):
                            np.asarray(nivox.load(url).dataobj)  # seek points through the file
                            nvgzip.save_index(url, sidecar)
                        t_nib, b_nib, r_nib = _measure(server, nib_func, repeat)
                        t_nv, b_nv, r_nv = _measure(server, nv_func, repeat, before_each)
                        print(f"{f'{name} ({size / 1e6:.1f} MB)':<30}{case:<16}{t_nib * 1e3:>11.1f}"
                              f"{b_nib / 1e6:>9.2f}{r_nib:>5}{t_nv * 1e3:>10.1f}{b_nv / 1e6:>9.2f}{r_nv:>5}"
                              f"{t_nib / t_nv:>7.2f}")
                    _remotestream.clear()
            finally:
                server.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
