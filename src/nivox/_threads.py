"""The process-wide thread pools nivox runs its parallel work on (inflating, converting).

Work handed to them is numpy, libdeflate, ISA-L or zlib code that releases
the GIL, so the threads really run at once. Pools are made on first use and
forgotten in a forked child, which has none of its parent's threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when a pool is first made: it brings logging (~50 ms) with it
    from concurrent.futures import ThreadPoolExecutor

__all__ = ["cpu_threads", "run_parallel", "thread_pool"]

_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _forget_pools_after_fork() -> None:
    # a forked child has none of the parent's threads, and maybe a held lock
    global _pools_lock
    _pools.clear()
    _pools_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools_after_fork)


def thread_pool(workers: int) -> ThreadPoolExecutor:
    """A process-wide pool of ``workers`` threads (a new one after a fork)."""
    from concurrent.futures import ThreadPoolExecutor

    with _pools_lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = _pools[workers] = ThreadPoolExecutor(workers, thread_name_prefix="nivox")
        return pool


def cpu_threads(limit: int = 8) -> int:
    """Threads worth running at once here: one per CPU this process may use, at most ``limit``."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        count = os.cpu_count() or 1
    return max(1, min(limit, count))


def run_parallel(tasks: Sequence[Callable[[], None]], threads: int) -> None:
    """Run ``tasks`` on ``threads`` pool threads and wait for all; the first error is raised."""
    if threads <= 1 or len(tasks) <= 1:
        for task in tasks:
            task()
        return
    futures = [thread_pool(threads).submit(task) for task in tasks]
    errors = []
    for future in futures:
        try:
            future.result()
        except BaseException as err:  # wait for the others before raising
            errors.append(err)
    if errors:
        raise errors[0]
