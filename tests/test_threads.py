"""The shared thread pools (nivox._threads)."""

import threading
import time

import pytest

from nivox import _threads


def test_run_parallel_runs_every_task_on_pool_threads():
    seen = []
    lock = threading.Lock()

    def task(i):
        with lock:
            seen.append((i, threading.current_thread().name))

    _threads.run_parallel([lambda i=i: task(i) for i in range(10)], 2)
    assert sorted(i for i, _ in seen) == list(range(10))
    assert all(name.startswith("nivox") for _, name in seen)


def test_run_parallel_waits_for_all_before_raising():
    finished = []

    def slow():
        time.sleep(0.05)
        finished.append(True)

    def broken():
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        _threads.run_parallel([broken, slow, slow], 2)
    assert finished == [True, True]


def test_one_thread_runs_in_the_caller():
    names = []
    _threads.run_parallel([lambda: names.append(threading.current_thread().name)] * 3, 1)
    assert names == [threading.current_thread().name] * 3


def test_cpu_threads_is_bounded():
    assert 1 <= _threads.cpu_threads() <= 8
    assert _threads.cpu_threads(limit=1) == 1


def test_pools_are_shared_per_size():
    assert _threads.thread_pool(3) is _threads.thread_pool(3)
    assert _threads.thread_pool(3) is not _threads.thread_pool(2)
