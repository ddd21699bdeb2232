"""``describe`` and ``ls`` on GIFTI and CIFTI-2 files: arrays, intents, axes and their lengths."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nivox.cifti2 import BrainModelAxis, Cifti2Image, ScalarAxis, SeriesAxis
from nivox.cli.main import main
from nivox.gifti import GiftiImage


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(3)
    verts = rng.random((5, 3)).astype(np.float32)
    faces = np.array([[0, 1, 2], [2, 3, 4]], dtype=np.int32)
    GiftiImage.from_surface(verts, faces, meta={"AnatomicalStructurePrimary": "CortexLeft"}) \
        .to_filename(tmp_path / "lh.surf.gii")
    GiftiImage.from_vertex_data(np.array([1.0, -2.0, np.nan, 4.0, 5.0])).to_filename(tmp_path / "lh.shape.gii")
    mask = np.zeros((3, 3, 3), bool)
    mask[1, 1, :2] = True
    bm = BrainModelAxis.from_surface([0, 2, 4], 5, "CortexLeft") + BrainModelAxis.from_mask(mask, "brain_stem")
    Cifti2Image(np.arange(20, dtype=np.float32).reshape(4, 5), (SeriesAxis(0, 2.0, 4), bm)) \
        .to_filename(tmp_path / "x.dtseries.nii")
    Cifti2Image(np.ones((2, 5), np.float32), (ScalarAxis(["thick", "myelin"]), bm)) \
        .to_filename(tmp_path / "x.dscalar.nii")
    return tmp_path


def test_describe_gifti_lists_arrays_and_intents(files, capsys):
    assert main(["describe", str(files / "lh.surf.gii")]) == 0
    out = capsys.readouterr().out
    assert "GiftiImage" in out and "pointset 5x3 float32" in out and "triangle 2x3 int32" in out
    assert "AnatomicalStructurePrimary" in out and "CortexLeft" in out


def test_describe_gifti_stats_skip_triangles_and_count_nan(files, capsys):
    assert main(["describe", "--stats", "--json", str(files / "lh.shape.gii")]) == 0
    record = json.loads(capsys.readouterr().out)[0]
    assert record["arrays"][0]["intent"] == "shape"
    assert record["stats"]["min"] == -2 and record["stats"]["max"] == 5 and record["stats"]["nan"] == 1


def test_describe_cifti_names_axes_and_lengths(files, capsys):
    assert main(["describe", str(files / "x.dtseries.nii")]) == 0
    out = capsys.readouterr().out
    assert "Cifti2Image" in out and "ConnDenseSeries" in out
    assert "series (4): from 0 by 2 second" in out
    assert "grayordinates (5): cortex_left 3/5 vertices, brain_stem 2 voxels" in out
    assert main(["describe", "--json", "--stats", str(files / "x.dscalar.nii")]) == 0
    record = json.loads(capsys.readouterr().out)[0]
    assert [a["type"] for a in record["axes"]] == ["ScalarAxis", "BrainModelAxis"]
    assert record["axes"][0]["maps"] == ["thick", "myelin"]
    assert record["stats"]["mean"] == 1


def test_ls_rows_for_surfaces(files, capsys):
    assert main(["ls", str(files)]) == 0
    out = capsys.readouterr().out
    assert "pointset:5x3,triangle:2x3" in out
    assert "4x5" in out and "series,brainmodel" in out and "scalar,brainmodel" in out
    assert main(["ls", "--json", "-H", "intent_code", str(files / "x.dscalar.nii"),
                 str(files / "lh.surf.gii")]) == 0
    cifti, gifti = json.loads(capsys.readouterr().out)
    assert cifti["fields"]["intent_code"] == 3006 and gifti["fields"]["intent_code"] is None
