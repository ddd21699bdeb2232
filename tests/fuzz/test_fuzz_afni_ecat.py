"""Fuzz AFNI datasets and ECAT files: mutated headers, a .BRIK whose size disagrees with its .HEAD,
matrix lists pointing outside the file, truncations at every boundary.

Every case loads and reads, or raises a NivoxError naming the file (harness.check_files).
"""

from __future__ import annotations

import bz2
import gzip
import os
import sys
from functools import cache

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from fuzz.harness import check_files, fuzz_settings
from nivox.brikhead import AFNIImage, format_AFNI_header, parse_AFNI_header
from nivox.ecat.structs import hdr_dtype, subhdr_dtype

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "ecat"))
from ecat_maker import ecat_bytes

rng = np.random.default_rng(3)


@cache
def afni_seed() -> tuple[str, bytes, tuple[int, ...]]:
    """(HEAD text, BRIK bytes, sub-brick byte boundaries) of a small mixed-type dataset."""
    import tempfile

    bricks = [(rng.random((3, 4, 2)) * 100).astype(t) for t in (np.int16, np.float32, np.uint8)]
    with tempfile.TemporaryDirectory() as folder:
        img = AFNIImage(np.stack(bricks, -1).astype(np.float32), np.diag([2.0, 3.0, 4.0, 1.0]))
        img.to_filename(os.path.join(folder, "s+orig.HEAD"))
        info = parse_AFNI_header(os.path.join(folder, "s+orig.HEAD"))
    info["BRICK_TYPES"] = [1, 3, 0]
    info["BRICK_FLOAT_FACS"] = [0.5, 0.0, 2.0]
    payload = b"".join(b.astype(d).tobytes(order="F") for b, d in zip(bricks, ("<i2", "<f4", "u1")))
    sizes = [24 * 2, 24 * 4, 24]
    bounds = tuple(int(x) for x in np.cumsum([0] + sizes))
    return format_AFNI_header(info), payload, bounds


def _afni_files(head: str, brik: bytes, compress: str = "") -> dict[str, bytes]:
    pack = {"": bytes, ".gz": lambda b: gzip.compress(b, mtime=0), ".bz2": bz2.compress}[compress]
    return {"s+orig.HEAD": head.encode("latin-1"), f"s+orig.BRIK{compress}": pack(brik)}


_AFNI_VALUES = st.sampled_from([0, 1, -1, 3, 5, 6, 255, 2**31 - 1, -(2**31), 10**12, 2**63]) | \
    st.integers(-(2**40), 2**40)
_AFNI_FLOATS = st.sampled_from([0.0, -0.0, float("nan"), float("inf"), -1e300, 1e-320, 3.0])


@st.composite
def afni_attribute_mutations(draw):
    head, brik, _ = afni_seed()
    info = parse_AFNI_header(__import__("io").StringIO(head))
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(sorted(info)))
        action = draw(st.sampled_from(["drop", "value", "retype", "length"]))
        value = info[name]
        if action == "drop":
            info.pop(name)
        elif action == "retype":
            info[name] = draw(st.sampled_from(["text", 1, 2.5, [1, 2], [0.5, 1.5]]))
        elif action == "length":
            if isinstance(value, (list, str)):
                info[name] = value[: draw(st.integers(0, len(value)))]
            else:
                info[name] = [value] * 3
        elif isinstance(value, list) and value:
            values = list(value)
            values[draw(st.integers(0, len(values) - 1))] = draw(
                _AFNI_FLOATS if isinstance(values[0], float) else _AFNI_VALUES)
            info[name] = values
        else:
            info[name] = draw(_AFNI_VALUES)
    return format_AFNI_header(info), brik


@fuzz_settings(150)
@given(afni_attribute_mutations(), st.sampled_from(["", ".gz"]), st.booleans())
def test_afni_attributes(case, compress, mmap):
    head, brik = case
    check_files("afni attributes", _afni_files(head, brik, compress), "s+orig.HEAD", "AFNIImage", mmap=mmap)


@fuzz_settings(100)
@given(st.data(), st.sampled_from(["", ".gz", ".bz2"]))
def test_afni_head_bytes_and_truncation(data, compress):
    head, brik, _ = afni_seed()
    text = bytearray(head.encode("latin-1"))
    if data.draw(st.booleans()):
        text = text[: data.draw(st.integers(0, len(text) - 1))]
    else:
        for _ in range(data.draw(st.integers(1, 8))):
            text[data.draw(st.integers(0, len(text) - 1))] = data.draw(st.integers(0, 255))
    files = _afni_files(bytes(text).decode("latin-1"), brik, compress)
    check_files("afni HEAD bytes", files, "s+orig.HEAD", "AFNIImage")


@fuzz_settings(80)
@given(st.data(), st.sampled_from(["", ".gz", ".bz2"]), st.booleans())
def test_afni_brik_size_disagrees(data, compress, mmap):
    head, brik, bounds = afni_seed()
    cut = data.draw(st.sampled_from([b + d for b in bounds for d in (-1, 0, 1) if 0 <= b + d <= len(brik)]) |
                    st.integers(0, len(brik) + 64))
    damaged = brik[:cut] if cut <= len(brik) else brik + b"\x01" * (cut - len(brik))
    files = _afni_files(head, damaged, compress)
    outcome = check_files("afni BRIK size", files, "s+orig.HEAD", "AFNIImage", mmap=mmap)
    if cut < len(brik):
        assert outcome != "ok", f"a BRIK of {cut} bytes for {len(brik)} read without error"


