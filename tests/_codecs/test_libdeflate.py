"""libdeflate through its C API (nivox._codecs.libdeflate): compressing from any buffer on any thread, inflating into given memory."""

import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from nivox._codecs import libdeflate

deflate = pytest.importorskip("deflate")
if not libdeflate.deflate_available():
    pytest.skip("the deflate package does not export libdeflate's C API", allow_module_level=True)

_rng = np.random.default_rng(5)
ARRAY = np.cumsum(_rng.integers(-3, 4, size=(300_000,)), dtype=np.int64).astype(np.int16)
DATA = ARRAY.tobytes()


@pytest.mark.parametrize("level", [0, 1, 6, 12])
def test_same_bytes_as_the_deflate_package(level):
    ours = libdeflate.deflate(DATA, level)
    assert isinstance(ours, bytes)
    assert ours == bytes(deflate.deflate_compress(DATA, level))
    assert zlib.decompress(ours, -15) == DATA


def test_compresses_straight_from_array_memory():
    piece = memoryview(ARRAY).cast("B")[1001:250_001]  # an odd offset into the array
    assert zlib.decompress(libdeflate.deflate(piece, 1), -15) == DATA[1001:250_001]
    assert zlib.decompress(libdeflate.deflate(ARRAY, 1), -15) == DATA


def test_empty_input_is_a_valid_stream():
    assert zlib.decompress(libdeflate.deflate(b"", 1), -15) == b""


def test_threads_give_the_same_bytes_as_one():
    pieces = [DATA[start : start + 70_000] for start in range(0, len(DATA), 70_000)]
    levels = [1, 6] * (len(pieces) // 2 + 1)
    serial = [libdeflate.deflate(piece, level) for piece, level in zip(pieces, levels)]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(libdeflate.deflate, pieces, levels))
    assert parallel == serial


def test_threads_keep_only_member_sized_output_buffers():
    big = bytes(libdeflate._KEEP_OUTPUT + 1)
    assert zlib.decompress(libdeflate.deflate(big, 0), -15) == big
    assert libdeflate._state.out.size <= libdeflate._KEEP_OUTPUT


def test_inflate_into():
    data = (np.arange(1 << 19) % 977).astype("<i2").tobytes()
    encoder = zlib.compressobj(6, zlib.DEFLATED, -15)
    stream = encoder.compress(data) + encoder.flush()
    out = np.empty(len(data), dtype=np.uint8)
    assert libdeflate.inflate_into(stream + b"trailing", out) == (len(stream), len(data))
    assert out.tobytes() == data
    small = np.empty(1000, dtype=np.uint8)
    with pytest.raises(zlib.error):
        libdeflate.inflate_into(stream, small)
    with pytest.raises(zlib.error):
        libdeflate.inflate_into(b"\xff" * 100, out)
    with pytest.raises(ValueError):
        libdeflate.inflate_into(stream, bytes(len(data)))
