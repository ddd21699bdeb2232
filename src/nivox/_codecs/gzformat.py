"""The gzip container (RFC 1952): member headers, trailers and nivox's member-size field.

A gzip file is a sequence of *members*, each a header, a raw-deflate stream
and an 8-byte trailer (CRC-32 and the data size modulo 2**32). Every gzip
reader decompresses all members one after the other, as one file.

nivox writes files as a sequence of members of ``member_size`` uncompressed
bytes each (BGZF-style), compressed independently. To find them without
decompressing, each member's header has an FEXTRA subfield (which readers
that do not know it skip, as RFC 1952 asks):

=========  ======  ==============================================
bytes      value   meaning
=========  ======  ==============================================
0-1        ``NV``  subfield id (SI1, SI2)
2-3        16      length of the payload (little-endian)
4-11       ...     size of the whole member in bytes, header and
                   trailer included (uint64, little-endian)
12-19      ...     uncompressed size of the member (uint64)
=========  ======  ==============================================

BGZF's ``BC`` subfield (htslib: the member size minus one, uint16) is read as
well, so bgzip-compressed images get the same random access.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import CorruptStreamError

__all__ = [
    "MAGIC",
    "MemberHeader",
    "build_header",
    "build_trailer",
    "parse_header",
    "scan_members",
]

MAGIC = b"\x1f\x8b"
_FHCRC, _FEXTRA, _FNAME, _FCOMMENT = 0x02, 0x04, 0x08, 0x10
_RESERVED = 0xE0
#: nivox's subfield id
NV_ID = b"NV"
_NV = struct.Struct("<QQ")
# header bytes with the NV field: 10 fixed, XLEN, subfield header, payload
NV_HEADER_SIZE = 10 + 2 + 4 + _NV.size
#: bytes read to parse a typical header in one go
HEADER_PROBE = 512


def _label(name: Any) -> str:
    if isinstance(name, (str, bytes, os.PathLike)) and name:
        return os.fsdecode(name)
    return "<stream>"


@dataclass(frozen=True)
class MemberHeader:
    """What a member's header says.

    Attributes
    ----------
    length : int
        Bytes of header; the deflate stream starts there.
    member_size : int or None
        Bytes of the whole member when a size subfield (NV or BC) gives it.
    data_size : int or None
        Uncompressed bytes of the member when the NV subfield gives it.
    mtime : int
        The modification time field.
    """

    length: int
    member_size: int | None = None
    data_size: int | None = None
    mtime: int = 0


def parse_header(buf: Any, name: Any = None) -> MemberHeader | None:
    """The member header at the start of ``buf``, or None if ``buf`` is too short to hold it.

    Raises CorruptStreamError naming ``name`` when ``buf`` does not start
    with a gzip member header.
    """
    view = memoryview(buf)
    if len(view) < 10:
        if bytes(view[:2]) != MAGIC[: len(view[:2])]:
            raise CorruptStreamError(f"{_label(name)}: not a gzip file (starts {bytes(view[:8])!r})")
        return None
    if bytes(view[:2]) != MAGIC:
        raise CorruptStreamError(f"{_label(name)}: not a gzip file (starts {bytes(view[:8])!r})")
    method, flags = view[2], view[3]
    if method != 8:
        raise CorruptStreamError(f"{_label(name)}: unknown gzip compression method {method}")
    if flags & _RESERVED:
        raise CorruptStreamError(f"{_label(name)}: gzip header has reserved flag bits set ({flags:#x})")
    mtime = int.from_bytes(view[4:8], "little")
    pos = 10
    member_size = data_size = None
    if flags & _FEXTRA:
        if len(view) < pos + 2:
            return None
        xlen = int.from_bytes(view[pos : pos + 2], "little")
        pos += 2
        if len(view) < pos + xlen:
            return None
        member_size, data_size = _size_fields(view[pos : pos + xlen])
        pos += xlen
    for flag in (_FNAME, _FCOMMENT):
        if flags & flag:
            end = bytes(view[pos:]).find(b"\0")
            if end < 0:
                return None
            pos += end + 1
    if flags & _FHCRC:
        pos += 2
        if len(view) < pos:
            return None
    return MemberHeader(pos, member_size, data_size, mtime)


def _size_fields(extra: memoryview) -> tuple[int | None, int | None]:
    """(member size, data size) from the NV or BC subfield of an FEXTRA field."""
    pos = 0
    member_size = data_size = None
    while pos + 4 <= len(extra):
        ident = bytes(extra[pos : pos + 2])
        length = int.from_bytes(extra[pos + 2 : pos + 4], "little")
        payload = extra[pos + 4 : pos + 4 + length]
        if len(payload) < length:
            break  # a malformed subfield list: ignore the rest, as readers do
        if ident == NV_ID and length == _NV.size:
            member_size, data_size = _NV.unpack(payload)
        elif ident == b"BC" and length == 2 and member_size is None:
            member_size = int.from_bytes(payload, "little") + 1
        pos += 4 + length
    return member_size, data_size


def build_header(mtime: int = 0, xfl: int = 0, member_size: int | None = None, data_size: int = 0) -> bytes:
    """A member header: no file name, OS 'unknown'; with the NV field when ``member_size`` is given."""
    if member_size is None:
        return MAGIC + bytes([8, 0]) + struct.pack("<IBB", mtime & 0xFFFFFFFF, xfl, 255)
    fixed = MAGIC + bytes([8, _FEXTRA]) + struct.pack("<IBB", mtime & 0xFFFFFFFF, xfl, 255)
    field = NV_ID + _NV.size.to_bytes(2, "little") + _NV.pack(member_size, data_size)
    return fixed + len(field).to_bytes(2, "little") + field


def build_trailer(crc: int, size: int) -> bytes:
    """The 8-byte member trailer: CRC-32 and size modulo 2**32."""
    return struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF)


def xfl_for_level(level: int) -> int:
    """The XFL header byte gzip writes for a compression level."""
    return 2 if level >= 9 else 4 if level <= 1 else 0


Pread = Callable[[int, int], bytes]


def scan_members(
    pread: Pread, file_size: int, start: int = 0, start_data: int = 0, name: Any = None
) -> tuple[list[tuple[int, int]], bool]:
    """Walk the headers of members that state their size, starting at byte ``start``.

    ``pread(offset, count)`` reads compressed bytes. Returns the member
    starts found as ``(compressed offset, uncompressed offset)`` pairs, the
    last one being where the walk stopped, and whether it stopped at the end
    of the file (then the last pair is ``(file_size, total data size)``).
    The walk stops at the first member without a size field, or stating a
    size past the end of the file; a file that ends inside a member header,
    or inside an empty member (the member table), raises CorruptStreamError.
    A walk from
    the start uses the member table at the file's end when there is one
    (:mod:`.gztable`): one read instead of one per member.
    """
    if start == 0:
        from .gztable import read_table

        table = read_table(pread, file_size, name)
        if table is not None:
            return table, True
    points = [(start, start_data)]
    pos, data = start, start_data
    while pos < file_size:
        probe = pread(pos, HEADER_PROBE)
        try:
            header = parse_header(probe, name)
        except CorruptStreamError:
            # not a member: trailing garbage (gzip ignores it) ends the table
            return points, False
        if header is None and pos + len(probe) >= file_size:
            raise CorruptStreamError(f"{_label(name)}: ends inside the gzip member header at byte {pos}: "
                                     "truncated file?")
        if header is None or header.member_size is None:
            return points, False
        end = pos + header.member_size
        if end > file_size and header.data_size == 0:
            # an empty member cut short: the member table after the data (gzip reports it too)
            raise CorruptStreamError(f"{_label(name)}: ends inside the gzip member at byte {pos} "
                                     f"({header.member_size} bytes stated, {file_size - pos} left): "
                                     "truncated file?")
        if header.member_size < header.length + 8 or end > file_size:
            return points, False  # not trusted: read as a stream, which reports a real truncation
        size = header.data_size
        if size is None:  # BC: the trailer's ISIZE is exact, members are < 64 KiB
            size = int.from_bytes(pread(end - 4, 4), "little")
        pos, data = end, data + size
        points.append((pos, data))
    return points, pos == file_size
