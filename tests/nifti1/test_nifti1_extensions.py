"""Tests of NIfTI header extensions (nivox.nifti1.extensions), with nibabel as oracle."""

import gzip
import io
import os
import struct
import sys
import types
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nivox.errors import HeaderDataError, HeaderFixWarning, MissingDependencyError
from nivox.nifti1.extensions import (
    Nifti1DicomExtension,
    Nifti1Extension,
    Nifti1Extensions,
    NiftiExtension,
    extension_codes,
)
from nivox.volumeutils import native_code

nibabel = pytest.importorskip("nibabel")
nib_nifti1 = pytest.importorskip("nibabel.nifti1")
nib_errors = pytest.importorskip("nibabel.spatialimages")


def written(obj, byteswap=False):
    buffer = io.BytesIO()
    obj.write_to(buffer, byteswap)
    return buffer.getvalue()


def block(esize, ecode, payload=b"", order="<"):
    return struct.pack(order + "ii", esize, ecode) + payload


def read(data, size, byteswap=False):
    return Nifti1Extensions.from_fileobj(io.BytesIO(data), size, byteswap)


# ---------------------------------------------------------------- one extension


def test_code_from_int_or_label():
    assert Nifti1Extension("comment", b"x").code == 6
    assert Nifti1Extension(6, b"x").get_code() == 6
    assert NiftiExtension("mrs", b"").get_code() == 44
    assert Nifti1Extension(99, b"x").code == 99  # unregistered codes are kept


@pytest.mark.parametrize("bad", ["bogus", "6", 2**31, -(2**31) - 1, 1.5, None, [6]])
def test_bad_codes_raise(bad):
    with pytest.raises(HeaderDataError):
        Nifti1Extension(bad, b"")


def test_content_text_json():
    ext = NiftiExtension("comment", '{"a": [1, "é"]}'.encode())
    assert ext.content == b'{"a": [1, "\xc3\xa9"]}'
    assert ext.text == '{"a": [1, "é"]}'
    assert ext.json() == {"a": [1, "é"]}
    assert isinstance(ext.content, bytes)


def test_text_content_is_stored_as_utf8():
    assert Nifti1Extension("comment", "héllo").content == "héllo".encode()
    assert Nifti1Extension("comment", bytearray(b"ab")).content == b"ab"
    with pytest.raises(TypeError):
        Nifti1Extension("comment", 5)


def test_generic_extension_has_no_object_form():
    ext = NiftiExtension(18, b"abc")
    for method in (ext.get_object, ext.get_content):
        with pytest.raises(NotImplementedError):
            method()
    with pytest.raises(NotImplementedError):
        NiftiExtension(18, object=b"abc")
    with pytest.raises(NotImplementedError):
        NiftiExtension.from_bytes(b"abc")


def test_nifti1_extension_object_is_its_bytes():
    ext = Nifti1Extension(6, b"abc")
    assert ext.get_content() == ext.get_object() == b"abc"
    from_object = Nifti1Extension(6, b"ignored", object=b"xyz")
    assert from_object.content == b"xyz"
    assert Nifti1Extension.from_bytes(b"q") == Nifti1Extension(0, b"q")
    assert Nifti1Extension.from_object(b"q").content == b"q"


def test_equality_and_hash():
    assert Nifti1Extension(6, b"a") == Nifti1Extension("comment", b"a")
    assert Nifti1Extension(6, b"a") != Nifti1Extension(4, b"a")
    assert Nifti1Extension(6, b"a") != Nifti1Extension(6, b"b")
    # like nibabel, the class is part of the identity
    assert NiftiExtension(6, b"a") != Nifti1Extension(6, b"a")
    assert Nifti1Extension(6, b"a") != (6, b"a")
    with pytest.raises(TypeError):
        hash(Nifti1Extension(6, b"a"))


@pytest.mark.parametrize(
    ("cls", "code", "content"),
    [
        ("Nifti1Extension", 6, b"hi"),
        ("Nifti1Extension", 99, b"hi"),
        ("Nifti1Extension", 0, b"x" * 200),
        ("NiftiExtension", 18, b"\x00\x01"),
    ],
)
def test_repr_matches_nibabel(cls, code, content):
    ours = globals()[cls](code, content)
    theirs = getattr(nib_nifti1, cls)(code, content)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("length", [0, 1, 7, 8, 9, 23, 24, 25, 1000])
def test_size_on_disk(length):
    ext = Nifti1Extension(6, b"x" * length)
    assert ext.get_sizeondisk() == nib_nifti1.Nifti1Extension(6, b"x" * length).get_sizeondisk()
    assert ext.get_sizeondisk() % 16 == 0
    assert ext.get_sizeondisk() == len(written(ext))


