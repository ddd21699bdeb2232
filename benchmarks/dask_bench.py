"""Out-of-core work, nivox against nibabel: ``python -m benchmarks.dask_bench [--quick]``.

Each case runs in a fresh interpreter so that its peak memory (the process's
maximum resident size) is its own:

- mean over time: ``nivox.to_dask(path).mean(axis=-1).compute()`` against
  nibabel's ``load(path).get_fdata().mean(-1)``, for a nibabel-written
  (one-stream) and a nivox-written (members) ``.nii.gz``;
- writing: ``nivox.ImageWriter`` fed volume by volume from a dask array,
  against nibabel saving the same data held in memory;
- save dask-backed 4D: ``nivox.save`` of an image whose data is a dask array
  (read lazily from a ``.nii.gz``, written slab by slab), against nibabel
  loading the same data into memory and saving it; as stored (int16, one
  pass) and from float32 to scaled int16 (a first pass for the range).

Ratios are nibabel / nivox (above 1: nivox faster, or using less memory).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

# Peak memory is the process's VmHWM (Linux): ru_maxrss of a child started by vfork/posix_spawn
# starts at its parent's peak (the kernel carries the old address space's peak over exec), which
# here (the parent holds the test series) hid everything under about 300 MB.
_PROBE = """
import resource, sys, time
import numpy as np

def peak_mb():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

start = time.perf_counter()
{body}
elapsed = time.perf_counter() - start
print(elapsed, peak_mb())
"""

CASES = {
    "nibabel mean": "import nibabel as nib\nnib.load(sys.argv[1]).get_fdata().mean(-1)",
    "nivox mean": "import nivox\nnivox.to_dask(sys.argv[1]).mean(axis=-1).compute()",
    "nibabel save": (
        "import nibabel as nib\nimg = nib.load(sys.argv[1])\n"
        "nib.save(nib.Nifti1Image(img.get_fdata(dtype=np.float32), img.affine), sys.argv[2])"),
    "nivox save": (
        "import nivox\nimg = nivox.load(sys.argv[1])\narr = nivox.to_dask(img, dtype=np.float32)\n"
        "with nivox.ImageWriter(sys.argv[2], img.shape, np.float32, img.affine) as out:\n"
        "    for t in range(img.shape[-1]):\n"
        "        out.write(arr[..., t].compute())"),
    "nibabel save in memory": (
        "import nibabel as nib\nimg = nib.load(sys.argv[1])\n"
        "nib.save(nib.Nifti1Image(np.asanyarray(img.dataobj), img.affine), sys.argv[2])"),
    "nivox save dask-backed": (
        "import nivox\nimg = nivox.load(sys.argv[1])\n"
        "nivox.save(nivox.Nifti1Image(nivox.to_dask(img), img.affine), sys.argv[2])"),
    "nibabel save scaled": (
        "import nibabel as nib\nimg = nib.load(sys.argv[1])\n"
        "out = nib.Nifti1Image(img.get_fdata(dtype=np.float32), img.affine)\n"
        "out.set_data_dtype(np.int16)\nnib.save(out, sys.argv[2])"),
    "nivox save dask-backed scaled": (
        "import nivox\nimg = nivox.load(sys.argv[1])\n"
        "out = nivox.Nifti1Image(nivox.to_dask(img, dtype=np.float32), img.affine)\n"
        "out.set_data_dtype(np.int16)\nnivox.save(out, sys.argv[2])"),
}


def _run(case: str, *args: str) -> tuple[float, float]:
    code = _PROBE.format(body=CASES[case])
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          check=True)
    seconds, megabytes = done.stdout.split()[-2:]
    return float(seconds), float(megabytes)


def main(argv: list[str] | None = None) -> int:
    import nibabel as nib

    import nivox

    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    shape = (64, 64, 32, 60) if quick else (96, 96, 64, 200)
    rng = np.random.default_rng(0)
    base = rng.normal(1000, 100, shape[:3]).astype(np.float32)
    data = np.empty(shape, np.int16, order="F")
    for t in range(shape[3]):
        data[..., t] = base + rng.normal(0, 20, shape[:3])
    print(f"4-D int16 {shape} ({data.nbytes / 2**20:.0f} MiB; float64 copy "
          f"{data.size * 8 / 2**20:.0f} MiB); fresh process per case")
    print(f"{'case':<34}{'nibabel s':>10}{'MB':>8}{'nivox s':>9}{'MB':>8}{'time x':>8}{'mem x':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = {"nibabel-written .nii.gz": root / "nib.nii.gz",
                 "nivox-written .nii.gz": root / "nivox.nii.gz"}
        nib.save(nib.Nifti1Image(data, np.eye(4)), str(files["nibabel-written .nii.gz"]))
        nivox.save(nivox.Nifti1Image(data, np.eye(4)), files["nivox-written .nii.gz"])
        rows = [(f"mean over time, {label}", ("nibabel mean", "nivox mean"), (str(path),))
                for label, path in files.items()]
        rows.append(("save float32 .nii.gz", ("nibabel save", "nivox save"),
                     (str(files["nivox-written .nii.gz"]), str(root / "out.nii.gz"))))
        source = str(files["nivox-written .nii.gz"])
        for ext in (".nii.gz", ".nii"):
            rows.append((f"save dask-backed 4D {ext}", ("nibabel save in memory", "nivox save dask-backed"),
                         (source, str(root / f"out{ext}"))))
        rows.append(("save dask-backed 4D f32->i16", ("nibabel save scaled", "nivox save dask-backed scaled"),
                     (source, str(root / "out.nii.gz"))))
        for label, (theirs, ours), args in rows:
            (t_nib, m_nib), (t_ours, m_ours) = _run(theirs, *args), _run(ours, *args)
            print(f"{label:<34}{t_nib:>10.2f}{m_nib:>8.0f}{t_ours:>9.2f}{m_ours:>8.0f}"
                  f"{t_nib / t_ours:>8.2f}{m_nib / m_ours:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
