"""CIFTI-2 images: building from axes, writing and reading, laziness, spec checks, bad files."""

from __future__ import annotations

import struct

import numpy as np
import pytest

import nivox
from nivox.arrayproxy import is_proxy
from nivox.cifti2 import (
    BrainModelAxis,
    Cifti2BrainModel,
    Cifti2Extension,
    Cifti2Header,
    Cifti2HeaderError,
    Cifti2Image,
    Cifti2Label,
    Cifti2LabelTable,
    Cifti2MatrixIndicesMap,
    Cifti2MetaData,
    Cifti2VertexIndices,
    LabelAxis,
    ParcelsAxis,
    ScalarAxis,
    SeriesAxis,
)
from nivox.cifti2._image import Cifti2HeaderWarning
from nivox.errors import NivoxError
from nivox.nifti2 import Nifti2Image

rng = np.random.default_rng(2)
AFFINE = np.diag([2.0, 2.0, 2.0, 1.0])


def _brain_models() -> BrainModelAxis:
    mask = np.zeros((4, 5, 6), bool)
    mask[1:3, 2, 3:5] = True
    cortex = BrainModelAxis.from_surface(np.array([0, 3, 7, 9]), 12, name="CortexLeft")
    thalamus = BrainModelAxis.from_mask(mask, name="thalamus_left", affine=AFFINE)
    return cortex + thalamus


def _dtseries(tmp_path, ntime=5):
    bm = _brain_models()
    series = SeriesAxis(start=0.0, step=0.72, size=ntime)
    data = rng.random((ntime, len(bm))).astype(np.float32)
    img = Cifti2Image(data, header=(series, bm))
    path = tmp_path / "x.dtseries.nii"
    nivox.save(img, path)
    return path, data, series, bm


def test_dtseries_round_trip_and_load_picks_cifti(tmp_path):
    path, data, series, bm = _dtseries(tmp_path)
    img = nivox.load(path)
    assert isinstance(img, Cifti2Image)
    assert img.shape == data.shape
    assert is_proxy(img.dataobj) and not img.in_memory
    np.testing.assert_array_equal(img.get_fdata(dtype=np.float32), data)
    assert img.header.get_axis(0) == series and img.header.get_axis(1) == bm
    # a CIFTI intent and name were chosen for the file type, as Workbench expects
    assert img.nifti_header.get_intent()[0] == "ConnDenseSeries"
    assert img.nifti_header["intent_name"].item() == b"ConnDenseSeries"
    # nifti dims: 1 x 1 x 1 x 1 then the CIFTI dims
    assert img.nifti_header.get_data_shape() == (1, 1, 1, 1) + data.shape


def test_slicing_reads_only_what_it_needs(tmp_path, monkeypatch):
    path, data, _, _ = _dtseries(tmp_path, ntime=40)
    img = Cifti2Image.from_filename(path, mmap=False)
    reads = []
    real_read = nivox.openers.ImageOpener.read

    def counting(self, *args):
        out = real_read(self, *args)
        reads.append(len(out))
        return out

    monkeypatch.setattr(nivox.openers.ImageOpener, "read", counting)
    column = img.dataobj[:, 3]
    np.testing.assert_array_equal(column, data[:, 3])
    assert sum(reads) <= 40 * 4 * 2, reads  # one grayordinate's series, not the file
    assert not img.in_memory


