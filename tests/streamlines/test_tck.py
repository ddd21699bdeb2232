"""TCK reading and writing: the one-pass reader, the streaming reader, and bad files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

import nivox.streamlines as nvs
from nivox.errors import DataError, HeaderError, NivoxError
from nivox.streamlines import tck as tckmod
from nivox.streamlines.tck import TckFile


def _tck_bytes(streamlines: list[np.ndarray], big_endian: bool = False, end: bool = True) -> bytes:
    dt = ">f4" if big_endian else "<f4"
    body = b"".join(np.r_[s, [[np.nan] * 3]].astype(dt).tobytes() for s in streamlines)
    if end:
        body += np.full((1, 3), np.inf, dt).tobytes()
    head = f"mrtrix tracks\ncount: {len(streamlines)}\ndatatype: Float32{'BE' if big_endian else 'LE'}\n"
    offset = len(head) + len("file: . XX\nEND\n")
    return (head + f"file: . {offset}\nEND\n").encode() + body


def _streamlines(rng: np.random.Generator, lengths: list[int]) -> list[np.ndarray]:
    return [rng.standard_normal((n, 3)).astype(np.float32) for n in lengths]


@pytest.mark.parametrize("big_endian", [False, True])
def test_one_pass_reader_matches_streaming_reader(big_endian: bool, monkeypatch) -> None:
    rng = np.random.default_rng(0)
    sl = _streamlines(rng, [1, 5, 2, 30, 1, 7])
    data = _tck_bytes(sl, big_endian)
    monkeypatch.setattr(tckmod, "_BLOCK_ROWS", 4)  # many blocks, delimiters across block edges
    eager = TckFile.load(io.BytesIO(data))
    hdr = TckFile._read_header(io.BytesIO(data))
    streamed = list(TckFile._read(io.BytesIO(data), hdr, buffer_size=30 / 2**20))
    assert len(eager.streamlines) == len(streamed) == len(sl)
    for a, b, c in zip(eager.streamlines, streamed, sl):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, c)
    # one array for all points, elements back to back
    seq = eager.streamlines
    assert seq._data.shape == (sum(map(len, sl)), 3) and seq._data.dtype == np.float32
    np.testing.assert_array_equal(seq._offsets, np.r_[0, np.cumsum([len(s) for s in sl])[:-1]])
    assert eager.header["nb_streamlines"] == len(sl)


@pytest.mark.parametrize("big_endian", [False, True])
@pytest.mark.parametrize("block_rows", [1, 3, 7, 1 << 16])
@pytest.mark.parametrize("cpus", [1, 2, 4, 5, 8])
def test_file_on_disk_read_block_by_block(tmp_path: Path, big_endian: bool, block_rows: int, cpus: int,
                                          monkeypatch) -> None:
    # the full reader copies each block's points straight to their place, a part of the file per
    # thread: every block size and thread count, delimiters on block and part edges, and the end
    # marker alone in the last block give the same points
    import nivox._threads

    rng = np.random.default_rng(3)
    sl = _streamlines(rng, [1, 2, 6, 1, 13, 3, 1, 1, 4, 2, 9])
    path = tmp_path / "x.tck"
    path.write_bytes(_tck_bytes(sl, big_endian))
    monkeypatch.setattr(tckmod, "_BLOCK_ROWS", block_rows)
    monkeypatch.setattr(nivox._threads, "cpu_threads", lambda limit=8: cpus)
    n_rows = (path.stat().st_size - TckFile._read_header(str(path))["_offset_data"]) // 12
    with open(path, "rb") as f:
        n_threads = tckmod._threads_for(f, n_rows)
    if cpus < tckmod._MIN_CPUS or block_rows == 1 << 16:
        assert n_threads == 1
    elif block_rows <= 3:
        assert 1 < n_threads <= min(cpus, tckmod._MAX_THREADS)
    with open(path, "rb") as f:  # a file object of a plain file is read on threads too
        np.testing.assert_array_equal(nvs.load(f).streamlines._data, np.concatenate(sl))
    seq = nvs.load(str(path)).streamlines
    assert seq._data.shape == (sum(map(len, sl)), 3) and seq._data.dtype == np.float32
    assert seq._data.flags.c_contiguous and seq._data.flags.writeable
    np.testing.assert_array_equal(seq._data, np.concatenate(sl))
    np.testing.assert_array_equal(seq._lengths, [len(s) for s in sl])


def test_no_streamlines_is_just_the_end_marker(tmp_path: Path) -> None:
    path = tmp_path / "empty.tck"
    path.write_bytes(_tck_bytes([]))
    f = nvs.load(str(path))
    assert len(f.streamlines) == 0 and f.header["nb_streamlines"] == 0


def test_consecutive_delimiters_give_no_empty_streamline() -> None:
    sl = [np.ones((2, 3), np.float32)]
    data = _tck_bytes(sl)
    head, body = data.split(b"END\n", 1)
    body = np.full((1, 3), np.nan, "<f4").tobytes() + body  # an empty streamline first
    f = TckFile.load(io.BytesIO(head + b"END\n" + body))
    assert [len(s) for s in f.streamlines] == [2]


def test_partial_nan_rows_are_points() -> None:
    pts = np.array([[np.nan, 1, 2], [3, 4, 5]], np.float32)
    f = TckFile.load(io.BytesIO(_tck_bytes([pts])))
    np.testing.assert_array_equal(f.streamlines[0], pts)


def test_non_seekable_file_object() -> None:
    sl = _streamlines(np.random.default_rng(1), [3, 4])
    data = _tck_bytes(sl)

    class Stream(io.RawIOBase):
        def __init__(self) -> None:
            self.inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, b):  # type: ignore[override]
            return self.inner.readinto(b)

        def seek(self, *args):  # header parsing seeks back to the start only
            return self.inner.seek(*args)

        def tell(self) -> int:
            return self.inner.tell()

    f = TckFile.load(Stream())
    for a, b in zip(f.streamlines, sl):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cut", [
    lambda d: d[:-12],                 # no end marker
    lambda d: d[:-24] + d[-12:],      # last delimiter missing
    lambda d: d[:-5],                  # ends inside a triplet
    lambda d: d + np.ones((1, 3), "<f4").tobytes(),  # points after the end marker
])
@pytest.mark.parametrize("lazy", [False, True])
def test_bad_data_raise_data_error_naming_the_file(tmp_path: Path, cut, lazy: bool) -> None:
    data = cut(_tck_bytes(_streamlines(np.random.default_rng(2), [2, 3])))
    path = tmp_path / "bad.tck"
    path.write_bytes(data)
    with pytest.raises(DataError, match="bad.tck"):
        f = nvs.load(str(path), lazy_load=lazy)
        list(f.streamlines)


@pytest.mark.parametrize("text,error", [
    (b"mrtrix tracks\ncount: 1\ndatatype: Int32LE\nfile: . 60\nEND\n", HeaderError),
    (b"mrtrix tracks\ncount: 1\ndatatype: Float32LE\nfile: other.dat 60\nEND\n", HeaderError),
    (b"mrtrix tracks\ncount: 1\ndatatype: Float32LE\nfile: . -4\nEND\n", HeaderError),
    (b"mrtrix tracks\ncount: 1\ndatatype: Float32LE\nfile: . abc\nEND\n", HeaderError),
    (b"mrtrix tracks\ncount: 1\ndatatype: Float32LE\nfile: . 62\n", HeaderError),
    (b"mrtrix tracks\ncount: 1\ndatatype: Float32LE\nfile: . 9999\nEND\n", DataError),
])
def test_bad_headers(tmp_path: Path, text: bytes, error: type) -> None:
    path = tmp_path / "odd.tck"
    path.write_bytes(text + np.full((1, 3), np.inf, "<f4").tobytes())
    with pytest.raises(error, match="odd.tck"):
        nvs.load(str(path))


def test_header_without_end_is_not_read_forever(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(tckmod, "MAX_HEADER_BYTES", 1000)
    path = tmp_path / "long.tck"
    path.write_bytes(b"mrtrix tracks\n" + b"x: y\n" * 10000)
    with pytest.raises(HeaderError, match="long.tck"):
        nvs.load(str(path))


def test_save_writes_one_array_per_block(tmp_path: Path, monkeypatch) -> None:
    """Blocks of streamlines are written whole; the result does not depend on block size."""
    rng = np.random.default_rng(3)
    sl = _streamlines(rng, [1, 9, 2, 4, 1, 1, 6])
    t = nvs.Tractogram(sl, affine_to_rasmm=np.eye(4))
    nvs.save(t, str(tmp_path / "a.tck"))
    import nivox.streamlines.array_sequence as aseq

    monkeypatch.setattr(aseq, "_CHUNK_ROWS", 3)
    nvs.save(t, str(tmp_path / "b.tck"))
    assert (tmp_path / "a.tck").read_bytes() == (tmp_path / "b.tck").read_bytes()
    back = nvs.load(str(tmp_path / "b.tck"))
    for a, b in zip(back.streamlines, sl):
        np.testing.assert_array_equal(a, b)


def test_save_transforms_to_rasmm(tmp_path: Path) -> None:
    aff = np.diag([2.0, 3.0, 4.0, 1.0])
    t = nvs.Tractogram([np.array([[1, 1, 1], [2, 2, 2]], np.float32)], affine_to_rasmm=aff)
    nvs.save(t, str(tmp_path / "a.tck"))
    np.testing.assert_allclose(nvs.load(str(tmp_path / "a.tck")).streamlines[0], [[2, 3, 4], [4, 6, 8]])


def test_failed_save_leaves_old_file(tmp_path: Path) -> None:
    path = tmp_path / "a.tck"
    nvs.save(nvs.Tractogram([np.ones((2, 3))], affine_to_rasmm=np.eye(4)), str(path))
    before = path.read_bytes()
    with pytest.raises(NivoxError):
        nvs.save(nvs.TckFile(nvs.Tractogram([np.ones((2, 3))], affine_to_rasmm=np.eye(4)),
                             header={"magic_number": b"mrtrix tracks", "bad": "a:b"}), str(path))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.tck"]


@pytest.mark.parametrize("lazy", [False, True])
def test_wrong_count_warns_and_the_data_win(tmp_path: Path, lazy: bool) -> None:
    from nivox.errors import HeaderWarning

    data = _tck_bytes(_streamlines(np.random.default_rng(4), [2, 3])).replace(b"count: 2", b"count: 9")
    path = tmp_path / "cut.tck"
    path.write_bytes(data)
    with pytest.warns(HeaderWarning, match="cut.tck.*count is 9.*holds 2"):
        f = nvs.load(str(path), lazy_load=lazy)
        assert len([s for s in f.streamlines]) == 2


def test_error_on_a_reading_thread_reaches_the_caller(tmp_path: Path, monkeypatch) -> None:
    import nivox._threads

    sl = _streamlines(np.random.default_rng(4), [5, 6, 7, 8])
    path = tmp_path / "x.tck"
    path.write_bytes(_tck_bytes(sl))
    monkeypatch.setattr(tckmod, "_BLOCK_ROWS", 1)
    monkeypatch.setattr(nivox._threads, "cpu_threads", lambda limit=8: 4)
    real = tckmod._pread_into
    header_end = TckFile._read_header(str(path))["_offset_data"]

    def failing(fd, block, at, name):
        if at == header_end + 12 * 7:  # block 7, read by the fourth thread
            raise DataError(f"{name}: simulated read failure")
        return real(fd, block, at, name)

    monkeypatch.setattr(tckmod, "_pread_into", failing)
    with pytest.raises(DataError, match="simulated"):  # raised, and the other thread does not hang
        nvs.load(str(path))
