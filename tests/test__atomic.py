"""Saving replaces files only when everything was written; failures leave originals intact."""

import os

import pytest

from nivox._atomic import replacing_files
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
