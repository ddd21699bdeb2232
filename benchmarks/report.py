"""Result rows, targets, and the markdown / JSON reports."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .timing import Timing


@dataclass(frozen=True)
class Target:
    """What a row should reach.

    ``min_ratio``: nibabel/nivox at least this. ``beat_sitk``: nivox also
    faster than SimpleITK. ``max_out_ratio`` (memory rows): nivox's peak at
    most this multiple of the output array's size.
    """

    min_ratio: float | None = None
    beat_sitk: bool = False
    max_out_ratio: float | None = None

    def text(self) -> str:
        parts = []
        if self.min_ratio is not None:
            parts.append(f">= {self.min_ratio:g}x")
        if self.beat_sitk:
            parts.append("< SimpleITK")
        if self.max_out_ratio is not None:
            parts.append(f"nivox <= {self.max_out_ratio:g}x output")
        return ", ".join(parts)


@dataclass
class Row:
    """One measured operation: nibabel, nivox and (optionally) SimpleITK."""

    group: str
    operation: str
    image: str
    file: str
    unit: str = "s"  # "s" (seconds) or "B" (bytes)
    nibabel: Timing | None = None
    nivox: Timing | None = None
    sitk: Timing | None = None
    target: Target | None = None
    note: str = ""
    out_bytes: int | None = None
    error: str = ""

    @property
    def ratio(self) -> float | None:
        if self.nibabel is None or self.nivox is None or self.nivox.median <= 0:
            return None
        return self.nibabel.median / self.nivox.median

    def passed(self) -> bool | None:
        """True/False against the target; None when there is no target or no data."""
        t = self.target
        if t is None or self.nivox is None:
            return None
        ok = True
        if t.min_ratio is not None:
            if self.ratio is None:
                return None
            ok &= self.ratio >= t.min_ratio
        if t.beat_sitk and self.sitk is not None:
            ok &= self.nivox.median < self.sitk.median
        if t.max_out_ratio is not None:
            if not self.out_bytes:
                return None
            ok &= self.nivox.median <= t.max_out_ratio * self.out_bytes
        return bool(ok)

    def as_dict(self) -> dict[str, Any]:
        def timing(t: Timing | None) -> dict[str, Any] | None:
            return None if t is None else {"median": t.median, "samples": t.samples}

        return {
            "group": self.group, "operation": self.operation, "image": self.image,
            "file": self.file, "unit": self.unit, "nibabel": timing(self.nibabel),
            "nivox": timing(self.nivox), "sitk": timing(self.sitk), "ratio": self.ratio,
            "target": None if self.target is None else self.target.text(),
            "passed": self.passed(), "note": self.note, "out_bytes": self.out_bytes,
            "error": self.error,
        }


def fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "B":
        return f"{value / 1e6:.0f} MB" if value >= 10e6 else f"{value / 1e6:.2f} MB"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.0f} µs"


def _cell(t: Timing | None, unit: str) -> str:
    if t is None:
        return "-"
    text = fmt_value(t.median, unit)
    return text + ("¹" if t.n == 1 and unit == "s" else "")


HEADER = ["operation", "image", "file", "nibabel", "nivox", "SimpleITK",
          "nibabel/nivox", "target", "pass", "note"]


def row_cells(row: Row) -> list[str]:
    ratio = row.ratio
    verdict = {True: "PASS", False: "FAIL", None: ""}[row.passed()]
    note = row.note if not row.error else f"error: {row.error}"
    return [row.operation, row.image, row.file, _cell(row.nibabel, row.unit),
            _cell(row.nivox, row.unit), _cell(row.sitk, row.unit),
            "-" if ratio is None else f"{ratio:.2f}x",
            "" if row.target is None else row.target.text(), verdict, note]


def markdown_table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    for row in rows:
        cells = [c.replace("|", "\\|") for c in row_cells(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(rows: list[Row]) -> str:
    verdicts = [r.passed() for r in rows]
    n_pass = sum(v is True for v in verdicts)
    n_fail = sum(v is False for v in verdicts)
    return f"{n_pass} of {n_pass + n_fail} targets met"


def _meminfo_gb() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit(repo: Path) -> str:
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # not installed, or installed without metadata
        return "not installed"


def environment(extra: dict[str, Any]) -> dict[str, Any]:
    """Machine and library versions, recorded with every run."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    ram = _meminfo_gb()
    env = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{_cpu_model()}, {cores} cores"
                   + (f", {ram:.0f} GB RAM" if ram else "") + f", {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "nivox_commit": _git_commit(Path(__file__).resolve().parents[1]),
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    for dist in ("nivox", "nibabel", "numpy", "indexed_gzip", "SimpleITK", "isal", "zlib-ng", "deflate"):
        env[dist] = _version(dist)
    env.update(extra)
    return env


def markdown_report(rows: list[Row], env: dict[str, Any], command: str) -> str:
    """The report: environment, the rows with targets, then every row (folded)."""
    versions = ", ".join(f"{k} {env[k]}" for k in ("nivox", "nibabel", "indexed_gzip", "SimpleITK", "numpy"))
    targeted = [r for r in rows if r.target is not None]
    lines = [
        f"Run {env['date']} on {env['machine']}; Python {env['python']}; {versions}; "
        f"nivox commit {env['nivox_commit']}, gzip backend {env.get('nivox_gzip_backend', '?')}; "
        f"nibabel reads .gz with {env.get('nibabel_gz_reader') or '?'}; "
        f"load average {env.get('load_average_start', '?')} at start, {env['load_average']} at end; "
        f"{env.get('elapsed_seconds', '?')} s in all.",
        "",
        f"Command: `{command}`",
        "",
        f"Rows with a target ({summary(rows)}):",
        "",
        markdown_table(targeted),
        "",
        "<details><summary>All measurements</summary>",
        "",
        markdown_table(rows),
        "",
        "</details>",
        "",
        f"Times are medians of up to {env.get('repeats', '?')} warm runs (at least 3; "
        "¹ marks a call slow enough to be timed once). Memory is the peak resident "
        "memory added by the read, measured in a fresh process.",
    ]
    return "\n".join(lines)


def write_json(path: Path, rows: list[Row], env: dict[str, Any]) -> None:
    path.write_text(json.dumps({"environment": env, "rows": [r.as_dict() for r in rows]}, indent=1))
