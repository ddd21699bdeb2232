"""Command line: ``python -m benchmarks [--quick] [--cases ...] [--out results.json]``.

Run from the repository root with the environment that has nivox, nibabel,
indexed_gzip and (optionally) SimpleITK installed.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import cases
from .data import FULL, QUICK, default_workdir, ensure_files
from .report import environment, markdown_report, markdown_table, summary, write_json
from .timing import Settings

NEEDS_NIVOX_FILE = {"header", "read", "volume", "iterate", "slice", "memory"}


def _csv(choices: tuple[str, ...] | list[str]):
    def parse(text: str) -> list[str]:
        names = [t.strip() for t in text.split(",") if t.strip()]
        bad = [n for n in names if n not in choices]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {', '.join(bad)}; choose from {', '.join(choices)}")
        return names
    return parse


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="small images and fewer repeats (about a minute)")
    p.add_argument("--cases", type=_csv(cases.GROUPS), default=list(cases.GROUPS),
                   help="comma-separated groups: " + ",".join(cases.GROUPS) + " (default: all)")
    p.add_argument("--images", type=_csv(tuple(FULL)), default=list(FULL),
                   help="comma-separated images: " + ",".join(FULL) + " (default: all)")
    p.add_argument("--repeats", type=int, help="timed runs per measurement (default 5, quick 3)")
    p.add_argument("--long-call", type=float, default=5.0, metavar="SECONDS",
                   help="a call whose warm-up takes longer is timed once (default 5)")
    p.add_argument("--budget", type=float, default=6.0, metavar="SECONDS",
                   help="slow calls get fewer repeats (at least 3) to fit this (default 6)")
    p.add_argument("--workdir", type=Path, default=default_workdir(),
                   help="where generated images are cached (default %(default)s)")
    p.add_argument("--out", type=Path, help="write all results and the environment as JSON")
    p.add_argument("--markdown", type=Path, help="write the report as markdown")
    p.add_argument("--no-sitk", action="store_true", help="leave SimpleITK out")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    started = time.perf_counter()

    def log(msg: str) -> None:
        print(msg, flush=True)

    import nibabel
    import nivox

    sitk: Any = None
    if not args.no_sitk:
        try:
            import SimpleITK as sitk
        except ImportError:
            log("SimpleITK not installed; its column stays empty")

    load = os.getloadavg()[0]
    if load > 0.5:
        log(f"warning: load average {load:.2f}; other processes will disturb the timings")
    repeats = args.repeats or (3 if args.quick else 5)
    settings = Settings(repeats=repeats, long_call=args.long_call, budget=args.budget,
                        subprocess_repeats=3 if args.quick else 5)
    specs = QUICK if args.quick else FULL
    log(f"nivox benchmarks ({'quick' if args.quick else 'full'} mode), "
        f"images cached in {args.workdir}")
    subjects: list[cases.Subject] = []
    args.workdir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="run-", dir=args.workdir))
    try:
        need_nivox_file = bool(NEEDS_NIVOX_FILE & set(args.cases))
        for name in args.images:
            spec = specs[name]
            ref = ensure_files(spec, args.workdir, log)
            nivox_gz = scratch / spec.key / "nivox_gz" / "img.nii.gz"
            if need_nivox_file:
                nivox_gz.parent.mkdir(parents=True)
                # written with nivox's defaults, as users get it
                nivox.save(nivox.load(str(ref.nii)), str(nivox_gz))
            subjects.append(cases.Subject(spec, ref, nivox_gz))
        nib_reader = _nibabel_gz_reader(nibabel, subjects)
        if nib_reader and "indexed_gzip" not in nib_reader:
            log(f"warning: nibabel reads .gz with {nib_reader}, not indexed_gzip: "
                "it is not in its fastest configuration")
        ctx = cases.Context(settings=settings, scratch=scratch, log=log,
                            nib=nibabel, nivox=nivox, sitk=sitk)
        ctx.nivox_level_kw = cases.nivox_supports_level_kw(nivox, scratch)
        for group in cases.GROUPS:
            if group not in args.cases:
                continue
            log(f"[{group}]")
            group_start = time.perf_counter()
            if group == "import":
                cases.run_import(ctx, subjects)
            else:
                for subject in subjects:
                    cases.RUNNERS[group](ctx, subject)
            log(f"[{group}] {time.perf_counter() - group_start:.0f} s")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    elapsed = time.perf_counter() - started
    env = environment({
        "mode": "quick" if args.quick else "full",
        "repeats": repeats,
        "images": {s.name: s.spec.label for s in subjects},
        "load_average_start": f"{load:.2f}",
        "nivox_gzip_backend": _nivox_backend(),
        "nivox_save_compresslevel_kw": ctx.nivox_level_kw,
        "nibabel_gz_reader": nib_reader,
        "elapsed_seconds": round(elapsed, 1),
    })
    command = f"{_python()} -m benchmarks" + ("" if not argv else " " + shlex.join(argv))
    log("")
    log(markdown_table(ctx.rows))
    log("")
    log(f"{summary(ctx.rows)}; {elapsed:.0f} s in all.")
    if args.out:
        write_json(args.out, ctx.rows, env)
    if args.markdown:
        args.markdown.write_text(markdown_report(ctx.rows, env, command) + "\n")
    return 0


def _python() -> str:
    """The interpreter as the user would type it (relative when under the current folder)."""
    rel = os.path.relpath(sys.executable)
    return rel if not rel.startswith("..") else "python"


def _nibabel_gz_reader(nibabel, subjects: list[cases.Subject]) -> str:
    """The class nibabel opens .gz files with (indexed_gzip's when installed)."""
    if not subjects:
        return ""
    opener = nibabel.openers.Opener(str(subjects[0].ref.nib_gz))
    try:
        return f"{type(opener.fobj).__module__}.{type(opener.fobj).__name__}"
    finally:
        opener.close()


def _nivox_backend() -> str:
    try:
        from nivox._codecs import gzip as nivox_gzip

        return nivox_gzip.backend_name()
    except Exception:  # private API; the report just says unknown
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
