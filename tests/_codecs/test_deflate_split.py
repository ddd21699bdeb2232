"""Inflating one deflate stream in parts on several threads (nivox._codecs.deflate_split)."""

import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nivox._codecs import deflate_split, libdeflate
from nivox._codecs.crc32 import crc32_combine

pytestmark = pytest.mark.skipif(not libdeflate.available(), reason="needs libdeflate (the fast extra)")

_POOL = ThreadPoolExecutor(3)


def _run(tasks):
    for future in [_POOL.submit(task) for task in tasks]:
        future.result()


def _raw_deflate(data, level):
    encoder = zlib.compressobj(level, zlib.DEFLATED, -15)
    return encoder.compress(data) + encoder.flush()


def _noisy_volume(nbytes, seed=0):
    """int16 'image' data: smooth structure plus noise, like an fMRI series."""
    rng = np.random.default_rng(seed)
    n = nbytes // 2
    base = (1000 + 300 * np.sin(np.arange(n) / 500.0)).astype(np.int16)
    return (base + rng.normal(0, 20, n).astype(np.int16)).tobytes()


def _split(data, level=1, parts=2, crc=None):
    stream = _raw_deflate(data, level)
    dest = np.empty(len(data), dtype=np.uint8)

    def private_body():
        return np.frombuffer(bytearray(stream), dtype=np.uint8)

    crc = zlib.crc32(data) if crc is None else crc
    return deflate_split.inflate_into(private_body, dest, crc, parts, _run), dest


@pytest.fixture(autouse=True)
def _small_parts(monkeypatch):
    monkeypatch.setattr(deflate_split, "MIN_PART", 1 << 20)


@pytest.mark.parametrize("level", [1, 6, 9])
@pytest.mark.parametrize("parts", [2, 3])
def test_parts_join_to_the_whole_stream(level, parts):
    data = _noisy_volume(6 << 20, seed=level)
    ok, dest = _split(data, level, parts)
    assert ok
    assert dest.tobytes() == data


def _split_in_parts(data, level=1, parts=2, crc=None):
    stream = _raw_deflate(data, level)
    crc = zlib.crc32(data) if crc is None else crc
    return deflate_split.inflate_in_parts(
        lambda: np.frombuffer(bytearray(stream), dtype=np.uint8), len(data), crc, parts, _run
    )


@pytest.mark.parametrize("parts", [2, 3])
def test_parts_can_stay_where_they_were_decoded(parts):
    data = _noisy_volume(6 << 20, seed=parts)
    kept = _split_in_parts(data, parts=parts)
    assert kept is not None and len(kept) == parts
    assert b"".join(part.tobytes() for _, part in kept) == data
    for mapping, part in kept:  # each part lies in a map of its own, to be given back page by page
        base = np.frombuffer(mapping, dtype=np.uint8).ctypes.data
        assert base <= part.ctypes.data and part.ctypes.data + part.size <= base + len(mapping)
    assert len({id(mapping) for mapping, _ in kept}) == parts


def test_parts_kept_apart_are_refused_like_a_split_into_place(monkeypatch):
    data = _noisy_volume(4 << 20)
    assert _split_in_parts(data, crc=zlib.crc32(data) ^ 1) is None
    assert _split_in_parts(_noisy_volume(1 << 20)) is None  # too small to split
    monkeypatch.setattr(deflate_split, "_DEPENDENCE_LIMIT", 64 << 10)
    phrase = np.random.default_rng(3).integers(0, 40, 20 << 10, dtype=np.uint8).tobytes()
    assert _split_in_parts(phrase * 200) is None  # dependence that does not fade


def test_text_like_data_with_long_dependence():
    # the same 20 KiB phrase over and over: every part copies from the window before it
    rng = np.random.default_rng(3)
    phrase = rng.integers(0, 40, 20 << 10, dtype=np.uint8).tobytes()
    data = phrase * 200 + _noisy_volume(2 << 20)
    ok, dest = _split(data)
    assert ok
    assert dest.tobytes() == data


def test_dependence_that_does_not_fade_gives_up(monkeypatch):
    monkeypatch.setattr(deflate_split, "_DEPENDENCE_LIMIT", 64 << 10)
    rng = np.random.default_rng(3)
    phrase = rng.integers(0, 40, 20 << 10, dtype=np.uint8).tobytes()
    ok, _ = _split(phrase * 200)
    assert not ok