@settings(max_examples=60, deadline=None)
@given(
    code=st.integers(-(2**31), 2**31 - 1),
    content=st.binary(max_size=70),
    byteswap=st.booleans(),
)
def test_written_bytes_match_nibabel(code, content, byteswap):
    ours = written(Nifti1Extension(code, content), byteswap)
    theirs = written(nib_nifti1.Nifti1Extension(code, content), byteswap)
    assert ours == theirs


def test_write_layout():
    data = written(Nifti1Extension(6, b"hello"), byteswap=False)
    assert data == struct.pack(native_code + "ii", 16, 6) + b"hello" + b"\0" * 3
    swapped = written(Nifti1Extension(6, b"hello"), byteswap=True)
    assert swapped[:8] == data[:8][3::-1] + data[:8][:3:-1]


# ---------------------------------------------------------------- the list


def sample():
    return [(6, b"a"), (4, b"<afni/>"), (6, b"c" * 20), (18, b"\x01\x02"), (99, b"zz")]


def ours_and_theirs():
    ours = Nifti1Extensions(
        (NiftiExtension if c == 18 else Nifti1Extension)(c, b) for c, b in sample()
    )
    theirs = nib_nifti1.Nifti1Extensions(
        (nib_nifti1.NiftiExtension if c == 18 else nib_nifti1.Nifti1Extension)(c, b)
        for c, b in sample()
    )
    return ours, theirs


def test_list_api_matches_nibabel():
    ours, theirs = ours_and_theirs()
    assert ours.get_codes() == theirs.get_codes() == [6, 4, 6, 18, 99]
    assert ours.count(6) == theirs.count(6) == 2
    assert ours.count("comment") == theirs.count("comment") == 2
    assert ours.count(99) == 1  # nibabel raises KeyError for unregistered codes
    assert ours.get_sizeondisk() == theirs.get_sizeondisk()
    assert type(ours.get_sizeondisk()) is int
    assert Nifti1Extensions().get_sizeondisk() == 0
    assert repr(ours) == repr(theirs)
    assert repr(Nifti1Extensions()) == "Nifti1Extensions()"
    assert isinstance(ours, list)


@pytest.mark.parametrize("byteswap", [False, True])
def test_list_bytes_and_round_trip_match_nibabel(byteswap):
    ours, theirs = ours_and_theirs()
    data = written(ours, byteswap)
    assert data == written(theirs, byteswap)
    back = read(data, len(data), byteswap)
    assert back == ours
    assert written(back, byteswap) == data
    nib_back = nib_nifti1.Nifti1Extensions.from_fileobj(io.BytesIO(data), len(data), byteswap)
    assert [e.content for e in back] == [e.content for e in nib_back]
    assert [type(e).__name__ for e in back] == [type(e).__name__ for e in nib_back]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 60), st.binary(max_size=40)), max_size=5),
    st.booleans(),
)
def test_round_trip_property(items, byteswap):
    exts = Nifti1Extensions(
        extension_codes.handler.get(code, Nifti1Extension)(code, payload)
        for code, payload in items
    )
    data = written(exts, byteswap)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = read(data, len(data), byteswap)
    # trailing NULs are indistinguishable from padding, so they do not survive
    assert [(e.code, e.content) for e in back] == [(c, p.rstrip(b"\0")) for c, p in items]
    assert written(back, byteswap) == data


def test_handlers_match_nibabel_classes():
    import nivox.cifti2  # noqa: F401  (registers the CIFTI-2 handler, as importing nibabel does)

    for code in range(0, 46, 2):
        theirs = nib_nifti1.extension_codes.handler[code]
        ours = extension_codes.handler[code]
        if code == 2:  # nibabel falls back to Nifti1Extension without pydicom
            assert ours is Nifti1DicomExtension
            assert issubclass(ours, Nifti1Extension)
        elif code == 32:  # both CIFTI-2 extensions derive from Nifti1Extension
            assert ours.__name__ == theirs.__name__ == "Cifti2Extension"
            assert issubclass(ours, Nifti1Extension)
            assert issubclass(theirs, nib_nifti1.Nifti1Extension)
        else:
            assert ours.__name__ == theirs.__name__, code


def test_extension_codes_match_nibabel():
    theirs = nib_nifti1.extension_codes
    assert extension_codes.fields == theirs.fields
    for code in theirs.value_set():
        assert extension_codes.label[code] == theirs.label[code]
        assert extension_codes.code[theirs.label[code]] == code
    assert extension_codes.value_set() == set(theirs.value_set())
    assert max(extension_codes.value_set()) == 44  # NIFTI_MAX_ECODE


