"""Synthetic Philips PAR/REC files for tests: text written from the format's description.

``make_parrec`` returns the bytes of a PAR and a REC file and the array a
reader must give for them (built directly from the images written, not by
any reader). Versions 4.0, 4.1 and 4.2 differ only in the columns at the end
of each image line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

_V41_COLUMNS = 5 + 2  # b value nr, gradient nr, contrast, anisotropy, 3 diffusion components


@dataclass
class ParSpec:
    inplane: tuple[int, int] = (6, 5)
    n_slices: int = 4
    n_vols: int = 3
    version: str = "V4.2"
    bits: int = 16
    orientation: int = 1  # 1 transverse, 2 sagittal, 3 coronal
    angulation: tuple[float, float, float] = (0.0, 0.0, 0.0)
    off_center: tuple[float, float, float] = (0.0, 0.0, 0.0)
    spacing: tuple[float, float] = (2.0, 2.5)
    thickness: float = 3.0
    gap: float = 0.5
    tr_ms: float = 2000.0
    dynamic: bool = True
    diffusion: bool = False
    seed: int = 0
    vary_scaling: bool = False
    # line order: 'volume' (volume by volume), 'slice' (all volumes of a slice, then the next slice)
    line_order: str = "volume"
    extra_general: list[str] = field(default_factory=list)


GENERAL = [
    ("Patient name", "synthetic"),
    ("Examination name", "exam"),
    ("Protocol name", "proto"),
    ("Examination date/time", "2026.01.02 / 03:04:05"),
    ("Series Type", "Image   MRSERIES"),
    ("Acquisition nr", "3"),
    ("Reconstruction nr", "1"),
    ("Scan Duration [sec]", "12.5"),
    ("Max. number of cardiac phases", "1"),
    ("Max. number of echoes", "1"),
]


def _general_lines(spec: ParSpec) -> list[str]:
    lines = [f".    {key:<35}:   {value}" for key, value in GENERAL]
    rows = [
        ("Max. number of slices/locations", str(spec.n_slices)),
        ("Max. number of dynamics", str(spec.n_vols if spec.dynamic else 1)),
        ("Max. number of mixes", "1"),
        ("Patient position", "Head First Supine"),
        ("Preparation direction", "Anterior-Posterior"),
        ("Technique", "FEEPI"),
        ("Scan resolution  (x, y)", f"{spec.inplane[0]}  {spec.inplane[1]}"),
        ("Scan mode", "MS"),
        ("Repetition time [ms]", f"{spec.tr_ms:.3f}"),
        ("FOV (ap,fh,rl) [mm]", "100.000  80.000  120.000"),
        ("Water Fat shift [pixels]", "7.250"),
        ("Angulation midslice(ap,fh,rl)[degr]", "  ".join(f"{a:.3f}" for a in spec.angulation)),
        ("Off Centre midslice(ap,fh,rl) [mm]", "  ".join(f"{a:.3f}" for a in spec.off_center)),
        ("Flow compensation <0=no 1=yes> ?", "0"),
        ("Presaturation     <0=no 1=yes> ?", "0"),
        ("Phase encoding velocity [cm/sec]", "0.000000  0.000000  0.000000"),
        ("MTC               <0=no 1=yes> ?", "0"),
        ("SPIR              <0=no 1=yes> ?", "1"),
        ("EPI factor        <0,1=no EPI>", "39"),
        ("Dynamic scan      <0=no 1=yes> ?", "1" if spec.dynamic else "0"),
        ("Diffusion         <0=no 1=yes> ?", "1" if spec.diffusion else "0"),
        ("Diffusion echo time [ms]", "0.0000"),
    ]
    if spec.version in ("V4.1", "V4.2"):
        rows += [
            ("Max. number of diffusion values", str(2 if spec.diffusion else 1)),
            ("Max. number of gradient orients", str(spec.n_vols - 1 if spec.diffusion else 1)),
        ]
    if spec.version == "V4.2":
        rows.append(("Number of label types   <0=no ASL>", "0"))
    lines += [f".    {key:<35}:   {value}" for key, value in rows]
    return lines + spec.extra_general


def _bvec(v: int) -> tuple[float, float, float]:
    if v == 0:
        return (0.0, 0.0, 0.0)
    angle = v * 0.7
    vec = np.array([np.cos(angle), np.sin(angle), 0.3 * v])
    vec /= np.linalg.norm(vec)
    return tuple(float(x) for x in np.round(vec, 3))


def make_parrec(spec: ParSpec | None = None, **changes) -> tuple[bytes, bytes, np.ndarray, dict]:
    """(PAR bytes, REC bytes, expected 'dv' data, facts) for ``spec`` (fields overridden by ``changes``).

    ``facts`` has 'bvals' and 'bvecs_psl' (per volume, file's ap/fh/rl axes)
    for diffusion specs, 'slopes'/'inters' per (slice, volume).
    """
    spec = spec or ParSpec()
    for key, value in changes.items():
        setattr(spec, key, value)
    rng = np.random.default_rng(spec.seed)
    nx, ny = spec.inplane
    ns, nv = spec.n_slices, spec.n_vols
    dtype = np.dtype(f"<u{spec.bits // 8}")
    top = 250 if spec.bits == 8 else 4000
    images = rng.integers(0, top, size=(nv, ns, nx, ny)).astype(dtype)
    if spec.vary_scaling:
        slopes = np.round(rng.uniform(0.5, 3.0, size=(nv, ns)), 5)
        inters = np.round(rng.uniform(-20, 20, size=(nv, ns)), 5)
    else:
        slopes = np.full((nv, ns), 1.29035)
        inters = np.zeros((nv, ns))
    scale_slopes = np.full((nv, ns), 4.28404e-3)
    if spec.line_order == "volume":
        order = [(v, s) for v in range(nv) for s in range(ns)]
    else:
        order = [(v, s) for s in range(ns) for v in range(nv)]
    bvals = [0.0] + [1000.0] * (nv - 1)
    lines = []
    rec = bytearray()
    for index, (v, s) in enumerate(order):
        dyn = v + 1 if spec.dynamic else 1
        cols = [s + 1, 1, dyn, 1, 0, 2, index, spec.bits, 100, nx, ny,
                f"{inters[v, s]:.5f}", f"{slopes[v, s]:.5f}", f"{scale_slopes[v, s]:.5e}", 1070, 1860,
                *(f"{a:.2f}" for a in spec.angulation), *(f"{a:.2f}" for a in spec.off_center),
                f"{spec.thickness:.3f}", f"{spec.gap:.3f}", 0, spec.orientation, 0, 2,
                f"{spec.spacing[0]:.3f}", f"{spec.spacing[1]:.3f}", "30.00", f"{v * 2.0:.2f}", "0.00",
                f"{bvals[v] if spec.diffusion else 0.0:.2f}", 1, "90.00", 0, 0, 0, 39, "0.0"]
        if spec.version in ("V4.1", "V4.2"):
            diffusion_nr = (2 if v else 1) if spec.diffusion else 1
            gradient_nr = max(v, 1) if spec.diffusion else 1
            vec = _bvec(v) if spec.diffusion else (0.0, 0.0, 0.0)
            cols += [diffusion_nr, gradient_nr, 0, 0, *(f"{x:.3f}" for x in vec)]
        if spec.version == "V4.2":
            cols += [1]
        lines.append("  ".join(str(c) for c in cols))
        rec += images[v, s].tobytes(order="F")
    header = [
        "# === DATA DESCRIPTION FILE ======================================================",
        "#",
        "# Dataset name: synthetic",
        "#",
        f"# CLINICAL TRYOUT             Research image export tool     {spec.version}",
        "#",
        "# === GENERAL INFORMATION ========================================================",
        "#",
    ]
    middle = [
        "#",
        "# === IMAGE INFORMATION DEFINITION =============================================",
        "#  The rest of this file contains ONE line per image",
        "#",
        "# === IMAGE INFORMATION ==========================================================",
        "#  sl ec  dyn ph ty    idx pix scan% rec size ...",
        "",
    ]
    tail = ["", "# === END OF DATA DESCRIPTION FILE ===============================================", ""]
    par = "\n".join(header + _general_lines(spec) + middle + lines + tail).encode("latin-1")
    expected = np.empty((nx, ny, ns, nv))
    for v in range(nv):
        for s in range(ns):
            expected[:, :, s, v] = images[v, s] * slopes[v, s] + inters[v, s]
    if nv == 1:
        expected = expected[..., 0]
    facts = {"slopes": slopes, "inters": inters, "scale_slopes": scale_slopes,
             "bvals": np.array(bvals) if spec.diffusion else None,
             "bvecs_psl": np.array([_bvec(v) for v in range(nv)]) if spec.diffusion else None}
    return par, bytes(rec), expected, facts


def write_parrec(folder, stem: str = "synth", par_ext: str = ".PAR", rec_ext: str = ".REC", **changes):
    """Write a synthetic pair into ``folder``; return (PAR path, expected data, facts)."""
    from pathlib import Path

    par, rec, expected, facts = make_parrec(**changes)
    par_path = Path(folder) / f"{stem}{par_ext}"
    par_path.write_bytes(par)
    (Path(folder) / f"{stem}{rec_ext}").write_bytes(rec)
    return par_path, expected, facts
