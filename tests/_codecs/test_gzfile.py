"""A gzip reader's access to its file (nivox._codecs.gzfile)."""

import os

import pytest

from nivox._codecs import gzfile


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "a.gz"
    path.write_bytes(bytes(range(256)) * 4)
    return path


def test_access_opens_the_file_only_to_read_bytes(path, monkeypatch):
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    looked_up = []
    access = gzfile.FileAccess(str(path), None, lambda status, pread: looked_up.append(status) or "index")
    assert access.index == "index" and looked_up[0].st_size == 1024 and opened == []
    assert access.pread(10, 3) == bytes([10, 11, 12]) and access.pread(0, 1) == b"\x00"
    assert opened == [str(path)]  # once, on the first bytes read
    access.close()
    with pytest.raises(OSError):
        access.pread(0, 1)  # closed with the access


def test_access_to_a_file_replaced_since_its_stat_raises(path, tmp_path):
    access = gzfile.FileAccess(str(path), None, lambda status, pread: None)
    other = tmp_path / "b.gz"
    other.write_bytes(b"new")
    os.replace(other, path)
    with pytest.raises(gzfile.FileReplaced):
        access.pread(0, 1)


def test_access_through_a_kept_handle_leaves_it_open(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        access = gzfile.FileAccess(str(path), fd, lambda status, pread: pread(0, 2))
        assert access.index == b"\x00\x01"  # the lookup may read the file
        access.close()
        assert os.pread(fd, 1, 5) == b"\x05"  # still open: the reader owns it
    finally:
        os.close(fd)


def test_a_failed_lookup_closes_what_it_opened(path, monkeypatch):
    closed = []
    real_close = os.close
    monkeypatch.setattr(os, "close", lambda fd: closed.append(fd) or real_close(fd))

    def lookup(status, pread):
        pread(0, 1)
        raise ValueError("bad file")

    with pytest.raises(ValueError):
        gzfile.FileAccess(str(path), None, lookup)
    assert len(closed) == 1


def test_real_paths_are_resolved_once_per_file(path, tmp_path, monkeypatch):
    link = tmp_path / "link.gz"
    link.symlink_to(path)
    expected = str(path.resolve())
    resolved = []
    real = os.path.realpath
    monkeypatch.setattr(os.path, "realpath", lambda p, **k: resolved.append(p) or real(p, **k))
    status = os.stat(link)
    for _ in range(3):
        assert gzfile.real_path(str(link), status) == expected
    assert len(resolved) <= 1
