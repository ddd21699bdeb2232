"""gzip member writer: deterministic, independent of threads, read as one file by every gzip reader."""

import gzip
import io
import os
import shutil
import subprocess
import zlib

import numpy as np
import pytest

from nivox._codecs import backends, gzformat, gzwrite
from nivox._codecs import gzip as nvgzip
from nivox._codecs.gzwrite import GzipMemberWriter

_rng = np.random.default_rng(3)
# image-like: smooth values plus noise, and a zero background
_volume = np.zeros((64, 64, 48), np.int16)
_volume[8:56, 8:56, 6:42] = 1000 + _rng.normal(0, 30, (48, 48, 36))
DATA = np.tile(_volume, 3).tobytes()


def _write(target, data=DATA, pieces=None, **kwargs):
    kwargs.setdefault("member_size", 100_000)
    with GzipMemberWriter(target, kwargs.pop("level", 6), **kwargs) as out:
        if pieces is None:
            out.write(data)
        else:
            for start in range(0, len(data), pieces):
                out.write(memoryview(data)[start : start + pieces])


def _bytes(**kwargs):
    target = io.BytesIO()
    _write(target, **kwargs)
    return target.getvalue()


def test_same_bytes_whatever_threads_and_write_sizes(backend):
    reference = _bytes(threads=1)
    assert _bytes(threads=2) == reference
    assert _bytes(threads=5, pieces=7777) == reference
    assert _bytes(threads=2, pieces=100_000) == reference
    assert gzip.decompress(reference) == DATA


def test_members_state_their_sizes(tmp_path):
    path = tmp_path / "m.gz"
    _write(path, threads=2)
    blob = path.read_bytes()
    points, complete = gzformat.scan_members(lambda at, n: blob[at : at + n], len(blob))
    assert complete
    assert [u for _, u in points] == [*range(0, len(DATA), 100_000), len(DATA)]
    header = gzformat.parse_header(blob)
    assert header.mtime == 0 and blob[3] & 0x08 == 0  # no file name, no time


def test_python_gzip_zlib_and_indexed_gzip_read_it_whole(tmp_path):
    path = tmp_path / "m.gz"
    _write(path, threads=2)
    assert gzip.decompress(path.read_bytes()) == DATA
    with gzip.open(path) as stream:
        stream.seek(250_000)
        assert stream.read(10) == DATA[250_000:250_010]
    assert zlib.decompressobj(47).decompress(path.read_bytes())[:100_000] == DATA[:100_000]
    indexed_gzip = pytest.importorskip("indexed_gzip")
    with indexed_gzip.IndexedGzipFile(str(path)) as stream:
        stream.seek(len(DATA) - 10)
        assert stream.read() == DATA[-10:]


@pytest.mark.parametrize("command", [["gzip", "-dc"], ["zcat"]])
def test_command_line_gzip_reads_it_whole(tmp_path, command):
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} is not installed")
    path = tmp_path / "m.gz"
    _write(path, threads=2)
    result = subprocess.run([*command, str(path)], capture_output=True, check=True)
    assert result.stdout == DATA and not result.stderr


def test_size_is_within_one_percent_of_a_single_stream(backend):
    for level in (1, 6):
        members = len(_bytes(level=level, member_size=1 << 20))
        single = len(gzformat.build_header()) + len(backends.deflate_whole(DATA, level)) + 8
        assert members <= single * 1.01, (level, members, single)


def test_forward_seeks_write_zeros_and_backward_seeks_fail(tmp_path):
    path = tmp_path / "s.gz"
    with GzipMemberWriter(path, 1, member_size=1000) as out:
        out.write(b"head")
        assert out.seek(2500) == 2500 and out.tell() == 2500
        out.seek(0, os.SEEK_CUR)
        out.write(b"tail")
        with pytest.raises(OSError):
            out.seek(10)
        with pytest.raises(OSError):
            out.seek(0, os.SEEK_END)
    assert gzip.decompress(path.read_bytes()) == b"head" + bytes(2496) + b"tail"


