"""Timing and memory measurement.

In-process timings: one untimed warm-up call (which also puts the file in
the page cache), then ``repeats`` timed calls with a full garbage collection
before each and the collector off while the clock runs; the median is
reported. Slow calls get fewer repeats, so that one measurement takes about
``budget`` seconds but never fewer than three timed calls; a call whose
warm-up alone takes longer than ``long_call`` seconds is reported from that
single call. This keeps full mode bounded when an operation is
pathologically slow.

Memory and import times are measured in fresh interpreters
(:mod:`benchmarks._probe`), where nothing else has touched the heap.
"""

from __future__ import annotations

import gc
import json
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


def measure(fn: Callable[[], Any], settings: Settings) -> Timing:
    """Time ``fn`` as described in the module docstring."""
    first = _timed(fn)
    repeats = settings.repeats_for(first)
    if repeats == 0:
        return Timing(first, [first])
    samples = [_timed(fn) for _ in range(repeats)]
    return Timing(statistics.median(samples), samples)


def measure_split(setup: Callable[[], Any], first: Callable[[Any], Any],
                  again: Callable[[Any], Any] | None, settings: Settings,
                  again_calls: int = 4) -> tuple[Timing, Timing | None]:
    """Time a first call, and optionally repeated calls, on fresh objects.

    Each round makes a fresh object with ``setup`` (untimed), times
    ``first(obj)``, then, when ``again`` is given, ``again_calls`` more calls
    of ``again(obj)``, recording their mean. The first round is the warm-up.
    Returns the medians over rounds.
    """
    firsts: list[float] = []
    agains: list[float] = []
    rounds = settings.repeats + 1
    i = 0
    while i < rounds:
        obj = setup()
        t_first = _timed(lambda: first(obj))
        t_again = 0.0
        if again is not None:
            t_again = sum(_timed(lambda: again(obj)) for _ in range(again_calls)) / again_calls
        del obj
        if i == 0:
            rounds = 1 + settings.repeats_for(t_first + again_calls * t_again)
            if rounds == 1:
                firsts, agains = [t_first], [t_again]
        else:
            firsts.append(t_first)
            agains.append(t_again)
        i += 1
    t_f = Timing(statistics.median(firsts), firsts)
    return t_f, (Timing(statistics.median(agains), agains) if again is not None else None)


def run_probe(args: list[str], repeats: int = 1) -> list[dict[str, Any]]:
    """Run :mod:`benchmarks._probe` ``repeats`` times in fresh interpreters."""
    out = []
    for _ in range(repeats):
        proc = subprocess.run([sys.executable, str(PROBE), *args],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"probe {' '.join(args)} failed:\n{proc.stderr.strip()}")
        out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


def probe_median(args: list[str], key: str, repeats: int) -> Timing:
    """Median of ``key`` over ``repeats`` fresh-interpreter probe runs."""
    values = [float(r[key]) for r in run_probe(args, repeats)]
    return Timing(statistics.median(values), values)
