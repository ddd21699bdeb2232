"""Marking APIs as deprecated, and as expired once their removal version is reached.

nivox starts at nibabel 5's API, so everything nibabel removed is already
expired here: calling it raises :class:`ExpiredDeprecationError` whose message
names what to use instead.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import ExpiredDeprecationError, VisibleDeprecationWarning

__all__ = ["Deprecator", "ExpiredDeprecationError", "deprecate_with_version", "expired"]

F = TypeVar("F", bound=Callable[..., Any])

NIVOX_VERSION = (0, 1, 0)


def _version_tuple(version: str | None) -> tuple[int, ...] | None:
    if version is None:
        return None
    parts = []
    for piece in version.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


class Deprecator:
    """Make decorators that deprecate callables, warning or raising by version.

    Parameters
    ----------
    version_comparator : callable
        Called with a version string; returns -1, 0 or 1 as that version is
        older than, equal to or newer than the running one.
    warn_class, error_class
        What to warn with before the removal version, and raise at or after it.
    """

    def __init__(
        self,
        version_comparator: Callable[[str], int],
        warn_class: type[Warning] = DeprecationWarning,
        error_class: type[Exception] = ExpiredDeprecationError,
    ) -> None:
        self.version_comparator = version_comparator
        self.warn_class = warn_class
        self.error_class = error_class

    def is_bad_version(self, version_str: str) -> bool:
        """True when ``version_str`` is at or before the running version."""
        return self.version_comparator(version_str) != 1

    def __call__(
        self,
        message: str,
        since: str = "",
        until: str = "",
        warn_class: type[Warning] | None = None,
        error_class: type[Exception] | None = None,
    ) -> Callable[[F], F]:
        warn_class = warn_class or self.warn_class
        error_class = error_class or self.error_class
        notes = []
        if since:
            notes.append(f"deprecated from version: {since}")
        if until:
            verb = "Raises" if self.is_bad_version(until) else "Will raise"
            notes.append(f"{verb} {error_class.__name__} as of version: {until}")
        full_message = " ".join([message.rstrip(".") + "."] + [f"* {n}" for n in notes])
        expired_now = bool(until) and self.is_bad_version(until)

        def decorator(func: F) -> F:
            @functools.wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                if expired_now:
                    raise error_class(full_message)
                warnings.warn(full_message, warn_class, stacklevel=2)
                return func(*args, **kwargs)

            wrapper.__doc__ = f"{full_message}\n\n{func.__doc__ or ''}"
            return wrapper  # type: ignore[return-value]

        return decorator


def _compare_with_nivox(version: str) -> int:
    theirs = _version_tuple(version) or ()
    if theirs < NIVOX_VERSION:
        return -1
    return 0 if theirs == NIVOX_VERSION else 1


deprecate_with_version = Deprecator(_compare_with_nivox, warn_class=VisibleDeprecationWarning)


def expired(old: str, replacement: str, *, since: str = "2.1", until: str = "5.0") -> Callable[..., Any]:
    """A method that always raises, telling the user which call replaced ``old``.

    The versions are nibabel's, so the message reads the same as users saw there.
    """

    def removed(*args: Any, **kwargs: Any) -> Any:
        raise ExpiredDeprecationError(
            f"{old} was deprecated in nibabel {since} and removed in {until}; "
            f"use {replacement} instead."
        )

    removed.__name__ = old.rsplit(".", 1)[-1].rstrip("()")
    removed.__doc__ = f"Expired: use {replacement}."
    return removed
