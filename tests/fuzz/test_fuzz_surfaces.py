"""Fuzz GIFTI and CIFTI-2 files: mangled XML, attribute values, entity declarations, cut files.

Each case must read, or raise a NivoxError naming the file; never another
exception, a hang or a large allocation (the harness's contract).
"""

from __future__ import annotations

import base64
import gzip
import os
import re
import sys
import zlib
from functools import lru_cache

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import nivox
from fuzz.harness import check_files, fuzz_settings


def _gifti_seeds() -> dict[str, dict[str, bytes]]:
    from nivox.gifti import GiftiDataArray, GiftiImage

    rng = np.random.default_rng(7)
    verts = rng.random((12, 3)).astype(np.float32)
    faces = rng.integers(0, 12, (8, 3)).astype(np.int32)
    surface = GiftiImage.from_surface(verts, faces, meta={"AnatomicalStructurePrimary": "CortexLeft"})
    labels = GiftiImage.from_vertex_data(rng.integers(0, 3, 20), labels={0: "a", 1: ("b", (1, 0, 0, 1)), 2: "c"})
    ascii_shape = GiftiImage(darrays=[GiftiDataArray(rng.random((10, 2)).astype(np.float32), "shape",
                                                     encoding="ASCII", ordering="F")])
    b64 = GiftiImage(darrays=[GiftiDataArray(rng.integers(0, 255, 16).astype(np.uint8), "shape",
                                             encoding="B64BIN")])
    external_data = np.arange(15, dtype=np.float32)
    endian = "LittleEndian" if sys.byteorder == "little" else "BigEndian"
    external = (b'<?xml version="1.0" encoding="UTF-8"?>\n<GIFTI Version="1.0" NumberOfDataArrays="1">\n'
                b'<DataArray Intent="NIFTI_INTENT_SHAPE" DataType="NIFTI_TYPE_FLOAT32" '
                b'ArrayIndexingOrder="RowMajorOrder" Dimensionality="2" Dim0="5" Dim1="3" '
                b'Encoding="ExternalFileBinary" Endian="' + endian.encode() +
                b'" ExternalFileName="seed.dat" ExternalFileOffset="4"><Data></Data></DataArray>\n</GIFTI>\n')
    return {
        "surface": {"seed.surf.gii": surface.to_bytes()},
        "surface.gz": {"seed.surf.gii.gz": gzip.compress(surface.to_bytes(), mtime=0)},
        "labels": {"seed.label.gii": labels.to_bytes()},
        "ascii": {"seed.shape.gii": ascii_shape.to_bytes()},
        "b64bin": {"seed.shape.gii": b64.to_bytes()},
        "external": {"seed.gii": external, "seed.dat": b"\0" * 4 + external_data.tobytes()},
    }


def _cifti_seeds() -> dict[str, dict[str, bytes]]:
    from nivox.cifti2 import BrainModelAxis, Cifti2Image, LabelAxis, ParcelsAxis, ScalarAxis, SeriesAxis

    mask = np.zeros((3, 4, 5), bool)
    mask[1, 1:3, 2:4] = True
    bm = BrainModelAxis.from_surface([0, 2, 5, 6], 8, "CortexLeft") + \
        BrainModelAxis.from_mask(mask, "thalamus_left", np.diag([2.0, 2, 2, 1]))
    parcels = ParcelsAxis.from_brain_models([("p1", bm[:3]), ("p2", bm[3:])])
    labels = LabelAxis(["lab"], {0: ("???", (0, 0, 0, 0)), 1: ("x", (1, 0, 0, 1))})
    rng = np.random.default_rng(8)
    return {
        "dtseries": {"seed.dtseries.nii": Cifti2Image(rng.random((3, len(bm))).astype(np.float32),
                                                      (SeriesAxis(0, 0.7, 3), bm)).to_bytes()},
        "pscalar": {"seed.pscalar.nii": Cifti2Image(rng.random((2, 2)), (ScalarAxis(["a", "b"]), parcels)).to_bytes()},
        "dlabel": {"seed.dlabel.nii": Cifti2Image(rng.integers(0, 2, (1, len(bm))).astype(np.int32),
                                                  (labels, bm)).to_bytes()},
    }


@lru_cache(maxsize=None)
def seeds() -> tuple[tuple[str, str, tuple[tuple[str, bytes], ...]], ...]:
    found = []
    for kind, table in (("GiftiImage", _gifti_seeds()), ("Cifti2Image", _cifti_seeds())):
        for name, files in table.items():
            found.append((kind, name, tuple(sorted(files.items()))))
    return tuple(found)


def _main(files: dict[str, bytes]) -> str:
    return next(n for n in files if n.endswith((".gii", ".gii.gz", ".nii")))


def exercise(path: str, klass_name: str, mmap: bool, validation: str, keep_file_open: bool) -> np.ndarray:
    """Load a surface file and read everything a user would."""
    if klass_name == "GiftiImage":
        img = nivox.load(path, mmap=mmap)
        arrays = [np.asarray(da.data) for da in img.darrays if da.data is not None]
        img.agg_data()
        img.labeltable.get_labels_as_dict()
        return np.concatenate([a.ravel().astype(np.float64) for a in arrays]) if arrays else np.zeros(0)
    img = nivox.load(path, mmap=mmap, keep_file_open=keep_file_open, validation=validation)
    if type(img).__name__ != "Cifti2Image":  # damage to the intent code makes it plain NIfTI-2
        img.get_fdata(dtype=np.float32)
        return np.asanyarray(img.dataobj)
    for dim in range(len(img.shape)):
        axis = img.header.get_axis(dim)
        len(axis)
    if all(img.shape):
        img.dataobj[0]
        img.dataobj[..., -1:]
    img.get_fdata(dtype=np.float32)
    return np.asanyarray(img.dataobj)


