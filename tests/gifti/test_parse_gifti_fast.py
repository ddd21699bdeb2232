"""Reading GIFTI: hostile and inconsistent files end in a GiftiParseError naming the file."""

from __future__ import annotations

import base64
import zlib
from xml.parsers.expat import ExpatError

import numpy as np
import pytest

import nivox
from nivox.errors import ImageFileError, NivoxError
from nivox.gifti import GiftiDataArray, GiftiImage
from nivox.gifti.parse_gifti_fast import GiftiImageParser, GiftiParseError

HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _doc(data_array: bytes, prolog: bytes = b"") -> bytes:
    return HEAD + prolog + b'<GIFTI Version="1.0" NumberOfDataArrays="1">' + data_array + b"</GIFTI>"


def _da(data: bytes, encoding: bytes = b"ASCII", dims: bytes = b'Dimensionality="1" Dim0="3"',
        dtype: bytes = b"NIFTI_TYPE_FLOAT32") -> bytes:
    return (b'<DataArray Intent="NIFTI_INTENT_SHAPE" DataType="' + dtype + b'" '
            b'ArrayIndexingOrder="RowMajorOrder" ' + dims + b' Encoding="' + encoding + b'" '
            b'Endian="LittleEndian" ExternalFileName="" ExternalFileOffset=""><Data>' + data +
            b"</Data></DataArray>")


def _load(tmp_path, doc: bytes, name: str = "bad.gii"):
    path = tmp_path / name
    path.write_bytes(doc)
    return nivox.load(path)


def test_error_class_keeps_nibabel_bases():
    assert issubclass(GiftiParseError, ExpatError)
    assert issubclass(GiftiParseError, ImageFileError)
    assert issubclass(GiftiParseError, ValueError)


def test_doctype_with_external_dtd_is_read(tmp_path):
    prolog = b'<!DOCTYPE GIFTI SYSTEM "http://www.nitrc.org/frs/download.php/115/gifti.dtd">\n'
    img = _load(tmp_path, _doc(_da(b"1 2 3"), prolog), "ok.gii")
    np.testing.assert_array_equal(img.darrays[0].data, [1, 2, 3])


BAD_DOCUMENTS = {
    "malformed": _doc(_da(b"1 2 3"))[:-5],
    "entity expansion": HEAD + b'<!DOCTYPE GIFTI [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
                        b'<GIFTI Version="1.0"><MetaData><MD><Name>x</Name><Value>&b;</Value></MD>'
                        b"</MetaData></GIFTI>",
    "external entity": HEAD + b'<!DOCTYPE GIFTI [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                       b'<GIFTI Version="1.0"><MetaData><MD><Name>x</Name><Value>&e;</Value></MD>'
                       b"</MetaData></GIFTI>",
    "parameter entity": HEAD + b'<!DOCTYPE GIFTI [<!ENTITY % p SYSTEM "http://example.com/x.dtd"> %p;]>'
                        b'<GIFTI Version="1.0"/>',
    "too few ascii values": _doc(_da(b"1 2")),
    "too many ascii values": _doc(_da(b"1 2 3 4")),
    "not numbers": _doc(_da(b"1 x 3")),
    "base64 too short": _doc(_da(base64.b64encode(np.zeros(2, "<f4").tobytes()), b"Base64Binary")),
    "base64 garbage": _doc(_da(b"!!!!", b"Base64Binary")),
    "zlib damaged": _doc(_da(base64.b64encode(b"\x78\x9c garbage"), b"GZipBase64Binary")),
    "zlib larger than dims": _doc(_da(base64.b64encode(zlib.compress(b"\0" * 10**6)), b"GZipBase64Binary")),
    "dims count wrong": _doc(_da(b"1 2 3", dims=b'Dimensionality="2" Dim0="3"')),
    "negative dim": _doc(_da(b"1 2 3", dims=b'Dimensionality="1" Dim0="-3"')),
    "dims not integers": _doc(_da(b"1 2 3", dims=b'Dimensionality="1" Dim0="three"')),
    "unknown intent": _doc(_da(b"1").replace(b"NIFTI_INTENT_SHAPE", b"NIFTI_INTENT_WHAT")),
    "unknown datatype": _doc(_da(b"1 2 3", dtype=b"NIFTI_TYPE_FLOAT7")),
    "unknown encoding": _doc(_da(b"1 2 3", encoding=b"Rot13")),
    "void datatype": _doc(_da(b"1 2 3", dtype=b"NIFTI_TYPE_RGB24")),
    "data outside data array": HEAD + b'<GIFTI Version="1.0"><Data>1</Data></GIFTI>',
    "not gifti": HEAD + b"<NIFTI><x/></NIFTI>",
    "empty document": b"",
    "unknown declared encoding": _doc(_da(b"1 2 3")).replace(b"UTF-8", b"TTF-8"),
    "bad label key": HEAD + b'<GIFTI Version="1.0"><LabelTable><Label Key="k">x</Label></LabelTable></GIFTI>',
    "bad matrix": _doc(_da(b"1 2 3").replace(
        b"<Data>", b"<CoordinateSystemTransformMatrix><DataSpace>NIFTI_XFORM_UNKNOWN</DataSpace>"
                   b"<MatrixData>1 2 3</MatrixData></CoordinateSystemTransformMatrix><Data>")),
}


