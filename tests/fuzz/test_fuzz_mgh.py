"""Fuzz MGH/MGZ files: header fields and bytes mutated, cuts at every boundary, damaged gzip streams.

Every case loads and reads, or raises a NivoxError naming the file (the
harness checks that, the time a case takes and what it allocates).
"""

from __future__ import annotations

import gzip
import os
import struct
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from fuzz.harness import check_files, fuzz_settings
from nivox.freesurfer import mghformat
from nivox.freesurfer._mghtags import tags_bytes
from nivox.freesurfer.mghformat import MGHHeader, MGHImage

HEADER = mghformat.header_dtype.itemsize  # 90
OFFSET = mghformat.DATA_OFFSET  # 284


@cache
def mgh_seeds() -> tuple[tuple[str, bytes, int], ...]:
    """(name, uncompressed bytes, bytes of data) of small valid MGH files, with tags after the data."""
    rng = np.random.default_rng(12)
    found = []
    for shape, dtype in (((3, 4, 5), np.int16), ((4, 3, 2, 3), np.float32), ((2, 3, 2), np.uint16)):
        data = (rng.random(shape) * 1000).astype(dtype)
        header = MGHHeader()
        header.set_data_dtype(dtype)
        header.tags = tags_bytes([(3, b"mri_convert a b\x00"), (41, b"COL\x00")]) + struct.pack(">i", 1) + b"x"
        img = MGHImage(data, np.diag([1.5, 2, 2.5, 1]), header)
        with tempfile.TemporaryDirectory() as folder:
            img.to_filename(os.path.join(folder, "s.mgh"))
            raw = Path(folder, "s.mgh").read_bytes()
        assert len(raw) == OFFSET + data.nbytes + 20 + len(header.tags)
        found.append((f"{np.dtype(dtype).name}{len(shape)}d", raw, data.nbytes))
    return tuple(found)


def _files(raw: bytes, compressed: bool) -> tuple[dict[str, bytes], str]:
    name = "seed.mgz" if compressed else "seed.mgh"
    return {name: gzip.compress(raw, mtime=0) if compressed else raw}, name


FIELD_VALUES = [0, 1, -1, 2, 3, 10, 255, 2**15, 2**31 - 1, -2**31, 2**24]
FLOAT_VALUES = [0.0, -1.0, 1e-30, 1e30, float("nan"), float("inf"), -float("inf")]


@st.composite
def field_mutations(draw):
    """One header field (or one element of it) set to an edge value."""
    _, raw, _ = draw(st.sampled_from(mgh_seeds()))
    header = np.frombuffer(raw[:HEADER], mghformat.header_dtype).copy()[0]
    name = draw(st.sampled_from(mghformat.header_dtype.names))
    field = header[name]
    kind = mghformat.header_dtype.fields[name][0].base.kind
    value = draw(st.sampled_from(FLOAT_VALUES if kind == "f" else FIELD_VALUES))
    if np.ndim(field):
        flat = field.reshape(-1)
        flat[draw(st.integers(0, flat.size - 1))] = value
    else:
        info = np.iinfo(mghformat.header_dtype.fields[name][0]) if kind == "i" else None
        header[name] = np.clip(value, info.min, info.max) if info else value
    return header.tobytes() + raw[HEADER:], draw(st.booleans())


@st.composite
def byte_mutations(draw):
    """Bytes changed in the header, the scan parameters or the tags."""
    _, raw, nbytes = draw(st.sampled_from(mgh_seeds()))
    blob = bytearray(raw)
    footer = OFFSET + nbytes
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, HEADER - 1) | st.integers(footer, len(blob) - 1))
        blob[position] = draw(st.integers(0, 255))
    return bytes(blob), draw(st.booleans())


def _cuts(raw_len: int, nbytes: int) -> list[int]:
    footer = OFFSET + nbytes
    marks = {0, 1, 4, 20, 24, 28, 30, HEADER, OFFSET, OFFSET + nbytes // 2, footer, footer + 10,
             footer + 20, footer + 30, raw_len}
    return sorted({m + d for m in marks for d in (-1, 0, 1) if 0 <= m + d < raw_len})


@st.composite
def truncations(draw):
    """A file cut at a boundary of header, data, scan parameters or tags (a valid stream when .mgz)."""
    _, raw, nbytes = draw(st.sampled_from(mgh_seeds()))
    cut = draw(st.sampled_from(_cuts(len(raw), nbytes)) | st.integers(0, len(raw) - 1))
    return raw[:cut], draw(st.booleans()), cut < OFFSET + nbytes


@st.composite
def stream_damage(draw):
    """An .mgz whose gzip stream is cut short or has bytes changed."""
    index = draw(st.integers(0, len(mgh_seeds()) - 1))
    _, raw, _ = mgh_seeds()[index]
    stream = bytearray(gzip.compress(raw, mtime=0))
    if draw(st.booleans()):
        ends = [0, 1, 2, 9, 10, 18, len(stream) - 8, len(stream) - 4, len(stream) - 1]
        cut = draw(st.sampled_from([c for c in ends if 0 <= c < len(stream)]) | st.integers(0, len(stream) - 1))
        return index, bytes(stream[:cut])
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.sampled_from([3, 4, 9, len(stream) - 8, len(stream) - 4, len(stream) - 1]) |
                        st.integers(0, len(stream) - 1))
        stream[position] ^= draw(st.integers(1, 255))
    return index, bytes(stream)


@fuzz_settings(80)
@given(field_mutations(), st.booleans(), st.sampled_from(["ignore", "warn", "raise"]))
def test_mgh_header_fields(case, mmap, validation):
    raw, compressed = case
    files, main = _files(raw, compressed)
    check_files("mgh header fields", files, main, "MGHImage", mmap=mmap, validation=validation)


@fuzz_settings(60)
@given(byte_mutations(), st.booleans())
def test_mgh_header_and_tag_bytes(case, keep_file_open):
    raw, compressed = case
    files, main = _files(raw, compressed)
    check_files("mgh header and tag bytes", files, main, "MGHImage", keep_file_open=keep_file_open)


@fuzz_settings(60)
@given(truncations(), st.booleans())
def test_mgh_truncations(case, mmap):
    raw, compressed, misses_data = case
    files, main = _files(raw, compressed)
    outcome = check_files("mgh truncations", files, main, "MGHImage", mmap=mmap)
    if misses_data:
        assert outcome != "ok", "a file cut before the end of its data read without an error"


@fuzz_settings(60)
@given(stream_damage(), st.booleans())
def test_damaged_mgz_streams(case, keep_file_open):
    index, stream = case
    _, raw, nbytes = mgh_seeds()[index]
    header = MGHHeader(raw[:HEADER])
    expected = np.ndarray(header.get_data_shape(), header.get_data_dtype(), raw[OFFSET:OFFSET + nbytes], order="F")
    check_files("damaged mgz streams", {"seed.mgz": stream}, "seed.mgz", "MGHImage",
                keep_file_open=keep_file_open, expected=expected)


def test_every_cut_of_every_seed():
    """Exhaustively: each seed cut at every boundary, plain and compressed."""
    for _, raw, nbytes in mgh_seeds():
        for cut in _cuts(len(raw), nbytes):
            for compressed in (False, True):
                files, main = _files(raw[:cut], compressed)
                outcome = check_files("mgh every cut", files, main, "MGHImage")
                if cut < OFFSET + nbytes:
                    assert outcome != "ok"
