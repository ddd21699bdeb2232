"""gzip indexes: one per file version in a process, bounded in memory, saved and loaded."""

import gzip
import os
import time

import numpy as np
import pytest

from nivox._codecs import gzindex, gzread
from nivox._codecs import gzip as nvgzip
from nivox._codecs.gzwrite import GzipMemberWriter
from nivox.errors import ImageFileError

_rng = np.random.default_rng(7)
DATA = _rng.integers(0, 60, 1_500_000, dtype=np.uint8).tobytes()


def _index(path):
    return gzindex.CACHE.lookup(gzindex.file_key(os.path.realpath(path), os.stat(path)))


def _single(tmp_path, name="single.gz", data=DATA):
    path = tmp_path / name
    path.write_bytes(gzip.compress(data, 6))
    return path


def _members(tmp_path, name="members.gz"):
    path = tmp_path / name
    with GzipMemberWriter(path, 6, member_size=200_000, threads=2) as out:
        out.write(DATA)
    return path


def test_readers_of_one_file_share_its_index(tmp_path):
    path = _single(tmp_path)
    first, second = nvgzip.open_read(path), nvgzip.open_read(str(path))
    at = 3 * gzread._HEAD  # beyond the head, which is decoded apart
    first.seek(at)
    assert first.read(1000) == DATA[at : at + 1000]
    index = _index(path)
    cursor = index.cursor
    assert cursor is not None and cursor.data == at + 1000
    second.seek(at + 1000)
    assert second.read(500) == DATA[at + 1000 : at + 1500]
    assert index.cursor is cursor and cursor.data == at + 1500  # the second reader continued the first's decoder
    link = tmp_path / "link.gz"
    os.symlink(path, link)
    assert _index(link) is index  # keyed by the real path
    assert len(gzindex.CACHE) == 1


def test_a_changed_file_gets_a_new_index(tmp_path):
    path = _single(tmp_path)
    assert nvgzip.open_read(path).read(10) == DATA[:10]
    old = _index(path)
    time.sleep(0.01)
    path.write_bytes(gzip.compress(DATA[::-1], 6))
    os.utime(path, ns=(time.time_ns(), os.stat(path).st_mtime_ns + 1_000_000))
    assert nvgzip.open_read(path).read(10) == DATA[::-1][:10]
    new = _index(path)
    assert new is not old and len(gzindex.CACHE) == 1
    assert old.cursor is None  # the stale index was dropped


@pytest.mark.parametrize("table", [True, False], ids=["from-table", "from-headers"])
def test_member_table_comes_from_headers(tmp_path, table):
    path = tmp_path / "members.gz"
    with GzipMemberWriter(path, 6, member_size=200_000, threads=2, table=table) as out:
        out.write(DATA)
    assert nvgzip.open_read(path).read(10) == DATA[:10]
    index = _index(path)
    assert index.complete and index.sized == 8 and index.total == len(DATA)
    assert [u for _, u in index.points] == [*range(0, len(DATA), 200_000), len(DATA)]
    # the data members end where the (empty) table member starts, or at the file's end
    table_size = int.from_bytes(path.read_bytes()[-18:-14], "little") if table else 0
    assert index.points[-1][0] == os.path.getsize(path) - table_size


def test_cache_stays_within_its_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(nvgzip, "INDEX_BUDGET", 600 << 10)
    paths = [_members(tmp_path, f"m{i}.gz") for i in range(4)]
    for path in paths:
        reader = nvgzip.open_read(path)
        reader.seek(100_000)
        assert reader.read(10) == DATA[100_000:100_010]  # a partial member read is kept
    assert gzindex.CACHE.nbytes() <= 600 << 10
    assert len(gzindex.CACHE) < 4
    assert gzindex.file_key(os.path.realpath(paths[-1]), os.stat(paths[-1])) in gzindex.CACHE


def test_a_read_measures_only_its_own_index_while_the_cache_is_within_budget(tmp_path, monkeypatch):
    paths = [_members(tmp_path, f"m{i}.gz") for i in range(5)]
    for path in paths:
        assert nvgzip.open_read(path).read(10) == DATA[:10]
    cache = gzindex.CACHE
    assert cache._total == cache.nbytes() == sum(cache._sizes.values())
    measured = []
    real = gzindex.GzipIndex.nbytes
    monkeypatch.setattr(gzindex.GzipIndex, "nbytes", lambda self: measured.append(self.path) or real(self))
    reader = nvgzip.open_read(paths[2])
    reader.seek(100_000)
    assert reader.read(10) == DATA[100_000:100_010]  # keeps a decoded member: the index grows
    assert measured == [os.path.realpath(paths[2])]
    monkeypatch.setattr(gzindex.GzipIndex, "nbytes", real)
    assert cache._total == cache.nbytes()  # the growth is counted
    monkeypatch.setattr(nvgzip, "INDEX_BUDGET", cache._total - 1)  # now over: everything is measured, one goes
    assert nvgzip.open_read(paths[2]).read(10) == DATA[:10]
    assert len(cache) == 4 and cache._total == cache.nbytes() <= nvgzip.INDEX_BUDGET


