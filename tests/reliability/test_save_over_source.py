"""Saving an image over the files it was loaded from writes the right data and keeps the image usable."""

from __future__ import annotations

import itertools
import os
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import nivox
from nivox import _atomic
from nivox._atomic import TEMP_PREFIX

DATA = (np.arange(4 * 5 * 6, dtype=np.int16) - 50).reshape(4, 5, 6)
AFFINE = np.diag([2.0, 3.0, 4.0, 1.0])
FORMATS = [
    ("Nifti1Image", "img.nii"),
    ("Nifti1Image", "img.nii.gz"),
    ("Nifti1Pair", "img.img"),
    ("Nifti1Pair", "img.img.gz"),
    ("Nifti2Image", "img.nii"),
    ("AnalyzeImage", "img.img"),
    ("Spm99AnalyzeImage", "img.img"),
    ("Spm2AnalyzeImage", "img.hdr"),
]


def _files(folder):
    return sorted(os.listdir(folder))


@pytest.mark.parametrize(("klass_name", "name"), FORMATS)
@pytest.mark.parametrize(("mmap", "keep_file_open", "cached", "new_dtype"), [
    (mmap, keep, cached, dtype) for mmap, keep, cached, dtype in itertools.product(
        [True, False], [True, False], [True, False], [None, np.float32])
    if not (keep and cached)  # keeps the matrix small; each option still meets the others
])
def test_save_over_source(tmp_path, klass_name, name, mmap, keep_file_open, cached, new_dtype):
    path = tmp_path / name
    getattr(nivox, klass_name)(DATA, AFFINE).to_filename(path)
    files = _files(tmp_path)
    img = nivox.load(path, mmap=mmap, keep_file_open=keep_file_open)
    if cached:
        img.get_fdata()
    if new_dtype is not None:
        img.set_data_dtype(new_dtype)
    nivox.save(img, path)
    # same files (an Analyze file loads as SPM2, which adds its .mat), no temporaries left
    assert [f for f in _files(tmp_path) if not (klass_name == "AnalyzeImage" and f == "img.mat")] == files
    # the image still reads, from the new file, with the new layout
    np.testing.assert_array_equal(np.asanyarray(img.dataobj), DATA)
    np.testing.assert_array_equal(img.get_fdata(), DATA)
    img.uncache()
    np.testing.assert_array_equal(img.get_fdata(), DATA)
    reloaded = nivox.load(path)
    np.testing.assert_array_equal(np.asanyarray(reloaded.dataobj), DATA)
    assert reloaded.get_data_dtype() == (new_dtype or np.int16)
    if "Spm" not in klass_name and "Analyze" not in klass_name:
        np.testing.assert_array_equal(reloaded.affine, AFFINE)
    if new_dtype is not None:
        assert img.dataobj.dtype == np.dtype(new_dtype).newbyteorder(img.dataobj.dtype.byteorder)
    nivox.save(img, path)  # and again, from the re-pointed proxy
    np.testing.assert_array_equal(np.asanyarray(nivox.load(path).dataobj), DATA)


@pytest.mark.parametrize(("klass_name", "name"), FORMATS[:4])
def test_to_file_map_over_memory_mapped_source(tmp_path, klass_name, name):
    # writing in place under a live memory map would truncate the mapped file (SIGBUS);
    # run in a child so a regression cannot take the test process down with it
    script = textwrap.dedent(f"""
        import numpy as np, nivox
        data = np.arange(120, dtype=np.int16).reshape(4, 5, 6)
        nivox.{klass_name}(data, np.eye(4)).to_filename({str(tmp_path / name)!r})
        img = nivox.load({str(tmp_path / name)!r}, mmap=True)
        img.to_file_map()
        assert np.array_equal(np.asanyarray(img.dataobj), data)
        assert np.array_equal(np.asanyarray(nivox.load({str(tmp_path / name)!r}).dataobj), data)
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout == "ok\n", result.stderr
    assert not [f for f in _files(tmp_path) if f.startswith(TEMP_PREFIX)]


def test_readers_of_the_old_file_are_not_torn(tmp_path):
    path = tmp_path / "img.nii"
    nivox.Nifti1Image(DATA, AFFINE).to_filename(path)
    held = np.asanyarray(nivox.load(path, mmap=True).dataobj)  # a live memory map
    opened = nivox.load(path, mmap=False, keep_file_open=True)
    opened.dataobj[0]  # opens the file, and keeps it open
    by_name = nivox.load(path, mmap=False)
    nivox.save(nivox.Nifti1Image(DATA * 2, AFFINE), path)
    # the old inode lives on under the map and the open handle
    np.testing.assert_array_equal(held, DATA)
    np.testing.assert_array_equal(np.asanyarray(opened.dataobj), DATA)
    # a proxy that opens by name reads the new file, as nibabel's do
    np.testing.assert_array_equal(np.asanyarray(by_name.dataobj), DATA * 2)


def test_pair_and_sidecar_renamed_data_first(tmp_path, monkeypatch):
    path = tmp_path / "img.img"
    nivox.Spm99AnalyzeImage(DATA, AFFINE).to_filename(path)
    renamed = []
    real_replace = os.replace
    monkeypatch.setattr(_atomic.os, "replace",
                        lambda source, target: (renamed.append(os.path.basename(target)),
                                                real_replace(source, target)))
    nivox.save(nivox.load(path), path)
    assert renamed == ["img.img", "img.hdr", "img.mat"]


def test_compressed_pair_renamed_data_first(tmp_path, monkeypatch):
    path = tmp_path / "img.img.gz"
    renamed = []
    real_replace = os.replace
    monkeypatch.setattr(_atomic.os, "replace",
                        lambda source, target: (renamed.append(os.path.basename(target)),
                                                real_replace(source, target)))
    nivox.save(nivox.Nifti1Pair(DATA, AFFINE), path)
    assert renamed == ["img.img.gz", "img.hdr.gz"]


def test_overwrite_keeps_permissions(tmp_path):
    path = tmp_path / "img.nii"
    nivox.Nifti1Image(DATA, AFFINE).to_filename(path)
    os.chmod(path, 0o640)
    nivox.save(nivox.load(path), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_spm_image_without_affine_writes_no_sidecar(tmp_path):
    path = tmp_path / "img.img"
    nivox.Spm99AnalyzeImage(DATA, None).to_filename(path)
    assert _files(tmp_path) == ["img.hdr", "img.img"]


def test_nested_replacements_share_temporaries(tmp_path):
    target = str(tmp_path / "a.nii")
    file_map = {"image": nivox.FileHolder(target)}
    with _atomic.replacing_files(file_map) as outer:
        with _atomic.replacing_files(outer) as inner:
            assert inner["image"] is outer["image"]
            with open(inner["image"].filename, "wb") as handle:
                handle.write(b"content")
        assert os.path.exists(outer["image"].filename)  # the inner one renamed nothing
    assert _files(tmp_path) == ["a.nii"]
    assert (tmp_path / "a.nii").read_bytes() == b"content"
