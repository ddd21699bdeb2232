import io

import pytest

from nivox.fileholders import FileHolder, FileHolderError, copy_file_map


def test_file_like_prefers_the_file_object():
    bio = io.BytesIO()
    assert FileHolder("a.nii").file_like == "a.nii"
    assert FileHolder("a.nii", bio).file_like is bio
    assert FileHolder().file_like is None


def test_same_file_as():
    bio = io.BytesIO()
    assert FileHolder("a", bio).same_file_as(FileHolder("a", bio))
    assert not FileHolder("a", bio).same_file_as(FileHolder("a", io.BytesIO()))
    assert not FileHolder("a").same_file_as(FileHolder("b"))


def test_pathlike_filename_becomes_str(tmp_path):
    holder = FileHolder(tmp_path / "x.nii")
    assert holder.filename == str(tmp_path / "x.nii")


def test_get_prepare_fileobj_seeks_to_pos():
    bio = io.BytesIO(b"0123456789")
    with FileHolder(fileobj=bio, pos=4).get_prepare_fileobj() as fobj:
        assert fobj.read(2) == b"45"


def test_get_prepare_fileobj_needs_something():
    with pytest.raises(FileHolderError):
        FileHolder().get_prepare_fileobj()


def test_copy_file_map_copies_holders_not_files():
    bio = io.BytesIO()
    original = {"image": FileHolder("a", bio)}
    copied = copy_file_map(original)
    assert copied["image"] is not original["image"]
    assert copied["image"].fileobj is bio
    copied["image"].filename = "b"
    assert original["image"].filename == "a"