def test_a_file_alone_over_budget_keeps_its_seek_points(tmp_path, monkeypatch):
    monkeypatch.setattr(nvgzip, "INDEX_BUDGET", 1000)
    path = _members(tmp_path)
    reader = nvgzip.open_read(path)
    reader.seek(300_000)
    assert reader.read(10) == DATA[300_000:300_010]
    index = _index(path)
    assert not index.members and index.sized == 8


def test_save_and_load_member_index(tmp_path):
    path = _members(tmp_path)
    saved = nvgzip.save_index(path)
    assert saved == f"{path}.nvidx" and os.path.exists(saved)
    nvgzip.clear_index_cache()
    nvgzip.load_index(path)
    index = _index(path)
    assert index.scanned and index.complete and index.sized == 8
    reader = nvgzip.open_read(path)
    reader.seek(777_777)
    assert reader.read(100) == DATA[777_777:777_877]


def test_save_and_load_single_stream_index(tmp_path, monkeypatch):
    monkeypatch.delenv("NIVOX_GZIP_BACKEND", raising=False)  # indexed_gzip: the automatic choice
    pytest.importorskip("indexed_gzip")
    path = _single(tmp_path, data=DATA * 4)
    nvgzip.build_index(path)
    built = _index(path)
    assert built.total == 4 * len(DATA) and built.igz_points > 1
    target = tmp_path / "elsewhere" / "index.bin"
    target.parent.mkdir()
    nvgzip.save_index(path, target)
    nvgzip.clear_index_cache()
    nvgzip.load_index(path, target)
    loaded = _index(path)
    assert loaded.total == 4 * len(DATA) and loaded.igz_blob
    monkeypatch.setattr(nvgzip, "CURSOR_REACH", 100_000)
    reader = nvgzip.open_read(path)
    reader.seek(5_000_000)  # far from any member start: read through the loaded seek points
    assert reader.read(1000) == (DATA * 4)[5_000_000:5_001_000]
    assert loaded.igz is not None and loaded.igz_points == built.igz_points


def test_loading_refuses_an_index_of_another_file_version(tmp_path):
    path = _single(tmp_path)
    saved = nvgzip.save_index(path)
    path.write_bytes(gzip.compress(DATA[:-1], 6))
    with pytest.raises(ImageFileError, match="another version") as info:
        nvgzip.load_index(path, saved)
    assert str(path) in str(info.value)
    same_size = bytearray(gzip.compress(DATA, 6))
    path.write_bytes(bytes(same_size))
    saved = nvgzip.save_index(path)
    stat = os.stat(path)
    same_size[-5] ^= 1  # same size and mtime, different content
    path.write_bytes(bytes(same_size))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(ImageFileError, match="another version"):
        nvgzip.load_index(path, saved)


def test_damaged_index_files_are_refused(tmp_path):
    path = _single(tmp_path)
    saved = nvgzip.save_index(path)
    blob = open(saved, "rb").read()
    bad = tmp_path / "bad.nvidx"
    bad.write_bytes(b"something else entirely")
    with pytest.raises(ImageFileError, match="not a nivox gzip index"):
        nvgzip.load_index(path, bad)
    bad.write_bytes(blob[:-3])
    with pytest.raises(ImageFileError, match="damaged"):
        nvgzip.load_index(path, bad)


def test_forked_child_starts_with_an_empty_cache(tmp_path):
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    import multiprocessing

    path = _members(tmp_path)
    assert nvgzip.open_read(path).read(5) == DATA[:5]
    assert len(gzindex.CACHE) == 1
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        sizes, data = pool.apply(_child_read, (str(path),))
    assert sizes == 0 and data == DATA[300_000:300_010]


def _child_read(path):
    before = len(gzindex.CACHE)
    reader = nvgzip.open_read(path)
    reader.seek(300_000)
    return before, reader.read(10)


def test_snapshots_are_thinned_to_fit_the_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(nvgzip, "USE_INDEXED_GZIP", False)
    monkeypatch.setattr(nvgzip, "CURSOR_REACH", 128 << 10)  # a snapshot every 64 KiB
    path = _single(tmp_path, data=DATA * 2)
    reader = nvgzip.open_read(path)
    assert reader.read() == DATA * 2
    index = _index(path)
    many = len(index.snapshots)
    assert many > 8
    monkeypatch.setattr(nvgzip, "INDEX_BUDGET", 10 * gzindex._SNAPSHOT_BYTES)
    reader.seek(100)
    assert reader.read(10) == DATA[100:110]
    assert 0 < len(index.snapshots) < many // 2 and index.nbytes() <= 10 * gzindex._SNAPSHOT_BYTES
    reader.seek(len(DATA) + 5)  # the remaining snapshots still serve
    assert reader.read(10) == DATA[5:15]


def test_forked_child_decodes_members_on_its_own_threads(tmp_path):
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    import multiprocessing

    path = _members(tmp_path)
    assert nvgzip.open_read(path).read() == DATA  # the parent's pool exists now
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(_child_read_all, (str(path), 2)) == DATA


def _child_read_all(path, threads):
    nvgzip.THREADS = threads
    return nvgzip.open_read(path).read()
