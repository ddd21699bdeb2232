"""Saving replaces files only when everything was written; failures leave originals intact."""

import errno
import os
import stat
import subprocess
import sys
import time

import pytest

from nivox import _atomic
from nivox._atomic import TEMP_PREFIX, replacing_files
from nivox.fileholders import FileHolder


def _write_all(file_map, payload):
    for holder in file_map.values():
        with open(holder.filename, "wb") as handle:
            handle.write(payload)


def test_success_replaces_targets(tmp_path):
    hdr, img = tmp_path / "a.hdr", tmp_path / "a.img"
    hdr.write_bytes(b"old")
    file_map = {"header": FileHolder(str(hdr)), "image": FileHolder(str(img))}
    with replacing_files(file_map) as temp_map:
        assert temp_map["header"].filename != str(hdr)
        # temporary names keep the target's name at the end, so extensions still decide formats
        assert temp_map["image"].filename.endswith("a.img")
        _write_all(temp_map, b"new")
    assert hdr.read_bytes() == b"new" and img.read_bytes() == b"new"
    assert sorted(os.listdir(tmp_path)) == ["a.hdr", "a.img"]


def test_failure_keeps_originals_and_cleans_up(tmp_path):
    target = tmp_path / "a.nii"
    target.write_bytes(b"precious")
    file_map = {"image": FileHolder(str(target))}
    with pytest.raises(RuntimeError):
        with replacing_files(file_map) as temp_map:
            _write_all(temp_map, b"half")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"precious"
    assert os.listdir(tmp_path) == ["a.nii"]


def test_single_file_formats_share_one_temporary(tmp_path):
    target = str(tmp_path / "a.nii")
    file_map = {"image": FileHolder(target), "header": FileHolder(target)}
    with replacing_files(file_map) as temp_map:
        assert temp_map["image"].filename == temp_map["header"].filename


def test_file_objects_pass_through(tmp_path):
    import io

    bio = io.BytesIO()
    holder = FileHolder(fileobj=bio)
    with replacing_files({"image": holder}) as temp_map:
        assert temp_map["image"] is holder


def test_replaced_file_keeps_open_readers_valid(tmp_path):
    target = tmp_path / "a.nii"
    target.write_bytes(b"old bytes")
    with open(target, "rb") as reader:
        with replacing_files({"image": FileHolder(str(target))}) as temp_map:
            _write_all(temp_map, b"new")
        # a reader of the old file still sees the old content (no truncation under it)
        assert reader.read() == b"old bytes"
    assert target.read_bytes() == b"new"


def test_permissions_follow_umask(tmp_path):
    target = tmp_path / "a.nii"
    old = os.umask(0o022)
    try:
        with replacing_files({"image": FileHolder(str(target))}) as temp_map:
            _write_all(temp_map, b"x")
    finally:
        os.umask(old)
    assert (os.stat(target).st_mode & 0o777) == 0o644


# ---- durability: when saves fsync -------------------------------------------------------


def _count_fsyncs(monkeypatch):
    """Record what each os.fsync call flushed: 'file' or 'folder'."""
    calls = []
    real = os.fsync

    def fsync(fd):
        calls.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(_atomic.os, "fsync", fsync)
    return calls


def _save(target, payload=b"new"):
    with replacing_files({"image": FileHolder(str(target))}) as temp_map:
        _write_all(temp_map, payload)


@pytest.mark.parametrize(("mode", "new_file", "replacing"), [
    ("replace", [], ["file", "folder"]),
    ("always", ["file", "folder"], ["file", "folder"]),
    ("never", [], []),
])
def test_durability_modes(tmp_path, monkeypatch, mode, new_file, replacing):
    monkeypatch.setattr(_atomic, "DURABILITY", mode)
    calls = _count_fsyncs(monkeypatch)
    target = tmp_path / "a.nii"
    _save(target, b"first")
    assert calls == new_file
    calls.clear()
    _save(target, b"second")
    assert calls == replacing
    assert target.read_bytes() == b"second"


