"""Fuzz headers of every format, field by field and byte by byte: load + read succeeds or raises a NivoxError."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import nivox
from fuzz.harness import check_files, fuzz_settings, recompressed, seeds, uncompressed



def _int_values(dtype: np.dtype) -> st.SearchStrategy[int]:
    info = np.iinfo(dtype)
    special = [0, 1, -1, 2, 7, 8, 16, 255, 256, 348, 352, 540, 544, 32767, -32768,
               info.max, info.min, info.max - 1, 2**31 - 1, 2**31, 2**62]
    special = [v for v in special if info.min <= v <= info.max]
    return st.sampled_from(special) | st.integers(int(info.min), int(info.max))


def _float_values(dtype: np.dtype) -> st.SearchStrategy[float]:
    special = [0.0, -0.0, 1.0, -1.0, 0.5, float("nan"), float("inf"), float("-inf"), 1e30, -1e30,
               1e-40, 352.0, 353.7, 2.0**31, 2.0**63, 1e300]
    return st.sampled_from(special) | st.floats(width=8 * dtype.itemsize if dtype.itemsize in (4, 8) else 64)


def _field_bytes(base: np.dtype) -> st.SearchStrategy[bytes]:
    if base.kind in "iu":
        values = _int_values(base)
    elif base.kind == "f":
        values = _float_values(base)
    else:
        magics = [b"n+1\0", b"ni1\0", b"n+2\0", b"ni2\0", b"\0" * 4]
        return st.sampled_from([m.ljust(base.itemsize, b"\0")[: base.itemsize] for m in magics]) | \
            st.binary(min_size=base.itemsize, max_size=base.itemsize)

    def to_bytes(value):
        with np.errstate(over="ignore", invalid="ignore"):
            return np.array(value).astype(base).tobytes()

    return values.map(to_bytes)


@st.composite
def field_mutations(draw):
    seed = draw(st.sampled_from(seeds()))
    dtype = getattr(nivox, seed.klass).header_class.template_dtype.newbyteorder(seed.endian)
    header = bytearray(uncompressed(seed, seed.header_file))
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(dtype.names))
        ftype, offset = dtype.fields[name][:2]
        count = int(np.prod(ftype.shape)) if ftype.shape else 1
        index = draw(st.integers(0, count - 1))
        start = offset + index * ftype.base.itemsize
        header[start : start + ftype.base.itemsize] = draw(_field_bytes(ftype.base))
    return seed, bytes(header)


@st.composite
def byte_mutations(draw):
    seed = draw(st.sampled_from(seeds()))
    fname = draw(st.sampled_from(sorted(seed.files)))
    content = bytearray(uncompressed(seed, fname))
    # mostly the header and extensions, sometimes anywhere (data, .mat)
    limit = min(len(content), seed.header_size + 64) if fname == seed.header_file else len(content)
    if draw(st.integers(0, 4)) == 0:
        limit = len(content)
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, limit - 1))
        content[position] = draw(st.integers(0, 255))
    return seed, fname, bytes(content)


@fuzz_settings(150)
@given(field_mutations(), st.booleans())
def test_header_fields(case, mmap):
    seed, header = case
    files = dict(seed.files)
    files[seed.header_file] = recompressed(seed.header_file, header)
    check_files("header fields", files, seed.main, seed.klass, mmap=mmap)


@fuzz_settings(150)
@given(byte_mutations(), st.booleans(), st.sampled_from(["warn", "warn", "ignore", "raise"]))
def test_header_bytes(case, mmap, validation):
    seed, fname, content = case
    files = dict(seed.files)
    files[fname] = recompressed(fname, content)
    check_files("bytes", files, seed.main, seed.klass, mmap=mmap, validation=validation)
