"""Marking APIs as deprecated, and as expired once their removal version is reached.

nivox starts at nibabel 5's API, so everything nibabel removed is already
expired here: calling it raises :class:`ExpiredDeprecationError` whose message
names what to use instead.
"""

from __future__ import annotations

import functools
import sys
import textwrap
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import ExpiredDeprecationError, VisibleDeprecationWarning

__all__ = [
    "TESTCLEANUP", "TESTSETUP", "Deprecator", "ExpiredDeprecationError",
    "deprecate_with_version", "expired",
]

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


# Doctest scaffolding put around the examples of a deprecated function's
# docstring, so running its examples does not fail on the warning it emits.
TESTSETUP = """

.. testsetup::

    >>> import warnings, pytest
    >>> _deprecation_ctx = pytest.deprecated_call()
    >>> _ = _deprecation_ctx.__enter__()

"""

TESTCLEANUP = """

.. testcleanup::

    >>> warnings.warn("keep deprecated_call satisfied", DeprecationWarning)
    >>> _ = _deprecation_ctx.__exit__(None, None, None)

"""


def _dedent_docstring(docstring: str) -> str:
    """Dedent every line on its own, as Python 3.13 compiles docstrings."""
    return "\n".join(textwrap.dedent(line) for line in docstring.split("\n"))


if sys.version_info >= (3, 13):
    TESTSETUP = _dedent_docstring(TESTSETUP)
    TESTCLEANUP = _dedent_docstring(TESTCLEANUP)


def _ensure_cr(text: str) -> str:
    """``text`` without trailing whitespace, ending in exactly one newline."""
    return text.rstrip() + "\n"


def _add_dep_doc(old_doc: str, dep_doc: str, setup: str = "", cleanup: str = "") -> str:
    """Insert ``dep_doc`` after the first paragraph of ``old_doc``.

    The inserted lines (and the doctest ``setup``/``cleanup`` text) take the
    indentation of the line following that paragraph.
    """
    dep_doc = _ensure_cr(dep_doc)
    if not old_doc:
        return dep_doc
    old_doc = _ensure_cr(old_doc)
    lines = old_doc.splitlines()
    first_blank = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    rest = lines[first_blank + 1:]
    if not rest:
        return old_doc + "\n" + dep_doc
    indent = rest[0][: len(rest[0]) - len(rest[0].lstrip())]
    block = ([""] + dep_doc.splitlines() + [""])
    out = lines[:first_blank]
    out += [indent + line for line in block]
    out += [indent + line for line in setup.splitlines()]
    out += rest
    out += [indent + line for line in cleanup.splitlines()]
    return "\n".join(out + [""])


class Deprecator:
    """Make decorators that deprecate callables, warning or raising by version.

    Parameters
    ----------
    version_comparator : callable
        Called with a version string; returns -1, 0 or 1 as that version is
        older than, equal to or newer than the running one.
    warn_class, error_class
        What to warn with up to the removal version, and raise after it.
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
        """True when ``version_str`` is older than the running version.

        ``until`` names the last version that still only warns, so reaching it
        is not yet bad.
        """
        return self.version_comparator(version_str) == -1

    def __call__(
        self,
        message: str,
        since: str = "",
        until: str = "",
        warn_class: type[Warning] | None = None,
        error_class: type[Exception] | None = None,
    ) -> Callable[[F], F]:
        """A decorator that warns on each call, or raises once ``until`` has passed."""
        warn_class = warn_class or self.warn_class
        error_class = error_class or self.error_class
        expired_now = bool(until) and self.is_bad_version(until)
        parts = [message]
        if since or until:
            parts.append("")
        if since:
            parts.append(f"* deprecated from version: {since}")
        if until:
            verb = "Raises" if expired_now else "Will raise"
            parts.append(f"* {verb} {error_class} as of version: {until}")
        full_message = "\n".join(parts)

        def decorator(func: F) -> F:
            @functools.wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                if expired_now:
                    raise error_class(full_message)
                warnings.warn(full_message, warn_class, stacklevel=2)
                return func(*args, **kwargs)

            doc = func.__doc__ or ""
            setup, cleanup = TESTSETUP, TESTCLEANUP
            if doc and expired_now:
                # an expired function's examples would only raise: keep the summary
                doc = "\n".join(line.rstrip() for line in doc.splitlines()).split("\n\n", 1)[0]
                setup = cleanup = ""
            wrapper.__doc__ = _add_dep_doc(doc, full_message, setup, cleanup)
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
