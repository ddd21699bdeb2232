"""``nivox convert`` between TRK, TCK and TRX: points preserved, TRK's grid from the input or --reference."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nivox
import nivox.streamlines as nvs
from nivox.cli.main import main

nib = pytest.importorskip("nibabel")


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    sl = [rng.standard_normal((n, 3)).astype(np.float32) * 10 for n in (1, 5, 3)]
    aff = np.diag([2.0, 2.0, 2.0, 1.0])
    aff[:3, 3] = [-20, -20, -10]
    ref = tmp_path / "ref.nii"
    nivox.save(nivox.Nifti1Image(np.zeros((20, 20, 10), np.float32), aff), str(ref))
    header = {"voxel_to_rasmm": aff.astype(np.float32), "dimensions": np.array([20, 20, 10]),
              "voxel_sizes": np.array([2, 2, 2], np.float32), "voxel_order": b"RAS"}
    t = nvs.Tractogram(sl, {"w": np.arange(3.0)[:, None]}, affine_to_rasmm=np.eye(4))
    nvs.save(t, str(tmp_path / "a.trk"), header=header)
    nvs.save(nvs.Tractogram(sl, affine_to_rasmm=np.eye(4)), str(tmp_path / "a.tck"))
    return tmp_path, sl, aff


def _points(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [np.asarray(s) for s in nib.streamlines.load(str(path)).streamlines] if not str(path).endswith(
            ".trx") else [np.asarray(s) for s in nvs.load(str(path)).streamlines]


@pytest.mark.parametrize("src,dst", [("a.trk", "b.tck"), ("a.trk", "b.trx"), ("a.tck", "b.trx"),
                                     ("a.trk", "b.trk")])
def test_conversions_keep_points(files, capsys, src, dst):
    folder, sl, aff = files
    assert main(["convert", str(folder / src), str(folder / dst)]) == 0
    for a, b in zip(_points(folder / dst), sl):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_trx_to_trk_uses_the_trx_grid(files, capsys):
    folder, sl, aff = files
    assert main(["convert", str(folder / "a.trk"), str(folder / "b.trx")]) == 0
    assert main(["convert", str(folder / "b.trx"), str(folder / "c.trk")]) == 0
    hdr = nib.streamlines.load(str(folder / "c.trk")).header
    np.testing.assert_allclose(hdr["voxel_to_rasmm"], aff)
    np.testing.assert_array_equal(hdr["dimensions"], [20, 20, 10])
    for a, b in zip(_points(folder / "c.trk"), sl):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_tck_to_trk_needs_a_reference(files, capsys):
    folder, sl, aff = files
    assert main(["convert", str(folder / "a.tck"), str(folder / "b.trk")]) == 1
    assert "--reference" in capsys.readouterr().err
    assert not (folder / "b.trk").exists()
    assert main(["convert", "--reference", str(folder / "ref.nii"), str(folder / "a.tck"),
                 str(folder / "b.trk")]) == 0
    hdr = nib.streamlines.load(str(folder / "b.trk")).header
    np.testing.assert_allclose(hdr["voxel_to_rasmm"], aff)
    assert hdr["voxel_order"] == b"RAS"
    for a, b in zip(_points(folder / "b.trk"), sl):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_refuses_to_replace_without_force(files, capsys):
    folder, _, _ = files
    assert main(["convert", str(folder / "a.trk"), str(folder / "a.tck")]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["convert", "--force", str(folder / "a.trk"), str(folder / "a.tck")]) == 0


def test_bad_input_is_one_line(files, capsys):
    folder, _, _ = files
    bad = folder / "bad.tck"
    bad.write_bytes((folder / "a.tck").read_bytes()[:-12])
    assert main(["convert", str(bad), str(folder / "x.trx")]) == 1
    err = capsys.readouterr().err
    assert "bad.tck" in err and len(err.strip().splitlines()) == 1
