"""The text of AFNI ``.HEAD`` files: attributes parsed into a dict, and written back.

A ``.HEAD`` file is a sequence of attributes, each three lines
(``type = integer-attribute|float-attribute|string-attribute``,
``name = NAME``, ``count = N``) followed by its values: numbers separated by
white space, or for strings a single quote, ``N`` characters (``~`` standing
for NUL), per AFNI's README.attributes.

Parsing is driven by that structure rather than by blank lines, so a string
holding a blank line or a line starting with ``type`` is read whole; the
result keeps nibabel's shapes (a one-value attribute is a scalar, strings
lose their quote and trailing ``~``).
"""

from __future__ import annotations

import os
import re
from typing import IO, Any

import numpy as np

from ..errors import AFNIHeaderError

__all__ = ["format_AFNI_header", "parse_AFNI_header"]

_CASTS = {"integer": int, "float": float, "string": str}

# the three lines that open an attribute; white space is as free as AFNI's fscanf allows
_OPENING = re.compile(
    r"type\s*=\s*(?P<type>\S+)\s+name\s*=\s*(?P<name>\S+)\s+count\s*=\s*(?P<count>\S+)[ \t]*\r?\n?"
)
_NEXT_TYPE = re.compile(r"^[ \t]*type\s*=", re.MULTILINE)
_TYPE_LINE = re.compile(r"type\s*=\s*(\S*?)-attribute\s*\n")
_NAME_LINE = re.compile(r"name\s*=\s*(\w+)\s*\n")


def _where(source: str | None) -> str:
    return f"{source}: " if source else ""


def _parse_one(text: str, start: int, source: str | None) -> tuple[str, Any, int]:
    """The attribute opening at ``start``: (name, value, position after it)."""
    snippet = text[start:start + 200].strip()
    opening = _OPENING.match(text, start)
    if opening is None:
        names = _NAME_LINE.findall(text[start:start + 400])
        what = "name" if not names else "type/name/count"
        raise AFNIHeaderError(f"{_where(source)}invalid attribute {what} entry in HEAD file "
                              f"(not AFNI compliant): {snippet!r}")
    kind = opening["type"]
    if not kind.endswith("-attribute") or kind[: -len("-attribute")] not in _CASTS:
        raise AFNIHeaderError(f"{_where(source)}invalid attribute type entry {kind!r} in HEAD file: {snippet!r}")
    cast = _CASTS[kind[: -len("-attribute")]]
    name = opening["name"]
    try:
        count = int(opening["count"])
    except ValueError:
        raise AFNIHeaderError(f"{_where(source)}attribute {name}: count {opening['count']!r} is not a number") from None
    if count < 0:
        raise AFNIHeaderError(f"{_where(source)}attribute {name}: negative count {count}")
    position = opening.end()
    if cast is str:
        quote = text.find("'", position)
        following = _NEXT_TYPE.search(text, position)
        if quote < 0 or (following is not None and following.start() < quote):
            raise AFNIHeaderError(f"{_where(source)}string attribute {name} has no opening quote")
        end = min(quote + 1 + count, len(text))
        value: Any = text[quote + 1:end].rstrip("~")
        return name, (value[0] if len(value) == 1 else value), end
    following = _NEXT_TYPE.search(text, position)
    end = following.start() if following is not None else len(text)
    try:
        numbers = [cast(token) for token in text[position:end].split()]
    except ValueError:
        raise AFNIHeaderError(f"{_where(source)}failed to read attribute {name}: values are not "
                              f"{kind.split('-')[0]}s (improper type casting): {snippet!r}") from None
    return name, (numbers[0] if len(numbers) == 1 else numbers), end


def parse_text(text: str, source: str | None = None) -> dict[str, Any]:
    """The attributes in the text of a ``.HEAD`` file, by name (the last one wins on repeats)."""
    info: dict[str, Any] = {}
    first = _NEXT_TYPE.search(text)
    if first is None:
        if text.strip():
            raise AFNIHeaderError(f"{_where(source)}no AFNI attributes found (not a HEAD file)")
        return info
    if text[: first.start()].strip():
        raise AFNIHeaderError(f"{_where(source)}text before the first attribute: not an AFNI HEAD file")
    position = first.start()
    while True:
        # text between attributes (after a string shorter than its line) is skipped, as AFNI does
        following = _NEXT_TYPE.search(text, position)
        if following is None:
            return info
        name, value, position = _parse_one(text, text.index("type", following.start()), source)
        info[name] = value


def _unpack_var(var: str) -> tuple[str, Any]:
    """(name, value) of the text ``var`` of one attribute; AFNIHeaderError if it is not one."""
    types, names = _TYPE_LINE.findall(var), _NAME_LINE.findall(var)
    if len(types) != 1 or types[0] not in _CASTS:
        raise AFNIHeaderError(f"invalid attribute type entry in HEAD file; offending attribute:\n{var}")
    if len(names) != 1:
        raise AFNIHeaderError(f"invalid attribute name entry in HEAD file; offending attribute:\n{var}")
    start = var.find("type")
    name, value, _ = _parse_one(var, start, None)
    return name, value


def parse_AFNI_header(fobj: str | os.PathLike[str] | IO[Any]) -> dict[str, Any]:
    """The attributes of an AFNI ``.HEAD`` file, as a dict from name to value.

    Parameters
    ----------
    fobj : str, PathLike or file-like
        File name or open file (text or binary) of the ``.HEAD`` file.

    Returns
    -------
    info : dict
        Integer and float attributes give lists of numbers, string attributes
        strings; an attribute holding a single value gives that value.

    Raises
    ------
    AFNIHeaderError
        For text that does not follow the attribute format; the message
        names the file.
    """
    if isinstance(fobj, (str, os.PathLike)):
        with open(fobj, "rb") as stream:
            return parse_AFNI_header(stream)
    content = fobj.read()
    source = getattr(fobj, "name", None)
    source = os.fsdecode(source) if isinstance(source, (str, bytes, os.PathLike)) else None
    if isinstance(content, bytes):
        # HEAD files are ASCII; latin-1 maps every byte, so damage is reported, not a decode error
        content = content.decode("latin-1")
    return parse_text(content, source)


def _format_value(name: str, value: Any) -> str:
    if isinstance(value, str):
        body = value + "~"
        return f"type = string-attribute\nname = {name}\ncount = {len(body)}\n'{body}\n"
    values = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
    if not all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values):
        raise AFNIHeaderError(f"attribute {name}: values must be numbers, or one string, not {value!r}")
    if any(isinstance(v, (float, np.floating)) for v in values):
        kind, tokens = "float", [repr(float(v)) for v in values]
    else:
        kind, tokens = "integer", [str(int(v)) for v in values]
    lines = [" ".join(tokens[i:i + 5]) for i in range(0, len(tokens), 5)]
    body = "\n".join(" " + line for line in lines)
    return f"type = {kind}-attribute\nname = {name}\ncount = {len(values)}\n{body}\n"


def format_AFNI_header(info: dict[str, Any]) -> str:
    """The text of a ``.HEAD`` file holding the attributes of ``info`` (inverse of parsing)."""
    return "".join("\n" + _format_value(name, value) for name, value in info.items())
