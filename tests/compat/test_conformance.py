"""The conformance ratchet: nibabel's own test suite, run against nivox, may only pass more.

Each tier listed in ``conformance_thresholds.json`` is one test, so ``pytest -n 2``
runs tiers side by side. A test runs ``run_conformance.py`` (from
``../shared/conformance`` beside the repository, or ``NIVOX_CONFORMANCE_DIR``) on
that tier in a subprocess, with this interpreter and this checkout's nivox, and
fails when fewer tests pass than the file records, or when the run is not valid.
The tests skip, saying why, when the runner or nibabel (the source of the tests)
is missing.

Raising the thresholds after an improvement is one command:

    NIVOX_UPDATE_CONFORMANCE=1 python -m pytest tests/compat/test_conformance.py -n 2

which writes each tier's new pass count into the file (never lowering one).
``NIVOX_CONFORMANCE_JOBS`` sets the runner's ``-j`` per tier (default 1).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import nivox

REPO = Path(__file__).resolve().parents[2]
THRESHOLDS = Path(__file__).with_name("conformance_thresholds.json")
UPDATE = os.environ.get("NIVOX_UPDATE_CONFORMANCE", "") not in ("", "0")


def _runner() -> Path | None:
    location = os.environ.get("NIVOX_CONFORMANCE_DIR")
    folder = Path(location) if location else REPO.parent / "shared" / "conformance"
    script = folder / "run_conformance.py"
    return script if script.is_file() else None


def _load() -> dict:
    return json.loads(THRESHOLDS.read_text())


def _tiers() -> list[str]:
    return sorted(_load()["tiers"])


def _raise_threshold(tier: str, passed: int) -> None:
    """Record ``passed`` for ``tier`` if higher, safe against xdist workers writing at once."""
    lock_path = THRESHOLDS.with_suffix(".lock")
    with open(lock_path, "w") as lock:
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - Windows: tiers are rarely updated in parallel there
            pass
        data = _load()
        entry = data["tiers"].setdefault(tier, {"passed": 0})
        if passed > entry["passed"]:
            entry["passed"] = passed
            THRESHOLDS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    lock_path.unlink(missing_ok=True)


def _run_tier(script: Path, tier: str, out: Path) -> subprocess.CompletedProcess:
    from nivox.nibabel_alias import NIBABEL_API_VERSION

    nivox_root = Path(nivox.__file__).resolve().parents[1]  # test the nivox imported here
    jobs = os.environ.get("NIVOX_CONFORMANCE_JOBS", "1")
    # the tests see nibabel.__version__ as clients do under nivox.install_as_nibabel():
    # the nibabel API version nivox implements (tests gate expectations on it)
    command = [
        sys.executable, str(script), "--target", "nivox", "--python", sys.executable,
        "--pythonpath", str(nivox_root), "--modules", tier, "-j", jobs, "--json", str(out),
        "--shim-version", NIBABEL_API_VERSION,
    ]
    # run as on a developer's machine: under `pytest -n`, the xdist variables this process has
    # would make nibabel's tests believe they run under xdist (some are then xfail, not passes)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    return subprocess.run(command, check=False, capture_output=True, text=True, cwd=str(REPO), env=env)


@pytest.mark.parametrize("tier", _tiers())
def test_conformance_does_not_drop(tier, tmp_path):
    script = _runner()
    if script is None:
        pytest.skip("nibabel's conformance runner is absent: put ../shared/conformance beside "
                    "the repository or set NIVOX_CONFORMANCE_DIR")
    pytest.importorskip("nibabel", reason="the conformance run takes its tests from nibabel")
    out = tmp_path / "conformance.json"
    proc = _run_tier(script, tier, out)
    tail = (proc.stdout[-3000:] + proc.stderr[-2000:]).strip()
    assert out.is_file(), f"the conformance runner wrote no results (exit {proc.returncode}):\n{tail}"
    result = json.loads(out.read_text())
    assert result["valid"], f"the conformance run of {tier} is INVALID:\n{tail}"
    counts = result["tiers"].get(tier)
    assert counts is not None, f"no {tier} in the conformance results:\n{tail}"
    recorded = _load()
    assert result["nibabel_version"] == recorded["nibabel_version"], (
        f"{THRESHOLDS.name} holds counts for nibabel {recorded['nibabel_version']}, but the tests "
        f"came from nibabel {result['nibabel_version']}: pin nibabel, or record new counts"
    )
    passed = counts["passed"]
    expected = recorded["tiers"][tier]["passed"]
    if UPDATE:
        _raise_threshold(tier, passed)
    lost = {module: info["lost_ids"] for module, info in result["modules"].items()
            if info.get("lost_ids")}
    assert passed >= expected, (
        f"{tier}: {passed} of nibabel's tests pass, fewer than the {expected} recorded in "
        f"{THRESHOLDS.name}. Tests nibabel passes and nivox does not:\n"
        + json.dumps(lost, indent=1)[:6000]
    )
