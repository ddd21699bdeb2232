"""Example data and test helpers, for nivox's tests and for users' own.

``data_path`` is the folder of small example images shipped with nivox
(made by ``scripts/make_example_data.py``); ``get_test_data`` builds paths in
it. The helpers mirror the ones nibabel users import from ``nibabel.testing``.
Importing this module is cheap: it needs numpy only, never pytest.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "assert_allclose_safely",
    "assert_arrays_equal",
    "assert_dt_equal",
    "assert_re_in",
    "bytesio_filemap",
    "bytesio_round_trip",
    "clear_and_catch_warnings",
    "data_path",
    "error_warnings",
    "example_files",
    "get_test_data",
    "suppress_warnings",
]

#: Folder holding the example images shipped with nivox (a str, as in nibabel).
data_path: str = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

#: The shipped examples, by file name (see ``scripts/make_example_data.py``).
example_files: tuple[str, ...] = (
    "example4d.nii.gz",
    "anatomical.nii",
    "example_nifti2.nii.gz",
    "analyze.hdr",
    "analyze.img",
    "float32.nii.gz",
)


def get_test_data(subdir: str | None = None, fname: str | None = None) -> Path:
    """Path of a folder or file among the example data.

    Parameters
    ----------
    subdir : str, optional
        Sub-folder of :data:`data_path`.
    fname : str, optional
        File name within that folder.

    Returns
    -------
    pathlib.Path
        The path; it is not checked for existence.
    """
    path = Path(data_path)
    if subdir is not None:
        path = path / subdir
    if fname is not None:
        path = path / fname
    return path


# ---- array comparisons ------------------------------------------------------


def assert_allclose_safely(a: Any, b: Any, match_nans: bool = True,
                           rtol: float = 1e-05, atol: float = 1e-08) -> None:
    """Assert ``a`` and ``b`` are close, safely for integers, NaNs and infinities.

    Integers are compared as float64 so unsigned differences cannot wrap
    around; with ``match_nans`` NaNs must sit at the same places in both, and
    are then left out of the comparison. Infinities must match exactly.
    """
    a, b = np.broadcast_arrays(np.asanyarray(a), np.asanyarray(b))
    if match_nans:
        nans = _isnan(a)
        np.testing.assert_array_equal(nans, _isnan(b), err_msg="NaNs differ in position")
        if nans.any():
            a, b = a[~nans], b[~nans]
    a, b = _comparable(a), _comparable(b)
    if a.size == 0:
        return
    # np.allclose treats equal infinities as close and unequal ones as far apart
    if not np.allclose(a, b, rtol=rtol, atol=atol):
        worst = np.max(np.abs(a - b)) if np.all(np.isfinite(a) & np.isfinite(b)) else "inf"
        raise AssertionError(f"Arrays not close (rtol={rtol}, atol={atol}); "
                             f"largest absolute difference {worst}")


def _isnan(arr: np.ndarray) -> np.ndarray:
    if arr.dtype.kind in "fc":
        return np.isnan(arr)
    return np.zeros(arr.shape, dtype=bool)


def _comparable(arr: np.ndarray) -> np.ndarray:
    if arr.dtype.kind in "iub":
        return arr.astype(np.float64)
    return arr


def assert_arrays_equal(arrays1: Iterable[Any], arrays2: Iterable[Any]) -> None:
    """Assert two iterables give equal arrays, pair by pair, and equally many."""
    sentinel = object()
    iter1, iter2 = iter(arrays1), iter(arrays2)
    index = 0
    while True:
        arr1, arr2 = next(iter1, sentinel), next(iter2, sentinel)
        if arr1 is sentinel or arr2 is sentinel:
            if arr1 is not arr2:
                raise AssertionError(f"Iterables differ in length: one stops at item {index}")
            return
        np.testing.assert_array_equal(arr1, arr2, err_msg=f"Arrays differ at item {index}")
        index += 1


def assert_dt_equal(a: Any, b: Any) -> None:
    """Assert two dtype-likes are the same numpy dtype, byte order included."""
    dt_a, dt_b = np.dtype(a), np.dtype(b)
    if dt_a.str != dt_b.str:
        raise AssertionError(f"dtypes differ: {dt_a.str} != {dt_b.str}")


def assert_re_in(regex: str, container: Sequence[str] | str, flags: int = 0) -> None:
    """Assert some entry of ``container`` (or the string itself) matches ``regex``."""
    items = [container] if isinstance(container, str) else list(container)
    if not any(re.match(regex, item, flags) for item in items):
        raise AssertionError(f"No entry of {container!r} matches {regex!r}")


# ---- warnings ----------------------------------------------------------------


class clear_and_catch_warnings(warnings.catch_warnings):
    """``warnings.catch_warnings`` that also forgets which warnings already fired.

    Python shows a given warning once per place unless told otherwise, which
    makes a test that expects it pass or fail by test order. On entry this
    clears the once-only registries of ``modules`` (and of the class's
    ``class_modules``); on exit it restores them.

    Parameters
    ----------
    record : bool
        Return the list of caught warnings from ``with``, as catch_warnings does.
    modules : sequence of modules
        Modules whose registries to clear.
    """

    class_modules: tuple[ModuleType, ...] = ()
    # filter action applied on entry; None leaves the filters as they were
    filter_action: str | None = None

    def __init__(self, record: bool = True, modules: Sequence[ModuleType] = ()) -> None:
        super().__init__(record=record)
        self.modules = set(modules) | set(self.class_modules)
        self._saved_registries: dict[ModuleType, dict[Any, Any]] = {}

    def __enter__(self) -> Any:
        for module in self.modules:
            registry = getattr(module, "__warningregistry__", None)
            if registry is not None:
                self._saved_registries[module] = registry.copy()
                registry.clear()
        caught = super().__enter__()
        if self.filter_action is not None:
            warnings.simplefilter(self.filter_action)  # type: ignore[call-overload]
        return caught

    def __exit__(self, *exc_info: Any) -> None:
        super().__exit__(*exc_info)
        for module in self.modules:
            registry = getattr(module, "__warningregistry__", None)
            if registry is None:
                continue
            registry.clear()
            registry.update(self._saved_registries.get(module, {}))
        self._saved_registries.clear()


class error_warnings(clear_and_catch_warnings):
    """Within the block, every warning raises as an exception."""

    filter_action = "error"


class suppress_warnings(clear_and_catch_warnings):
    """Within the block, every warning is silenced."""

    filter_action = "ignore"


# ---- in-memory round trips --------------------------------------------------


def bytesio_filemap(klass: Any) -> dict[str, Any]:
    """A file map for image class ``klass`` with every file an empty BytesIO."""
    return klass.make_file_map({kind: io.BytesIO() for kind, _ in klass.files_types})


def bytesio_round_trip(img: Any) -> Any:
    """Save ``img`` to memory and load it back as the same class."""
    klass = type(img)
    file_map = bytesio_filemap(klass)
    img.to_file_map(file_map)
    return klass.from_file_map(file_map)

