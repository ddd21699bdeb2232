"""gzip container: headers with every optional field, nivox's NV field, BGZF's BC field, member walks."""

import gzip
import struct
import zlib

import pytest

from nivox._codecs import gzformat
from nivox.errors import CorruptStreamError


def member(data, *, extra=None, name=None, comment=None, hcrc=False, level=6):
    """A gzip member built by hand, with the optional header fields asked for."""
    flags = (0x04 if extra is not None else 0) | (0x08 if name else 0) | (0x10 if comment else 0)
    flags |= 0x02 if hcrc else 0
    header = b"\x1f\x8b\x08" + bytes([flags]) + struct.pack("<IBB", 12345, 0, 3)
    if extra is not None:
        header += struct.pack("<H", len(extra)) + extra
    if name:
        header += name + b"\0"
    if comment:
        header += comment + b"\0"
    if hcrc:
        header += struct.pack("<H", zlib.crc32(header) & 0xFFFF)
    body = zlib.compress(data, level, wbits=-15)
    return header + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def bgzf_member(data):
    body = zlib.compress(data, 6, wbits=-15)
    size = 18 + len(body) + 8
    extra = b"BC" + struct.pack("<HH", 2, size - 1)
    return member(data, extra=extra)


def test_parse_plain_header():
    blob = gzip.compress(b"x", mtime=99)
    header = gzformat.parse_header(blob)
    assert header.length == 10 and header.mtime == 99
    assert header.member_size is None and header.data_size is None


def test_parse_header_with_all_fields():
    blob = member(b"hello", extra=b"AB\x02\x00hi", name=b"file.nii", comment=b"a comment", hcrc=True)
    header = gzformat.parse_header(blob)
    assert gzip.decompress(blob) == b"hello"
    assert zlib.decompressobj(-15).decompress(blob[header.length :]) == b"hello"
    # too short a prefix asks for more rather than failing
    for cut in (3, 11, 15, len(blob[: header.length]) - 1):
        assert gzformat.parse_header(blob[:cut]) is None


def test_nv_header_round_trip():
    header = gzformat.build_header(mtime=7, xfl=4, member_size=123456, data_size=1 << 40)
    assert len(header) == gzformat.NV_HEADER_SIZE
    parsed = gzformat.parse_header(header)
    assert (parsed.length, parsed.member_size, parsed.data_size, parsed.mtime) == (len(header), 123456, 1 << 40, 7)
    plain = gzformat.build_header()
    assert plain[3] == 0 and plain[4:8] == bytes(4) and plain[9] == 255


def test_bc_field_gives_member_size():
    blob = bgzf_member(b"abc" * 100)
    assert gzformat.parse_header(blob).member_size == len(blob)


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"PK\x03\x04" + bytes(20), "not a gzip file"),
        (b"\x1f\x8b\x07\x00" + bytes(20), "compression method 7"),
        (b"\x1f\x8b\x08\xe0" + bytes(20), "reserved flag"),
    ],
)
def test_bad_headers_are_corrupt_stream_errors(blob, message):
    with pytest.raises(CorruptStreamError, match=message) as info:
        gzformat.parse_header(blob, name="img.nii.gz")
    assert "img.nii.gz" in str(info.value)


def _pread(blob):
    return lambda offset, count: blob[offset : offset + count]


def test_scan_nv_members():
    parts = [b"a" * 1000, b"b" * 500, b""]
    blob = b""
    for data in parts:
        body = zlib.compress(data, 6, wbits=-15)
        blob += gzformat.build_header(member_size=gzformat.NV_HEADER_SIZE + len(body) + 8, data_size=len(data))
        blob += body + gzformat.build_trailer(zlib.crc32(data), len(data))
    points, complete = gzformat.scan_members(_pread(blob), len(blob))
    assert complete and [u for _, u in points] == [0, 1000, 1500, 1500]
    assert points[-1][0] == len(blob)
    assert gzip.decompress(blob) == b"".join(parts)


def test_scan_bgzf_members():
    blob = bgzf_member(b"x" * 700) + bgzf_member(b"y" * 300)
    points, complete = gzformat.scan_members(_pread(blob), len(blob))
    assert complete and [u for _, u in points] == [0, 700, 1000]


def test_scan_stops_at_member_without_size_and_at_garbage():
    first = bgzf_member(b"x" * 700)
    points, complete = gzformat.scan_members(_pread(first + gzip.compress(b"zz")), len(first) + 23)
    assert not complete and points == [(0, 0), (len(first), 700)]
    blob = first + b"\0" * 30
    points, complete = gzformat.scan_members(_pread(blob), len(blob))
    assert not complete and points == [(0, 0), (len(first), 700)]
    # a size field pointing past the end is not trusted
    points, complete = gzformat.scan_members(_pread(first[:-5]), len(first) - 5)
    assert points == [(0, 0)] and not complete


def test_xfl_for_level():
    assert [gzformat.xfl_for_level(level) for level in (0, 1, 6, 9)] == [4, 4, 0, 2]
