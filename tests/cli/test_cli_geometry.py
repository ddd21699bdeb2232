"""Tests of the commands that change the voxel grid: ``nivox reorient``, ``conform`` and ``roi``."""

import os
import subprocess
import sys

import numpy as np
import pytest

import nivox
from nivox.cli.main import main
from nivox.cli.roi import parse_range
from nivox.testing import data_path

nib = pytest.importorskip("nibabel")

ANATOMICAL = os.path.join(data_path, "anatomical.nii")  # LAS
EXAMPLE4D = os.path.join(data_path, "example4d.nii.gz")  # oblique, 4D


def run(capsys, *args):
    status = main(list(args))
    return status, capsys.readouterr().err


def world_of(img, ijk):
    return img.affine[:3, :3] @ np.asarray(ijk, float) + img.affine[:3, 3]


def check_same_world_values(src, dst, n_points=20, seed=0, src_volumes=slice(None), atol=0.0):
    """Every voxel of ``dst`` holds the value ``src`` has at the same world point."""
    rng = np.random.default_rng(seed)
    src_data, dst_data = src.get_fdata(), dst.get_fdata()
    if src_data.ndim > 3:
        src_data = src_data[..., src_volumes]
    inverse = np.linalg.inv(src.affine)
    for _ in range(n_points):
        ijk = [rng.integers(n) for n in dst.shape[:3]]
        back = inverse[:3, :3] @ world_of(dst, ijk) + inverse[:3, 3]
        src_ijk = tuple(int(round(v)) for v in back)
        np.testing.assert_allclose(back, src_ijk, atol=1e-4)
        np.testing.assert_allclose(dst_data[tuple(ijk)], src_data[src_ijk], atol=atol)


# ---- reorient ----------------------------------------------------------------------------------


def test_reorient_to_ras_matches_nibabel_canonical(capsys, tmp_path):
    out = str(tmp_path / "ras.nii")
    assert run(capsys, "reorient", ANATOMICAL, out) == (0, "")
    expected = nib.as_closest_canonical(nib.load(ANATOMICAL))
    got = nib.load(out)
    assert nib.aff2axcodes(got.affine) == ("R", "A", "S")
    np.testing.assert_allclose(got.affine, expected.affine)
    np.testing.assert_array_equal(got.get_fdata(), expected.get_fdata())


@pytest.mark.parametrize("codes", ["LPS", "LIA", "SRA"])
def test_reorient_4d_to_codes(capsys, tmp_path, codes):
    out = str(tmp_path / "o.nii.gz")
    assert run(capsys, "reorient", EXAMPLE4D, out, "--to", codes.lower()) == (0, "")
    src, dst = nib.load(EXAMPLE4D), nib.load(out)
    assert "".join(nib.aff2axcodes(dst.affine)) == codes
    assert dst.shape[3] == src.shape[3]
    assert sorted(dst.shape[:3]) == sorted(src.shape[:3])
    check_same_world_values(src, dst)


def test_reorient_dim_info_follows_axes(capsys, tmp_path):
    out = str(tmp_path / "o.nii")
    assert main(["reorient", EXAMPLE4D, out, "--to", "SPL"]) == 0
    src, dst = nib.load(EXAMPLE4D), nib.load(out)
    ornt = nib.orientations.ornt_transform(nib.io_orientation(src.affine),
                                           nib.orientations.axcodes2ornt("SPL"))
    expected = [None if a is None else int(ornt[a, 0]) for a in src.header.get_dim_info()]
    assert list(dst.header.get_dim_info()) == expected


def test_reorient_errors(capsys, tmp_path):
    status, err = run(capsys, "reorient", ANATOMICAL, str(tmp_path / "o.nii"), "--to", "RAR")
    assert status == 2 and "one each of L/R, P/A and I/S" in err
    missing = str(tmp_path / "none.nii")
    status, err = run(capsys, "reorient", missing, str(tmp_path / "o.nii"))
    assert (status, err) == (1, f"nivox: error: {missing}: No such file or directory\n")


# ---- conform ---------------------------------------------------------------------------------


def test_conform_matches_nibabel(capsys, tmp_path):
    from nibabel.processing import conform

    out = str(tmp_path / "c.nii")
    args = ["conform", ANATOMICAL, out, "--out-shape", "30", "32", "28", "--voxel-size", "2",
            "2", "2.5", "--order", "1"]
    assert run(capsys, *args) == (0, "")
    expected = conform(nib.load(ANATOMICAL), (30, 32, 28), (2, 2, 2.5), order=1)
    got = nib.load(out)
    assert got.shape == (30, 32, 28)
    np.testing.assert_allclose(got.affine, expected.affine, atol=1e-5)
    np.testing.assert_allclose(got.get_fdata(), expected.get_fdata(), atol=0.5)


def test_conform_orientation_and_volume(capsys, tmp_path):
    from nibabel.processing import conform

    out = str(tmp_path / "c.nii.gz")
    assert run(capsys, "conform", EXAMPLE4D, out, "--volume", "1", "--orientation", "LPS",
               "--out-shape", "20", "20", "16", "--voxel-size", "4", "4", "4",
               "--order", "0") == (0, "")
    got = nib.load(out)
    assert "".join(nib.aff2axcodes(got.affine)) == "LPS"
    volume = nib.load(EXAMPLE4D).slicer[..., 1]
    expected = conform(volume, (20, 20, 16), (4, 4, 4), order=0, orientation="LPS")
    np.testing.assert_allclose(got.affine, expected.affine, atol=1e-5)
    np.testing.assert_allclose(got.get_fdata(), expected.get_fdata(), atol=0.05)


