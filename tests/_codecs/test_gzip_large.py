"""A gzip file holding more than 4 GiB (its size trailer wraps), made from a few MiB of compressed zeros."""

import os
import struct
import zlib

import pytest

from nivox._codecs import backends
from nivox._codecs import gzip as nvgzip
from nivox._codecs.gzformat import build_header

MIB = 1 << 20
BLOCKS = 4100  # MiB of zeros: past 2**32 bytes
MARKER = b"the end, past four gibibytes"


def _write_huge(path):
    """One member: BLOCKS identical fully flushed blocks of zeros, then MARKER."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    zeros = bytes(MIB)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert block == again  # a full flush resets the state, so the block repeats
    tail = compressor.compress(MARKER) + compressor.flush()
    crc = 0
    with open(path, "wb") as out:
        out.write(build_header())
        for _ in range(BLOCKS + 1):
            out.write(block)
            crc = zlib.crc32(zeros, crc)
        out.write(tail)
        total = (BLOCKS + 1) * MIB + len(MARKER)
        out.write(struct.pack("<II", zlib.crc32(MARKER, crc), total & 0xFFFFFFFF))
    return total


@pytest.mark.slow
def test_reads_past_four_gib_and_knows_the_size(tmp_path, monkeypatch):
    # the streaming decoder (zlib-ng or isal: about 3 GB/s of zeros; the standard
    # library's zlib manages 0.25 GB/s, too slow for a test, and takes the same path)
    monkeypatch.setattr(nvgzip, "USE_INDEXED_GZIP", False)
    path = tmp_path / "huge.gz"
    total = _write_huge(path)
    assert os.path.getsize(path) < 8 * MIB and total > 1 << 32
    with backends.use_backend("auto"), nvgzip.open_read(path) as reader:
        buffer = bytearray(len(MARKER) + 10)
        assert reader.readinto_at(buffer, total - len(buffer)) == len(buffer)
        assert buffer == bytes(10) + MARKER  # CRC checked on the way, wrapped size not trusted
        assert reader.seek(0, os.SEEK_END) == total
        assert reader.readinto_at(bytearray(5), total) == 0
