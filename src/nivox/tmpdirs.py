"""Context managers for temporary and working directories.

``TemporaryDirectory`` is the standard library's, kept here under nibabel's
name; ``InTemporaryDirectory`` and ``InGivenDirectory`` also change the
working directory for the duration of the ``with`` block and restore it after,
even when the block raises.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["InGivenDirectory", "InTemporaryDirectory", "TemporaryDirectory"]


class TemporaryDirectory(tempfile.TemporaryDirectory):  # type: ignore[type-arg]
    """A directory removed with its contents on exit; ``with`` gives its path.

    Same as :class:`tempfile.TemporaryDirectory`, which new code can use directly.
    """


@contextmanager
def _working_directory(path: str) -> Iterator[str]:
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield path
    finally:
        os.chdir(previous)


@contextmanager
def InTemporaryDirectory() -> Iterator[str]:
    """Make a temporary directory, work inside it, then return and remove it.

    Yields
    ------
    str
        Absolute path of the temporary directory (also the working directory).
    """
    with tempfile.TemporaryDirectory() as path:
        # realpath: on macOS /tmp is a symlink, and os.getcwd() reports the target
        with _working_directory(os.path.realpath(path)) as cwd:
            yield cwd


@contextmanager
def InGivenDirectory(path: str | os.PathLike[str] | None = None) -> Iterator[str]:
    """Work inside ``path`` (made if missing, never removed), then return.

    Parameters
    ----------
    path : path-like, optional
        Directory to work in; relative paths are taken from the current
        directory. Default: the current directory.

    Yields
    ------
    str
        Absolute path of the directory.
    """
    target = os.path.abspath(os.getcwd() if path is None else os.fspath(path))
    os.makedirs(target, exist_ok=True)
    with _working_directory(target) as cwd:
        yield cwd
