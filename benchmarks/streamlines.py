"""Tractogram benchmarks: nivox.streamlines against nibabel.streamlines, side by side.

``python -m benchmarks.streamlines [--sizes 0.3,1] [--huge] [--repeats 3] [--markdown FILE]``

Generated files of 0.3, 1 (and with ``--huge`` 10) million streamlines of
10-80 points (a random walk in a 1 mm brain-sized box), as TRK (with a
non-trivial ``vox_to_ras`` and LPS voxel order, no scalars) and TCK. Every
measurement runs in a fresh interpreter (``python -m benchmarks.streamlines
probe ...``) that loads only the library measured:

- ``load``: ``load(path)`` (both libraries then hold every point in one array,
  ``streamlines._data``, summed after the clock stops to check they agree);
- ``lazy``: ``load(path, lazy_load=True)`` then iterating every streamline;
- ``save``: saving the loaded tractogram to a new file of the same format.

Time is the median over ``--repeats`` processes, as wall time and as the
process's CPU time (user + system: on a machine shared with other work, wall
time mostly measures waiting for a core); memory is the peak resident
memory the step added (VmHWM, reset just before the step), shown as a ratio
to the size of the points (float32). Targets: TCK load >= 10x nibabel, TRK
load >= 5x, nivox load peak <= 1.5x the points.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

TARGETS = {("load", "tck"): 10.0, ("load", "trk"): 5.0}
MEMORY_TARGET = 1.5


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def probe(lib: str, step: str, path: str) -> dict[str, Any]:
    """One measurement in this (fresh) process."""
    if step == "floor":  # what writing fresh memory of the points' size costs in a new process
        nbytes = int(lib)
        start = time.perf_counter()
        cpu = time.process_time()
        arr = np.empty(nbytes, np.uint8)
        arr.fill(1)
        return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu}
    if step == "fromfile":  # the whole file into a fresh array: what any reader pays at least
        start = time.perf_counter()
        cpu = time.process_time()
        arr = np.fromfile(path, np.uint8)
        return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu, "n": len(arr)}
    mod = __import__(lib + ".streamlines", fromlist=["streamlines"])
    import gc

    gc.collect()
    base = _status_kib("VmRSS")
    _reset_peak()
    start = time.perf_counter()
    cpu = time.process_time()
    if step == "load":
        f = mod.load(path)
        n = len(f.streamlines)
    elif step == "lazy":
        f = mod.load(path, lazy_load=True)
        n = 0
        total = 0.0
        for s in f.streamlines:
            n += 1
            total += float(s[0, 0])
    else:
        f = mod.load(path)
        gc.collect()
        base = _status_kib("VmRSS")
        _reset_peak()
        start = time.perf_counter()
        cpu = time.process_time()
        out = path + f".{lib}.save" + os.path.splitext(path)[1]
        mod.save(f.tractogram, out, header=f.header) if path.endswith(".trk") else mod.save(f.tractogram, out)
        n = len(f.streamlines)
        total = float(os.path.getsize(out))
        os.unlink(out)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    peak = _status_kib("VmHWM") - base
    if step == "load":  # checked after the clock stops: both libraries hold every point in _data
        total = float(np.sum(f.streamlines._data, dtype=np.float64))
    return {"seconds": seconds, "cpu": cpu, "peak_bytes": peak * 1024, "n": n, "check": total}


def _generate(n: int, rng: np.random.Generator) -> Any:
    """A tractogram of `n` random-walk streamlines of 10-80 points."""
    import nivox.streamlines as nvs

    lengths = rng.integers(10, 81, n)
    total = int(lengths.sum())
    steps = rng.standard_normal((total, 3)).astype(np.float32)
    offsets = np.zeros(n, np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    starts = rng.uniform(-60, 60, (n, 3)).astype(np.float32)
    steps[offsets] = starts  # each streamline starts at its own place, then walks
    pts = np.cumsum(steps, axis=0, dtype=np.float32)
    del steps
    # undo the running sum across streamline boundaries
    before = np.zeros((n, 3), np.float32)
    before[1:] = pts[offsets[1:] - 1]
    pts -= np.repeat(before, lengths, axis=0)
    seq = nvs.ArraySequence._from_parts(pts, offsets, lengths)
    return nvs.Tractogram(seq, affine_to_rasmm=np.eye(4))


_TRK_HEADER = {"voxel_sizes": np.array([1.25] * 3, np.float32), "dimensions": np.array([145, 174, 145], np.int16),
               "voxel_order": b"LPS"}
_CHUNK = 1_000_000  # streamlines generated at once (bounds the generator's memory to ~2 GB)


def make_files(folder: Path, millions: float, seed: int = 0) -> dict[str, Path]:
    """TRK and TCK files of `millions` million streamlines (cached by name).

    Up to a million streamlines are generated and saved at once; bigger files
    are built from saved chunks of a million (the TCK and TRK data regions
    are streamline records back to back, so chunks append), then the count in
    the header is set.
    """
    import nivox.streamlines as nvs

    n = int(round(millions * 1e6))
    names = {fmt: folder / f"sl_{millions:g}M.{fmt}" for fmt in ("trk", "tck")}
    if all(p.exists() for p in names.values()):
        return names
    rng = np.random.default_rng(seed)
    aff = np.diag([1.25, 1.25, 1.25, 1.0])
    aff[:3, 3] = [-90, -126, -72]
    header = dict(_TRK_HEADER, voxel_to_rasmm=aff.astype(np.float32))
    partial = {fmt: path.with_name(path.stem + ".part" + path.suffix) for fmt, path in names.items()}
    done = 0
    while done < n:
        t = _generate(min(_CHUNK, n - done), rng)
        for fmt, path in partial.items():
            if done == 0:
                nvs.save(t, str(path), header=header) if fmt == "trk" else nvs.save(t, str(path))
                continue
            chunk = path.with_name(path.stem + ".chunk" + path.suffix)
            nvs.save(t, str(chunk), header=header) if fmt == "trk" else nvs.save(t, str(chunk))
            _append_chunk(path, chunk, fmt)
            chunk.unlink()
        done += len(t.streamlines)
        del t
    for fmt, path in partial.items():
        _set_count(path, fmt, n)
        path.rename(names[fmt])
    return names


def _data_offset(path: Path, fmt: str) -> int:
    if fmt == "trk":
        return 1000
    with open(path, "rb") as f:
        head = f.read(65536)
    line = next(x for x in head.split(b"\n") if x.startswith(b"file: "))
    return int(line.split()[2])


def _append_chunk(path: Path, chunk: Path, fmt: str) -> None:
    """Append the streamline records of `chunk` to `path` (TCK: before the end marker)."""
    with open(path, "r+b") as out, open(chunk, "rb") as src:
        out.seek(0, os.SEEK_END)
        if fmt == "tck":
            out.seek(-12, os.SEEK_END)  # over the previous end marker; the chunk brings its own
        src.seek(_data_offset(chunk, fmt))
        while True:
            block = src.read(64 << 20)
            if not block:
                break
            out.write(block)
        out.truncate()


def _set_count(path: Path, fmt: str, n: int) -> None:
    with open(path, "r+b") as f:
        if fmt == "trk":
            f.seek(988)  # n_count, int32, in the fixed 1000-byte header
            f.write(np.array(n, "<i4").tobytes())
            return
        head = f.read(_data_offset(path, fmt))
        at = head.index(b"\ncount: ") + len(b"\ncount: ")
        width = head.index(b"\n", at) - at
        if len(str(n)) > width:
            raise RuntimeError(f"{path}: no room for count {n} in the header")
        f.seek(at)
        f.write(str(n).rjust(width, "0").encode())


def _run_probe(lib: str, step: str, path: Path) -> dict[str, Any]:
    env = dict(os.environ)
    root = Path(__file__).resolve().parent.parent
    env["PYTHONPATH"] = os.pathsep.join([str(root / "src"), str(root), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-m", "benchmarks.streamlines", "probe", lib, step, str(path)],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fmt_time(s: float) -> str:
    if np.isnan(s):
        return "-"
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def run(sizes: list[float], repeats: int, workdir: Path, log: Any = print, nibabel_repeats: int | None = None,
        nibabel_steps: tuple[str, ...] = ("load", "lazy", "save"),
        steps: tuple[str, ...] = ("load", "lazy", "save")) -> list[dict[str, Any]]:
    rows = []
    for millions in sizes:
        files = make_files(workdir, millions)
        for fmt, path in files.items():
            points_bytes = None
            for step in steps:
                res: dict[str, list[dict[str, Any]]] = {}
                for lib in ("nivox", "nibabel"):
                    if lib == "nibabel" and step not in nibabel_steps:
                        log(f"nibabel {step} {path.name}: not run (--nibabel-steps)")
                        res[lib] = [dict(res["nivox"][0], seconds=np.nan, cpu=np.nan, peak_bytes=np.nan)]
                        continue
                    times = repeats if lib == "nivox" or nibabel_repeats is None else nibabel_repeats
                    try:
                        res[lib] = [_run_probe(lib, step, path) for _ in range(times)]
                    except subprocess.CalledProcessError as err:
                        if lib == "nivox":
                            raise
                        # e.g. killed for memory at 10 million streamlines: the row says so
                        log(f"nibabel {step} {path.name} failed (exit {err.returncode}): {err.stderr[-300:]}")
                        res[lib] = [dict(res["nivox"][0], seconds=np.nan, cpu=np.nan, peak_bytes=np.nan)]
                a, b = res["nibabel"], res["nivox"]
                if a[0]["n"] != b[0]["n"] or (step != "save" and not np.isclose(a[0]["check"], b[0]["check"],
                                                                                rtol=1e-5)):
                    raise RuntimeError(f"{path.name} {step}: nibabel and nivox disagree: {a[0]} {b[0]}")
                t_nib = statistics.median(r["seconds"] for r in a)
                t_nvx = statistics.median(r["seconds"] for r in b)
                c_nib = statistics.median(r["cpu"] for r in a)
                c_nvx = statistics.median(r["cpu"] for r in b)
                if points_bytes is None:
                    with open(path, "rb"):
                        pass
                    import nivox.streamlines as nvs

                    points_bytes = int(nvs.load(str(path), lazy_load=False).streamlines._data.nbytes)
                row = {"size": f"{millions:g}M", "format": fmt, "step": step, "nibabel_s": t_nib, "nivox_s": t_nvx,
                       "ratio": t_nib / t_nvx, "nibabel_cpu": c_nib, "nivox_cpu": c_nvx,
                       "cpu_ratio": c_nib / c_nvx, "nibabel_peak": a[0]["peak_bytes"],
                       "nivox_peak": b[0]["peak_bytes"], "points_bytes": points_bytes,
                       "file_bytes": path.stat().st_size, "target": TARGETS.get((step, fmt))}
                if step == "load":
                    row["floor"] = _run_probe(str(points_bytes), "floor", path)
                    fromfile = [_run_probe("-", "fromfile", path) for _ in range(repeats)]
                    row["fromfile"] = {k: statistics.median(r[k] for r in fromfile) for k in ("seconds", "cpu")}
                rows.append(row)
                log(_line(row))
    return rows


def _ratio(v: float) -> str:
    return "-" if np.isnan(v) else f"{v:.1f}x"


def _mb(v: float) -> str:
    return "-" if np.isnan(v) else f"{v / 2**20:.0f} MB"


def _x(v: float) -> str:
    return "-" if np.isnan(v) else f"{v:.2f}x"


def _line(r: dict[str, Any]) -> str:
    target = r["target"]
    verdict = "" if target is None else ("-" if np.isnan(r["ratio"]) else "PASS" if r["ratio"] >= target else "FAIL")
    mem = f"{_x(r['nibabel_peak'] / r['points_bytes'])} / {_x(r['nivox_peak'] / r['points_bytes'])}"
    mem_ok = ""
    if r["step"] == "load":
        mem_ok = "PASS" if r["nivox_peak"] <= MEMORY_TARGET * r["points_bytes"] else "FAIL"
        floor = r.get("floor")
        if floor:
            mem_ok += (f" (writing {r['points_bytes'] / 2**20:.0f} MB of fresh memory alone: "
                       f"{_fmt_time(floor['seconds'])}, CPU {_fmt_time(floor['cpu'])}")
        ff = r.get("fromfile")
        if ff:
            mem_ok += (f"; np.fromfile of the file: {_fmt_time(ff['seconds'])}, CPU {_fmt_time(ff['cpu'])}, "
                       f"so nibabel / np.fromfile = {r['nibabel_s'] / ff['seconds']:.1f}x wall, "
                       f"{r['nibabel_cpu'] / ff['cpu']:.1f}x CPU")
            if np.isnan(r["nibabel_s"]):
                mem_ok = mem_ok.split("; so nibabel")[0].rsplit(", so", 1)[0]
        mem_ok += ")" if floor else ""
    cpu_verdict = "" if target is None else (
        "-" if np.isnan(r["cpu_ratio"]) else "PASS" if r["cpu_ratio"] >= target else "FAIL")
    return (f"| {r['size']} | {r['format']} | {r['step']} | {_fmt_time(r['nibabel_s'])} | {_fmt_time(r['nivox_s'])} "
            f"| {_ratio(r['ratio'])} | {_fmt_time(r['nibabel_cpu'])} | {_fmt_time(r['nivox_cpu'])} | {_ratio(r['cpu_ratio'])} "
            f"| {'>= %gx wall %s, cpu %s' % (target, verdict, cpu_verdict) if target else ''} "
            f"| {_mb(r['nibabel_peak'])} / {_mb(r['nivox_peak'])} | {mem} | {mem_ok} |")


HEADER = ("| streamlines | format | step | nibabel wall | nivox wall | speed-up | nibabel CPU | nivox CPU "
          "| CPU speed-up | target | peak memory added nibabel / nivox | peak / points (nibabel / nivox) "
          "| nivox load <= 1.5x |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["probe"]:
        print(json.dumps(probe(*argv[1:4])))
        return 0
    p = argparse.ArgumentParser(prog="python -m benchmarks.streamlines", description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="0.3,1", help="millions of streamlines, comma-separated (default 0.3,1)")
    p.add_argument("--huge", action="store_true", help="add the 10 million case (minutes, ~6 GB of points)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--nibabel-repeats", type=int, help="repeats for nibabel (default: --repeats)")
    p.add_argument("--steps", default="load,lazy,save", help="steps to run")
    p.add_argument("--nibabel-steps", default="load,lazy,save", help="steps nibabel runs (others: not run)")
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "nivox-bench-streamlines")
    p.add_argument("--markdown", type=Path)
    args = p.parse_args(argv)
    sizes = [float(s) for s in args.sizes.split(",") if s]
    if args.huge:
        sizes.append(10.0)
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(HEADER, flush=True)
    rows = run(sizes, args.repeats, args.workdir, log=lambda s: print(s, flush=True),
               nibabel_repeats=args.nibabel_repeats, nibabel_steps=tuple(args.nibabel_steps.split(",")),
               steps=tuple(args.steps.split(",")))
    if args.markdown:
        args.markdown.write_text(HEADER + "\n" + "\n".join(_line(r) for r in rows) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
