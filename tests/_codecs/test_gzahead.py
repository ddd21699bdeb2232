"""Reading ahead during front-to-back passes (nivox._codecs.gzahead)."""

import gzip
import io
import mmap

import numpy as np
import pytest

from nivox._codecs import deflate_split, gzahead, libdeflate
from nivox._codecs import gzip as nvgzip
from nivox._codecs.gzindex import CACHE
from nivox._codecs.gzwrite import GzipMemberWriter
from nivox.errors import CorruptStreamError

_rng = np.random.default_rng(7)
DATA = (800 + _rng.normal(0, 30, 1_500_000)).astype("<i2").tobytes()  # 3 MB, noisy like a scan
VOLUME = 100_000


@pytest.fixture(autouse=True)
def _two_threads(monkeypatch):
    monkeypatch.setattr(nvgzip, "THREADS", 2)
    monkeypatch.setattr(deflate_split, "MIN_PART", 1 << 20)


def _pass(path, stop=len(DATA)):
    """Read ``path`` volume after volume, each on a new reader (as proxies do); check every byte."""
    for start in range(0, stop, VOLUME):
        buffer = bytearray(min(VOLUME, len(DATA) - start))
        assert nvgzip.open_read(path).readinto_at(buffer, start) == len(buffer)
        assert buffer == DATA[start : start + len(buffer)]


def _index(path):
    return CACHE.lookup(next(key for key in CACHE._entries if key[0] == str(path.resolve())))


@pytest.fixture
def single(tmp_path):
    path = tmp_path / "single.gz"
    path.write_bytes(gzip.compress(DATA, 1))
    return path


@pytest.fixture
def members(tmp_path):
    target = io.BytesIO()
    with GzipMemberWriter(target, 1, member_size=64 << 10, threads=1) as out:
        out.write(DATA)
    path = tmp_path / "members.gz"
    path.write_bytes(target.getvalue())
    return path


needs_libdeflate = pytest.mark.skipif(not libdeflate.available(), reason="needs libdeflate (the fast extra)")


@needs_libdeflate
def test_single_stream_pass_decodes_the_file_whole_once(single, monkeypatch):
    decodes = []
    real = gzahead.StreamAhead.decode
    monkeypatch.setattr(gzahead.StreamAhead, "decode", lambda *a: decodes.append(a[0]) or real(*a))
    seen = []
    read = gzahead.StreamAhead.read
    monkeypatch.setattr(gzahead.StreamAhead, "read", lambda self, v, at: seen.append(self) or read(self, v, at))
    _pass(single)
    assert decodes == [len(DATA)]
    ahead = seen[-1]
    assert len(ahead._parts) == 2  # decoded on both threads, read from both parts in place
    assert ahead.released >= len(DATA) - 2 * VOLUME  # given back as the pass went on
    assert _index(single).stream_ahead is None  # dropped at the end


@needs_libdeflate
def test_a_read_elsewhere_drops_the_decoded_file(single):
    _pass(single, stop=5 * VOLUME)
    index = _index(single)
    assert index.stream_ahead is not None
    buffer = bytearray(1000)
    assert nvgzip.open_read(single).readinto_at(buffer, 10) == 1000  # the file's head: kept apart
    assert buffer == DATA[10:1010]
    assert index.stream_ahead is not None
    assert nvgzip.open_read(single).readinto_at(buffer, VOLUME + 10) == 1000  # behind the pass
    assert buffer == DATA[VOLUME + 10 : VOLUME + 1010]
    assert index.stream_ahead is None


@needs_libdeflate
def test_files_over_the_budget_are_streamed(single, monkeypatch):
    monkeypatch.setattr(nvgzip, "READ_AHEAD", len(DATA) - 1)
    _pass(single)
    assert _index(single).stream_ahead is None


def test_member_pass_decodes_members_ahead(members, monkeypatch):
    prefetched = []
    real = gzahead.prefetch_members
    monkeypatch.setattr(gzahead, "prefetch_members", lambda index, first, *a: prefetched.append(first) or real(index, first, *a))
    _pass(members)
    assert prefetched and prefetched == sorted(prefetched)


