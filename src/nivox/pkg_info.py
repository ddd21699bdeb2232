"""Version information: nivox's version, PEP 440 version comparison, and a context summary.

``cmp_pkg_version`` orders versions as PEP 440 does (``1.2.0dev`` <
``1.2.0rc1`` < ``1.2.0`` < ``1.2.0.post1``; a ``+local`` part sorts after the
same version without one). It is written here so nivox needs no
``packaging`` at run time.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

from . import __version__
from .errors import InvalidArgumentError
from .nibabel_alias import NIBABEL_API_VERSION

__all__ = ["COMMIT_HASH", "__version__", "cmp_pkg_version", "get_pkg_info", "pkg_commit_hash"]

#: filled in by ``git archive`` export-subst when the package is made from an archive
COMMIT_HASH = "$Format:%h$"

_VERSION = re.compile(
    r"""^\s*v?
    (?:(?P<epoch>\d+)!)?
    (?P<release>\d+(?:\.\d+)*)
    (?:[-_.]?(?P<pre_l>alpha|beta|preview|pre|rc|a|b|c)[-_.]?(?P<pre_n>\d+)?)?
    (?:-(?P<post_implicit>\d+)|[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n>\d+)?)?
    (?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>\d+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
    \s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}
# sentinels that sort below / above every (rank, number) tuple or int
_LOW: tuple[float, ...] = (float("-inf"),)
_HIGH: tuple[float, ...] = (float("inf"),)


def _sort_key(version: str) -> tuple[Any, ...]:
    """A tuple that orders versions as PEP 440 does; ValueError for an invalid version."""
    match = _VERSION.match(version)
    if match is None:
        raise InvalidArgumentError(f"{version!r} is not a valid PEP 440 version")
    g = match.groupdict()
    release = [int(part) for part in g["release"].split(".")]
    while len(release) > 1 and release[-1] == 0:  # 1.0.0 == 1.0 == 1
        release.pop()
    dev: tuple[float, ...] = _HIGH if g["dev_l"] is None else (int(g["dev_n"] or 0),)
    if g["pre_l"] is not None:
        pre: tuple[float, ...] = (_PRE_RANK[g["pre_l"].lower()], int(g["pre_n"] or 0))
    elif g["dev_l"] is not None and g["post_l"] is None and g["post_implicit"] is None:
        pre = _LOW  # 1.0.dev0 comes before 1.0a1
    else:
        pre = _HIGH
    if g["post_implicit"] is not None:
        post: tuple[float, ...] = (int(g["post_implicit"]),)
    elif g["post_l"] is not None:
        post = (int(g["post_n"] or 0),)
    else:
        post = _LOW
    if g["local"] is None:
        local: tuple[Any, ...] = ()
    else:
        # numeric segments sort above alphanumeric ones, and compare as numbers
        local = tuple((1, int(p), "") if p.isdigit() else (0, 0, p.lower())
                      for p in re.split(r"[-_.]", g["local"]))
    return (int(g["epoch"] or 0), tuple(release), pre, post, dev, local)


def cmp_pkg_version(version_str: str, pkg_version_str: str = NIBABEL_API_VERSION) -> int:
    """Compare two versions the PEP 440 way.

    Code written for nibabel calls this (as ``nibabel.pkg_info``) to ask which
    nibabel it runs on, so by default the comparison is with the nibabel API
    version nivox implements (``nivox.nibabel_alias.NIBABEL_API_VERSION``), the
    version ``nibabel.__version__`` reports under ``install_as_nibabel``.

    Parameters
    ----------
    version_str : str
        Version to compare.
    pkg_version_str : str, optional
        Version to compare with; the nibabel API version by default.

    Returns
    -------
    int
        1 if ``version_str`` is later than ``pkg_version_str``, 0 if equal, -1 if earlier.
    """
    a, b = _sort_key(version_str), _sort_key(pkg_version_str)
    return (a > b) - (a < b)


def pkg_commit_hash(pkg_path: str | None = None) -> tuple[str, str]:
    """Where the commit hash of this installation came from, and its short form.

    Tried in order: the ``git archive`` substitution, a ``+g<hash>`` local
    version part, ``git rev-parse`` in ``pkg_path``; else
    ``('(none found)', '<not found>')``.
    """
    if not COMMIT_HASH.startswith("$Format"):
        return "archive substitution", COMMIT_HASH
    local = __version__.partition("+")[2]
    if local.startswith("g"):
        return "installation", local[1:8]
    try:
        proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              cwd=pkg_path, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        proc = None
    if proc is not None and proc.returncode == 0 and proc.stdout.strip():
        return "repository", proc.stdout.decode().strip()
    return "(none found)", "<not found>"


def get_pkg_info(pkg_path: str | None = None) -> dict[str, str]:
    """A description of this installation: version, commit, Python and numpy.

    Parameters
    ----------
    pkg_path : str, optional
        Folder of the package (the one holding ``__init__.py``); nivox's own by default.
    """
    if pkg_path is None:
        pkg_path = os.path.dirname(os.path.abspath(__file__))
    source, commit = pkg_commit_hash(pkg_path)
    import numpy

    return {
        "pkg_path": pkg_path,
        "commit_source": source,
        "commit_hash": commit,
        "sys_version": sys.version,
        "sys_executable": sys.executable,
        "sys_platform": sys.platform,
        "np_version": numpy.__version__,
        "nivox_version": __version__,
    }


def get_info() -> dict[str, str]:
    """:func:`get_pkg_info` for nivox itself (``nivox.get_info()``)."""
    return get_pkg_info()
