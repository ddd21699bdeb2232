"""gzip reads by position: every layout and backend gives the bytes a full decompression gives."""

import functools
import gzip
import os
import struct
import threading
import zlib

import numpy as np
import pytest

from nivox._codecs import backends, gzfile, gzread
from nivox._codecs import gzip as nvgzip
from nivox._codecs.gzindex import CACHE, file_key
from nivox._codecs.gzwrite import GzipMemberWriter
from nivox.errors import CorruptStreamError, NivoxError

from test_gzformat import bgzf_member, member  # a sibling module (pytest puts this folder on sys.path)

_rng = np.random.default_rng(42)
DATA = (
    (_rng.normal(0, 40, 300_000)).astype("<i2").tobytes()
    + bytes(400_000)
    + (np.arange(200_000) % 251).astype(np.uint8).tobytes()
)


def _members(data, size):
    import io

    target = io.BytesIO()
    with GzipMemberWriter(target, 6, member_size=size, threads=1) as out:
        out.write(data)
    return target.getvalue()


def _wrong_isize(blob):
    return blob[:-4] + struct.pack("<I", (len(DATA) + 12345) & 0xFFFFFFFF)


LAYOUTS = {
    "single": lambda: gzip.compress(DATA, 6, mtime=0),
    "members": lambda: _members(DATA, 256 << 10),
    "concatenated": lambda: gzip.compress(DATA[:500_001], 1) + gzip.compress(DATA[500_001:], 9),
    "fields": lambda: member(DATA, extra=b"XY\x03\x00abc", name=b"x.nii", comment=b"made by hand", hcrc=True),
    "bgzf": lambda: b"".join(bgzf_member(DATA[i : i + 65280]) for i in range(0, len(DATA), 65280)),
    "wrong_isize": lambda: _wrong_isize(gzip.compress(DATA, 6)),
    "trailing_zeros": lambda: gzip.compress(DATA, 6) + bytes(700),
}


@functools.cache
def _blob(layout):
    return LAYOUTS[layout]()


@pytest.fixture(params=sorted(LAYOUTS))
def gz(request, tmp_path):
    path = tmp_path / f"{request.param}.nii.gz"
    path.write_bytes(_blob(request.param))
    return path


def test_layouts_are_what_python_gzip_reads(gz):
    blob = gz.read_bytes()
    if "wrong_isize" in gz.name:
        with pytest.raises(gzip.BadGzipFile, match="length"):
            gzip.decompress(blob)  # Python's gzip refuses; nivox trusts the CRC and the header
        return
    assert gzip.decompress(blob[:-700] if "trailing" in gz.name else blob) == DATA


def test_random_reads_match_full_decompression(gz, backend):
    rng = np.random.default_rng(len(gz.name))
    with nvgzip.open_read(gz) as reader:
        for position, count in rng.integers(0, len(DATA) + 100, size=(25, 2)):
            count = int(count) // 3
            buffer = bytearray(count)
            got = reader.readinto_at(buffer, int(position))
            assert bytes(buffer[:got]) == DATA[position : position + count]
        reader.seek(123)
        assert reader.read(1000) == DATA[123:1123] and reader.tell() == 1123
        assert reader.seek(0, os.SEEK_END) == len(DATA)
        reader.seek(-10, os.SEEK_CUR)
        assert reader.read() == DATA[-10:]


def test_whole_read(gz, backend):
    with nvgzip.open_read(gz) as reader:
        assert reader.read() == DATA
    buffer = bytearray(len(DATA) - 352)
    assert nvgzip.open_read(gz).readinto_at(buffer, 352) == len(buffer) and buffer == DATA[352:]


