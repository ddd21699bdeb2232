"""Timing and memory measurement.

In-process timings: one untimed warm-up call per library (which also puts
the file in the page cache), then ``repeats`` rounds in which the libraries
take turns, each call with a full garbage collection before it and the
collector off while the clock runs; the median is reported. Slow calls get fewer repeats, so that one measurement takes about
``budget`` seconds but never fewer than three timed calls; a call whose
warm-up alone takes longer than ``long_call`` seconds is reported from that
single call. This keeps full mode bounded when an operation is
pathologically slow.

Memory and import times are measured in fresh interpreters
(:mod:`benchmarks._probe`), where nothing else has touched the heap. They
run with Python's bytecode caches allowed (``PYTHONDONTWRITEBYTECODE``
removed from their environment and, where it was set, one untimed run of
each kind of probe first). Installed packages have their caches from
``pip install``; a checkout of nivox installed in editable mode gets them
this way. Without them every fresh process compiles nivox's modules from
source, and not nibabel's.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

PROBE = Path(__file__).with_name("_probe.py")


@dataclass
class Timing:
    """Median seconds of ``n`` timed calls (all samples kept for the JSON)."""

    median: float
    samples: list[float] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.samples)


@dataclass
class Settings:
    """How hard to measure: timed repeats per call, the time budget, the single-call cut-off."""

    repeats: int = 5
    long_call: float = 8.0
    budget: float = 6.0
    subprocess_repeats: int = 5

    def repeats_for(self, seconds: float) -> int:
        """Timed calls for an operation whose warm-up took ``seconds``."""
        if seconds > self.long_call:
            return 0
        fit = int(self.budget / seconds) if seconds > 0 else self.repeats
        return max(min(3, self.repeats), min(self.repeats, fit))


def _timed(fn: Callable[[], Any]) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    del result  # freeing a large array is not part of the operation
    return elapsed


def _interleave(rounds: dict[str, Callable[[], tuple[float, ...]]], settings: Settings,
                ) -> dict[str, list[tuple[float, ...]] | Exception]:
    """Run each library's round once to warm up, then all of them in turn.

    Taking turns (A B A B ...) exposes every library to the same machine
    load, which matters on a shared machine. A library whose warm-up round
    is slower than ``long_call`` keeps that round as its only sample.
    """
    out: dict[str, list[tuple[float, ...]] | Exception] = {}
    costs: dict[str, float] = {}
    for name, one_round in rounds.items():
        start = time.perf_counter()
        try:
            sample = one_round()
        except Exception as err:  # reported in the table, the others carry on
            out[name] = err
            continue
        cost = time.perf_counter() - start
        if settings.repeats_for(cost) == 0:
            out[name] = [sample]
        else:
            out[name] = []
            costs[name] = cost
    active = list(costs)
    n = min((settings.repeats_for(c) for c in costs.values()), default=0)
    for _ in range(n):
        for name in list(active):
            try:
                out[name].append(rounds[name]())  # type: ignore[union-attr]
            except Exception as err:  # reported in the table
                out[name] = err
                active.remove(name)
    return out


def _one_call(fn: Callable[[], Any]) -> tuple[float]:
    return (_timed(fn),)


def _timing(samples: list[float]) -> Timing:
    return Timing(statistics.median(samples), samples)


def measure(fns: dict[str, Callable[[], Any]], settings: Settings,
            ) -> dict[str, Timing | Exception]:
    """Time each library's ``fn`` as described in the module docstring.

    Returns a Timing per library, or the exception its call raised.
    """
    runs = _interleave({k: functools.partial(_one_call, fn) for k, fn in fns.items()}, settings)
    return {k: v if isinstance(v, Exception) else _timing([s[0] for s in v])
            for k, v in runs.items()}


def measure_split(setups: dict[str, Callable[[], Any]], first: Callable[[Any], Any],
                  again: Callable[[Any], Any] | None, settings: Settings, again_calls: int = 4,
                  ) -> dict[str, tuple[Timing, Timing | None] | Exception]:
    """Time a first call, and optionally repeated calls, on fresh objects.

    Each round makes a fresh object with the library's setup (untimed),
    times ``first(obj)``, then, when ``again`` is given, ``again_calls``
    more calls of ``again(obj)``, recording their mean. Returns the medians
    over rounds per library (or the exception raised).
    """
    def one_round(setup: Callable[[], Any]) -> tuple[float, float]:
        obj = setup()
        t_first = _timed(lambda: first(obj))
        t_again = 0.0
        if again is not None:
            t_again = sum(_timed(lambda: again(obj)) for _ in range(again_calls)) / again_calls
        return t_first, t_again

    runs = _interleave({k: functools.partial(one_round, setup) for k, setup in setups.items()},
                       settings)
    out: dict[str, tuple[Timing, Timing | None] | Exception] = {}
    for k, v in runs.items():
        if isinstance(v, Exception):
            out[k] = v
        else:
            t_again = _timing([s[1] for s in v]) if again is not None else None
            out[k] = (_timing([s[0] for s in v]), t_again)
    return out


def run_probe(args: list[str], repeats: int = 1) -> list[dict[str, Any]]:
    """Run :mod:`benchmarks._probe` ``repeats`` times in fresh interpreters."""
    out = []
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    # where caches were not being written, a first untimed run of each kind of probe writes them
    warm_up = "PYTHONDONTWRITEBYTECODE" in os.environ and tuple(args[:2]) not in _WARMED
    for run in range(-1 if warm_up else 0, repeats):
        proc = subprocess.run([sys.executable, str(PROBE), *args],
                              capture_output=True, text=True, check=False, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"probe {' '.join(args)} failed:\n{proc.stderr.strip()}")
        _WARMED.add(tuple(args[:2]))
        if run >= 0:
            out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


_WARMED: set[tuple[str, ...]] = set()  # (probe, library) run once with bytecode caches written


def probe_median(args: list[str], key: str, repeats: int) -> Timing:
    """Median of ``key`` over ``repeats`` fresh-interpreter probe runs."""
    values = [float(r[key]) for r in run_probe(args, repeats)]
    return Timing(statistics.median(values), values)