def test_reading_picks_handler_by_code():
    data = b"".join(
        block(16, code, b"payload\0") for code in (6, 18, 2, 99, -4)
    )
    exts = read(data, len(data))
    assert [type(e) for e in exts] == [
        Nifti1Extension, NiftiExtension, Nifti1DicomExtension, Nifti1Extension, Nifti1Extension
    ]
    assert exts.get_codes() == [6, 18, 2, 99, -4]
    assert all(e.content == b"payload" for e in exts)


# ---------------------------------------------------------------- malformed blocks

GOOD = block(16, 6, b"hello\0\0\0")

# (id, bytes, size, expected (code, content) list, warning text or None,
#  nibabel's outcome: "same" = same extensions, "raises" = HeaderDataError)
MALFORMED = [
    ("exact", GOOD, 16, [(6, b"hello")], None, "same"),
    ("size-too-small-for-one", GOOD, 15, [], None, "same"),
    ("size-zero", GOOD, 0, [], None, "same"),
    ("trailing-bytes-under-16", GOOD + b"\1\2\3", 19, [(6, b"hello")], None, "same"),
    ("to-eof", GOOD + GOOD, -1, [(6, b"hello")] * 2, None, "same"),
    ("esize-8", block(8, 6) + GOOD, 24, [(6, b""), (6, b"hello")], "multiple of 16", "same"),
    ("esize-20", block(20, 6, b"abcdefghijkl") + GOOD, 36,
     [(6, b"abcdefghijkl"), (6, b"hello")], "multiple of 16", "same"),
    ("runs-past-size", block(32, 4, b"x" * 24), 16, [(4, b"x" * 24)], "runs past", "same"),
    ("zero-padding", GOOD + b"\0" * 16, 32, [(6, b"hello")], "smaller than", "raises"),
    ("esize-negative", block(-16, 6, b"\0" * 8) + GOOD, 32, [], "smaller than", "raises"),
    ("payload-truncated", GOOD + block(32, 6, b"x" * 8), 48, [(6, b"hello")], "cut short",
     "raises"),
    ("header-truncated", GOOD + b"\x10\0\0", 32, [(6, b"hello")], "cut short", "raises"),
    ("to-eof-partial-header", GOOD + b"\1\2\3", -1, [(6, b"hello")], "cut short", "raises"),
    ("empty-file", b"", 16, [], "cut short", "raises"),
    ("huge-esize", block(2**31 - 16, 6, b"x" * 8), 2**31, [], "cut short", "raises"),
    ("wrong-byte-order", block(16, 6, b"hello\0\0\0", ">"), 16, [], "cut short", "raises"),
]


