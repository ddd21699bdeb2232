"""Deterministic synthetic images for the benchmarks, cached on disk.

Each image kind is made from a fixed seed with numpy's PCG64 generator, so a
given shape always gives the same voxels. What matters for I/O timings is
that the files compress like real ones: smooth anatomy, a zero or
low-noise background, and full-precision noise inside the head. Generation
works a few volumes at a time so the full-size float32 image never needs a
float64 copy.

Reference files are written with nibabel (the reference writer) and cached
in ``<workdir>/<kind>-<shape>-v<GEN_VERSION>/``; files written by nivox are
not cached, because they change whenever nivox's writer does. Every
compressed file sits in a folder of its own: ITK, given ``x.nii.gz``,
silently reads a sibling ``x.nii`` when one exists.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# bump when the generators change, so stale caches are ignored
GEN_VERSION = 1


@dataclass(frozen=True)
class ImageSpec:
    """One synthetic image: its kind (generator), shape and on-disk dtype."""

    kind: str
    shape: tuple[int, ...]
    dtype: str
    zooms: tuple[float, ...]

    @property
    def label(self) -> str:
        dims = "x".join(str(n) for n in self.shape)
        return f"{self.kind} {dims} {self.dtype}"

    @property
    def key(self) -> str:
        dims = "x".join(str(n) for n in self.shape)
        return f"{self.kind}-{dims}-{self.dtype}-v{GEN_VERSION}"

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape)) * np.dtype(self.dtype).itemsize

    @property
    def is_4d(self) -> bool:
        return len(self.shape) == 4


FULL = {
    "fmri": ImageSpec("fmri", (64, 64, 36, 400), "int16", (3.0, 3.0, 3.5, 2.0)),
    "t1": ImageSpec("t1", (256, 256, 256), "int16", (1.0, 1.0, 1.0)),
    "hcp": ImageSpec("hcp", (91, 109, 91, 200), "float32", (2.0, 2.0, 2.0, 0.72)),
}
QUICK = {
    "fmri": ImageSpec("fmri", (64, 64, 36, 40), "int16", (3.0, 3.0, 3.5, 2.0)),
    "t1": ImageSpec("t1", (128, 128, 128), "int16", (2.0, 2.0, 2.0)),
    "hcp": ImageSpec("hcp", (91, 109, 91, 8), "float32", (2.0, 2.0, 2.0, 0.72)),
}


def _grid(shape: tuple[int, ...]) -> list[np.ndarray]:
    """Open coordinate grids in [-1, 1] for a 3D shape (broadcastable, float32)."""
    axes = []
    for i, n in enumerate(shape):
        view = [1, 1, 1]
        view[i] = n
        axes.append(np.linspace(-1.0, 1.0, n, dtype=np.float32).reshape(view))
    return axes


def _smooth_field(shape: tuple[int, ...], rng: np.random.Generator, terms: int = 8,
                  max_freq: float = 3.0) -> np.ndarray:
    """A smooth random field of roughly unit amplitude (sum of separable cosines)."""
    x, y, z = _grid(shape)
    field = np.zeros(shape, np.float32)
    for _ in range(terms):
        fx, fy, fz = rng.uniform(0.5, max_freq, 3) * np.pi
        px, py, pz = rng.uniform(0, 2 * np.pi, 3)
        amp = np.float32(rng.uniform(0.3, 1.0))
        field += amp * (np.cos(fx * x + px) * np.cos(fy * y + py) * np.cos(fz * z + pz))
    field /= np.float32(max(1e-6, float(np.abs(field).max())))
    return field


def _ellipsoid_radius(shape: tuple[int, ...], radii: tuple[float, float, float],
                      wobble: np.ndarray | None = None) -> np.ndarray:
    """Normalised ellipsoid radius (1 on the surface), optionally wavy."""
    x, y, z = _grid(shape)
    r = np.sqrt((x / radii[0]) ** 2 + (y / radii[1]) ** 2 + (z / radii[2]) ** 2)
    if wobble is not None:
        r = r + np.float32(0.04) * wobble
    return r.astype(np.float32)


def _make_t1(spec: ImageSpec) -> np.ndarray:
    rng = np.random.default_rng(1001)
    shape = spec.shape
    wobble = _smooth_field(shape, rng, terms=6, max_freq=4.0)
    r = _ellipsoid_radius(shape, (0.78, 0.92, 0.80), wobble)
    folds = _smooth_field(shape, rng, terms=10, max_freq=14.0)  # gyri-like pattern
    img = np.zeros(shape, np.float32)
    img[r < 1.0] = 700.0                      # scalp
    img[r < 0.95] = 120.0                     # skull
    img[r < 0.90] = 320.0                     # CSF
    cortex = r < 0.87
    img[cortex] = np.where(folds[cortex] > -0.1, 620.0, 330.0)  # GM / sulcal CSF
    img[r < 0.70] = 900.0                     # white matter
    ventricles = _ellipsoid_radius(shape, (0.12, 0.30, 0.12)) < 1.0
    img[ventricles] = 300.0
    bias = 1.0 + np.float32(0.15) * _smooth_field(shape, rng, terms=3, max_freq=1.5)
    img *= bias
    noise = rng.standard_normal(shape, dtype=np.float32)
    inside = r < 1.0
    img[inside] += np.float32(18.0) * noise[inside]
    # magnitude images have Rician background noise: |N(0, s)|
    img[~inside] = np.abs(np.float32(9.0) * noise[~inside])
    return np.clip(np.rint(img), 0, 32767).astype(np.int16)


def _make_4d(spec: ImageSpec, seed: int, baseline: float, contrast: float,
             noise_sd: float, background_sd: float | None) -> np.ndarray:
    """fMRI-like series: smooth anatomy, slow drift, a blocked signal, noise.

    ``background_sd=None`` leaves the background exactly zero (masked data,
    as in HCP's preprocessed files); otherwise it holds Rician noise.
    """
    rng = np.random.default_rng(seed)
    shape3, nvol = spec.shape[:3], spec.shape[3]
    wobble = _smooth_field(shape3, rng, terms=5, max_freq=3.0)
    r = _ellipsoid_radius(shape3, (0.80, 0.86, 0.78), wobble)
    inside = r < 1.0
    anatomy = baseline * (1.0 + contrast * _smooth_field(shape3, rng, terms=8, max_freq=5.0))
    anatomy *= np.clip(1.3 - 0.6 * r, 0.0, None)   # brighter centre, darker edge
    active = _smooth_field(shape3, rng, terms=4, max_freq=6.0) > 0.6
    drift_map = _smooth_field(shape3, rng, terms=2, max_freq=1.0)
    t = np.arange(nvol, dtype=np.float32)
    block = (np.floor(t / 10) % 2).astype(np.float32)          # 20-volume on/off design
    drift = np.float32(0.01) * np.sin(t * np.float32(2 * np.pi / max(nvol, 2)))
    out = np.empty(spec.shape, dtype=spec.dtype, order="F")
    anatomy_in = anatomy[inside]
    active_in = active[inside]
    drift_in = drift_map[inside]
    n_in = int(inside.sum())
    is_int = np.dtype(spec.dtype).kind == "i"
    vol = np.zeros(shape3, np.float32)
    for k in range(nvol):
        signal = anatomy_in * (1.0 + drift[k] * drift_in + 0.01 * block[k] * active_in)
        signal = signal + np.float32(noise_sd) * rng.standard_normal(n_in, dtype=np.float32)
        if background_sd is None:
            vol[...] = 0.0
        else:
            vol[...] = np.abs(np.float32(background_sd) * rng.standard_normal(shape3, dtype=np.float32))
        vol[inside] = signal
        out[..., k] = np.clip(np.rint(vol), 0, 32767) if is_int else vol
    return out


def make_array(spec: ImageSpec) -> np.ndarray:
    """Generate the image's voxels (Fortran-ordered, on-disk dtype)."""
    if spec.kind == "t1":
        return np.asfortranarray(_make_t1(spec))
    if spec.kind == "fmri":
        return _make_4d(spec, seed=2002, baseline=600.0, contrast=0.25,
                        noise_sd=12.0, background_sd=8.0)
    if spec.kind == "hcp":
        return _make_4d(spec, seed=3003, baseline=10000.0, contrast=0.3,
                        noise_sd=120.0, background_sd=None)
    raise ValueError(f"unknown image kind {spec.kind!r}")


def affine_for(spec: ImageSpec) -> np.ndarray:
    """A plausible scanner-to-RAS affine: voxel sizes, centred field of view."""
    zooms = np.asarray(spec.zooms[:3], float)
    aff = np.diag(np.r_[zooms, 1.0])
    aff[:3, 3] = -zooms * (np.asarray(spec.shape[:3]) - 1) / 2
    return aff


@dataclass(frozen=True)
class ImageFiles:
    """Paths of one image's reference files (each in a folder of its own)."""

    spec: ImageSpec
    folder: Path

    @property
    def nib_gz(self) -> Path:
        return self.folder / "nibabel_gz" / "img.nii.gz"

    @property
    def nii(self) -> Path:
        return self.folder / "nii" / "img.nii"


def _write_reference(spec: ImageSpec, folder: Path) -> None:
    import nibabel

    arr = make_array(spec)
    img = nibabel.Nifti1Image(arr, affine_for(spec))
    img.header.set_zooms(spec.zooms)
    img.header.set_xyzt_units("mm", "sec")
    files = ImageFiles(spec, folder)
    for path in (files.nib_gz, files.nii):
        path.parent.mkdir(parents=True, exist_ok=True)
        nibabel.save(img, str(path))  # nibabel's default compression level for .gz


def ensure_files(spec: ImageSpec, workdir: Path, log=print) -> ImageFiles:
    """Return the reference files for ``spec``, generating them once."""
    folder = workdir / spec.key
    files = ImageFiles(spec, folder)
    stamp = folder / "complete.json"
    if stamp.exists() and files.nib_gz.exists() and files.nii.exists():
        return files
    log(f"  generating {spec.label} (cached in {folder}) ...")
    workdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec.key}-", dir=workdir))
    try:
        _write_reference(spec, tmp)
        (tmp / "complete.json").write_text(json.dumps(
            {"shape": spec.shape, "dtype": spec.dtype, "version": GEN_VERSION,
             "numpy": np.__version__}))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return files


def default_workdir() -> Path:
    """``$XDG_CACHE_HOME/nivox-bench`` (``~/.cache/nivox-bench`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nivox-bench"