def test_empty_and_level_zero(tmp_path):
    empty = tmp_path / "e.gz"
    _write(empty, data=b"")
    assert gzip.decompress(empty.read_bytes()) == b""
    assert nvgzip.open_read(empty).read() == b""
    stored = _bytes(level=0)
    assert gzip.decompress(stored) == DATA and len(stored) > len(DATA)


def test_writer_to_file_object_leaves_it_open_and_stores_mtime():
    target = io.BytesIO()
    _write(target, mtime=1234)
    assert not target.closed
    assert gzformat.parse_header(target.getvalue()).mtime == 1234


def test_writes_after_close_fail(tmp_path):
    out = GzipMemberWriter(tmp_path / "c.gz", 1)
    out.close()
    out.close()  # twice is fine
    with pytest.raises(ValueError):
        out.write(b"x")
    with pytest.raises(ValueError, match="member_size"):
        GzipMemberWriter(io.BytesIO(), 1, member_size=0)


def test_open_write_follows_layout(tmp_path, monkeypatch):
    monkeypatch.setattr(nvgzip, "MEMBER_SIZE", 50_000)
    with nvgzip.open_write(tmp_path / "m.gz", 1) as out:
        assert isinstance(out, GzipMemberWriter)
        out.write(DATA)
    assert nvgzip.open_read(tmp_path / "m.gz").read() == DATA
    monkeypatch.setattr(nvgzip, "LAYOUT", "single")
    with nvgzip.open_write(tmp_path / "s.gz", 1) as out:
        assert isinstance(out, gzip.GzipFile)
        out.write(DATA)
    blob = (tmp_path / "s.gz").read_bytes()
    assert gzip.decompress(blob) == DATA and gzformat.parse_header(blob).member_size is None
    monkeypatch.setattr(nvgzip, "LAYOUT", "zip")
    with pytest.raises(ValueError, match="LAYOUT"):
        nvgzip.open_write(tmp_path / "x.gz", 1)


def _record_chunks(monkeypatch):
    seen = []
    real = gzwrite.compress_member

    def compress_member(chunk, *args):
        seen.append(chunk)
        return real(chunk, *args)

    monkeypatch.setattr(gzwrite, "compress_member", compress_member)
    return seen


def test_writes_compress_in_place_and_release_the_buffer(monkeypatch):
    seen = _record_chunks(monkeypatch)
    reference = _bytes(threads=1, member_size=10_000)
    buffer = bytearray(DATA)
    target = io.BytesIO()
    with GzipMemberWriter(target, 6, member_size=10_000, threads=2) as out:
        out.write(b"")
        seen.clear()
        out.write(buffer)
        buffer[:] = bytes(len(buffer))  # the caller reuses its buffer once write returns
    # members cut from the caller's memory, but for the last one per thread (copies)
    # and the partial one left at the end
    in_place = [isinstance(c, memoryview) and c.obj is buffer for c in seen]
    assert sorted(in_place) == [False] * 3 + [True] * (len(DATA) // 10_000 - 2)
    assert target.getvalue() == reference
    assert gzip.decompress(target.getvalue()) == DATA


def test_one_thread_never_copies(monkeypatch):
    seen = _record_chunks(monkeypatch)
    with GzipMemberWriter(io.BytesIO(), 1, member_size=10_000, threads=1) as out:
        out.write(DATA)
        assert seen and all(isinstance(c, memoryview) for c in seen)


def test_non_contiguous_input_is_written_in_memory_order():
    values = np.arange(40_000, dtype=np.int32)[::2]
    target = io.BytesIO()
    with GzipMemberWriter(target, 1, member_size=4096, threads=2) as out:
        assert out.write(values) == values.nbytes
    assert gzip.decompress(target.getvalue()) == values.tobytes()


def test_unbuffered_targets_get_every_byte():
    class ShortWrites(io.BytesIO):
        def write(self, buffer):  # like an unbuffered file: at most 1000 bytes a call
            return super().write(memoryview(buffer)[:1000])

    target = ShortWrites()
    with GzipMemberWriter(target, 1, member_size=50_000, threads=2) as out:
        out.write(DATA)
    assert gzip.decompress(target.getvalue()) == DATA
