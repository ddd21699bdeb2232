"""zstd codec: round trips, frames, truncation and corruption, missing package."""

import io
import os
import sys

import pytest

zstandard = pytest.importorskip("zstandard")

from nivox import _codecs  # noqa: E402
from nivox._codecs import zstd as nvzstd  # noqa: E402
from nivox.errors import CorruptStreamError, MissingDependencyError  # noqa: E402

DATA = os.urandom(2000) * 200 + bytes(300_000) + b"end"


@pytest.fixture
def zst_file(tmp_path):
    path = tmp_path / "data.zst"
    with nvzstd.open_write(path, 3) as out:
        out.write(DATA)
    return path


def test_round_trip(zst_file):
    assert zstandard.ZstdDecompressor().decompressobj().decompress(zst_file.read_bytes()) == DATA
    with nvzstd.open_read(zst_file) as stream:
        assert stream.read() == DATA


def test_readinto_fills_large_buffers(zst_file):
    buffer = bytearray(len(DATA) + 5)
    with nvzstd.open_read(zst_file) as stream:
        assert stream.readinto(buffer) == len(DATA)
    assert buffer[: len(DATA)] == DATA


def test_seek_forward_back_and_tell(zst_file):
    with nvzstd.open_read(zst_file) as stream:
        stream.seek(len(DATA) - 3)
        assert stream.read() == b"end" and stream.tell() == len(DATA)
        stream.seek(10)
        assert stream.read(5) == DATA[10:15]
        stream.seek(2, io.SEEK_CUR)
        assert stream.tell() == 17 and stream.read(1) == DATA[17:18]


def test_file_object_source_is_left_open(zst_file):
    with open(zst_file, "rb") as raw:
        with nvzstd.open_read(raw) as stream:
            assert stream.read(4) == DATA[:4]
        assert not raw.closed
    target = io.BytesIO()
    with nvzstd.open_write(target, 1) as out:
        out.write(b"abc")
    assert not target.closed


def test_concatenated_frames_read_as_one_stream(tmp_path):
    compressor = zstandard.ZstdCompressor()
    path = tmp_path / "frames.zst"
    path.write_bytes(compressor.compress(b"first ") + compressor.compress(b"second"))
    assert nvzstd.open_read(path).read() == b"first second"


def test_truncated_frame_is_an_error_not_a_short_read(zst_file):
    blob = zst_file.read_bytes()
    zst_file.write_bytes(blob[: len(blob) - 40])
    with pytest.raises(CorruptStreamError, match=r"data\.zst.*truncated"):
        nvzstd.open_read(zst_file).read()


def test_corruption_is_detected_by_checksum(zst_file):
    blob = bytearray(zst_file.read_bytes())
    blob[len(blob) // 2 : len(blob) // 2 + 8] = bytes(8)
    zst_file.write_bytes(bytes(blob))
    with pytest.raises(CorruptStreamError, match=r"data\.zst"):
        nvzstd.open_read(zst_file).read()


def test_empty_file_reads_empty(tmp_path):
    path = tmp_path / "empty.zst"
    path.write_bytes(b"")
    assert nvzstd.open_read(path).read() == b""


def test_missing_zstandard_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "zstandard", None)  # makes the import fail
    assert not nvzstd.available()
    with pytest.raises(MissingDependencyError, match=r"pip install nivox\[zstd\]"):
        _codecs.by_name("zstd").open_read("anything.zst")


def test_writer_position_counts_uncompressed_bytes(tmp_path):
    path = tmp_path / "pad.zst"
    with nvzstd.open_write(path, 3) as out:
        assert out.write(b"header") == 6 and out.tell() == 6
        out.seek(16)  # forward seeks pad with zeros, as GzipFile does
        out.write(memoryview(b"data"))
        assert out.tell() == 20
        with pytest.raises(OSError, match="negative seek"):
            out.seek(3)
    assert nvzstd.open_read(path).read() == b"header" + bytes(10) + b"data"
