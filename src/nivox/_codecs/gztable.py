"""The member table at the end of a gzip file nivox writes: every member found with one read of the tail.

A file of sized members (:mod:`.gzformat`) can be walked header by header,
but over a network that is one request per member. So the member writer
ends the file with one more member that holds no data (an empty deflate
block, CRC 0, size 0) and whose FEXTRA field carries, besides the usual
``NV`` size subfield, an ``NT`` subfield listing every member:

=========  =======  ==============================================
bytes      type     meaning
=========  =======  ==============================================
0          uint8    version (1)
1-3                 zero
4-7        uint32   number of data members ``n``
8-15       uint64   uncompressed bytes of each member but the last
16-23      uint64   uncompressed bytes of the last member
24-...     uint32   compressed size of each member (``n`` values)
then       uint32   size of this table member, header to trailer
then       ``NVTB`` marker
=========  =======  ==============================================

(all little-endian). The table member ends with ``NVTB``, the two bytes of
an empty final deflate block (``03 00``) and eight zero trailer bytes, so a
reader recognises it in the last 18 bytes of the file and learns where it
starts. Every gzip reader (``gzip``, zlib's ``gzread`` in ITK, nibabel,
indexed_gzip) decompresses an empty member as no bytes and skips FEXTRA
subfields it does not know (RFC 1952), exactly as for BGZF's empty end
block; so the file's content is unchanged for them.

FEXTRA holds at most 65535 bytes: a table lists at most
:data:`MAX_MEMBERS` members (16 GiB of data at the default 1 MiB members);
longer files get no table and are walked header by header.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from .gzformat import MAGIC, NV_ID, parse_header

__all__ = ["MAX_MEMBERS", "TAIL_PROBE", "build_table_member", "read_table"]

TABLE_ID = b"NT"
_MARK = b"NVTB"
_EMPTY_BLOCK = b"\x03\x00"  # a final fixed-Huffman block holding only its end code
_HEAD = struct.Struct("<B3xIQQ")
_NV = struct.Struct("<QQ")
# the table member: 10 fixed + XLEN 2 + NV subfield 20 + NT subfield header 4, then the
# payload (head, sizes, length, mark), the empty block and the trailer
_FIXED = 10 + 2 + (4 + _NV.size) + 4
_FOOTER = 4 + len(_MARK) + len(_EMPTY_BLOCK) + 8
MAX_MEMBERS = (0xFFFF - (4 + _NV.size) - 4 - _HEAD.size - 8) // 4
_RATIO = 1040
#: bytes read from the end of a file to find its table (enough for ~1000 members)
TAIL_PROBE = 4096

Pread = Callable[[int, int], bytes]


def build_table_member(compressed: list[int], stride: int, last: int, mtime: int = 0) -> bytes | None:
    """The empty table member listing members of ``compressed`` bytes; None when they are too many.

    ``stride`` is the uncompressed size of every member but the last, which
    holds ``last`` bytes.
    """
    count = len(compressed)
    if not 0 < count <= MAX_MEMBERS or max(compressed) >= 1 << 32:
        return None
    payload_size = _HEAD.size + 4 * count + 4 + len(_MARK)
    member_size = _FIXED + payload_size + len(_EMPTY_BLOCK) + 8
    payload = (_HEAD.pack(1, count, stride, last) + struct.pack(f"<{count}I", *compressed)
               + struct.pack("<I", member_size) + _MARK)
    extra = (NV_ID + _NV.size.to_bytes(2, "little") + _NV.pack(member_size, 0)
             + TABLE_ID + len(payload).to_bytes(2, "little") + payload)
    fixed = MAGIC + bytes([8, 0x04]) + struct.pack("<IBB", mtime & 0xFFFFFFFF, 0, 255)
    return fixed + len(extra).to_bytes(2, "little") + extra + _EMPTY_BLOCK + bytes(8)


def _subfield(extra: bytes, ident: bytes) -> bytes | None:
    pos = 0
    while pos + 4 <= len(extra):
        length = int.from_bytes(extra[pos + 2 : pos + 4], "little")
        if extra[pos : pos + 2] == ident:
            return extra[pos + 4 : pos + 4 + length]
        pos += 4 + length
    return None


def read_table(pread: Pread, file_size: int, name: Any = None, after: int = 0) -> list[tuple[int, int]] | None:
    """Member starts ``(compressed, uncompressed)`` from the file's table; None without one.

    The last pair is where the data ends: the table member's start and the
    data's size (the table member, holding no data, is not listed).

    ``pread(offset, count)`` reads the file; the table is looked for at or
    after byte ``after`` (the end of the first member, when known: a file of
    one member then costs a read of just the table). Two reads at most (one for tables of up
    to ~1000 members). A table that does not add up to the file is ignored
    (None): the caller walks the members' headers instead, which checks
    each of them.
    """
    if file_size < _FIXED + _FOOTER:
        return None
    want = min(file_size - max(after, 0), TAIL_PROBE)
    tail = pread(file_size - want, want) if want > 0 else b""
    if len(tail) < _FOOTER or tail[-8:] != bytes(8) or tail[-10:-8] != _EMPTY_BLOCK or tail[-14:-10] != _MARK:
        return None
    length = int.from_bytes(tail[-18:-14], "little")
    start = file_size - length
    if not _FIXED + _FOOTER <= length <= 0xFFFF + 22 or start < 0:
        return None
    member = tail[-length:] if length <= len(tail) else pread(start, length)
    try:
        header = parse_header(member, name)
    except ValueError:  # CorruptStreamError: not a member there
        return None
    if header is None or header.member_size != length or header.data_size != 0:
        return None
    payload = _subfield(bytes(member[12 : header.length]), TABLE_ID)
    if payload is None or len(payload) < _HEAD.size:
        return None
    version, count, stride, last = _HEAD.unpack_from(payload)
    if version != 1 or count < 1 or len(payload) != _HEAD.size + 4 * count + 8:
        return None
    sizes = struct.unpack_from(f"<{count}I", payload, _HEAD.size)
    if sum(sizes) != start or min(sizes) < 18 or last > stride:
        return None
    # deflate expands at most ~1032:1: a table claiming more is not to be believed (nor allocated)
    if (count > 1 and stride > _RATIO * min(sizes[:-1])) or last > _RATIO * sizes[-1]:
        return None
    points, pos, data = [(0, 0)], 0, 0
    for index, size in enumerate(sizes):
        pos += size
        data += stride if index + 1 < count else last
        points.append((pos, data))
    return points