def test_unknown_durability_is_refused_before_writing(tmp_path, monkeypatch):
    monkeypatch.setattr(_atomic, "DURABILITY", "sometimes")
    with pytest.raises(ValueError, match="NIVOX_FSYNC"):
        _save(tmp_path / "a.nii")
    assert os.listdir(tmp_path) == []


def test_durability_comes_from_the_environment():
    script = "from nivox import _atomic; print(_atomic.DURABILITY)"
    env = {**os.environ, "NIVOX_FSYNC": "never"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "never"


def _slow_save(target, pause=0.06):
    with replacing_files({"image": FileHolder(str(target))}) as temp_map, \
            open(temp_map["image"].filename, "wb") as handle:
        handle.write(b"x" * 100_000)
        handle.flush()
        time.sleep(pause)  # the helper flushes while the writer is busy
        handle.write(b"y" * 100_000)


def test_replacing_save_flushes_while_writing(tmp_path, monkeypatch):
    target = tmp_path / "a.nii"
    target.write_bytes(b"old")
    flushed = []
    real = getattr(os, "fdatasync", os.fsync)
    monkeypatch.setattr(_atomic.os, "fdatasync", lambda fd: (flushed.append(fd), real(fd)), raising=False)
    _slow_save(target)
    assert flushed
    assert target.read_bytes() == b"x" * 100_000 + b"y" * 100_000


def test_failed_background_flush_keeps_the_original(tmp_path, monkeypatch):
    target = tmp_path / "a.nii"
    target.write_bytes(b"precious")

    def fdatasync(fd):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(_atomic.os, "fdatasync", fdatasync, raising=False)
    with pytest.raises(OSError, match="Input/output"):
        _slow_save(target)
    assert target.read_bytes() == b"precious"
    assert os.listdir(tmp_path) == ["a.nii"]


def _wait_for_old_links(folder):
    deadline = time.monotonic() + 10
    while any(name.startswith(f"{TEMP_PREFIX}old-") for name in os.listdir(folder)):
        assert time.monotonic() < deadline, "the old file's second name was not removed"
        time.sleep(0.01)


def test_big_old_file_is_unlinked_after_the_rename(tmp_path, monkeypatch):
    monkeypatch.setattr(_atomic, "_BACKGROUND_UNLINK", 4)
    links = []
    real_link = os.link
    monkeypatch.setattr(_atomic.os, "link", lambda *a, **k: (links.append(a[1]), real_link(*a, **k)))
    target = tmp_path / "a.nii"
    target.write_bytes(b"old bytes")
    with open(target, "rb") as reader:
        _save(target)
        assert reader.read() == b"old bytes"
    assert len(links) == 1 and os.path.basename(links[0]).startswith(f"{TEMP_PREFIX}old-")
    _wait_for_old_links(tmp_path)
    assert os.listdir(tmp_path) == ["a.nii"] and target.read_bytes() == b"new"
    os.link(target, tmp_path / "b.nii")  # a file with other names frees nothing: no second name
    links.clear()
    _save(target)
    assert links == []


def test_failed_rename_removes_the_old_files_second_name(tmp_path, monkeypatch):
    monkeypatch.setattr(_atomic, "_BACKGROUND_UNLINK", 4)
    target = tmp_path / "a.nii"
    target.write_bytes(b"precious")

    def replace(source, destination):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(_atomic.os, "replace", replace)
    with pytest.raises(OSError):
        _save(target)
    assert os.listdir(tmp_path) == ["a.nii"] and target.read_bytes() == b"precious"


def test_failure_setting_up_a_temporary_leaves_nothing(tmp_path, monkeypatch):
    def fchmod(fd, mode):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(_atomic.os, "fchmod", fchmod)
    with pytest.raises(OSError, match="not permitted"):
        _save(tmp_path / "a.nii")
    assert os.listdir(tmp_path) == []
