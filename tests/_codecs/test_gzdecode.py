"""Decoding whole gzip members (nivox._codecs.gzdecode)."""

import gzip

import numpy as np
import pytest

from nivox._codecs import libdeflate
from nivox._codecs.gzdecode import decode_member, decode_member_into
from nivox.errors import CorruptStreamError

DATA = np.arange(300_000, dtype=np.uint32).astype("<u4").tobytes()
BLOB = gzip.compress(DATA, 6, mtime=0)


def _pread(blob):
    return lambda at, count: blob[at : at + count]


def _decoders():
    yield "bytes", lambda blob, size: decode_member(_pread(blob), 0, len(blob), size, "m.gz")
    if libdeflate.available():

        def into(blob, size):
            out = bytearray(size)
            decode_member_into(_pread(blob), 0, len(blob), memoryview(out), "m.gz")
            return bytes(out)

        yield "into", into


@pytest.mark.parametrize("name, decode", list(_decoders()))
def test_whole_member(name, decode):
    assert decode(BLOB, len(DATA)) == DATA


@pytest.mark.parametrize("name, decode", list(_decoders()))
@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda b: b[:-8] + bytes(4) + b[-4:], "CRC"),  # wrong CRC
        (lambda b: b[:10], "shorter than its header|truncated"),  # cut inside
        (lambda b: b[:200] + b"\xff" * 50 + b[250:], "m.gz"),  # garbage in the stream
    ],
)
def test_damage_is_a_corrupt_stream_naming_the_file(name, decode, damage, message):
    with pytest.raises(CorruptStreamError, match=message) as info:
        decode(damage(BLOB), len(DATA))
    assert "m.gz" in str(info.value)


@pytest.mark.parametrize("name, decode", list(_decoders()))
def test_member_holding_another_size_is_refused(name, decode):
    with pytest.raises(CorruptStreamError):
        decode(BLOB, len(DATA) - 1000)
