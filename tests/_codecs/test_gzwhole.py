"""Decompressing one-member gzip files whole (nivox._codecs.gzwhole)."""

import gzip
import os
import zlib

import numpy as np
import pytest

from nivox._codecs import deflate_split, gzwhole, libdeflate
from nivox._codecs.gzformat import parse_header

pytestmark = pytest.mark.skipif(not libdeflate.available(), reason="needs libdeflate (the fast extra)")

_rng = np.random.default_rng(5)
DATA = (900 + _rng.normal(0, 25, 1_500_000)).astype("<i2").tobytes()  # 3 MB, noisy like a scan


@pytest.fixture
def stream(tmp_path):
    """The WholeStream of a one-member file holding DATA; closed after the test."""
    path = tmp_path / "one.gz"
    blob = gzip.compress(DATA, 1)
    path.write_bytes(blob)
    fd = os.open(path, os.O_RDONLY)
    yield gzwhole.WholeStream(fd, parse_header(blob[:64]).length, len(blob) - 8, zlib.crc32(DATA))
    os.close(fd)


@pytest.mark.parametrize("min_part", [1 << 20, 1 << 30])  # split in parts, or one call
@pytest.mark.parametrize("lend", [False, True])
def test_inflate_into_fills_the_callers_memory(stream, monkeypatch, min_part, lend):
    monkeypatch.setattr(deflate_split, "MIN_PART", min_part)
    dest = np.zeros(len(DATA), dtype=np.uint8)
    room = np.zeros(len(DATA), dtype=np.uint8) if lend else None
    assert gzwhole.inflate_into(stream, dest, room, threads=2)
    assert dest.tobytes() == DATA


@pytest.mark.parametrize(("min_part", "count"), [(1 << 20, 2), (1 << 30, 1)])
def test_inflate_in_parts_leaves_the_parts_in_their_own_memory(stream, monkeypatch, min_part, count):
    monkeypatch.setattr(deflate_split, "MIN_PART", min_part)
    parts = gzwhole.inflate_in_parts(stream, len(DATA), threads=2)
    assert parts is not None and len(parts) == count
    assert b"".join(data.tobytes() for _, data in parts) == DATA


def test_a_wrong_crc_or_size_decides_nothing(stream, monkeypatch):
    monkeypatch.setattr(deflate_split, "MIN_PART", 1 << 30)
    wrong = stream._replace(crc=stream.crc ^ 1)
    assert not gzwhole.inflate_into(wrong, np.zeros(len(DATA), dtype=np.uint8), None, threads=2)
    assert gzwhole.inflate_in_parts(wrong, len(DATA), threads=2) is None
    assert gzwhole.inflate_in_parts(stream, len(DATA) + 1, threads=2) is None
