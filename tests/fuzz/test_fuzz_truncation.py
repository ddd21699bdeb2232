"""Fuzz file ends and compressed streams: truncated or corrupt files load and read, or raise a NivoxError."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fuzz.harness import check_files, fuzz_settings, recompressed, seed_data, seeds, uncompressed

COMPRESSED = [seed for seed in seeds() if seed.main.endswith((".gz", ".bz2", ".zst"))]


def _interesting_cuts(seed, fname: str, length: int) -> list[int]:
    """Ends of the header, of the extensions, of the data, and their neighbours."""
    marks = {0, 1, 4, 40, seed.header_size, length}
    if fname == seed.header_file:
        marks |= {seed.header_size + 4, seed.header_size + 12}
    if fname == seed.main:
        marks.add(seed.data_offset())
    cuts = {m + d for m in marks for d in (-1, 0, 1)}
    return sorted(c for c in cuts if 0 <= c < length)


@st.composite
def truncations(draw):
    """A file of a seed cut short before compression (the stream itself is valid)."""
    seed = draw(st.sampled_from(seeds()))
    fname = draw(st.sampled_from(sorted(seed.files)))
    content = uncompressed(seed, fname)
    cut = draw(st.sampled_from(_interesting_cuts(seed, fname, len(content))) | st.integers(0, len(content) - 1))
    return seed, fname, recompressed(fname, content[:cut])


@st.composite
def stream_damage(draw):
    """A compressed file cut short, or with bytes changed, in the compressed stream."""
    seed = draw(st.sampled_from(COMPRESSED))
    fname = draw(st.sampled_from(sorted(seed.files)))
    stream = bytearray(seed.files[fname])
    if draw(st.booleans()):
        ends = [0, 1, 2, 9, 10, 18, len(stream) - 8, len(stream) - 4, len(stream) - 1]
        cut = draw(st.sampled_from([c for c in ends if 0 <= c < len(stream)]) |
                   st.integers(0, len(stream) - 1))
        return seed, fname, bytes(stream[:cut])
    for _ in range(draw(st.integers(1, 4))):
        # the stream header, the trailer (CRC, size) or anywhere
        position = draw(st.sampled_from([3, 4, 9, len(stream) - 8, len(stream) - 4, len(stream) - 1]) |
                        st.integers(0, len(stream) - 1))
        stream[position] ^= draw(st.integers(1, 255))
    return seed, fname, bytes(stream)


@fuzz_settings(120)
@given(truncations(), st.booleans())
def test_truncated_files(case, mmap):
    seed, fname, content = case
    files = dict(seed.files)
    files[fname] = content
    outcome = check_files("truncated files", files, seed.main, seed.klass, mmap=mmap)
    if fname == seed.main and seed.main == seed.header_file:
        # a single file cut anywhere before its end misses data: it cannot read cleanly
        assert outcome != "ok"


@fuzz_settings(120)
@given(stream_damage(), st.booleans())
def test_damaged_streams(case, keep_file_open):
    seed, fname, content = case
    files = dict(seed.files)
    files[fname] = content
    codec = fname.rsplit(".", 1)[-1]
    check_files(f"damaged {codec} streams", files, seed.main, seed.klass, keep_file_open=keep_file_open,
                expected=seed_data(seed))