def test_reading_volumes_in_order_decompresses_once(tmp_path, inflated):
    path = tmp_path / "single.gz"
    path.write_bytes(gzip.compress(DATA, 6))
    volume = 97_531
    reader = nvgzip.open_read(path)
    assert reader.read(352) == DATA[:352]  # a header read first, as loading does
    for start in range(352, len(DATA), volume):
        fresh = nvgzip.open_read(path)  # each read on a new reader, as proxies without kept files do
        buffer = bytearray(min(volume, len(DATA) - start))
        assert fresh.readinto_at(buffer, start) == len(buffer) and buffer == DATA[start : start + len(buffer)]
    # the head is decoded once apart (one byte more, to know the member goes on);
    # the first volume's decoder starts at 0 again, through the header
    assert sum(inflated) == (gzread._HEAD + 1) + len(DATA)


def test_reads_at_the_start_of_a_stream_share_one_decoded_head(tmp_path, monkeypatch):
    path = tmp_path / "single.nii.gz"
    path.write_bytes(gzip.compress(DATA, 6))
    started = []
    real = backends.inflater
    monkeypatch.setattr(backends, "inflater", lambda copyable=False: started.append(1) or real(copyable))
    # what loading an image reads: a sniff, the header, the extension flag; then another load
    for position, count in [(0, 1024), (0, 348), (348, 4), (0, 1024), (100, gzread._HEAD - 100)]:
        buffer = bytearray(count)
        assert nvgzip.open_read(path).readinto_at(buffer, position) == count
        assert buffer == DATA[position : position + count]
    assert len(started) == 1
    buffer = bytearray(10)  # past the head: a streaming decoder
    assert nvgzip.open_read(path).readinto_at(buffer, gzread._HEAD - 5) == 10
    assert buffer == DATA[gzread._HEAD - 5 : gzread._HEAD + 5] and len(started) == 2


def test_a_member_shorter_than_the_head_still_has_its_crc_checked(tmp_path):
    path = tmp_path / "small.nii.gz"
    blob = bytearray(gzip.compress(DATA[:2000], 6))
    blob[-8] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(CorruptStreamError, match="CRC"):
        nvgzip.open_read(path).read(352)