@pytest.mark.parametrize(
    ("data", "size", "expected", "warning", "nibabel"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_malformed_blocks(data, size, expected, warning, nibabel):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exts = read(data, size)
    assert [(e.code, e.content) for e in exts] == expected
    messages = [str(w.message) for w in caught]
    if warning is None:
        assert messages == []
    else:
        assert any(warning in m for m in messages), messages
        assert all(issubclass(w.category, HeaderFixWarning) for w in caught)
    # nibabel as oracle: same result where it copes, an exception where we warn
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if nibabel == "same":
            theirs = nib_nifti1.Nifti1Extensions.from_fileobj(io.BytesIO(data), size, False)
            assert [(e.get_code(), e.content) for e in theirs] == expected
        else:
            with pytest.raises(nib_errors.HeaderDataError):
                nib_nifti1.Nifti1Extensions.from_fileobj(io.BytesIO(data), size, False)


def test_byteswapped_block():
    exts = read(block(16, 6, b"hello\0\0\0", ">"), 16, byteswap=(native_code == "<"))
    assert [(e.code, e.content) for e in exts] == [(6, b"hello")]


def test_warning_names_the_file(tmp_path):
    path = tmp_path / "ext.bin"
    path.write_bytes(GOOD + b"\0" * 16)
    with open(path, "rb") as fobj, pytest.warns(HeaderFixWarning, match="ext.bin"):
        Nifti1Extensions.from_fileobj(fobj, 32, False)


def test_reads_from_gzip_stream():
    data = written(ours_and_theirs()[0], False)
    stream = gzip.GzipFile(fileobj=io.BytesIO(gzip.compress(data)))
    assert Nifti1Extensions.from_fileobj(stream, len(data), False) == ours_and_theirs()[0]


# ---------------------------------------------------------------- DICOM


# An explicit-VR little-endian element: (0010,0010) PN "Doe^J"
EXPLICIT = struct.pack("<HH", 0x10, 0x10) + b"PN" + struct.pack("<H", 6) + b"Doe^J "
IMPLICIT = struct.pack("<HHI", 0x10, 0x10, 6) + b"Doe^J "


@pytest.mark.skipif("pydicom" in sys.modules, reason="checks behaviour without pydicom")
def test_dicom_keeps_raw_bytes_without_pydicom():
    ext = Nifti1DicomExtension(2, EXPLICIT)
    assert ext.content == EXPLICIT
    try:
        import pydicom  # noqa: F401
    except ImportError:
        assert ext.get_content() == EXPLICIT
    assert Nifti1DicomExtension("dicom", None).content == b""
    assert written(ext) == written(Nifti1Extension(2, EXPLICIT))
    assert repr(ext) == f"Nifti1DicomExtension(dicom, {EXPLICIT!r})"


def test_dicom_vr_and_byte_order_detection():
    assert Nifti1DicomExtension(2, EXPLICIT)._is_implicit_VR is False
    assert Nifti1DicomExtension(2, IMPLICIT)._is_implicit_VR is True
    big_header = types.SimpleNamespace(endianness=">")
    assert Nifti1DicomExtension(2, IMPLICIT, big_header)._is_little_endian is False
    assert Nifti1DicomExtension(2, IMPLICIT)._is_little_endian is True
    exts = read(block(32, 2, IMPLICIT + b"\0" * 10, ">"), 32, byteswap=(native_code == "<"))
    assert exts[0]._is_little_endian is False


def test_dicom_uses_pydicom_when_present(monkeypatch):
    calls = []
    reader = types.ModuleType("pydicom.filereader")

    def read_dataset(fobj, is_implicit_vr, is_little_endian):
        calls.append((fobj.read(), is_implicit_vr, is_little_endian))
        return {"dataset": True}

    reader.read_dataset = read_dataset
    monkeypatch.setitem(sys.modules, "pydicom", types.ModuleType("pydicom"))
    monkeypatch.setitem(sys.modules, "pydicom.filereader", reader)
    ext = Nifti1DicomExtension(2, EXPLICIT)
    assert ext.get_content() == {"dataset": True}
    assert calls == [(EXPLICIT, False, True)]
    assert ext.get_content() is ext.get_content()  # decoded once


def test_dicom_dataset_needs_pydicom(monkeypatch):
    monkeypatch.setitem(sys.modules, "pydicom", None)
    monkeypatch.setitem(sys.modules, "pydicom.dataset", None)  # already imported by other tests
    with pytest.raises(MissingDependencyError, match="pydicom"):
        Nifti1DicomExtension(2, object())


# ---------------------------------------------------------------- real files


def corpus():
    root = os.environ.get("NIVOX_CORPUS")
    if not root:
        pytest.skip("set NIVOX_CORPUS to the shared corpus to run tests on real files")
    return Path(root)


# (file, sizeof_hdr, offset and struct format of vox_offset)
REAL_FILES = [
    ("nibabel/tests_data/example4d.nii.gz", 348, 108, "f"),
    ("nibabel/tests_data/example_nifti2.nii.gz", 540, 168, "q"),
]


@pytest.mark.parametrize(("relpath", "header_size", "at", "fmt"), REAL_FILES)
def test_real_file_extensions(relpath, header_size, at, fmt):
    path = corpus() / relpath
    raw = gzip.decompress(path.read_bytes())
    order = "<" if struct.unpack("<i", raw[:4])[0] == header_size else ">"
    (vox_offset,) = struct.unpack_from(order + fmt, raw, at)
    vox_offset = int(vox_offset)
    start = header_size + 4
    assert raw[header_size] == 1  # extension flag
    byteswap = order != native_code
    exts = Nifti1Extensions.from_fileobj(
        io.BytesIO(raw[start:vox_offset]), vox_offset - start, byteswap
    )
    theirs = nibabel.load(path).header.extensions
    assert [(e.get_code(), e.content) for e in exts] == [
        (e.get_code(), e.content) for e in theirs
    ]
    assert len(exts) == 2
    assert written(exts, byteswap) == raw[start:start + exts.get_sizeondisk()]


def test_extension_problems_follow_the_validation_mode():
    """A malformed extension block warns by default, raises in 'raise' mode, is silent in 'ignore'."""
    import io
    import struct
    import warnings

    from nivox import validation
    from nivox.errors import HeaderDataError, HeaderFixWarning

    block = struct.pack("<ii", 20, 6) + b"x" * 12  # size 20 is not a multiple of 16

    def read():
        return Nifti1Extensions.from_fileobj(io.BytesIO(block), len(block), False)

    with pytest.warns(HeaderFixWarning, match="multiple of 16"):
        assert len(read()) == 1
    with validation.mode("raise"), pytest.raises(HeaderDataError, match="multiple of 16"):
        read()
    with validation.mode("ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read()) == 1