def test_dscalar_dlabel_pconn_round_trips(tmp_path):
    bm = _brain_models()
    scalars = ScalarAxis(["myelin", "thickness"], [{"unit": "au"}, {}])
    data = rng.random((2, len(bm)))
    nivox.save(Cifti2Image(data, (scalars, bm)), tmp_path / "s.dscalar.nii")
    back = nivox.load(tmp_path / "s.dscalar.nii")
    assert back.header.get_axis(0) == scalars
    assert back.nifti_header.get_intent()[0] == "ConnDenseScalar"
    np.testing.assert_array_equal(back.get_fdata(), data)

    labels = LabelAxis(["parc"], {0: ("???", (0, 0, 0, 0)), 1: ("V1", (1, 0, 0, 1))})
    keys = rng.integers(0, 2, (1, len(bm))).astype(np.int32)
    nivox.save(Cifti2Image(keys, (labels, bm)), tmp_path / "l.dlabel.nii")
    back = nivox.load(tmp_path / "l.dlabel.nii")
    assert back.header.get_axis(0) == labels
    assert back.nifti_header.get_intent()[0] == "ConnDenseLabel"
    np.testing.assert_array_equal(np.asanyarray(back.dataobj), keys)

    parcels = ParcelsAxis.from_brain_models([("a", bm[:4]), ("b", bm[4:])])
    conn = rng.random((2, 2))
    nivox.save(Cifti2Image(conn, (parcels, parcels)), tmp_path / "p.pconn.nii")
    back = nivox.load(tmp_path / "p.pconn.nii")
    assert back.header.get_axis(0) == parcels == back.header.get_axis(1)
    assert back.header.matrix.get_index_map(0) is back.header.matrix.get_index_map(1)


def test_nibabel_reads_ours_and_we_read_theirs(tmp_path):
    nib = pytest.importorskip("nibabel")
    path, data, series, bm = _dtseries(tmp_path)
    theirs = nib.load(path)
    assert type(theirs).__name__ == "Cifti2Image"
    np.testing.assert_array_equal(theirs.get_fdata(dtype=np.float32), data)
    assert theirs.header.get_axis(1).name.tolist() == bm.name.tolist()
    nib.save(theirs, tmp_path / "nb.dtseries.nii")
    ours = nivox.load(tmp_path / "nb.dtseries.nii")
    assert ours.header.to_xml() == theirs.header.to_xml()
    assert ours.header.get_axis(0) == series and ours.header.get_axis(1) == bm


def test_invalid_headers_are_refused_with_the_problem_named(tmp_path):
    bm = _brain_models()
    series = SeriesAxis(0, 1, 3)
    header = Cifti2Header.from_axes((series, bm))
    models = list(header.get_index_map(1).brain_models)
    models[1].index_offset = 7  # leaves a gap after the cortex model
    img = Cifti2Image(np.zeros((3, len(bm)), np.float32), header)
    with pytest.raises(Cifti2HeaderError, match="IndexOffset is 7, the models before it end at 4"):
        img.to_filename(tmp_path / "bad.dtseries.nii")
    assert not (tmp_path / "bad.dtseries.nii").exists()

    header = Cifti2Header.from_axes((series, bm))
    header.get_index_map(0).series_unit = None
    img = Cifti2Image(np.zeros((3, len(bm)), np.float32), header)
    with pytest.raises(Cifti2HeaderError, match="series needs series_unit"):
        img.to_filename(tmp_path / "bad.dtseries.nii")

    header = Cifti2Header.from_axes((ScalarAxis(["a"]), bm))
    with pytest.warns(UserWarning, match="does not match"):
        img = Cifti2Image(np.zeros((2, len(bm)), np.float32), header)
    with pytest.raises(Cifti2HeaderError, match="shape"):
        img.to_filename(tmp_path / "bad.dscalar.nii")


def test_out_of_range_vertices_warn_but_write(tmp_path):
    bm = _brain_models()
    header = Cifti2Header.from_axes((ScalarAxis(["a"]), bm))
    model = next(iter(header.get_index_map(1).brain_models))
    model.vertex_indices = Cifti2VertexIndices([0, 3, 7, 20])  # the surface has 12 vertices
    img = Cifti2Image(np.zeros((1, len(bm)), np.float32), header)
    with pytest.warns(Cifti2HeaderWarning, match="vertex indices outside 0..11"):
        img.to_filename(tmp_path / "warn.dscalar.nii")
    assert "warn.dscalar.nii" in str(tmp_path / "warn.dscalar.nii")


