"""gzip codec: every backend reads and writes the same data; errors become CorruptStreamError."""

import gzip
import io
import os
import zlib

import numpy as np
import pytest

from nivox._codecs import gzip as nvgzip
from nivox.errors import CorruptStreamError

DATA = os.urandom(5000) * 40 + bytes(100_000) + b"end"
READERS = list(nvgzip.READERS.items())
WRITERS = list(nvgzip.WRITERS.items())


@pytest.fixture
def gz_file(tmp_path):
    path = tmp_path / "data.gz"
    path.write_bytes(gzip.compress(DATA, compresslevel=6))
    return path


@pytest.mark.parametrize(("name", "klass"), WRITERS)
def test_each_writer_round_trips(tmp_path, name, klass):
    path = tmp_path / f"{name}.gz"
    with klass(path, "wb", 6) as out:
        out.write(DATA)
    assert gzip.decompress(path.read_bytes()) == DATA
    for reader in nvgzip.READERS.values():
        with reader(path, "rb") as stream:
            assert stream.read() == DATA
    assert issubclass(klass, gzip.GzipFile)


@pytest.mark.parametrize(("name", "klass"), WRITERS)
def test_writes_are_deterministic(tmp_path, name, klass):
    blobs = []
    for stem in ("first", "a_much_longer_second_name"):
        path = tmp_path / f"{stem}.gz"
        with klass(path, "wb", 1) as out:
            out.write(DATA)
        blobs.append(path.read_bytes())
    assert blobs[0] == blobs[1]
    header = blobs[0][:10]
    assert header[3] & 0x08 == 0  # no FNAME field
    assert header[4:8] == b"\0\0\0\0"  # mtime 0


def test_open_write_and_read_use_members_and_positional_reader(tmp_path, monkeypatch):
    monkeypatch.delenv("NIVOX_GZIP_BACKEND", raising=False)  # the automatic choice of readers
    path = tmp_path / "x.gz"
    with nvgzip.open_write(path, 1, mtime=1234) as out:
        out.write(b"abc")
        assert isinstance(out, nvgzip.GzipMemberWriter)
    assert int.from_bytes(path.read_bytes()[4:8], "little") == 1234
    reader, whole = nvgzip.open_read(path), nvgzip.backends.whole_backend()
    assert isinstance(reader, nvgzip.GzipReader) and reader.read() == b"abc"
    assert nvgzip.backend_name().startswith(f"{whole}+{nvgzip.backends.stream_backend()}/")
    with open(path, "rb") as raw:  # file objects get a streaming GzipFile
        assert type(nvgzip.open_read(raw)) is next(iter(nvgzip.READERS.values()))


def test_write_to_file_object_leaves_it_open():
    target = io.BytesIO()
    with nvgzip.open_write(target, 1) as out:
        out.write(DATA)
    assert not target.closed
    assert gzip.decompress(target.getvalue()) == DATA


@pytest.mark.parametrize(("name", "klass"), READERS)
def test_readinto_and_seek(gz_file, name, klass):
    with klass(gz_file, "rb") as stream:
        buffer = bytearray(len(DATA) + 10)
        assert stream.readinto(buffer) == len(DATA)
        assert buffer[: len(DATA)] == DATA
        stream.seek(1000)
        assert stream.read(5) == DATA[1000:1005]
        stream.seek(10)  # backwards
        assert stream.read(3) == DATA[10:13] and stream.tell() == 13


@pytest.mark.parametrize(("name", "klass"), READERS)
def test_random_seeks_read_the_right_bytes(tmp_path, name, klass):
    # python-zlib-ng 1.1 fails this, which is why it only writes
    rng = np.random.default_rng(0)
    path = tmp_path / "seek.gz"
    path.write_bytes(gzip.compress(DATA, 6))
    with klass(path, "rb") as stream:
        for position, count in rng.integers(0, len(DATA), size=(25, 2)):
            stream.seek(int(position))
            assert stream.read(int(count) // 4) == DATA[position : position + count // 4]


def test_open_read_from_file_object(gz_file):
    with open(gz_file, "rb") as raw:
        assert nvgzip.open_read(raw).read() == DATA


def test_multi_member_streams_read_whole(tmp_path):
    path = tmp_path / "two.gz"
    path.write_bytes(gzip.compress(b"first ") + gzip.compress(b"second"))
    assert nvgzip.open_read(path).read() == b"first second"


@pytest.mark.parametrize(("name", "klass"), READERS)
@pytest.mark.parametrize("method", ["read", "readinto", "seek"])
def test_truncated_stream_is_corrupt_stream_error(gz_file, name, klass, method):
    blob = gz_file.read_bytes()
    gz_file.write_bytes(blob[: len(blob) // 2])
    with klass(gz_file, "rb") as stream:
        with pytest.raises(CorruptStreamError, match="truncated") as info:
            if method == "read":
                stream.read()
            elif method == "readinto":
                stream.readinto(bytearray(len(DATA)))
            else:
                stream.seek(len(DATA) - 1)
    assert str(gz_file) in str(info.value)
    assert isinstance(info.value.__cause__, EOFError)


@pytest.mark.parametrize(("name", "klass"), READERS)
def test_corrupt_stream_is_corrupt_stream_error(gz_file, name, klass):
    blob = bytearray(gz_file.read_bytes())
    blob[-8:-4] = bytes(4)  # break the CRC
    gz_file.write_bytes(bytes(blob))
    with pytest.raises(CorruptStreamError, match=str(gz_file.name)):
        klass(gz_file, "rb").read()


def test_not_gzip_is_corrupt_stream_error(tmp_path):
    path = tmp_path / "text.nii.gz"
    path.write_bytes(b"this is just text, named like a compressed image")
    with pytest.raises(CorruptStreamError, match="text.nii.gz"):
        nvgzip.open_read(path).read()


def test_real_io_errors_pass_through():
    class Failing(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            raise OSError(5, "Input/output error")

    with pytest.raises(OSError) as info:
        nvgzip.open_read(io.BufferedReader(Failing())).read()
    assert not isinstance(info.value, CorruptStreamError) and info.value.errno == 5


def test_keep_open_reader_holds_one_handle(gz_file):
    with nvgzip.open_read(gz_file, keep_open=True) as stream:
        fd = stream._fd
        assert fd is not None and os.fstat(fd)
        stream.seek(len(DATA) - 3)
        assert stream.read() == b"end"
        stream.seek(7)
        assert stream.read(4) == DATA[7:11]
    with pytest.raises(OSError):
        os.fstat(fd)


def test_isal_levels_cover_zlib_range():
    assert [nvgzip._isal_level(level) for level in range(10)] == [0, 1, 1, 1, 2, 2, 2, 3, 3, 3]


def test_deterministic_gzip_file_is_stdlib_based(tmp_path):
    path = tmp_path / "d.gz"
    with nvgzip.DeterministicGzipFile(path, "wb", 9) as out:
        out.write(DATA)
    assert zlib.decompress(path.read_bytes(), 31) == DATA
    assert issubclass(nvgzip.DeterministicGzipFile, gzip.GzipFile)
    with nvgzip.DeterministicGzipFile(path, "rb") as stream:
        assert stream.read() == DATA
