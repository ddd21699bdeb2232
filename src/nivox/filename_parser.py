"""Turning one filename into the set of filenames an image format uses.

``img.hdr`` names both ``img.hdr`` and ``img.img`` for a pair format;
compression suffixes (``.gz``) ride along on every member; the case of the
extension the user typed is kept (``IMG.HDR`` pairs with ``IMG.IMG``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from .errors import NivoxError

__all__ = ["TypesFilenamesError", "types_filenames", "splitext_addext", "parse_filename"]

FileSpec = str | os.PathLike[str]


class TypesFilenamesError(NivoxError, ValueError):
    """A filename whose extension does not fit the format's file types."""


def _stringify_path(filepath: FileSpec) -> str:
    """The path as a str, with ``~`` expanded."""
    return os.path.expanduser(os.fspath(filepath))


def splitext_addext(
    filename: FileSpec,
    addexts: Sequence[str] = (".gz", ".bz2", ".zst"),
    match_case: bool = False,
) -> tuple[str, str, str]:
    """Split ``filename`` into (root, extension, compression suffix).

    >>> splitext_addext('brain.nii.gz')
    ('brain', '.nii', '.gz')
    """
    name = _stringify_path(filename)
    addext = ""
    for candidate in addexts:
        matches = name.endswith(candidate) if match_case else name.lower().endswith(candidate.lower())
        if candidate and matches:
            addext = name[-len(candidate):]
            name = name[: -len(candidate)]
            break
    root, ext = os.path.splitext(name)
    return root, ext, addext


def parse_filename(
    filename: FileSpec,
    types_exts: Sequence[tuple[str, str | None]],
    trailing_suffixes: Sequence[str],
    match_case: bool = False,
) -> tuple[str, str, str, str | None]:
    """Split ``filename`` into (root, extension, suffix, file type whose extension matched)."""
    root, ext, suffix = splitext_addext(filename, trailing_suffixes, match_case)
    guessed = None
    for name, type_ext in types_exts:
        if type_ext and _same_ext(ext, type_ext, match_case):
            guessed = name
            break
    return root, ext, suffix, guessed


def _same_ext(a: str, b: str, match_case: bool) -> bool:
    return a == b if match_case else a.lower() == b.lower()


def types_filenames(
    template_fname: FileSpec,
    types_exts: Sequence[tuple[str, str | None]],
    trailing_suffixes: Sequence[str] = (".gz", ".bz2"),
    enforce_extensions: bool = True,
    match_case: bool = False,
) -> dict[str, str]:
    """A filename for each file type, derived from ``template_fname``.

    Raises
    ------
    TypesFilenamesError
        When ``enforce_extensions`` is true and the extension belongs to none
        of the types.
    """
    template = _stringify_path(template_fname)
    root, ext, suffix, direct = parse_filename(template, types_exts, trailing_suffixes, match_case)
    known_exts = [e for _, e in types_exts if e]
    if direct is None and ext:
        if enforce_extensions and known_exts:
            raise TypesFilenamesError(
                f"File extension of {template!r} must be one of {known_exts}, not {ext!r}"
            )
        # an extension no type claims: the first type keeps the name as given
        direct = types_exts[0][0]
    upper = ext != "" and ext == ext.upper() and ext != ext.lower()
    names = {}
    for name, type_ext in types_exts:
        if name == direct:
            names[name] = template
            continue
        if type_ext is None:
            names[name] = root + ext + suffix
            continue
        names[name] = root + (type_ext.upper() if upper else type_ext) + suffix
    return names
