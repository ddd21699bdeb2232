"""Every AFNI (.HEAD/.BRIK) and ECAT (.v) file in the corpus: nivox reads what nibabel reads, identically.

Files nibabel refuses, nivox refuses with a NivoxError naming the file.
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

SUFFIXES = (".head", ".v", ".v.gz")


def _files() -> list[Path]:
    location = os.environ.get("NIVOX_CORPUS")
    if not location or not Path(location).is_dir():
        return []
    found = []
    for dirpath, _, names in os.walk(location):
        found += [Path(dirpath) / name for name in names if name.lower().endswith(SUFFIXES)]
    return sorted(found)


FILES = _files()


def _nibabel_load(path: Path):
    # nibabel.load does not know ECAT (nibabel PR#95): its ecat module does
    loader = nib.ecat.load if path.name.lower().endswith((".v", ".v.gz")) else nib.load
    img = loader(str(path))
    return img, np.asanyarray(img.dataobj)


def test_corpus_has_these_formats():
    if not os.environ.get("NIVOX_CORPUS"):
        pytest.skip("NIVOX_CORPUS is not set: corpus tests need ../shared/corpus")
    assert any(p.name.endswith(".HEAD") for p in FILES) and any(p.name.endswith(".v") for p in FILES)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_same_as_nibabel(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            theirs, their_data = _nibabel_load(path)
        except Exception:  # noqa: BLE001 - nibabel refusing in any way counts
            with pytest.raises(NivoxError) as caught:
                np.asanyarray(nivox.load(path).dataobj)
            assert path.name.split("+")[0] in str(caught.value)
            return
        ours = nivox.load(path)
        our_data = np.asanyarray(ours.dataobj)
        assert type(ours).__name__ == type(theirs).__name__
        assert ours.shape == theirs.shape
        assert np.array_equal(ours.affine, theirs.affine)
        assert our_data.dtype == their_data.dtype
        assert np.array_equal(our_data, their_data, equal_nan=True)
        assert np.array_equal(ours.get_fdata(), theirs.get_fdata(), equal_nan=True)
        if type(ours).__name__ == "AFNIImage":
            assert ours.get_data_dtype() == theirs.get_data_dtype()
            assert ours.header.get_zooms() == theirs.header.get_zooms()
            assert ours.header.info == theirs.header.info
            assert ours.header.get_space() == theirs.header.get_space()
            assert ours.header.get_volume_labels() == theirs.header.get_volume_labels()
            assert np.array_equal(ours.header.get_data_scaling(), theirs.header.get_data_scaling())
        else:
            assert ours.header.binaryblock == theirs.header.binaryblock
            assert np.array_equal(ours.get_mlist(), theirs.get_mlist())
            ours_sub, theirs_sub = ours.get_subheaders(), theirs.get_subheaders()
            assert [s.tobytes() for s in ours_sub.subheaders] == [s.tobytes() for s in theirs_sub.subheaders]
            assert ours_sub.get_zooms() == theirs_sub.get_zooms()
            for frame in range(ours.shape[3]):
                assert np.array_equal(ours.get_frame(frame), theirs.get_frame(frame))
                assert ours.get_data_dtype(frame) == theirs.get_data_dtype(frame)


@pytest.mark.parametrize("path", [p for p in FILES if p.name.endswith((".HEAD", ".v"))],
                         ids=lambda p: p.name)
def test_resaved_copy_reads_the_same_in_nibabel(path, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            theirs, their_data = _nibabel_load(path)
        except Exception:  # noqa: BLE001 - nibabel refusing in any way counts
            pytest.skip("nibabel refuses this file")
        target = tmp_path / (path.name.split("+")[0] + "+orig.HEAD" if path.name.endswith(".HEAD") else "copy.v")
        nivox.load(path).to_filename(target)
        again, again_data = _nibabel_load(target)
        assert np.array_equal(again_data, their_data)
        assert np.array_equal(again.affine, theirs.affine)