def test_conform_4d_needs_volume(capsys, tmp_path):
    status, err = run(capsys, "conform", EXAMPLE4D, str(tmp_path / "c.nii"))
    assert status == 1 and err.startswith(f"nivox: error: {EXAMPLE4D}: ")
    assert "--volume" in err and err.count("\n") == 1
    status, err = run(capsys, "conform", EXAMPLE4D, str(tmp_path / "c.nii"), "--volume", "7")
    assert status == 1 and "volume 7 out of range" in err
    status, err = run(capsys, "conform", ANATOMICAL, str(tmp_path / "c.nii"), "--out-shape",
                      "0", "1", "1")
    assert status == 2 and "positive integer" in err


# ---- roi -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("10:50", slice(10, 50)), (":40", slice(None, 40)), ("5:", slice(5, None)),
    ("::2", slice(None, None, 2)), ("-20:-5", slice(-20, -5)), ("7", slice(7, 8)),
    ("-1", slice(-1, None)), ("10:2:-1", slice(10, 2, -1)),
])
def test_parse_range(text, expected):
    assert parse_range(text) == expected


@pytest.mark.parametrize("text", ["a:b", "1:2:3:4", "::0", ""])
def test_parse_range_rejects(text):
    with pytest.raises(Exception):
        parse_range(text)


def test_roi_matches_nibabel_slicer(capsys, tmp_path):
    out = str(tmp_path / "r.nii.gz")
    assert run(capsys, "roi", EXAMPLE4D, out, "--x", "10:30", "--y", "::2", "--z", "5:-5",
               "--t", "1:") == (0, "")
    expected = nib.load(EXAMPLE4D).slicer[10:30, ::2, 5:-5, 1:]
    got = nib.load(out)
    assert got.shape == expected.shape == (20, 24, 10, 2)
    np.testing.assert_allclose(got.affine, expected.affine)
    np.testing.assert_allclose(got.get_fdata(), expected.get_fdata(), atol=0.05)
    check_same_world_values(nib.load(EXAMPLE4D), got, src_volumes=slice(1, None), atol=0.05)


def test_roi_flip_keeps_world_positions(capsys, tmp_path):
    out = str(tmp_path / "flip.nii")
    assert run(capsys, "roi", ANATOMICAL, out, "--x", "::-1", "--z", "30:10:-2") == (0, "")
    src, got = nib.load(ANATOMICAL), nib.load(out)
    np.testing.assert_array_equal(got.get_fdata(), src.get_fdata()[::-1, :, 30:10:-2])
    # the first kept voxel is the new origin (nibabel's slicer gets this wrong for ::-1)
    np.testing.assert_allclose(world_of(got, (0, 0, 0)), world_of(src, (47, 0, 30)))
    check_same_world_values(src, got)


def test_roi_reads_only_the_region(capsys, tmp_path, monkeypatch):
    from nivox.arrayproxy import ArrayProxy

    requested = []
    original = ArrayProxy.__getitem__

    def spy(self, key):
        requested.append(key)
        return original(self, key)

    def refuse(*args, **kwargs):
        raise AssertionError("roi read the whole image")

    monkeypatch.setattr(ArrayProxy, "__getitem__", spy)
    monkeypatch.setattr(ArrayProxy, "__array__", refuse)
    assert run(capsys, "roi", EXAMPLE4D, str(tmp_path / "r.nii"), "--z", "3:5") == (0, "")
    assert len(requested) == 1 and requested[0][2] == slice(3, 5)


@pytest.mark.parametrize("args, problem", [
    (["--x", "10:300"], "x range 10:300 is outside the image's 48 voxels along x (0..47)"),
    (["--y", "60:"], "y range 60: is outside"),
    (["--z", "5:5"], "z range 5:5 selects no voxels"),
    (["--t", "0:1"], "--t given but the image has 3 axes"),
])
def test_roi_errors(capsys, tmp_path, args, problem):
    out = tmp_path / "r.nii"
    status, err = run(capsys, "roi", ANATOMICAL, str(out), *args)
    assert status == 1 and err.startswith(f"nivox: error: {ANATOMICAL}: {problem}")
    assert not out.exists()


def test_roi_subprocess(tmp_path):
    out = str(tmp_path / "r.img")
    proc = subprocess.run([sys.executable, "-m", "nivox.cli.main", "roi", ANATOMICAL, out,
                           "--x", "4:20", "--y=-10:"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    got = nivox.load(out)
    assert got.shape == (16, 10, 40)
    np.testing.assert_array_equal(got.get_fdata(), nib.load(ANATOMICAL).get_fdata()[4:20, -10:])


def test_corpus_roi_and_reorient(corpus, capsys, tmp_path):
    path = str(corpus / "nibabel/tests_data/functional.nii")
    out = str(tmp_path / "r.nii")
    assert run(capsys, "roi", path, out, "--x", "2:15", "--t", "5:10") == (0, "")
    got = nib.load(out)  # rescaled to int16 on writing: equal within one step
    np.testing.assert_allclose(got.get_fdata(), nib.load(path).get_fdata()[2:15, :, :, 5:10],
                               atol=got.dataobj.slope)
    ras = str(tmp_path / "ras.nii")
    assert run(capsys, "reorient", path, ras) == (0, "")
    expected = nib.as_closest_canonical(nib.load(path))
    np.testing.assert_allclose(nib.load(ras).affine, expected.affine)
    np.testing.assert_allclose(nib.load(ras).get_fdata(), expected.get_fdata())
