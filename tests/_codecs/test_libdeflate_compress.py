"""libdeflate's compressor through its C API: the same bytes as the deflate package, from any buffer, on any thread."""

import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from nivox._codecs import libdeflate_compress

deflate = pytest.importorskip("deflate")
if not libdeflate_compress.available():
    pytest.skip("the deflate package does not export libdeflate's C API", allow_module_level=True)

_rng = np.random.default_rng(5)
ARRAY = np.cumsum(_rng.integers(-3, 4, size=(300_000,)), dtype=np.int64).astype(np.int16)
DATA = ARRAY.tobytes()


@pytest.mark.parametrize("level", [0, 1, 6, 12])
def test_same_bytes_as_the_deflate_package(level):
    ours = libdeflate_compress.deflate(DATA, level)
    assert isinstance(ours, bytes)
    assert ours == bytes(deflate.deflate_compress(DATA, level))
    assert zlib.decompress(ours, -15) == DATA


def test_compresses_straight_from_array_memory():
    piece = memoryview(ARRAY).cast("B")[1001:250_001]  # an odd offset into the array
    assert zlib.decompress(libdeflate_compress.deflate(piece, 1), -15) == DATA[1001:250_001]
    assert zlib.decompress(libdeflate_compress.deflate(ARRAY, 1), -15) == DATA


def test_empty_input_is_a_valid_stream():
    assert zlib.decompress(libdeflate_compress.deflate(b"", 1), -15) == b""


def test_threads_give_the_same_bytes_as_one():
    pieces = [DATA[start : start + 70_000] for start in range(0, len(DATA), 70_000)]
    levels = [1, 6] * (len(pieces) // 2 + 1)
    serial = [libdeflate_compress.deflate(piece, level) for piece, level in zip(pieces, levels)]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(libdeflate_compress.deflate, pieces, levels))
    assert parallel == serial


def test_threads_keep_only_member_sized_output_buffers():
    big = bytes(libdeflate_compress._KEEP_OUTPUT + 1)
    assert zlib.decompress(libdeflate_compress.deflate(big, 0), -15) == big
    assert libdeflate_compress._state.out.size <= libdeflate_compress._KEEP_OUTPUT
