"""Tests of nivox.tmpdirs: temporary and working-directory context managers."""

import os

import pytest

from nivox.tmpdirs import InGivenDirectory, InTemporaryDirectory, TemporaryDirectory


def test_temporary_directory_removed_on_exit():
    with TemporaryDirectory() as path:
        assert os.path.isdir(path)
        with open(os.path.join(path, "f.txt"), "w") as fobj:
            fobj.write("x")
    assert not os.path.exists(path)


def test_in_temporary_directory_changes_and_restores_cwd():
    before = os.getcwd()
    with InTemporaryDirectory() as path:
        assert os.path.isabs(path)
        assert os.path.samefile(os.getcwd(), path)
        with open("made_here.txt", "w") as fobj:
            fobj.write("x")
        assert os.path.isfile(os.path.join(path, "made_here.txt"))
    assert os.getcwd() == before
    assert not os.path.exists(path)


def test_in_temporary_directory_restores_cwd_after_error():
    before = os.getcwd()
    with pytest.raises(RuntimeError):
        with InTemporaryDirectory() as path:
            raise RuntimeError("boom")
    assert os.getcwd() == before
    assert not os.path.exists(path)


def test_in_given_directory_makes_missing_path_and_keeps_it(tmp_path):
    target = tmp_path / "new" / "nested"
    before = os.getcwd()
    with InGivenDirectory(target) as path:
        assert path == str(target)
        assert os.path.samefile(os.getcwd(), target)
    assert os.getcwd() == before
    assert target.is_dir()


def test_in_given_directory_relative_path_is_from_current_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with InGivenDirectory("rel") as path:
        # the yielded path names the directory we are in, not rel/rel
        assert path == str(tmp_path / "rel")
        assert os.path.samefile(os.getcwd(), path)
    assert os.path.samefile(os.getcwd(), tmp_path)


def test_in_given_directory_default_is_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with InGivenDirectory() as path:
        assert os.path.samefile(path, tmp_path)
    assert os.path.samefile(os.getcwd(), tmp_path)


def test_in_given_directory_restores_after_error(tmp_path):
    before = os.getcwd()
    with pytest.raises(ValueError):
        with InGivenDirectory(tmp_path):
            raise ValueError
    assert os.getcwd() == before