def test_afni_dimensions_far_beyond_the_brik():
    head, brik, _ = afni_seed()
    for dims in ([3, 4, 2_000_000], [100_000, 100_000, 100_000], [2**31 - 1, 2**31 - 1, 2**31 - 1]):
        info = parse_AFNI_header(__import__("io").StringIO(head))
        info["DATASET_DIMENSIONS"] = dims + [0, 0]
        for compress in ("", ".gz"):
            outcome = check_files("afni huge dimensions", _afni_files(format_AFNI_header(info), brik, compress),
                                  "s+orig.HEAD", "AFNIImage")
            assert outcome != "ok"


# ---- ECAT -------------------------------------------------------------------------------------


@cache
def ecat_seed() -> bytes:
    frames = [(rng.random((4, 3, 2)) * 100).astype(np.int16) for _ in range(3)]
    return ecat_bytes(frames, [1.0, 0.5, 2.0])


def _field(dtype: np.dtype, draw) -> tuple[int, bytes]:
    name = draw(st.sampled_from(dtype.names))
    ftype, offset = dtype.fields[name][:2]
    base = ftype.base
    if base.kind in "iu":
        info = np.iinfo(base)
        value = draw(st.sampled_from([0, 1, -1, 2, 6, 31, 32, 1000, int(info.max), int(info.min)]) |
                     st.integers(int(info.min), int(info.max)))
    elif base.kind == "f":
        value = draw(st.sampled_from([0.0, -1.0, float("nan"), float("inf"), 1e30, 1e-40]) | st.floats(width=32))
    else:
        return offset, draw(st.binary(min_size=base.itemsize, max_size=base.itemsize))
    with np.errstate(over="ignore", invalid="ignore"):
        return offset, np.array(value).astype(base.newbyteorder(">")).tobytes()


@st.composite
def ecat_mutations(draw):
    content = bytearray(ecat_seed())
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(["main", "sub", "mlist", "bytes"]))
        if where == "main":
            offset, value = _field(hdr_dtype, draw)
        elif where == "sub":
            offset, value = _field(subhdr_dtype, draw)
            offset += 512 * (1 + 1 + draw(st.integers(0, 2)) * 2)  # blocks 3, 5, 7: the subheaders
        elif where == "mlist":
            offset = 512 + 4 * draw(st.integers(0, 15))  # housekeeping row and the three frame rows
            value = np.array(draw(st.sampled_from([0, 1, 2, 3, 9, 31, -1, 10_000, 2**31 - 1]) |
                                  st.integers(-(2**31), 2**31 - 1)), ">i4").tobytes()
        else:
            offset = draw(st.integers(0, len(content) - 1))
            value = bytes([draw(st.integers(0, 255))])
        content[offset:offset + len(value)] = value
    return bytes(content)


@fuzz_settings(200)
@given(ecat_mutations(), st.booleans())
def test_ecat_mutations(content, mmap):
    check_files("ecat mutations", {"s.v": content}, "s.v", "EcatImage", mmap=mmap)


@fuzz_settings(80)
@given(st.data(), st.sampled_from(["", ".gz"]))
def test_ecat_truncated_at_frame_boundaries(data, compress):
    content = ecat_seed()
    bounds = [512 * k for k in range(len(content) // 512 + 1)]
    cut = data.draw(st.sampled_from([b + d for b in bounds for d in (-1, 0, 1, 48) if 0 <= b + d < len(content)]) |
                    st.integers(0, len(content) - 1))
    damaged = content[:cut]
    name = "s.v" + compress
    files = {name: gzip.compress(damaged, mtime=0) if compress else damaged}
    outcome = check_files("ecat truncated", files, name, "EcatImage")
    if cut < len(content) - 512 + 48:  # the last frame's data ends 48 bytes into its block
        assert outcome != "ok", f"an ECAT file cut at {cut} of {len(content)} read without error"


def test_ecat_matrix_list_pointing_outside_the_file():
    for column, value in ((1, 10_000), (1, -5), (1, 2**31 - 1), (0, 0)):
        content = bytearray(ecat_seed())
        rows = np.frombuffer(bytes(content[512:1024]), ">i4").reshape(32, 4).copy()
        rows[2, column] = value
        content[512:1024] = rows.tobytes()
        check_files("ecat mlist outside", {"s.v": bytes(content)}, "s.v", "EcatImage")
    # a directory chain that loops back on itself
    content = bytearray(ecat_seed())
    rows = np.frombuffer(bytes(content[512:1024]), ">i4").reshape(32, 4).copy()
    rows[0, 1] = 2 + 1  # "next directory block" is the first subheader block, whose row 0 says 3 again
    content[512:1024] = rows.tobytes()
    check_files("ecat mlist outside", {"s.v": bytes(content)}, "s.v", "EcatImage")