def _xml_span(kind: str, content: bytes) -> tuple[int, int]:
    """Where the XML is: the whole GIFTI file, or the CIFTI extension's payload."""
    if kind == "GiftiImage":
        return 0, len(content)
    start = content.index(b"<?xml") if b"<?xml" in content else content.index(b"<CIFTI")
    end = content.index(b"</CIFTI>") + len(b"</CIFTI>")
    return start, end


NUMBERS = rb'(Dim\d|Dimensionality|ExternalFileOffset|NumberOfDataArrays|Key|IndexOffset|IndexCount|' \
          rb'SurfaceNumberOfVertices|NumberOfSeriesPoints|SeriesExponent|VolumeDimensions|MeterExponent|' \
          rb'AppliesToMatrixDimension)="([^"]*)"'
REPLACEMENTS = [b"-1", b"0", b"99999999", b"1e9", b"x", b"", b"3,3", b"-0", b"2147483648", b"1,2,3,4"]


@st.composite
def xml_mutations(draw):
    """A seed whose XML had a numeric attribute, an element's bytes, or its text changed."""
    kind, name, items = draw(st.sampled_from(seeds()))
    files = dict(items)
    main = _main(files)
    raw = files[main]
    if main.endswith(".gz"):
        raw = gzip.decompress(raw)
    start, end = _xml_span(kind, raw)
    xml = bytearray(raw[start:end])
    how = draw(st.sampled_from(["attribute", "bytes", "entity", "cut"]))
    if how == "attribute":
        found = list(re.finditer(NUMBERS, bytes(xml)))
        match = draw(st.sampled_from(found))
        value = draw(st.sampled_from(REPLACEMENTS) | st.binary(max_size=6).map(lambda b: b.replace(b'"', b"'")))
        if kind == "Cifti2Image":  # the extension keeps its size: pad or cut to the same length
            old = match.group(2)
            value = (value + b" " * len(old))[: len(old)]
        xml[match.start(2):match.end(2)] = value
    elif how == "bytes":
        for _ in range(draw(st.integers(1, 6))):
            position = draw(st.integers(0, len(xml) - 1))
            xml[position] = draw(st.sampled_from(b'<>"&;=/ 09-ax\x00\xff'))
    elif how == "entity":
        bomb = (b'<!DOCTYPE X [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
                b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>')
        body = bytes(xml)
        at = body.index(b"?>") + 2 if body.startswith(b"<?xml") else 0
        new = body[:at] + bomb + body[at:].replace(b"<Name>", b"<Name>&c;", 1)
        if kind == "Cifti2Image":
            new = new[: len(xml)]  # keep the extension's size
        xml = bytearray(new)
    else:
        xml = xml[: draw(st.integers(0, len(xml) - 1))]
        if kind == "Cifti2Image":
            xml += b" " * (end - start - len(xml))
    out = raw[:start] + bytes(xml) + raw[end:]
    if main.endswith(".gz"):
        out = gzip.compress(out, mtime=0)
    files[main] = out
    return kind, files, main


@fuzz_settings(120)
@given(xml_mutations(), st.booleans())
def test_surface_xml_mutations(case, mmap):
    kind, files, main = case
    check_files("surface XML", files, main, kind, mmap=mmap, exercise=exercise)


@st.composite
def cuts_and_flips(draw):
    """A seed file cut short, or with bytes of its binary parts (NIfTI header, data) changed."""
    kind, name, items = draw(st.sampled_from(seeds()))
    files = dict(items)
    fname = draw(st.sampled_from(sorted(files)))
    content = bytearray(files[fname])
    if draw(st.booleans()):
        content = content[: draw(st.integers(0, max(len(content) - 1, 0)))]
    else:
        for _ in range(draw(st.integers(1, 4))):
            position = draw(st.sampled_from([0, 4, 16, 24, 168, 280, 504, 540, 544, 548]) |
                            st.integers(0, len(content) - 1))
            if position < len(content):
                content[position] ^= draw(st.integers(1, 255))
    files[fname] = bytes(content)
    return kind, files, _main(files)


@fuzz_settings(80)
@given(cuts_and_flips(), st.booleans())
def test_surface_cuts_and_flips(case, mmap):
    kind, files, main = case
    check_files("surface cuts and flips", files, main, kind, mmap=mmap, exercise=exercise)


def test_seeds_read_cleanly():
    for kind, name, items in seeds():
        files = dict(items)
        assert check_files("surface seeds", files, _main(files), kind, exercise=exercise) == "ok", name


def test_decompression_bomb_is_bounded():
    doc = (b'<GIFTI Version="1.0"><DataArray Intent="NIFTI_INTENT_SHAPE" DataType="NIFTI_TYPE_UINT8" '
           b'Dimensionality="1" Dim0="16" Encoding="GZipBase64Binary" Endian="LittleEndian">'
           b"<Data>" + base64.b64encode(zlib.compress(b"\0" * (256 << 20), 9)) + b"</Data></DataArray></GIFTI>")
    outcome = check_files("surface bombs", {"bomb.gii": doc}, "bomb.gii", "GiftiImage", exercise=exercise)
    assert outcome == "GiftiParseError"
    assert os.path.basename("bomb.gii")