def test_the_trace_decodes_only_as_far_as_the_dependence_goes(monkeypatch):
    pieces = []
    real = deflate_split._decoded_pieces

    def counted(stream):
        for piece in real(stream):
            pieces.append(len(piece))
            yield piece

    monkeypatch.setattr(deflate_split, "_decoded_pieces", counted)
    data = _noisy_volume(8 << 20)
    ok, dest = _split(data)
    assert ok and dest.tobytes() == data
    assert 0 < sum(pieces) < 3 << 20  # of a part of about 4 MiB
    assert max(pieces) <= deflate_split._TRACE_OUTPUT
    pieces.clear()
    zeros = bytes(3 << 20) + _noisy_volume(1 << 20) + bytes(3 << 20)  # 64 KiB of input: ~64 MB of zeros
    ok, dest = _split(zeros)
    assert ok and dest.tobytes() == zeros
    assert max(pieces) <= deflate_split._TRACE_OUTPUT


def test_mostly_zero_data():
    data = bytes(3 << 20) + _noisy_volume(1 << 20) + bytes(3 << 20)
    ok, dest = _split(data)
    assert ok
    assert dest.tobytes() == data


def test_incompressible_data_is_not_split():
    # random bytes become stored blocks: no dynamic block to start a part at
    data = np.random.default_rng(1).integers(0, 256, 4 << 20, dtype=np.uint8).tobytes()
    ok, _ = _split(data)
    assert not ok


def test_wrong_crc_refuses():
    data = _noisy_volume(4 << 20)
    ok, _ = _split(data, crc=zlib.crc32(data) ^ 1)
    assert not ok


