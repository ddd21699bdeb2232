#!/usr/bin/env python3
"""Write nivox's example images into src/nivox/testing/data (or a given folder).

The output is a pure function of this script and of nivox: a fixed random
seed, no timestamps, no host names. ``tests/testing/test_example_data.py``
re-runs it into a temporary folder and compares with the shipped files, so
change the data only by changing this script and re-running it:

    python scripts/make_example_data.py [OUTPUT_DIR]

The volumes are synthetic: smooth nested ellipsoids ("head", "brain",
"ventricles") with a little noise, small enough that all files together stay
well under 1 MB.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

import nivox
from nivox.nifti1 import Nifti1Extension

SEED = 20240611
# exp/sin/cos may differ in the last bits between CPUs (numpy picks SIMD code at run
# time), so their results are rounded to this many decimals before use: the files
# then come out the same on every machine.
DECIMALS = 6
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "src" / "nivox" / "testing" / "data"


def head_phantom(shape: tuple[int, int, int], rng: np.random.Generator,
                 noise: float = 0.01) -> np.ndarray:
    """Float32 volume in [0, ~1]: tissue classes as soft-edged ellipsoids, plus noise."""
    # coordinates in [-1, 1] along each axis, voxel centres
    axes = [np.linspace(-1, 1, n, dtype=np.float64) for n in shape]
    x, y, z = np.meshgrid(*axes, indexing="ij")

    def ellipsoid(cx: float, cy: float, cz: float, rx: float, ry: float, rz: float) -> np.ndarray:
        radius = np.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 + ((z - cz) / rz) ** 2)
        # logistic edge about two voxels wide: smooth, so it compresses well
        return np.round(1.0 / (1.0 + np.exp((radius - 1.0) * 12.0)), DECIMALS)

    scalp = ellipsoid(0, 0, 0, 0.92, 0.95, 0.9)
    brain = ellipsoid(0, 0.03, 0.05, 0.78, 0.84, 0.75)
    ventricles = ellipsoid(-0.12, 0.05, 0.1, 0.1, 0.3, 0.15) + ellipsoid(0.12, 0.05, 0.1, 0.1, 0.3, 0.15)
    # grey/white contrast as slow waves, so the "brain" has folds of a sort
    folds = np.round(0.5 + 0.5 * np.sin(7 * x) * np.cos(6 * y) * np.sin(5 * z + 0.5), DECIMALS)
    volume = 0.35 * scalp + brain * (0.25 + 0.4 * folds) - 0.45 * np.clip(ventricles, 0, 1) * brain
    volume += rng.normal(0, noise, shape)
    return np.clip(volume, 0, None).astype(np.float32)


def oblique_affine(zooms: tuple[float, float, float], shape: tuple[int, ...],
                   sign: int = 1) -> np.ndarray:
    """RAS affine with the given voxel sizes, tilted about x, centred on the volume.

    The tilt (about 12.7 degrees) has cosine 40/41 and sine 9/41, a Pythagorean
    triple: exact ratios, so no trigonometry whose last bits vary by machine.
    """
    cos, sin = 40 / 41, sign * 9 / 41
    rotation = np.array([[1, 0, 0], [0, cos, -sin], [0, sin, cos]])
    affine = np.eye(4)
    affine[:3, :3] = rotation @ np.diag(zooms)
    centre = (np.array(shape[:3]) - 1) / 2
    affine[:3, 3] = -affine[:3, :3] @ centre
    return affine


def make_example4d(out: Path, rng: np.random.Generator) -> None:
    """4D int16 with scale factors, qform and sform, TR, units, slice timing, an extension."""
    shape3 = (40, 48, 20)
    n_vols = 3
    base = head_phantom(shape3, rng, noise=0.004)
    # a slow "activation" in one blob, different in every volume
    x, y, z = np.meshgrid(*[np.arange(n) for n in shape3], indexing="ij")
    blob = np.round(np.exp(-((x - 26) ** 2 + (y - 30) ** 2 + (z - 11) ** 2) / 18.0), DECIMALS)
    change = (0.0, 0.04, -0.03)[:n_vols]  # signal change of the blob per volume
    vols = [base * 1500.0 * (1 + change[t] * blob) + 100.0 * t for t in range(n_vols)]
    data = np.stack(vols, axis=-1).astype(np.float32)

    zooms = (3.0, 3.0, 4.0)
    img = nivox.Nifti1Image(data, None)
    header = img.header
    # float data stored as int16: the writer has to choose a slope and intercept
    img.set_data_dtype(np.int16)
    img.set_qform(oblique_affine(zooms, shape3), code="scanner")
    sform = oblique_affine(zooms, shape3)
    sform[:3, 3] += (2.5, -17.0, 12.0)  # sform registered elsewhere than the scanner frame
    img.set_sform(sform, code="aligned")
    header.set_zooms(zooms + (2.0,))
    header.set_xyzt_units("mm", "sec")
    header.set_dim_info(freq=0, phase=1, slice=2)
    header.set_slice_duration(0.1)
    header["slice_code"] = 3  # alternating increasing
    header["slice_start"] = 0
    header["slice_end"] = shape3[2] - 1
    header["descrip"] = b"nivox example 4D"
    header.extensions.append(Nifti1Extension("comment", b"nivox example data; synthetic"))
    img.to_filename(os.fspath(out / "example4d.nii.gz"))


def make_anatomical(out: Path, rng: np.random.Generator) -> None:
    """3D uint8 anatomical-like volume, 1 mm, sform only, as an uncompressed .nii."""
    shape = (48, 56, 40)
    data = head_phantom(shape, rng)
    data = np.round(data / data.max() * 255).astype(np.uint8)
    affine = np.diag([-1.0, 1.0, 1.0, 1.0])  # LAS, as radiological data often are
    affine[:3, 3] = (24.0, -30.0, -16.0)
    img = nivox.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm")
    img.header["descrip"] = b"nivox example anatomical"
    img.to_filename(os.fspath(out / "anatomical.nii"))


def make_nifti2(out: Path, rng: np.random.Generator) -> None:
    """4D NIfTI-2 int16, gzipped; skipped while nivox has no NIfTI-2 support."""
    try:
        from nivox.nifti2 import Nifti2Image
    except ImportError:
        print("nivox.nifti2 is not available: example_nifti2.nii.gz not written", file=sys.stderr)
        return
    shape3 = (24, 28, 12)
    base = head_phantom(shape3, rng)
    data = np.stack([np.round(base * 800 + 20 * t) for t in range(2)], axis=-1).astype(np.int16)
    img = Nifti2Image(data, oblique_affine((2.0, 2.0, 2.5), shape3, sign=-1))
    img.header.set_zooms((2.0, 2.0, 2.5, 1.5))
    img.header.set_xyzt_units("mm", "sec")
    img.to_filename(os.fspath(out / "example_nifti2.nii.gz"))


def make_analyze(out: Path, rng: np.random.Generator) -> None:
    """Analyze 7.5 pair (analyze.hdr + analyze.img), int16, 2 mm."""
    shape = (20, 24, 16)
    data = np.round(head_phantom(shape, rng) * 1000).astype(np.int16)
    # no affine: Analyze stores only voxel sizes, and readers assume LAS around the centre
    img = nivox.AnalyzeImage(data, None)
    img.header.set_zooms((2.0, 2.0, 2.0))
    img.to_filename(os.fspath(out / "analyze.img"))


def make_float32(out: Path, rng: np.random.Generator) -> None:
    """Small float32 statistic-like map with NaNs outside the mask, gzipped."""
    shape = (16, 20, 12)
    mask = head_phantom(shape, rng) > 0.3
    values = rng.normal(0, 1.5, shape).astype(np.float32)
    data = np.where(mask, values, np.float32(np.nan)).astype(np.float32)
    img = nivox.Nifti1Image(data, np.diag([4.0, 4.0, 5.0, 1.0]))
    img.header.set_intent("t test", (30.0,), name="example t")
    img.header.set_xyzt_units("mm")
    img.to_filename(os.fspath(out / "float32.nii.gz"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT,
                        help=f"output folder (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    # one generator per file, so adding or changing one file leaves the others as they were
    seeds = np.random.SeedSequence(SEED).spawn(5)
    makers = (make_example4d, make_anatomical, make_nifti2, make_analyze, make_float32)
    for maker, seed in zip(makers, seeds):
        maker(args.out, np.random.default_rng(seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
