"""Every MGH/MGZ file of the corpus and of nibabel's and nilearn's test data: nivox reads what nibabel reads."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

import nivox
from nivox.errors import NivoxError

nib = pytest.importorskip("nibabel")


def _mgh_files(root: Path) -> list[Path]:
    found = []
    for dirpath, _, names in os.walk(root):
        found += [Path(dirpath) / n for n in names if n.lower().endswith((".mgh", ".mgz"))]
    return sorted(found)


def _all_files() -> list[Path]:
    files = _mgh_files(Path(nib.__file__).parent / "tests" / "data")
    location = os.environ.get("NIVOX_CORPUS")
    if location and Path(location).is_dir():
        files += _mgh_files(Path(location))
    return files


FILES = _all_files()


def test_corpus_has_mgh_files():
    if not os.environ.get("NIVOX_CORPUS"):
        pytest.skip("NIVOX_CORPUS is not set: corpus tests need ../shared/corpus")
    assert len(FILES) >= 2


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_reads_as_nibabel(path, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            theirs = nib.load(path)
            their_data = np.asanyarray(theirs.dataobj)
        except Exception:  # noqa: BLE001 - whatever nibabel raises, nivox must refuse cleanly
            with pytest.raises(NivoxError):
                np.asanyarray(nivox.load(path).dataobj)
            return
    ours = nivox.load(path)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.shape == theirs.shape
    assert ours.get_data_dtype() == theirs.get_data_dtype()
    assert np.array_equal(ours.affine, theirs.affine)
    assert ours.header.get_zooms() == theirs.header.get_zooms()
    assert ours.header.binaryblock == theirs.header.binaryblock
    for key in theirs.header:
        assert np.array_equal(ours.header[key], theirs.header[key])
    assert np.allclose(ours.header.get_vox2ras_tkr(), theirs.header.get_vox2ras_tkr())
    data = np.asanyarray(ours.dataobj)
    assert data.dtype == their_data.dtype
    assert np.array_equal(data, their_data)
    assert np.array_equal(ours.get_fdata(dtype=np.float32), theirs.get_fdata(dtype=np.float32))
    last = (slice(None),) * 3 + ((-1,) if ours.ndim == 4 else ())
    assert np.array_equal(ours.dataobj[last], their_data[last])
    # a save keeps every byte after the data (tags) and the data
    nivox.save(ours, tmp_path / "copy.mgz")
    again = nivox.load(tmp_path / "copy.mgz")
    assert again.header.tags == ours.header.tags
    assert again.header.binaryblock == ours.header.binaryblock
    assert np.array_equal(np.asanyarray(again.dataobj), their_data)
    assert np.array_equal(np.asanyarray(nib.load(tmp_path / "copy.mgz").dataobj), their_data)
