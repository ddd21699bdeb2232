"""Every MINC1/MINC2 file of the corpus and of nibabel's wheel: nivox reads what nibabel reads, identically.

Files nibabel refuses, nivox must refuse with a NivoxError.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

import nivox
from nivox.errors import NivoxError

nib = pytest.importorskip("nibabel")
pytest.importorskip("h5py")
pytest.importorskip("scipy")


def _minc_files(root: Path) -> list[Path]:
    return sorted(Path(d) / n for d, _, names in os.walk(root) for n in names
                  if n.lower().endswith((".mnc", ".mnc.gz", ".mnc.bz2")))


def _corpus_files() -> list[Path]:
    location = os.environ.get("NIVOX_CORPUS")
    return _minc_files(Path(location)) if location and Path(location).is_dir() else []


def _wheel_files() -> list[Path]:
    return _minc_files(Path(nib.__file__).parent / "tests" / "data")


def _assert_same_as_nibabel(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            theirs = nib.load(path)
            their_data = np.asanyarray(theirs.dataobj)
        except Exception:  # nibabel refuses: nivox must too, cleanly
            with pytest.raises(NivoxError, match=path.name):
                np.asanyarray(nivox.load(path).dataobj)
            return
        ours = nivox.load(path)
        our_data = np.asanyarray(ours.dataobj)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.shape == theirs.shape
    assert ours.get_data_dtype() == theirs.get_data_dtype()
    assert ours.header.get_data_shape() == theirs.header.get_data_shape()
    assert ours.header.get_zooms() == theirs.header.get_zooms()
    np.testing.assert_array_equal(ours.affine, theirs.affine)
    assert our_data.dtype.newbyteorder("=") == their_data.dtype.newbyteorder("=")
    np.testing.assert_array_equal(our_data, their_data)
    np.testing.assert_array_equal(ours.get_fdata(), theirs.get_fdata())
    for index in [(0,), (slice(None), -1), (Ellipsis, slice(None, None, -2)), (1, None, slice(1, 3))]:
        if all(ours.shape):
            np.testing.assert_array_equal(ours.dataobj[index], np.asanyarray(theirs.dataobj[index]))


def test_corpus_has_minc_files():
    if not os.environ.get("NIVOX_CORPUS"):
        pytest.skip("NIVOX_CORPUS is not set: no corpus to compare")
    names = {p.name for p in _corpus_files()}
    assert {"test-rnd.mnc", "mincex_diff-B0.mnc", "tiny.mnc", "small.mnc"} <= names


@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: str(p).split("corpus/")[-1])
def test_corpus_file_matches_nibabel(path):
    _assert_same_as_nibabel(path)


@pytest.mark.parametrize("path", _wheel_files(), ids=lambda p: p.name)
def test_nibabel_wheel_file_matches_nibabel(path):
    _assert_same_as_nibabel(path)


@pytest.mark.parametrize("path", _corpus_files() + _wheel_files(), ids=lambda p: p.name)
def test_resaved_file_reads_the_same_in_nibabel(path, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            original = nib.load(path)
            values = original.get_fdata()
        except Exception:
            pytest.skip("nibabel does not read this file")
        nivox.save(nivox.load(path), tmp_path / "again.mnc")
        again = nib.load(tmp_path / "again.mnc")
        assert type(again).__name__ == "Minc2Image"
        assert again.shape == original.shape
        assert again.get_data_dtype().newbyteorder("=") == original.get_data_dtype().newbyteorder("=")
        np.testing.assert_array_equal(again.get_fdata(), values)
        np.testing.assert_allclose(again.affine, original.affine, rtol=1e-12, atol=1e-12)
