"""The tagged blocks FreeSurfer appends to an MGH file after its data and scan parameters.

Layout (FreeSurfer's ``tags.h``): each block is a big-endian int32 tag id,
then (for most tags) a big-endian int64 byte count, then that many bytes.
Three old tags (1, 2, 20) carry no count and tag 30 an int32 count, so a
reader that does not know a block cannot always step over it. nivox
therefore keeps the bytes after the scan parameters as they are, writes
them back unchanged, and parses them only to show what they hold.
"""

from __future__ import annotations

import struct
from typing import NamedTuple
from ..errors import ImageFileError

__all__ = ["TAG_NAMES", "MGHTag", "drop_tags", "parse_tags", "tags_bytes"]

#: tag ids FreeSurfer defines, by name
TAG_NAMES: dict[int, str] = {
    1: "OLD_COLORTABLE",
    2: "OLD_USEREALRAS",
    3: "CMDLINE",
    4: "USEREALRAS",
    5: "COLORTABLE",
    10: "GCAMORPH_GEOM",
    11: "GCAMORPH_TYPE",
    12: "GCAMORPH_LABELS",
    20: "OLD_SURF_GEOM",
    21: "SURF_GEOM",
    30: "OLD_MGH_XFORM",
    31: "MGH_XFORM",
    32: "GROUP_AVG_SURFACE_AREA",
    33: "AUTO_ALIGN",
    40: "SCALAR_DOUBLE",
    41: "PEDIR",
    42: "MRI_FRAME",
    43: "FIELDSTRENGTH",
    44: "ORIG_RAS2VOX",
}

# tags whose blocks state no length: nothing after them can be parsed
_NO_LENGTH = {1, 2, 20}


class MGHTag(NamedTuple):
    """One tagged block: its id, FreeSurfer's name for it, and its bytes (count excluded)."""

    tag: int
    name: str
    data: bytes


def parse_tags(raw: bytes) -> tuple[list[MGHTag], bytes]:
    """The blocks in ``raw`` (the bytes after the scan parameters), and what could not be parsed.

    Parsing stops at a block without a length, a length past the end, or
    fewer than four bytes left; the rest is returned as it is.
    """
    spans, rest = _spans(raw)
    return [MGHTag(tag, TAG_NAMES.get(tag, f"TAG_{tag}"), raw[start:end]) for tag, _, start, end in spans], rest


def drop_tags(raw: bytes, tag_ids: set[int]) -> tuple[bytes, int]:
    """``raw`` without the parsed blocks whose id is in ``tag_ids``, every other byte kept; and how many went."""
    spans, rest = _spans(raw)
    kept = [raw[block:end] for tag, block, _, end in spans if tag not in tag_ids]
    return b"".join(kept) + rest, len(spans) - len(kept)


def _spans(raw: bytes) -> tuple[list[tuple[int, int, int, int]], bytes]:
    """(tag, block start, data start, end) of each parsable block, and the unparsed rest."""
    spans: list[tuple[int, int, int, int]] = []
    pos = 0
    end = len(raw)
    while end - pos >= 4:
        (tag,) = struct.unpack_from(">i", raw, pos)
        if tag in _NO_LENGTH or tag <= 0:
            break
        if tag == 30:
            if end - pos < 8:
                break
            (length,) = struct.unpack_from(">i", raw, pos + 4)
            start = pos + 8
        else:
            if end - pos < 12:
                break
            (length,) = struct.unpack_from(">q", raw, pos + 4)
            start = pos + 12
        if length < 0 or start + length > end:
            break
        spans.append((tag, pos, start, start + length))
        pos = start + length
    return spans, raw[pos:]


def tags_bytes(tags: list[tuple[int, bytes]]) -> bytes:
    """The bytes of blocks ``(tag, data)`` in the layout FreeSurfer writes (int64 counts)."""
    parts = []
    for tag, data in tags:
        if tag in _NO_LENGTH or tag == 30:
            raise ImageFileError(f"tag {tag} is an old tag FreeSurfer no longer writes")
        parts.append(struct.pack(">iq", int(tag), len(data)) + bytes(data))
    return b"".join(parts)
