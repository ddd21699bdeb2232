"""Optional dependencies that fail late, with a message, instead of at import.

``optional_package("scipy")`` gives ``(module, True, setup_module)`` when the
package imports (and is new enough), else ``(TripWire, False, setup_module)``:
a placeholder that raises :class:`TripWireError`, naming the missing package,
on the first attribute access. Modules can therefore import optional packages
at the top and still import when they are absent.

The placeholder lives in :mod:`nivox.tripwire`. Why ``TripWireError`` is not a :class:`~nivox.errors.MissingDependencyError`:
that class is an ``ImportError``, and CPython cannot make one exception class
both an ``ImportError`` and an ``AttributeError`` (their instance layouts
clash). ``AttributeError`` wins because ``hasattr(tripwire, name)`` must stay
False and nibabel code catches ``AttributeError``; the ``ImportError`` that
caused the trip is kept as ``__cause__``, and ``except NivoxError`` catches it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any, NoReturn

from .pkg_info import cmp_pkg_version
from .tripwire import TripWire, TripWireError, is_tripwire

__all__ = ["TripWire", "TripWireError", "is_tripwire", "optional_package"]


def _version_tuple(version: str) -> tuple[int, ...]:
    """Leading numeric parts of a version string: '1.26.4rc1' -> (1, 26, 4)."""
    parts: list[int] = []
    for piece in version.split("."):
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):  # '4rc1': stop after the number
            break
    return tuple(parts)


def _new_enough(module: ModuleType, min_version: Any) -> bool:
    min_version = str(min_version)  # also a packaging.version.Version
    version = getattr(module, "__version__", None)
    if not isinstance(version, str):
        try:
            from importlib.metadata import version as dist_version

            version = dist_version(module.__name__.split(".")[0])
        except Exception:  # no metadata: cannot prove it is new enough
            return False
    try:
        return cmp_pkg_version(version, min_version) >= 0  # PEP 440 order ('1.0rc1' < '1.0')
    except ValueError:  # not PEP 440: compare the leading numbers
        return _version_tuple(version) >= _version_tuple(min_version)


def optional_package(
    name: str,
    trip_msg: str | None = None,
    min_version: Any = None,
) -> tuple[ModuleType | TripWire, bool, Callable[[], None]]:
    """Import ``name`` if possible, else return a :class:`TripWire` standing in for it.

    Parameters
    ----------
    name : str
        Module to import, dotted names allowed ('scipy.ndimage').
    trip_msg : str, optional
        Message for the error raised when the missing module is used.
    min_version : str, version object or callable, optional
        Oldest acceptable version ('1.8' or a ``packaging`` Version), or a function taking the module and
        returning True when it is acceptable.

    Returns
    -------
    module : module or TripWire
    have_pkg : bool
    setup_module : callable
        Raises ``unittest.SkipTest`` when the package is unavailable; for test
        modules that need it.
    """
    cause: BaseException | None = None
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        cause = exc
        reason = f"``import {name}`` raised {exc}"
    except Exception as exc:  # a broken install is as unusable as a missing one
        cause = exc
        reason = f"``import {name}`` raised {type(exc).__name__}: {exc}"
    else:
        if min_version is None:
            return module, True, _no_skip
        if callable(min_version):
            if min_version(module):
                return module, True, _no_skip
            reason = f"{name} {getattr(module, '__version__', '(unknown version)')} " \
                     "fails the version check"
        elif _new_enough(module, min_version):
            return module, True, _no_skip
        else:
            found = getattr(module, "__version__", "unknown")
            reason = f"nivox needs {name} >= {min_version} here, found {found}"
            if trip_msg is None:  # nibabel's wording, which code may compare with
                trip_msg = f"These functions need {name} version >= {min_version}"
    if trip_msg is None:
        trip_msg = f"This needs the optional package {name}, which is unavailable: {reason}"

    def setup_module() -> None:
        import unittest

        raise unittest.SkipTest(f"No {name} for these tests: {reason}")

    return TripWire(trip_msg, cause), False, setup_module


def _no_skip() -> None:
    """setup_module for a package that is present: nothing to skip."""