def test_no_member_is_decoded_ahead_when_reading_ahead_is_off(members, monkeypatch):
    monkeypatch.setattr(nvgzip, "READ_AHEAD", 0)
    _pass(members)
    assert not _index(members).ahead


def test_damage_ahead_is_reported_when_the_pass_reaches_it(tmp_path):
    target = io.BytesIO()
    with GzipMemberWriter(target, 1, member_size=64 << 10, threads=1) as out:
        out.write(DATA)
    blob = bytearray(target.getvalue())
    blob[len(blob) * 3 // 4] ^= 0xFF  # inside a member three quarters in
    path = tmp_path / "damaged.gz"
    path.write_bytes(bytes(blob))
    good = 0
    with pytest.raises(CorruptStreamError):
        for start in range(0, len(DATA), VOLUME):
            buffer = bytearray(min(VOLUME, len(DATA) - start))
            nvgzip.open_read(path).readinto_at(buffer, start)
            assert buffer == DATA[start : start + len(buffer)]
            good += 1
    assert good >= len(DATA) // VOLUME // 2  # the volumes before the damage were read


def test_members_decoded_ahead_from_a_replaced_file_are_not_used(members, tmp_path):
    _pass(members, stop=3 * VOLUME)
    index = _index(members)
    reader = nvgzip.open_read(members)
    assert reader._decode_ahead(index, 1) is not None
    members.write_bytes(members.read_bytes() + b"")  # same bytes, new file: another mtime or inode
    import os

    os.utime(members, ns=(1, 1))
    assert reader._decode_ahead(index, 1) is None


def test_stream_ahead_reads_across_its_parts_and_gives_pages_back():
    sizes = [300_000, 5, 250_000]
    parts, start = [], 0
    for size in sizes:
        mapping, data = deflate_split.anonymous_memory(size)
        data[:] = np.frombuffer(DATA[start : start + size], dtype=np.uint8)
        parts.append((mapping, data))
        start += size
    ahead = gzahead.StreamAhead(parts)
    assert ahead.total == sum(sizes)
    for at, count in [(0, 1000), (299_990, 20), (299_998, 10), (400_000, 500_000)]:
        buffer = bytearray(count)
        got = ahead.read(memoryview(buffer), at)
        assert got == min(count, ahead.total - at) and buffer[:got] == DATA[at : at + got]
    assert ahead.released == 400_000 and ahead.nbytes() == ahead.total - 400_000
    assert ahead.read(memoryview(bytearray(10)), 1000) is None  # given back already
    if hasattr(mmap, "MADV_DONTNEED"):  # given-back private pages read as zeros
        assert not parts[0][1][:4096].any() and not parts[2][1][:4096].any()
        assert parts[2][1][-4096:].any()  # not read past: still held


@pytest.mark.parametrize(("memory", "expected"), [(64 << 30, 1 << 30), (4 << 30, 512 << 20), (1 << 30, 128 << 20)])
def test_reading_ahead_is_bounded_by_the_machines_memory(monkeypatch, memory, expected):
    # a pass holds the whole decoded file: at most an eighth of memory on a small machine
    page = 4096
    values = {"SC_PHYS_PAGES": memory // page, "SC_PAGE_SIZE": page}
    monkeypatch.setattr(nvgzip.os, "sysconf", lambda name: values[name])
    assert nvgzip._default_read_ahead() == expected


def test_a_member_still_queued_is_not_waited_for():
    """A pool thread asking for a member queued behind it (or behind others like it) decodes it itself."""
    import collections
    import threading
    import types
    from concurrent.futures import ThreadPoolExecutor

    from nivox._codecs import gzahead

    index = types.SimpleNamespace(lock=threading.Lock(), members=collections.OrderedDict(), ahead={},
                                  keep_members=4)
    release = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        pool.submit(release.wait)  # the only thread is busy
        index.ahead[3] = pool.submit(bytes, 8)  # queued behind it
        assert gzahead.take_member(index, 3) is None  # not waited for: the caller decodes it
        assert index.ahead == {}
        index.ahead[4] = started = pool.submit(bytes, 8)
        release.set()
        started.result()
        assert gzahead.take_member(index, 4) == bytes(8)  # done (or running): taken and kept
        assert index.members[4] == bytes(8)
