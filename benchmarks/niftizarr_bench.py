"""NIfTI-Zarr, nivox against the reference converter ``nifti-zarr`` (niizarr): ``python -m benchmarks.niftizarr_bench``.

Each case runs in a fresh interpreter (its peak resident memory is its own),
on a synthetic 4D int16 image (``--quick``: a smaller one), saved as
``.nii.gz`` first:

- convert: ``.nii.gz`` -> ``.nii.zarr`` with one level, 64-voxel chunks
  (``nivox.save`` against ``niizarr.nii2zarr(..., nb_levels=1)``);
- open: load the store (header and metadata only);
- volume: read one volume;
- full: read all the data.

Ratios are niizarr / nivox (above 1: nivox faster, or using less memory).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

_PROBE = """
import resource, sys, time
import numpy as np
start = time.perf_counter()
{body}
elapsed = time.perf_counter() - start
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""

CASES = {
    "convert": {
        "nivox": "import nivox\nnivox.save(nivox.load(sys.argv[1]), sys.argv[2])",
        "niizarr": "import niizarr\nniizarr.nii2zarr(sys.argv[1], sys.argv[2], nb_levels=1, chunk=64)",
    },
    "open": {
        "nivox": "import nivox\nnivox.load(sys.argv[2])",
        "niizarr": "import niizarr\nniizarr.zarr2nii(sys.argv[2])",
    },
    "volume": {
        "nivox": "import nivox\nnivox.load(sys.argv[2]).dataobj[..., 3]",
        "niizarr": "import niizarr\nnp.asarray(niizarr.zarr2nii(sys.argv[2]).dataobj[..., 3])",
    },
    "full": {
        "nivox": "import nivox\nnivox.load(sys.argv[2]).get_fdata(dtype=np.float32)",
        "niizarr": "import niizarr\nnp.asarray(niizarr.zarr2nii(sys.argv[2]).dataobj, dtype=np.float32)",
    },
}


def _run(body: str, *args: str) -> tuple[float, float]:
    done = subprocess.run([sys.executable, "-c", _PROBE.format(body=body), *args],
                          capture_output=True, text=True, check=True)
    seconds, megabytes = done.stdout.split()[-2:]
    return float(seconds), float(megabytes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small image")
    args = parser.parse_args(argv)
    import nivox

    shape = (64, 64, 32, 10) if args.quick else (128, 128, 64, 40)
    rng = np.random.default_rng(0)
    data = (rng.normal(1000, 200, shape)).astype(np.int16)
    with tempfile.TemporaryDirectory() as folder:
        source = str(Path(folder) / "src.nii.gz")
        nivox.save(nivox.Nifti1Image(data, np.diag([2.0, 2.0, 2.5, 1.0])), source)
        print(f"image {shape} int16 ({data.nbytes / 2**20:.0f} MiB raw)")
        print(f"{'case':<10}{'nivox s':>10}{'niizarr s':>11}{'ratio':>7}{'nivox MB':>10}"
              f"{'niizarr MB':>12}{'ratio':>7}")
        stores = {tool: str(Path(folder) / f"{tool}.nii.zarr") for tool in ("nivox", "niizarr")}
        for case, bodies in CASES.items():
            results = {}
            for tool, body in bodies.items():
                # every tool reads the store it wrote
                results[tool] = _run(body, source, stores[tool])
            (ts, ms), (tr, mr) = results["nivox"], results["niizarr"]
            print(f"{case:<10}{ts:>10.3f}{tr:>11.3f}{tr / ts:>7.2f}{ms:>10.0f}{mr:>12.0f}{mr / ms:>7.2f}")


if __name__ == "__main__":
    main()
