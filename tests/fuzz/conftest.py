"""Fuzz tests: tracemalloc on while they run (to see allocations), and a summary of the cases at the end.

``NIVOX_FUZZ_MEMORY_LIMIT`` (bytes, or with a K/M/G suffix) caps the address
space of the test process, so that an allocation tracemalloc cannot see
fails loudly; use it for long runs in a process of their own (not with -n).
"""

from __future__ import annotations

import os

import pytest

from fuzz import harness


def _memory_limit(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper()
    return int(float(text[:-1]) * units[text[-1]]) if text[-1:] in units else int(text)


if os.environ.get("NIVOX_FUZZ_MEMORY_LIMIT"):
    import resource

    _limit = _memory_limit(os.environ["NIVOX_FUZZ_MEMORY_LIMIT"])
    resource.setrlimit(resource.RLIMIT_AS, (_limit, resource.getrlimit(resource.RLIMIT_AS)[1]))


@pytest.fixture(scope="module", autouse=True)
def _traced_allocations():
    with harness.tracing():
        yield


def pytest_terminal_summary(terminalreporter):
    lines = harness.summary()
    if not lines:
        return  # no fuzz test ran here (or they ran in xdist workers: run without -n for the summary)
    terminalreporter.section("nivox fuzz summary")
    for line in lines:
        terminalreporter.write_line(line)