def test_damaged_stream_refuses():
    data = _noisy_volume(4 << 20)
    stream = bytearray(_raw_deflate(data, 1))
    stream[len(stream) * 3 // 4] ^= 0x5A
    dest = np.empty(len(data), dtype=np.uint8)
    ok = deflate_split.inflate_into(
        lambda: np.frombuffer(bytearray(stream), dtype=np.uint8), dest, zlib.crc32(data), 2, _run
    )
    assert not ok


def test_small_outputs_are_left_whole():
    data = _noisy_volume(1 << 20)
    ok, _ = _split(data)
    assert not ok  # below two parts of MIN_PART


def test_found_block_start_decodes_like_the_stream():
    data = _noisy_volume(4 << 20)
    stream = np.frombuffer(_raw_deflate(data, 1), dtype=np.uint8)
    bit = deflate_split.find_block_start(stream, len(stream) // 2)
    assert bit is not None and bit >= len(stream) // 2 * 8
    # decode the first part, ended there by an empty final block, and the rest
    head = stream.copy()
    end = deflate_split._patch_end(head, bit)
    first = zlib.decompressobj(-15).decompress(head[:end].tobytes())
    assert data.startswith(first) and len(first) > len(data) // 4


def _could_start_dynamic_block(region: bytes, bit: int) -> bool:
    """The header test of ``_candidates``, one bit offset at a time, read bit by bit."""

    def field(at: int, width: int) -> int:
        return sum(((region[(bit + at + k) // 8] >> ((bit + at + k) % 8)) & 1) << k for k in range(width))

    if field(0, 3) != 0b100 or field(3, 5) > 29 or field(8, 5) > 29:
        return False
    lengths = [field(17 + 3 * m, 3) for m in range(field(13, 4) + 4)]
    return sum(1 << (7 - length) for length in lengths if length) == 128


def test_block_header_candidates_match_a_bit_by_bit_reading():
    rng = np.random.default_rng(7)
    stream = _raw_deflate(_noisy_volume(1 << 20), 1)
    for region in [stream[1000:1600], rng.integers(0, 256, 600, dtype=np.uint8).tobytes(), bytes(600), b"\x04" * 600]:
        got = deflate_split._candidates(np.frombuffer(region, dtype=np.uint8)).tolist()
        # every offset whose header (up to 74 bits) lies in the region; _candidates reads 12 bytes past
        expected = [bit for bit in range((len(region) - 12) * 8) if _could_start_dynamic_block(region, bit)]
        assert got == expected


@pytest.mark.parametrize("shift", range(8))
def test_window_prefix_ends_at_the_asked_bit(shift):
    window = deflate_split._LOW
    whole, partial = deflate_split._window_prefix(window, shift)
    # an empty final fixed block starting ``shift`` bits into the next byte
    bits = partial | (0b011 << shift)
    stream = whole + bits.to_bytes(3, "little")
    assert zlib.decompressobj(-15).decompress(stream) == window


def test_made_up_windows_name_every_position():
    low = np.frombuffer(deflate_split._LOW, dtype=np.uint8).astype(np.int64)
    high = np.frombuffer(deflate_split._HIGH, dtype=np.uint8).astype(np.int64)
    assert np.all(low != high)
    position = ((high - low - deflate_split._HIGH_OFFSET) & 0xFF) << 8 | low
    assert np.array_equal(position, np.arange(deflate_split.WINDOW))
    assert min(low[-7:]) >= 144 and min(high[-7:]) >= 144


@pytest.mark.parametrize("sizes", [(0, 0), (1, 5), (1000, 33333), (70000, 1)])
def test_crc32_combine(sizes):
    rng = np.random.default_rng(sum(sizes))
    a, b = (rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in sizes)
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


_SEGMENTS = st.sampled_from(["zeros", "noise", "phrase", "ramp", "random"])


def _segment(kind, size, rng):
    if kind == "zeros":
        return bytes(size)
    if kind == "noise":
        return _noisy_volume(size, seed=int(rng.integers(1 << 30)))
    if kind == "phrase":
        phrase = rng.integers(0, 60, int(rng.integers(100, 40_000)), dtype=np.uint8).tobytes()
        return (phrase * (size // len(phrase) + 1))[:size]
    if kind == "ramp":
        return (np.arange(size) % int(rng.integers(2, 300))).astype(np.uint8).tobytes()
    return rng.integers(0, 256, size, dtype=np.uint8).tobytes()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kinds=st.lists(_SEGMENTS, min_size=1, max_size=5),
    level=st.sampled_from([1, 4, 9]),
    parts=st.sampled_from([2, 3]),
    seed=st.integers(0, 2**31),
    damage=st.booleans(),
)
def test_any_stream_splits_correctly_or_not_at_all(kinds, level, parts, seed, damage):
    rng = np.random.default_rng(seed)
    data = b"".join(_segment(kind, int(rng.integers(300_000, 1_500_000)), rng) for kind in kinds)
    stream = bytearray(_raw_deflate(data, level))
    if damage:
        at = int(rng.integers(len(stream) // 3, len(stream)))
        stream[at] ^= 1 << int(rng.integers(8))
    dest = np.empty(len(data), dtype=np.uint8)
    ok = deflate_split.inflate_into(
        lambda: np.frombuffer(bytearray(stream), dtype=np.uint8), dest, zlib.crc32(data), parts, _run
    )
    if ok:
        assert dest.tobytes() == data
    kept = deflate_split.inflate_in_parts(
        lambda: np.frombuffer(bytearray(stream), dtype=np.uint8), len(data), zlib.crc32(data), parts, _run
    )
    if kept is not None:
        assert b"".join(part.tobytes() for _, part in kept) == data


def test_input_trimmer_keeps_patches_and_file_contents(tmp_path):
    import mmap

    path = tmp_path / "input.bin"
    content = np.random.default_rng(2).integers(0, 256, 64 * mmap.PAGESIZE, dtype=np.uint8)
    path.write_bytes(content.tobytes())
    with open(path, "rb") as f:
        mapping = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    body = np.frombuffer(mapping, dtype=np.uint8)[100:]
    body[5000:5010] = 7  # a patch, like a part's made-up stream start
    assert body.sum() > 0  # every page mapped
    trimmer = deflate_split.InputTrimmer()
    trimmer.add(body, [(5000, 5010)])
    assert trimmer._ranges  # the map was found behind the numpy view
    trimmer._trim()
    assert np.all(body[5000:5010] == 7)  # patched pages kept
    expected = content[100:].copy()
    expected[5000:5010] = 7
    assert np.array_equal(body, expected)  # dropped pages come back from the file


def test_input_trimmer_ignores_memory_that_is_not_a_map():
    trimmer = deflate_split.InputTrimmer()
    trimmer.add(np.zeros(10_000, dtype=np.uint8))
    assert not trimmer._ranges
    with trimmer:  # starts and stops its thread cleanly
        pass


def test_the_second_part_can_be_decoded_in_lent_memory():
    data = _noisy_volume(6 << 20)
    stream = _raw_deflate(data, 1)
    dest = np.empty(len(data), dtype=np.uint8)
    spare = np.zeros(len(data), dtype=np.uint8)
    ok = deflate_split.inflate_into(
        lambda: np.frombuffer(bytearray(stream), dtype=np.uint8), dest, zlib.crc32(data), 2, _run, spare
    )
    assert ok and dest.tobytes() == data
    assert spare.any()  # the lent memory was used
    small = np.zeros(deflate_split.WINDOW + 1000, dtype=np.uint8)
    ok = deflate_split.inflate_into(
        lambda: np.frombuffer(bytearray(stream), dtype=np.uint8), dest, zlib.crc32(data), 2, _run, small
    )
    assert ok and dest.tobytes() == data and not small.any()  # too small: not used


@pytest.mark.parametrize("pieces", [1, 2, 3])
def test_a_part_moves_out_in_pieces_with_one_crc(monkeypatch, pieces):
    monkeypatch.setattr(deflate_split, "_MOVE_STEP", 5000)  # several steps per piece, the last one short
    mapping, source = deflate_split.anonymous_memory(123_457)
    source[:] = np.random.default_rng(3).integers(0, 256, len(source), dtype=np.uint8)
    expected = source.tobytes()
    dest = np.zeros(len(source), dtype=np.uint8)
    crc = deflate_split._move_out_in_parallel(mapping, source, dest, pieces, _run)
    assert dest.tobytes() == expected and crc == zlib.crc32(expected)
