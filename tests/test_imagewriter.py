"""nivox.ImageWriter: images written volume by volume, atomic, read back by nibabel."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import nivox
from nivox.errors import ImageDataError, ImageFileError, NivoxError, WriterError

nib = pytest.importorskip("nibabel")

AFFINE = np.array([[-2.0, 0, 0, 90], [0, 2, 0.1, -126], [0, 0, 2.5, -72], [0, 0, 0, 1]])


def series(shape=(9, 8, 7, 6), dtype=np.int16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(-300, 300, shape).astype(dtype)


@pytest.mark.parametrize("name", ["x.nii", "x.nii.gz", "x.hdr", "x.img.gz", "x.nii.bz2"])
@pytest.mark.parametrize("dtype", [np.int16, np.float32, np.uint8])
def test_volumes_read_back_by_nibabel(tmp_path, name, dtype):
    data = series(dtype=np.int16) if dtype != np.uint8 else series().clip(0, 255).astype(np.uint8)
    data = data.astype(dtype)
    path = tmp_path / name
    header = nivox.Nifti1Header()
    header.set_xyzt_units("mm", "sec")
    header["descrip"] = b"streamed"
    with nivox.ImageWriter(path, data.shape, dtype, AFFINE, header=header) as writer:
        writer.write(data[..., 0])          # one volume
        writer.write(data[..., 1:4])        # a block of three
        writer.write(data[..., 4:])
        assert writer.volumes_written == data.shape[-1]
    img = nib.load(str(path))
    assert np.asanyarray(img.dataobj).dtype == dtype
    np.testing.assert_array_equal(np.asanyarray(img.dataobj), data)
    np.testing.assert_allclose(img.affine, AFFINE, atol=1e-5)
    assert img.header.get_xyzt_units() == ("mm", "sec")
    assert img.header["descrip"].item() == b"streamed"
    # the same header nivox writes for the whole array at once
    reference = tmp_path / ("ref" + name[1:])
    nivox.save(nivox.Nifti1Image(data, AFFINE, header) if ".nii" in name
               else nivox.Nifti1Pair(data, AFFINE, header), reference)
    ref = nib.load(str(reference))
    assert img.header.get_best_affine().tolist() == ref.header.get_best_affine().tolist()


def test_fewer_volumes_than_declared_leaves_no_file(tmp_path):
    path = tmp_path / "short.nii.gz"
    with pytest.raises(ImageDataError, match="2 of 6 volumes"):
        with nivox.ImageWriter(path, (9, 8, 7, 6), np.int16, AFFINE) as writer:
            writer.write(series()[..., :2])
    assert os.listdir(tmp_path) == []


def test_an_exception_keeps_the_old_file(tmp_path):
    path = tmp_path / "kept.nii"
    nivox.save(nivox.Nifti1Image(np.ones((2, 2, 2), np.float32), np.eye(4)), path)
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match="pipeline failed"):
        with nivox.ImageWriter(path, (9, 8, 7, 6), np.int16, AFFINE) as writer:
            writer.write(series()[..., 0])
            raise RuntimeError("pipeline failed")
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["kept.nii"]


def test_bad_volumes_refused(tmp_path):
    path = tmp_path / "bad.nii"
    with pytest.raises(NivoxError):
        with nivox.ImageWriter(path, (9, 8, 7, 2), np.int16, AFFINE) as writer:
            with pytest.raises(ImageDataError, match="shape"):
                writer.write(np.zeros((9, 8, 6)))
            with pytest.raises(WriterError, match="whole"):
                writer.write(np.full((9, 8, 7), 0.5))
            with pytest.raises(WriterError, match="fit"):
                writer.write(np.full((9, 8, 7), 40000.0))
            with pytest.raises(ImageDataError, match="exceed"):
                writer.write(np.zeros((9, 8, 7, 3)))
            writer.write(np.full((9, 8, 7), 3.0))  # whole numbers that fit: stored exactly
    assert not path.exists()
    with pytest.raises(ImageFileError, match="extension"):
        nivox.ImageWriter(tmp_path / "x.xyz", (2, 2, 2), np.int16, AFFINE)


def test_larger_than_the_memory_the_process_may_use(tmp_path):
    """2.5 GiB written by a process whose address space is capped at 640 MiB."""
    path = tmp_path / "big.nii.gz"
    script = textwrap.dedent(f"""
        import resource
        limit = 640 << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        import numpy as np
        import nivox
        shape = (256, 256, 128, 160)
        volume = np.zeros(shape[:3], np.int16)
        with nivox.ImageWriter({str(path)!r}, shape, np.int16, np.eye(4)) as writer:
            for t in range(shape[3]):
                volume[t % 256] = t          # compresses well: disk use stays small
                writer.write(volume)
    """)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    img = nib.load(str(path))
    assert img.shape == (256, 256, 128, 160) and img.get_data_dtype() == np.int16
    expected = np.zeros((256, 256, 128), np.int16)
    for t in range(160):  # nibabel reads it back, volume by volume
        expected[t % 256] = t
        assert np.array_equal(img.dataobj[..., t], expected), t
