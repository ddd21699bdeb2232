"""Tests of ``nivox view``: snapshots on the Agg backend at a voxel or world point, 4D volumes."""

import os
import subprocess
import sys

import numpy as np
import pytest

import nivox
from nivox.cli.main import main
from nivox.cli.view import render
from nivox.testing import data_path

pytest.importorskip("matplotlib")
nib = pytest.importorskip("nibabel")

ANATOMICAL = os.path.join(data_path, "anatomical.nii")  # LAS, axis-aligned
EXAMPLE4D = os.path.join(data_path, "example4d.nii.gz")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def shown_planes(viewer):
    """The arrays shown in the sagittal, coronal and axial views."""
    return [np.asarray(ax.images[0].get_array()) for ax in viewer.figs[0].axes[:3]]


def test_png_written_at_a_voxel(capsys, tmp_path):
    out = tmp_path / "a.png"
    assert main(["view", ANATOMICAL, "-o", str(out), "--voxel", "10", "20", "30"]) == 0
    assert capsys.readouterr().err == ""
    assert out.read_bytes()[:8] == PNG_MAGIC


def test_position_of_voxel_and_slices_shown():
    img = nivox.load(ANATOMICAL)
    viewer = render(img, voxel=(10, 20, 30))
    try:
        np.testing.assert_allclose(viewer.position, img.affine[:3, :3] @ [10, 20, 30]
                                   + img.affine[:3, 3])
        data = nib.load(ANATOMICAL).get_fdata()
        sagittal, coronal, axial = shown_planes(viewer)
        # the same values as the planes through the voxel (flips and transposes aside)
        for plane, expected in ((sagittal, data[10]), (coronal, data[:, 20]),
                                (axial, data[:, :, 30])):
            np.testing.assert_array_equal(np.sort(plane.ravel()), np.sort(expected.ravel()))
        title = viewer.figs[0].get_suptitle()
        assert title.startswith("anatomical.nii  voxel (10, 20, 30)")
    finally:
        viewer.close()


def test_world_point():
    img = nivox.load(ANATOMICAL)
    world = img.affine[:3, :3] @ [5, 6, 7] + img.affine[:3, 3] + 0.3  # off-centre: rounds
    viewer = render(img, world=world)
    try:
        np.testing.assert_allclose(viewer.position, world - 0.3)
    finally:
        viewer.close()


def test_4d_volume_only_that_volume_read(monkeypatch):
    from nivox.arrayproxy import ArrayProxy

    def refuse(*args, **kwargs):
        raise AssertionError("view read the whole 4D array")

    monkeypatch.setattr(ArrayProxy, "__array__", refuse)
    img = nivox.load(EXAMPLE4D)
    viewer = render(img, voxel=(20, 24, 10), volume=2, clim=(0, 500), cmap="hot")
    try:
        assert viewer.n_volumes == 1
        assert viewer.clim == (0, 500)
        data = nib.load(EXAMPLE4D).get_fdata()[..., 2]
        axial = shown_planes(viewer)[2]
        np.testing.assert_allclose(np.sort(axial.ravel()), np.sort(data[:, :, 10].ravel()),
                                   rtol=1e-5)
        assert viewer.figs[0].get_suptitle().endswith("volume 2")
    finally:
        viewer.close()


def test_4d_defaults_to_first_volume():
    viewer = render(nivox.load(EXAMPLE4D), title="")
    try:
        assert viewer.figs[0].get_suptitle() == ""
        data = nib.load(EXAMPLE4D).get_fdata()[..., 0]
        shown = np.concatenate([p.ravel() for p in shown_planes(viewer)])
        assert np.isin(np.round(shown, 3), np.round(data, 3)).all()
    finally:
        viewer.close()


@pytest.mark.parametrize("args, problem", [
    (["--voxel", "0", "0", "99"], "voxel (0, 0, 99) lies outside the image of shape (48, 56, 40)"),
    (["--world", "500", "0", "0"], "world point (500.0, 0.0, 0.0) mm lies outside the image"),
    (["--volume", "1"], "volume 1 out of range"),
])
def test_position_errors(capsys, tmp_path, args, problem):
    out = tmp_path / "x.png"
    assert main(["view", ANATOMICAL, "-o", str(out), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"nivox: error: {ANATOMICAL}: {problem}") and err.count("\n") == 1
    assert not out.exists()


def test_output_errors(capsys, tmp_path):
    out = tmp_path / "x.png"
    out.write_bytes(b"old")
    assert main(["view", ANATOMICAL, "-o", str(out)]) == 1
    assert capsys.readouterr().err == f"nivox: error: {out}: File exists; use --force to replace it\n"
    assert main(["view", ANATOMICAL, "-o", str(out), "--force"]) == 0
    assert out.read_bytes()[:8] == PNG_MAGIC
    odd = str(tmp_path / "x.nope")
    assert main(["view", ANATOMICAL, "-o", odd]) == 1
    assert capsys.readouterr().err.startswith(f"nivox: error: {odd}: ")
    assert main(["view", ANATOMICAL]) == 2
    assert main(["view", ANATOMICAL, "-o", odd, "--voxel", "1", "2", "3", "--world", "1", "2",
                 "3"]) == 2


def test_svg_by_extension(tmp_path):
    out = tmp_path / "v.svg"
    assert main(["view", EXAMPLE4D, "-o", str(out), "--volume", "1"]) == 0
    assert b"<svg" in out.read_bytes()[:500]


def test_subprocess_without_display(tmp_path):
    out = tmp_path / "s.png"
    env = dict(os.environ, MPLBACKEND="TkAgg")
    env.pop("DISPLAY", None)
    proc = subprocess.run([sys.executable, "-m", "nivox.cli.main", "view", EXAMPLE4D, "-o",
                           str(out), "--world", "0", "0", "0", "--volume", "2", "--dpi", "50"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:8] == PNG_MAGIC


def test_corpus_snapshot(corpus, tmp_path):
    path = str(corpus / "mricron/attention.nii.gz")
    out = tmp_path / "c.png"
    assert main(["view", path, "-o", str(out), "--world", "0", "-20", "10"]) == 0
    assert out.stat().st_size > 1000


def test_long_title_wrapped_inside_the_figure_above_the_panels():
    img = nivox.load(os.path.join(data_path, "anatomical.nii"))
    title = "sub-01_ses-baseline_task-rest_acq-highresolution_run-01_desc-preproc_T1w.nii" * 2
    viewer = render(img, title=title + "  voxel (1, 2, 3)")
    try:
        fig = viewer.figs[0]
        renderer = fig.canvas.get_renderer()
        box = fig._suptitle.get_window_extent(renderer)
        figure_box = fig.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= figure_box.width
        assert fig._suptitle.get_text().count("\n") >= 1
        shown = "".join(fig._suptitle.get_text().split())
        assert shown == "".join((title + "  voxel (1, 2, 3)").split())
        top_of_panels = max(axes.get_window_extent(renderer).y1 for axes in fig.axes)
        assert box.y0 >= top_of_panels
    finally:
        viewer.close()


def test_help_names_the_panels_in_the_order_they_are_drawn(capsys):
    assert main(["view", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "coronal at top left, sagittal at top right and axial at bottom left" in text
