"""Turning one filename into the set of filenames an image format uses.

``img.hdr`` names both ``img.hdr`` and ``img.img`` for a pair format;
compression suffixes (``.gz``) ride along on every member; the case of the
extension the user typed is kept (``IMG.HDR`` pairs with ``IMG.IMG``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from .errors import NivoxError

__all__ = ["TypesFilenamesError", "types_filenames", "splitext_addext", "parse_filename"]

FileSpec = str | os.PathLike[str]


class TypesFilenamesError(NivoxError, ValueError):
    """A filename whose extension does not fit the format's file types."""


def _stringify_path(filepath: FileSpec) -> str:
    """The path as a str, with ``~`` expanded."""
    return os.path.expanduser(os.fspath(filepath))


def _splitext(name: str) -> tuple[str, str]:
    """``name`` split before its last dot, if text follows the dot in the last path part.

    Unlike :func:`os.path.splitext`, a name that is only an extension
    (``'.nii'``) has that extension; ``'.'`` and ``'..'`` have none.
    """
    dot = name.rfind(".")
    base_start = max(name.rfind("/"), name.rfind(os.sep)) + 1
    if dot < base_start or dot == len(name) - 1:
        return name, ""
    return name[:dot], name[dot:]


def splitext_addext(
    filename: FileSpec,
    addexts: Sequence[str] = (".gz", ".bz2", ".zst"),
    match_case: bool = False,
) -> tuple[str, str, str]:
    """Split ``filename`` into (root, extension, compression suffix).

    >>> splitext_addext('brain.nii.gz')
    ('brain', '.nii', '.gz')
    >>> splitext_addext('.nii')
    ('', '.nii', '')
    """
    name = _stringify_path(filename)
    addext = ""
    for candidate in addexts:
        matches = name.endswith(candidate) if match_case else name.lower().endswith(candidate.lower())
        if candidate and matches:
            addext = name[-len(candidate):]
            name = name[: -len(candidate)]
            break
    root, ext = _splitext(name)
    return root, ext, addext


def parse_filename(
    filename: FileSpec,
    types_exts: Sequence[tuple[str, str | None]],
    trailing_suffixes: Sequence[str],
    match_case: bool = False,
) -> tuple[str, str, str | None, str | None]:
    """Split ``filename`` into (root, extension, trailing suffix, file type).

    A type's extension matches the end of the name (after removing a trailing
    suffix such as '.gz'), with or without a dot; otherwise the extension is
    what follows the last dot. The suffix and the type are None when absent.
    """
    name = _stringify_path(filename)
    suffix = None
    for candidate in trailing_suffixes:
        if candidate and _ends_with(name, candidate, match_case):
            suffix = name[-len(candidate):]
            name = name[: -len(candidate)]
            break
    for type_name, type_ext in types_exts:
        if type_ext and _ends_with(name, type_ext, match_case):
            return name[: -len(type_ext)], name[-len(type_ext):], suffix, type_name
    root, ext = _splitext(name)
    return root, ext, suffix, None


def _ends_with(name: str, ending: str, match_case: bool) -> bool:
    return name.endswith(ending) if match_case else name.lower().endswith(ending.lower())


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
    if template.endswith("."):  # 'test.' names the files 'test.img', 'test.hdr'
        template = template[:-1]
    root, ext, suffix, direct = parse_filename(template, types_exts, trailing_suffixes, match_case)
    suffix = suffix or ""
    known_exts = [e for _, e in types_exts if e]
    if direct is None and (ext or suffix):
        if enforce_extensions and known_exts:
            what = repr(ext) if ext else f"no extension before {suffix!r}"
            raise TypesFilenamesError(
                f"File extension of {template!r} must be one of {known_exts}, not {what}"
            )
        # an extension no type claims: the first type keeps the name as given
        direct = types_exts[0][0]
    # other files follow the case of the extension given ('x.IMG' -> 'x.HDR')
    recase: Callable[[str], str] = str
    if ext and ext == ext.upper() and ext != ext.lower():
        recase = str.upper
    elif ext and ext == ext.lower() and ext != ext.upper():
        recase = str.lower
    names = {}
    for name, type_ext in types_exts:
        if name == direct:
            names[name] = template
            continue
        if type_ext is None:
            names[name] = root + ext + suffix
            continue
        names[name] = root + recase(type_ext) + suffix
    return names
