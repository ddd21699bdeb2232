"""GIFTI images: building, writing every encoding/type/byte order, reading back, and what nivox adds."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import nivox
from nivox.errors import CastingError, NivoxError
from nivox.gifti import (
    GiftiCoordSystem,
    GiftiDataArray,
    GiftiImage,
    GiftiLabel,
    GiftiLabelTable,
    GiftiMetaData,
)
from nivox.gifti.gifti import GIFTI_DTYPES
from nivox.nifti1 import data_type_codes

rng = np.random.default_rng(16)
ENCODINGS = ("ASCII", "B64BIN", "B64GZ")


def _surface():
    verts = rng.random((6, 3)).astype(np.float32) * 100
    faces = np.array([[0, 1, 2], [2, 3, 4], [3, 4, 5]], dtype=np.int32)
    return verts, faces


def test_empty_image_defaults():
    img = GiftiImage()
    assert img.darrays == [] and img.numDA == 0
    assert dict(img.meta) == {} and img.labeltable.labels == []
    assert img.version == "1.0"
    da = GiftiDataArray()
    assert da.data is None and da.intent == 0 and da.datatype == 0 and da.encoding == 3
    assert da.endian == (2 if sys.byteorder == "little" else 1)
    assert da.ind_ord == 1 and da.dims == [] and np.array_equal(da.coordsys.xform, np.eye(4))


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32])
@pytest.mark.parametrize("ordering", ["C", "F"])
def test_round_trip_every_encoding_standard_type_and_order(encoding, dtype, ordering):
    data = (rng.random((7, 3)) * 120).astype(dtype)
    img = GiftiImage(darrays=[GiftiDataArray(data, intent="NIFTI_INTENT_SHAPE", encoding=encoding,
                                             ordering=ordering)])
    back = GiftiImage.from_bytes(img.to_bytes())
    out = back.darrays[0].data
    assert out.dtype == np.dtype(dtype) and out.shape == data.shape
    np.testing.assert_array_equal(out, data)  # ASCII floats keep every digit


ARRAY_TYPES = sorted(label for label in data_type_codes.value_set("label")
                     if np.dtype(data_type_codes.dtype[label]).kind != "V")


@pytest.mark.parametrize("label", ARRAY_TYPES)
def test_every_datatype_force_round_trip(label):
    dtype = np.dtype(data_type_codes.dtype[label])
    data = (rng.random(9) * 100).astype(dtype)
    for encoding in ("B64BIN", "B64GZ"):
        img = GiftiImage(darrays=[GiftiDataArray(data, datatype=label, encoding=encoding)])
        back = GiftiImage.from_bytes(img.to_bytes(mode="force"))
        np.testing.assert_array_equal(back.darrays[0].data, data)
    if data_type_codes.code[label] not in GIFTI_DTYPES:
        with pytest.raises(ValueError, match="compat"):
            img.to_bytes()


def test_big_endian_data_read():
    data = np.arange(12, dtype=">f4").reshape(4, 3)
    text = GiftiImage(darrays=[GiftiDataArray(data.astype("<f4"))]).to_bytes()
    # rewrite the data block as a big-endian writer would
    import base64
    import zlib
    swapped = base64.b64encode(zlib.compress(data.tobytes())).decode()
    root = ET.fromstring(text.split(b"\n", 2)[2])
    da = root.find("DataArray")
    da.set("Endian", "BigEndian")
    da.find("Data").text = swapped
    img = GiftiImage.from_bytes(ET.tostring(root))
    np.testing.assert_array_equal(img.darrays[0].data, data)
    assert img.darrays[0].endian == 1


def test_written_xml_has_one_element_per_line_and_standard_codes():
    verts, faces = _surface()
    text = GiftiImage.from_surface(verts, faces).to_xml().decode()
    lines = text.splitlines()
    assert lines[0].startswith("<?xml") and lines[1].startswith("<!DOCTYPE GIFTI")
    assert any(line.strip().startswith("<DataArray") for line in lines)
    assert len(lines) > 10
    assert 'Encoding="GZipBase64Binary"' in text and "NIFTI_TYPE_FLOAT32" in text
    assert "NIFTI_TYPE_INT32" in text and "GIFTI_ENCODING" not in text


def test_from_surface_and_agg_data():
    verts, faces = _surface()
    img = GiftiImage.from_surface(verts, faces, meta={"AnatomicalStructurePrimary": "CortexLeft"})
    coords, tris = img.agg_data()
    np.testing.assert_array_equal(coords, verts)
    np.testing.assert_array_equal(tris, faces)
    np.testing.assert_array_equal(img.agg_data("triangle"), faces)
    assert img.agg_data(("triangle", "pointset"))[0] is tris
    assert img.agg_data("time series") == ()
    assert img.meta["AnatomicalStructurePrimary"] == "CortexLeft"
    back = GiftiImage.from_bytes(img.to_bytes())
    np.testing.assert_array_equal(back.agg_data("pointset"), verts)
    with pytest.raises(ValueError, match="index vertices"):
        GiftiImage.from_surface(verts, faces + 10)


def test_from_vertex_data_shapes_intents_and_labels():
    series = rng.random((50, 4))
    img = GiftiImage.from_vertex_data(series)
    assert img.numDA == 4 and img.darrays[0].intent == 2001
    np.testing.assert_allclose(img.agg_data(), series.astype(np.float32))
    single = GiftiImage.from_vertex_data(series[:, 0])
    assert single.darrays[0].intent == nivox.nifti1.intent_codes.code["shape"]
    keys = np.array([0, 1, 1, 2, 2, 2])
    labels = GiftiImage.from_vertex_data(keys, labels={0: "???", 1: ("V1", (1, 0, 0, 1)), 2: "V2"})
    assert labels.darrays[0].intent == 1002 and labels.darrays[0].data.dtype == np.int32
    assert labels.labeltable.get_labels_as_dict() == {0: "???", 1: "V1", 2: "V2"}
    assert labels.labeltable.labels[1].rgba == (1, 0, 0, 1)
    with pytest.raises(CastingError):
        GiftiImage.from_vertex_data(np.array([0.5, 1.0]), labels={0: "a"})


def test_label_values_survive_dtype_changes():
    keys = np.array([0, 3, 7, 2**20 + 1], dtype=np.int32)
    img = GiftiImage.from_vertex_data(keys, labels={int(k): f"r{k}" for k in keys})
    img.darrays[0].data = img.darrays[0].data.astype(np.float64)  # as after a float computation
    back = GiftiImage.from_bytes(img.to_bytes())
    np.testing.assert_array_equal(back.darrays[0].data, keys)
    assert back.darrays[0].data.dtype == np.int32
    img.darrays[0].data = img.darrays[0].data + 0.5  # no longer label keys
    with pytest.raises(CastingError, match="label values would change"):
        img.to_bytes()


def test_out_of_range_integers_refused_not_wrapped():
    da = GiftiDataArray(np.array([1, 2**40], dtype=np.int64), datatype="int32")
    with pytest.raises(CastingError, match="do not fit"):
        GiftiImage(darrays=[da]).to_bytes()


def test_compat_mode_casts_to_standard_types():
    data = np.arange(10, dtype=np.int64)
    img = GiftiImage(darrays=[GiftiDataArray(data, datatype="int64")])
    back = GiftiImage.from_bytes(img.to_bytes(mode="compat"))
    assert back.darrays[0].data.dtype == np.int32
    np.testing.assert_array_equal(back.darrays[0].data, data)
    with pytest.raises(TypeError):
        img.to_bytes(mode="nonsense")


def test_metadata_labels_and_coordsys_round_trip():
    img = GiftiImage(meta=GiftiMetaData(date="today", subject="s<1>&"))
    table = GiftiLabelTable()
    for key, name in ((0, "unknown"), (5, "cortex")):
        label = GiftiLabel(key, 0.5, 0.25, 1.0, 1.0)
        label.label = name
        table.labels.append(label)
    img.labeltable = table
    xform = np.diag([2.0, 3.0, 4.0, 1.0])
    cs = GiftiCoordSystem("talairach", "scanner", xform)
    img.add_gifti_data_array(GiftiDataArray(np.zeros((3, 3), np.float32), "pointset", coordsys=cs,
                                            meta={"Name": "pial"}))
    back = GiftiImage.from_bytes(img.to_bytes())
    assert dict(back.meta) == {"date": "today", "subject": "s<1>&"}
    assert back.labeltable.get_labels_as_dict() == {0: "unknown", 5: "cortex"}
    assert back.labeltable.labels[1].rgba == (0.5, 0.25, 1.0, 1.0)
    da = back.darrays[0]
    assert da.meta["Name"] == "pial"
    assert da.coordsys.dataspace == 3 and da.coordsys.xformspace == 1
    np.testing.assert_array_equal(da.coordsys.xform, xform)


def test_type_checks_on_setters():
    img = GiftiImage()
    with pytest.raises(TypeError):
        img.add_gifti_data_array(np.zeros(3))
    with pytest.raises(TypeError):
        img.labeltable = {}
    with pytest.raises(TypeError):
        img.meta = {}
    with pytest.raises(ValueError, match="uint8, int32 and float32"):
        GiftiDataArray(np.zeros(3, np.float64))


def test_remove_by_intent_removes_all_matching():
    img = GiftiImage(darrays=[GiftiDataArray(np.zeros(2, np.float32), "shape") for _ in range(3)])
    img.add_gifti_data_array(GiftiDataArray(np.zeros(2, np.float32), "pointset"))
    img.remove_gifti_data_array_by_intent("shape")
    assert [da.intent for da in img.darrays] == [1008]


def test_save_load_compressed_and_through_nivox_load(tmp_path):
    verts, faces = _surface()
    img = GiftiImage.from_surface(verts, faces)
    for name in ("s.surf.gii", "s.surf.gii.gz", "s.surf.gii.bz2"):
        nivox.save(img, tmp_path / name)
        back = nivox.load(tmp_path / name)
        assert isinstance(back, GiftiImage)
        np.testing.assert_array_equal(back.agg_data("pointset"), verts)
        assert back.get_filename() == str(tmp_path / name)


def test_external_file_binary(tmp_path):
    data = np.arange(30, dtype=np.float32).reshape(10, 3)
    (tmp_path / "ext.dat").write_bytes(b"\0" * 8 + data.tobytes())
    doc = (b'<?xml version="1.0" encoding="UTF-8"?>\n<GIFTI Version="1.0" NumberOfDataArrays="1">'
           b'<DataArray Intent="NIFTI_INTENT_POINTSET" DataType="NIFTI_TYPE_FLOAT32" '
           b'ArrayIndexingOrder="RowMajorOrder" Dimensionality="2" Dim0="10" Dim1="3" '
           b'Encoding="ExternalFileBinary" Endian="' + sys.byteorder.capitalize().encode() +
           b'Endian" ExternalFileName="ext.dat" ExternalFileOffset="8"><Data/></DataArray></GIFTI>')
    (tmp_path / "ext.gii").write_bytes(doc)
    mapped = nivox.load(tmp_path / "ext.gii")
    assert isinstance(mapped.darrays[0].data, np.memmap)
    read = nivox.load(tmp_path / "ext.gii", mmap=False)
    assert not isinstance(read.darrays[0].data, np.memmap)
    for img in (mapped, read):
        np.testing.assert_array_equal(img.darrays[0].data, data)
    # saved elsewhere, the data go inline (the external file is not the new file's)
    inline = GiftiImage.from_bytes(mapped.to_bytes())
    assert inline.darrays[0].encoding == 3 and inline.darrays[0].ext_fname == ""
    np.testing.assert_array_equal(inline.darrays[0].data, data)
    # the external file holds fewer bytes than the dimensions need
    (tmp_path / "ext.dat").write_bytes(data.tobytes()[:50])
    with pytest.raises(NivoxError, match="ext.dat holds 50 bytes"):
        nivox.load(tmp_path / "ext.gii")
    (tmp_path / "ext.dat").unlink()
    with pytest.raises(NivoxError, match="Cannot locate external file"):
        nivox.load(tmp_path / "ext.gii")
    with pytest.raises(NivoxError, match="in-memory"):
        GiftiImage.from_bytes(doc)


def test_print_summary(capsys):
    verts, faces = _surface()
    GiftiImage.from_surface(verts, faces).print_summary()
    out = capsys.readouterr().out
    assert out.startswith("----start----\n") and "NIFTI_INTENT_TRIANGLE" in out


def test_repr():
    assert repr(GiftiDataArray(np.zeros((4, 3), np.float32), "pointset")) == "<GiftiDataArray pointset[4, 3]>"
    label = GiftiLabel(3, 1.0, 0.0, 0.0, 1.0)
    assert repr(label) == '<GiftiLabel 3="#ff0000ff">'
    assert repr(GiftiCoordSystem(3, 3)) == "<GiftiCoordSystem talairach-to-talairach>"