@pytest.mark.parametrize("name", sorted(BAD_DOCUMENTS))
def test_bad_documents_raise_gifti_parse_error_naming_file(tmp_path, name):
    with pytest.raises(NivoxError) as caught:
        _load(tmp_path, BAD_DOCUMENTS[name])
    assert "bad.gii" in str(caught.value)
    # an empty file is refused by load before any parsing
    assert isinstance(caught.value, GiftiParseError) or name == "empty document"
    with pytest.raises(GiftiParseError):
        GiftiImage.from_bytes(BAD_DOCUMENTS[name])


def test_bad_bytes_name_their_origin():
    with pytest.raises(GiftiParseError, match="XML bytes"):
        GiftiImage.from_bytes(BAD_DOCUMENTS["entity expansion"])


def test_number_of_arrays_mismatch_warns(tmp_path):
    doc = _doc(_da(b"1 2 3")).replace(b'NumberOfDataArrays="1"', b'NumberOfDataArrays="2"')
    with pytest.warns(UserWarning, match="2 != 1"):
        _load(tmp_path, doc)


def test_parser_buffer_sizes_give_same_data():
    data = np.arange(5000, dtype=np.float32)
    doc = GiftiImage(darrays=[GiftiDataArray(data, encoding="B64BIN")]).to_bytes()
    for size in (None, 1, 4096):
        parser = GiftiImageParser(buffer_size=size)
        parser.parse(string=doc)
        np.testing.assert_array_equal(parser.img.darrays[0].data, data)


def test_parse_needs_exactly_one_source():
    with pytest.raises(ValueError):
        GiftiImageParser().parse()


def test_flat_ascii_data_fill_all_dims():
    doc = _doc(_da(b"1 2 3 4 5 6", dims=b'Dimensionality="2" Dim0="2" Dim1="3"'))
    data = GiftiImage.from_bytes(doc).darrays[0].data
    np.testing.assert_array_equal(data, [[1, 2, 3], [4, 5, 6]])
    column_major = doc.replace(b"RowMajorOrder", b"ColumnMajorOrder")
    np.testing.assert_array_equal(GiftiImage.from_bytes(column_major).darrays[0].data,
                                  np.array([1, 2, 3, 4, 5, 6]).reshape((2, 3), order="F"))


def test_legacy_code_spellings_read_and_rewritten():
    raw = np.arange(3, dtype="<f4").tobytes()
    doc = _doc(_da(base64.b64encode(raw), b"GIFTI_ENCODING_B64BIN").replace(
        b"LittleEndian", b"GIFTI_ENDIAN_LITTLE"))
    img = GiftiImage.from_bytes(doc)
    np.testing.assert_array_equal(img.darrays[0].data, [0, 1, 2])
    out = img.to_bytes()
    assert b"GIFTI_ENCODING" not in out and b"GIFTI_ENDIAN" not in out


def test_lifted_data_blocks_do_not_touch_comments_or_cdata():
    data = np.arange(400, dtype=np.float32)
    doc = GiftiImage(darrays=[GiftiDataArray(data)]).to_bytes()
    fake = b"<Data>" + b"A" * 400 + b"</Data>"
    doc = doc.replace(b"<MetaData />", b"<MetaData><MD><Name>n</Name><Value><![CDATA[" + fake +
                      b"]]></Value></MD></MetaData><!-- " + fake + b" -->", 1)
    img = GiftiImage.from_bytes(doc)
    assert img.meta["n"] == fake.decode()
    np.testing.assert_array_equal(img.darrays[0].data, data)


def test_large_ascii_and_binary_blocks_read_the_same_lifted_or_not():
    rng = np.random.default_rng(4)
    arrays = [rng.random((300, 3)).astype(np.float32), rng.integers(0, 300, (500, 3)).astype(np.int32)]
    for encoding in ("ASCII", "B64BIN", "B64GZ"):
        doc = GiftiImage(darrays=[GiftiDataArray(a, encoding=encoding) for a in arrays]).to_bytes()
        lifted = GiftiImage.from_bytes(doc)
        # a CDATA section keeps expat parsing the data itself
        plain = GiftiImage.from_bytes(doc.replace(b"<Data>", b"<Data><![CDATA[").replace(b"</Data>", b"]]></Data>"))
        for a, b, c in zip(arrays, lifted.darrays, plain.darrays):
            np.testing.assert_array_equal(b.data, a)
            np.testing.assert_array_equal(c.data, a)