def test_validate_lists_problems():
    header = Cifti2Header()
    assert header.validate() == ["the Matrix has no MatrixIndicesMap"]
    mim = Cifti2MatrixIndicesMap([0], "CIFTI_INDEX_TYPE_LABELS")
    header.matrix.append(mim)
    assert any("needs at least one NamedMap" in p for p in header.validate())
    mim = Cifti2MatrixIndicesMap([1], "CIFTI_INDEX_TYPE_BRAIN_MODELS")
    mim.append(Cifti2BrainModel(0, 2, "CIFTI_MODEL_TYPE_SURFACE", "CIFTI_STRUCTURE_CORTEX_LEFT",
                                 None, None, Cifti2VertexIndices([1])))
    header.matrix.append(mim)
    problems = header.validate()
    assert any("needs SurfaceNumberOfVertices" in p for p in problems)
    assert any("VertexIndices hold 1 vertices, IndexCount says 2" in p for p in problems)


def _cifti_bytes(version: str = "2.0") -> tuple[bytes, np.ndarray]:
    bm = BrainModelAxis.from_surface(np.arange(4), 4, "CortexLeft")
    data = np.arange(8, dtype=np.float32).reshape(2, 4)
    img = Cifti2Image(data, (SeriesAxis(0, 1, 2), bm))
    raw = img.to_bytes()
    if version != "2.0":
        assert b'<CIFTI Version="2.0"' in raw
        raw = raw.replace(b'<CIFTI Version="2.0"', f'<CIFTI Version="{version}"'.encode())
    return raw, data


def test_cifti1_refused_with_clear_error(tmp_path):
    raw, _ = _cifti_bytes("1.0")
    (tmp_path / "old.dtseries.nii").write_bytes(raw)
    with pytest.raises(Cifti2HeaderError, match="Only CIFTI-2 files are supported") as caught:
        nivox.load(tmp_path / "old.dtseries.nii")
    assert "old.dtseries.nii" in str(caught.value)
    assert isinstance(caught.value, (NivoxError, ValueError))


def test_xml_disagreeing_with_nifti_dims(tmp_path):
    raw, _ = _cifti_bytes()
    raw = raw.replace(b'NumberOfSeriesPoints="2"', b'NumberOfSeriesPoints="3"')
    (tmp_path / "bad.dtseries.nii").write_bytes(raw)
    with pytest.raises(Cifti2HeaderError, match=r"bad.dtseries.nii: the CIFTI-2 XML describes data of shape \(3, 4\)"):
        nivox.load(tmp_path / "bad.dtseries.nii")


def test_nifti2_without_cifti_extension_is_refused(tmp_path):
    img = Nifti2Image(np.zeros((1, 1, 1, 1, 2, 3), np.float32), np.eye(4))
    img.header.set_intent("NIFTI_INTENT_CONNECTIVITY_DENSE")
    img.to_filename(tmp_path / "plain.dconn.nii")
    with pytest.raises(Cifti2HeaderError, match="does not contain a CIFTI-2 extension"):
        nivox.load(tmp_path / "plain.dconn.nii")
    # without a CIFTI intent it is just a NIfTI-2 image
    img.header.set_intent("none")
    img.to_filename(tmp_path / "plain.nii")
    assert type(nivox.load(tmp_path / "plain.nii")).__name__ == "Nifti2Image"


def test_extension_round_trip_and_entity_refusal():
    raw, _ = _cifti_bytes()
    img = Cifti2Image.from_bytes(raw)
    ext = Cifti2Extension.from_bytes(img.header.to_xml())
    assert ext.get_content() == img.header
    bomb = (b'<?xml version="1.0"?><!DOCTYPE CIFTI [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
            b'<CIFTI Version="2"><Matrix><MetaData><MD><Name>x</Name><Value>&b;</Value></MD>'
            b"</MetaData></Matrix></CIFTI>")
    with pytest.raises(Cifti2HeaderError, match="entity"):
        Cifti2Extension.from_bytes(bomb).get_content()


def test_label_table_and_metadata_objects():
    table = Cifti2LabelTable()
    table[1] = ("cortex", 1, 0.5, 0, 1)
    table.append(Cifti2Label(2, "wm", 1, 1, 1, 1))
    assert [lab.label for lab in table.values()] == ["cortex", "wm"]
    with pytest.raises(ValueError):
        table[3] = ("x", 2, 0, 0, 1)
    md = Cifti2MetaData(a="1")
    md.difference_update({"a": None})
    assert len(md) == 0