def test_member_files_decode_each_member_once_for_volumes(tmp_path, monkeypatch):
    path = tmp_path / "members.gz"
    path.write_bytes(_members(DATA, 256 << 10))
    calls = []
    for name in ("decode_member", "decode_member_into"):  # without libdeflate / with it
        real = getattr(gzread, name)
        monkeypatch.setattr(gzread, name, lambda *args, real=real: calls.append(args[1]) or real(*args))
    volume = 97_531
    for start in range(0, len(DATA), volume):
        buffer = bytearray(min(volume, len(DATA) - start))
        nvgzip.open_read(path).readinto_at(buffer, start)
        assert buffer == DATA[start : start + len(buffer)]
    members = -(-len(DATA) // (256 << 10))
    assert len(calls) == len(set(calls)) == members


@pytest.mark.parametrize("backend, use_igz", [(None, True), (None, False), ("isal", True)])
def test_backward_reads_start_from_seek_points(tmp_path, monkeypatch, backend, use_igz):
    # the streaming decoder leaves snapshots of itself when it can be copied (zlib-ng, zlib:
    # the automatic choice), whether or not indexed_gzip is there; ISA-L's cannot be copied,
    # so with it, reads back go through indexed_gzip, which builds its seek points
    if backend is None:
        monkeypatch.delenv("NIVOX_GZIP_BACKEND", raising=False)
    else:
        pytest.importorskip(backend)
        monkeypatch.setenv("NIVOX_GZIP_BACKEND", backend)
    if use_igz:
        pytest.importorskip("indexed_gzip")
    monkeypatch.setattr(nvgzip, "USE_INDEXED_GZIP", use_igz)
    monkeypatch.setattr(nvgzip, "CURSOR_REACH", 256 << 10)
    path = tmp_path / "single.gz"
    path.write_bytes(gzip.compress(DATA, 6))
    reader = nvgzip.open_read(path)
    block = 50_000
    starts = list(range(0, len(DATA) - block, block))
    for start in reversed(starts):
        buffer = bytearray(block)
        assert reader.readinto_at(buffer, start) == block and buffer == DATA[start : start + block]
    index = CACHE.lookup(file_key(os.path.realpath(path), os.stat(path)))
    if backend == "isal":
        assert index.igz_points > 1 and not index.snapshots
    else:
        assert len(index.snapshots) > 1 and index.igz is None
        assert index.snapshots[0].data >= 128 << 10


def test_a_first_read_far_into_a_stream_streams_and_leaves_seek_points(tmp_path, monkeypatch):
    monkeypatch.delenv("NIVOX_GZIP_BACKEND", raising=False)
    pytest.importorskip("indexed_gzip")
    monkeypatch.setattr(nvgzip, "USE_INDEXED_GZIP", True)
    monkeypatch.setattr(nvgzip, "CURSOR_REACH", 64 << 10)
    path = tmp_path / "single.nii.gz"
    path.write_bytes(gzip.compress(DATA, 6))
    igz_reads = []
    real = gzread.GzipReader._igz_read
    monkeypatch.setattr(gzread.GzipReader, "_igz_read", lambda self, *a: igz_reads.append(a[-1]) or real(self, *a))
    for position, count in [(0, 348), (348, 4), (900_000, 1000)]:  # a header, then a volume deep in the file
        buffer = bytearray(count)
        assert nvgzip.open_read(path).readinto_at(buffer, position) == count
        assert buffer == DATA[position : position + count]
    assert igz_reads == []  # streamed, as nothing better was known
    index = CACHE.lookup(file_key(os.path.realpath(path), os.stat(path)))
    snapshots = [snap.data for snap in index.snapshots]
    assert len(snapshots) > 2 and snapshots[-1] <= 900_000
    back = snapshots[1] + 100  # a read back, just after a snapshot, resumes there
    buffer = bytearray(1000)
    assert nvgzip.open_read(path).readinto_at(buffer, back) == 1000 and buffer == DATA[back : back + 1000]
    assert igz_reads == [] and index.cursor.data == back + 1000


def test_reading_a_streamed_part_again_copies_the_last_read(tmp_path, inflated):
    path = tmp_path / "single.gz"
    path.write_bytes(gzip.compress(DATA, 6))
    at, count = 600_000, 100_000
    decoded = []
    for _ in range(2):  # the first read decodes up to there; the second only copies
        buffer = bytearray(count)
        assert nvgzip.open_read(path).readinto_at(buffer, at) == count and buffer == DATA[at : at + count]
        decoded.append(sum(inflated))
    part = bytearray(1000)
    assert nvgzip.open_read(path).readinto_at(part, at + 5000) == 1000 and part == DATA[at + 5000 : at + 6000]
    assert decoded[0] >= at + count and sum(inflated) == decoded[0]
    index = CACHE.lookup(file_key(os.path.realpath(path), os.stat(path)))
    assert index.recent is not None and index.recent[0] == at
    buffer = bytearray(count)  # a read that continues the last one is a pass's step: not kept
    assert nvgzip.open_read(path).readinto_at(buffer, at + 6000) == count
    assert buffer == DATA[at + 6000 : at + 6000 + count] and index.recent is None


def test_reading_members_again_copies_the_last_read(tmp_path, monkeypatch):
    path = tmp_path / "members.gz"
    with GzipMemberWriter(path, 6, member_size=64 << 10, threads=2) as out:
        out.write(DATA)
    decoded = []  # the compressed start of each member decoded, whichever way
    for name in ("decode_member", "decode_member_into"):
        real = getattr(gzread, name)
        monkeypatch.setattr(gzread, name, lambda *a, real=real, **k: decoded.append(a[1]) or real(*a, **k))
    at, count = 300_000, 200_000  # whole members inside, parts at both ends
    for _ in range(2):
        buffer = bytearray(count)
        assert nvgzip.open_read(path).readinto_at(buffer, at) == count and buffer == DATA[at : at + count]
    assert decoded and len(decoded) == len(set(decoded))  # no member decoded twice
    whole = bytearray(len(DATA))  # a read to the end (a whole image) is not kept
    assert nvgzip.open_read(path).readinto_at(whole, 0) == len(DATA) and whole == DATA
    assert CACHE.lookup(file_key(os.path.realpath(path), os.stat(path))).recent is None


def test_loading_again_keeps_the_last_read_of_members(tmp_path, monkeypatch):
    # a fresh load reads the header; with nivox's sized members that read comes from the
    # decoded head too, so reading the same volume again stays a copy
    path = tmp_path / "members.nii.gz"
    with GzipMemberWriter(path, 6, member_size=64 << 10, threads=2) as out:
        out.write(DATA)
    decoded = []
    for name in ("decode_member", "decode_member_into"):
        real = getattr(gzread, name)
        monkeypatch.setattr(gzread, name, lambda *a, real=real, **k: decoded.append(a[1]) or real(*a, **k))
    at, count = 300_000, 200_000
    for _ in range(3):
        for position, size in [(0, 348), (348, 4), (at, count)]:  # a load, then the volume
            buffer = bytearray(size)
            assert nvgzip.open_read(path).readinto_at(buffer, position) == size
            assert buffer == DATA[position : position + size]
    assert decoded and len(decoded) == len(set(decoded))  # no member decoded twice
    assert min(decoded) > 0  # the first member: only its head was decoded


def test_threads_read_one_reader_consistently(tmp_path, backend):
    path = tmp_path / "members.gz"
    path.write_bytes(_blob("members") if backend != "stdlib" else _blob("single"))
    reader = nvgzip.open_read(path, keep_open=True)
    failures = []

    def work(seed):
        rng = np.random.default_rng(seed)
        for position in rng.integers(0, len(DATA), 15):
            buffer = bytearray(30_000)
            got = reader.readinto_at(buffer, int(position))
            if buffer[:got] != DATA[position : position + 30_000]:
                failures.append(position)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reader.close()
    assert not failures


def test_decoded_buffer_hands_over_one_decompression(tmp_path, backend):
    path = tmp_path / "single.gz"
    path.write_bytes(gzip.compress(DATA, 6))
    buffer = nvgzip.open_read(path).decoded_buffer(352, len(DATA) - 352)
    if backends.whole_backend() != "libdeflate":
        assert buffer is None
        return
    assert bytes(buffer) == DATA[352:] and not buffer.readonly
    # not for part of the file, nor for a length the trailer contradicts
    assert nvgzip.open_read(path).decoded_buffer(352, 1000) is None
    assert nvgzip.open_read(path).decoded_buffer(352, len(DATA) - 350) is None
    members = tmp_path / "members.gz"
    members.write_bytes(_blob("members"))
    assert nvgzip.open_read(members).decoded_buffer(352, len(DATA) - 352) is None


def test_decoded_buffer_falls_back_when_the_trailer_lies(tmp_path, backend):
    path = tmp_path / "two.gz"
    # two members whose last trailer matches the total length: the one-call path must notice
    first, second = DATA[:300_000], DATA[300_000:]
    blob = gzip.compress(first) + gzip.compress(second)
    path.write_bytes(blob[:-4] + struct.pack("<I", len(DATA)))
    reader = nvgzip.open_read(path)
    assert reader.decoded_buffer(0, len(DATA)) is None
    assert reader.read() == DATA


@pytest.mark.parametrize("layout", ["single", "members", "bgzf"])
def test_truncated_file_is_corrupt_stream_error(tmp_path, backend, layout):
    path = tmp_path / f"{layout}.nii.gz"
    blob = _blob(layout)
    path.write_bytes(blob[: len(blob) * 2 // 3])
    with pytest.raises(CorruptStreamError, match="truncated") as info:
        nvgzip.open_read(path).read()
    assert str(path) in str(info.value)


@pytest.mark.parametrize("layout", ["single", "members"])
def test_corrupt_crc_and_data_are_corrupt_stream_errors(tmp_path, backend, layout):
    path = tmp_path / f"{layout}.gz"
    blob = bytearray(_blob(layout))
    blob[-8] ^= 0xFF  # the last member's CRC
    path.write_bytes(bytes(blob))
    with pytest.raises(CorruptStreamError, match="CRC"):
        nvgzip.open_read(path).read()
    blob[-8] ^= 0xFF
    blob[len(blob) // 2 : len(blob) // 2 + 64] = b"\xff" * 64
    path.write_bytes(bytes(blob))
    nvgzip.clear_index_cache()
    with pytest.raises(CorruptStreamError, match=path.name):
        nvgzip.open_read(path).read()


def test_not_gzip_and_empty_files(tmp_path):
    text = tmp_path / "text.nii.gz"
    text.write_bytes(b"just some text, named like a compressed image")
    with pytest.raises(CorruptStreamError, match="not a gzip file"):
        nvgzip.open_read(text).read()
    empty = tmp_path / "empty.gz"
    empty.write_bytes(b"")
    assert nvgzip.open_read(empty).read() == b""
    no_data = tmp_path / "nodata.gz"
    no_data.write_bytes(gzip.compress(b""))
    reader = nvgzip.open_read(no_data)
    assert reader.read() == b"" and reader.seek(0, os.SEEK_END) == 0


def test_missing_file_and_closed_reader(tmp_path):
    with pytest.raises(FileNotFoundError):
        nvgzip.open_read(tmp_path / "absent.gz")
    path = tmp_path / "a.gz"
    path.write_bytes(gzip.compress(b"abc"))
    reader = nvgzip.open_read(path)
    reader.close()
    with pytest.raises(ValueError, match="closed"):
        reader.readinto_at(bytearray(2), 0)


def test_kept_open_reader_survives_unlink(tmp_path):
    path = tmp_path / "a.gz"
    path.write_bytes(gzip.compress(DATA))
    with nvgzip.open_read(path, keep_open=True) as reader:
        os.unlink(path)
        assert reader.read(100) == DATA[:100]


def test_reader_reads_through_file_objects_as_before(tmp_path):
    path = tmp_path / "a.gz"
    path.write_bytes(gzip.compress(DATA))
    with open(path, "rb") as raw:
        assert nvgzip.open_read(raw).read() == DATA
    assert zlib.crc32(DATA) == backends.crc32(DATA)


def test_damage_after_what_is_read_fails_only_reads_that_reach_it(tmp_path, backend):
    path = tmp_path / "cut.gz"
    blob = _blob("single")
    path.write_bytes(blob[: len(blob) * 3 // 4])
    reader = nvgzip.open_read(path)
    assert reader.read(352) == DATA[:352]  # a header stays readable
    with pytest.raises(CorruptStreamError, match="truncated"):
        reader.read()


def test_a_whole_read_checks_the_crc_of_a_single_stream(tmp_path, backend):
    blob = bytearray(_blob("single"))
    blob[len(blob) * 2 // 3] ^= 0x5A
    path = tmp_path / "flipped.gz"
    path.write_bytes(bytes(blob))
    buffer = bytearray(len(DATA) - 352)
    with pytest.raises(CorruptStreamError, match=path.name):
        nvgzip.open_read(path).readinto_at(buffer, 352)


def test_a_link_pointed_elsewhere_reads_the_new_target(tmp_path):
    first, second = tmp_path / "a.gz", tmp_path / "b.gz"
    first.write_bytes(gzip.compress(b"first file " * 100))
    second.write_bytes(gzip.compress(b"second file " * 100))
    link = tmp_path / "link.gz"
    link.symlink_to(first)
    buffer = bytearray(11)
    nvgzip.open_read(link).readinto_at(buffer, 0)
    assert buffer == b"first file "
    link.unlink()
    link.symlink_to(second)
    buffer = bytearray(12)
    nvgzip.open_read(link).readinto_at(buffer, 0)
    assert buffer == b"second file "
    assert gzfile._real_paths[str(link)][0] == str(second)


@pytest.mark.parametrize(("tasks", "count"), [(0, 8), (1, 8), (3, 8), (8, 8), (113, 8), (113, 2)])
def test_members_go_to_threads_in_runs_of_neighbours(tasks, count):
    # members next to each other share huge pages of the output: one thread decodes them
    runs = gzread._runs(list(range(tasks)), count)
    assert [task for run in runs for task in run] == list(range(tasks))
    assert len(runs) == min(tasks, count)
    assert all(run for run in runs)
    assert max(map(len, runs), default=0) - min(map(len, runs), default=0) <= 1


def test_a_read_served_from_memory_does_not_open_the_file(tmp_path, monkeypatch):
    path = tmp_path / "single.nii.gz"
    path.write_bytes(gzip.compress(DATA, 6))
    buffer = bytearray(348)
    assert nvgzip.open_read(path).readinto_at(buffer, 0) == 348  # decodes the head: opens the file
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    for _ in range(3):  # a load's header reads: from the head, by one stat each
        assert nvgzip.open_read(path).readinto_at(buffer, 0) == 348 and buffer == DATA[:348]
    assert opened == []
    far = bytearray(1000)
    assert nvgzip.open_read(path).readinto_at(far, 500_000) == 1000 and far == DATA[500_000:501_000]
    assert opened == [str(path)]  # bytes to decode: the file is opened


def test_a_file_replaced_before_it_is_opened_is_read_as_it_is_now(tmp_path):
    path = tmp_path / "single.nii.gz"
    path.write_bytes(gzip.compress(DATA, 6))
    reader = nvgzip.open_read(path)  # looks at the file now; opens it at its first read
    new = bytes(reversed(DATA))
    replacement = tmp_path / "new.gz"
    replacement.write_bytes(gzip.compress(new, 6))
    os.replace(replacement, path)
    buffer = bytearray(1000)
    assert reader.readinto_at(buffer, 400_000) == 1000
    assert buffer == new[400_000:401_000]


def test_a_file_replaced_between_its_stat_and_its_opening_is_looked_at_again(tmp_path, monkeypatch):
    path = tmp_path / "single.nii.gz"
    path.write_bytes(gzip.compress(DATA, 6))
    stale = os.stat(path)
    new = bytes(reversed(DATA))
    replacement = tmp_path / "new.gz"
    replacement.write_bytes(gzip.compress(new, 6))
    os.replace(replacement, path)
    reader = nvgzip.open_read(path)
    real_stat = os.stat
    stats = [stale]  # the read's first look sees the old file, which is gone when it opens it
    monkeypatch.setattr(os, "stat", lambda *a, **k: stats.pop() if stats else real_stat(*a, **k))
    buffer = bytearray(1000)
    assert reader.readinto_at(buffer, 400_000) == 1000
    assert buffer == new[400_000:401_000] and stats == []


def test_a_file_replaced_at_every_look_gives_a_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "single.nii.gz"
    path.write_bytes(gzip.compress(DATA, 6))
    stale = os.stat(path)
    replacement = tmp_path / "new.gz"
    replacement.write_bytes(gzip.compress(DATA[::-1], 6))
    os.replace(replacement, path)
    reader = nvgzip.open_read(path)
    monkeypatch.setattr(os, "stat", lambda *a, **k: stale)  # every look sees a file that is gone
    with pytest.raises(OSError, match="replaced while it was read") as info:
        reader.readinto_at(bytearray(1000), 400_000)
    assert isinstance(info.value, NivoxError) and str(path) in str(info.value)
