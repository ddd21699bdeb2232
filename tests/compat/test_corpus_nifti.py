"""Every NIfTI/Analyze file from the corpus and nibabel's wheel: nivox reads what nibabel reads, identically.

Files nibabel refuses, nivox must refuse with a NivoxError (never a crash or a bare builtin error).
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

IMAGE_SUFFIXES = (".nii", ".nii.gz", ".hdr", ".hdr.gz")


def _image_files(root: Path) -> list[Path]:
    found = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            if name.lower().endswith(IMAGE_SUFFIXES):
                found.append(Path(dirpath) / name)
    return sorted(found)


def _corpus_files() -> list[Path]:
    location = os.environ.get("NIVOX_CORPUS")
    return _image_files(Path(location)) if location and Path(location).is_dir() else []


def _nibabel_wheel_files() -> list[Path]:
    return _image_files(Path(nib.__file__).parent / "tests" / "data")


def _load_nibabel(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        img = nib.load(path)
        return img, np.asanyarray(img.dataobj)


def _assert_same_as_nibabel(path: Path) -> None:
    try:
        theirs, their_data = _load_nibabel(path)
    except Exception as their_error:  # nibabel refuses: nivox must too, cleanly
        with pytest.raises(NivoxError) as caught:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                np.asanyarray(nivox.load(path).dataobj)
        assert str(path.name) in str(caught.value) or caught.value.args, their_error
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = nivox.load(path)
        our_data = np.asanyarray(ours.dataobj)
    assert type(ours).__name__ == type(theirs).__name__
    if type(theirs).__name__ == "Cifti2Image":
        # the XML and axes are compared in test_corpus_gifti_cifti; here the container and data
        assert ours.nifti_header.binaryblock == theirs.nifti_header.binaryblock
        assert ours.shape == theirs.shape
        np.testing.assert_array_equal(our_data, their_data)
        return
    assert ours.header.binaryblock == theirs.header.binaryblock
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours.affine, theirs.affine)
    assert our_data.dtype == their_data.dtype
    np.testing.assert_array_equal(our_data, their_data)
    if hasattr(theirs.header, "extensions"):
        ours_ext = [(e.get_code(), e.get_sizeondisk()) for e in ours.header.extensions]
        theirs_ext = [(e.get_code(), e.get_sizeondisk()) for e in theirs.header.extensions]
        assert ours_ext == theirs_ext
    for attr in ("slope", "inter", "offset"):
        if hasattr(theirs.dataobj, attr):
            assert getattr(ours.dataobj, attr) == pytest.approx(getattr(theirs.dataobj, attr), nan_ok=True)


@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: str(p).split("corpus/")[-1])
def test_corpus_file_matches_nibabel(path):
    _assert_same_as_nibabel(path)


@pytest.mark.parametrize("path", _nibabel_wheel_files(), ids=lambda p: p.name)
def test_nibabel_wheel_file_matches_nibabel(path):
    _assert_same_as_nibabel(path)


def test_corpus_is_reachable(corpus):
    assert _corpus_files(), f"no NIfTI/Analyze files found under {corpus}"
