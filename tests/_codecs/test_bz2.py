"""bz2 codec: round trips, levels, errors naming the file."""

import bz2
import io
import os

import pytest

from nivox._codecs import bz2 as nvbz2
from nivox.errors import CorruptStreamError

DATA = os.urandom(3000) * 30 + b"tail"


def test_round_trip_path_and_file_object(tmp_path):
    path = tmp_path / "x.bz2"
    with nvbz2.open_write(path, 9) as out:
        out.write(DATA)
    assert bz2.decompress(path.read_bytes()) == DATA
    with nvbz2.open_read(path) as stream:
        buffer = bytearray(len(DATA))
        assert stream.readinto(buffer) == len(DATA) and buffer == DATA
        stream.seek(5)
        assert stream.read(4) == DATA[5:9]
    target = io.BytesIO()
    with nvbz2.open_write(target, 1) as out:
        out.write(DATA)
    assert not target.closed and bz2.decompress(target.getvalue()) == DATA


@pytest.mark.parametrize(("asked", "used"), [(0, 1), (1, 1), (9, 9), (12, 9), (None, 9)])
def test_levels_are_clamped_to_bz2_range(tmp_path, asked, used):
    path = tmp_path / "x.bz2"
    with nvbz2.open_write(path, asked) as out:
        out.write(b"a")
    assert path.read_bytes()[3:4] == str(used).encode()  # 'BZh<level>'


def test_truncated_and_corrupt_streams(tmp_path):
    path = tmp_path / "bad.bz2"
    blob = bz2.compress(DATA)
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(CorruptStreamError, match=r"bad\.bz2.*truncated"):
        nvbz2.open_read(path).read()
    path.write_bytes(b"BZh9 but then not bzip2 at all" * 10)
    with pytest.raises(CorruptStreamError, match=r"bad\.bz2.*corrupt"):
        nvbz2.open_read(path).read()
