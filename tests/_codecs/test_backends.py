"""Deflate backends: every one inflates and deflates to the same data; choosing and overriding them."""

import os
import zlib

import numpy as np
import pytest

from nivox._codecs import backends
from nivox.errors import MissingDependencyError

DATA = os.urandom(3000) * 50 + bytes(200_000) + b"tail"


def test_stdlib_is_always_available_and_last():
    names = backends.available_backends()
    assert names[-1] == "stdlib"
    assert names == [name for name in backends.BACKENDS if name in names]


def test_inflate_whole_and_streaming_agree_with_zlib(backend):
    stream = zlib.compress(DATA, 6, wbits=-15)
    assert bytes(backends.inflate_whole(stream, len(DATA))) == DATA
    # bytes after the end of the stream are ignored
    assert bytes(backends.inflate_whole(stream + b"trailer!", len(DATA))) == DATA
    decoder = backends.inflater()
    out = b""
    for start in range(0, len(stream), 1000):  # input in pieces, output at most 700 bytes a call
        out += decoder.decompress(stream[start : start + 1000], 700)
        while chunk := decoder.decompress(decoder.unconsumed_tail, 700):
            out += chunk
    assert out == DATA and decoder.eof


def test_copyable_inflater_copies_state():
    stream = zlib.compress(DATA, 6, wbits=-15)
    decoder = backends.inflater(copyable=True)
    head = decoder.decompress(stream[:5000])
    twin = decoder.copy()
    assert head + decoder.decompress(stream[5000:]) == DATA
    assert head + twin.decompress(stream[5000:]) == DATA


@pytest.mark.parametrize("level", [0, 1, 4, 6, 9])
def test_deflate_whole_round_trips_at_every_level(backend, level):
    stream = backends.deflate_whole(DATA, level)
    assert zlib.decompress(stream, -15) == DATA
    if level:
        assert len(stream) < len(DATA) / 3


def test_inflate_whole_rejects_bad_streams(backend):
    stream = zlib.compress(DATA, 6, wbits=-15)
    with pytest.raises(backends.decode_errors()):
        backends.inflate_whole(stream[: len(stream) // 2], len(DATA))
    with pytest.raises(backends.decode_errors()):
        backends.inflate_whole(b"\xff" * 100, len(DATA))


def test_crc32_matches_zlib(backend):
    assert backends.crc32(DATA) == zlib.crc32(DATA)
    assert backends.crc32(DATA[100:], backends.crc32(DATA[:100])) == zlib.crc32(DATA)


def test_selection_env_variable_and_override(monkeypatch):
    monkeypatch.setenv("NIVOX_GZIP_BACKEND", "stdlib")
    assert backends.selected() == "stdlib"
    assert backends.whole_backend() == backends.stream_backend() == backends.deflate_backend() == "stdlib"
    assert not backends.uses_optional_packages()
    with backends.use_backend("auto"):
        assert backends.selected() == "auto"
        assert backends.whole_backend() == backends.available_backends()[0]
    assert backends.selected() == "stdlib"
    monkeypatch.setenv("NIVOX_GZIP_BACKEND", "zlib_NG")  # spelling is forgiving
    if "zlib-ng" in backends.available_backends():
        assert backends.selected() == "zlib-ng"


def test_libdeflate_forced_streams_with_stdlib():
    if "libdeflate" not in backends.available_backends():
        pytest.skip("libdeflate (package deflate) is not installed")
    with backends.use_backend("libdeflate"):
        assert backends.whole_backend() == "libdeflate"
        assert backends.stream_backend() == "stdlib"


def test_unknown_and_missing_backends_are_clear_errors(monkeypatch):
    with pytest.raises(ValueError, match="unknown gzip backend 'brotli'"):
        backends.set_backend("brotli")
    monkeypatch.setattr(backends, "_module", lambda name: None if name == "isal" else zlib)
    with pytest.raises(MissingDependencyError, match=r"nivox\[fast\]"):
        backends.set_backend("isal")


def test_isal_levels_cover_zlib_range():
    assert [backends._isal_level(level) for level in range(10)] == [0, 1, 1, 1, 2, 2, 2, 3, 3, 3]


def _image_like():
    rng = np.random.default_rng(3)
    volume = np.zeros((64, 64, 48), np.int16)
    volume[8:56, 8:56, 6:42] = 1000 + rng.normal(0, 30, (48, 48, 36))
    return volume.tobytes()


def test_level_zero_stores_with_every_backend(backend):
    stream = backends.deflate_whole(DATA, 0)
    assert zlib.decompress(stream, -15) == DATA
    assert len(stream) >= len(DATA)  # stored blocks, never compressed


def test_automatic_levels_pick_the_fast_backends():
    installed = backends.available_backends()
    if "isal" not in installed or "libdeflate" not in installed:
        pytest.skip("needs isal and libdeflate (package deflate)")
    import deflate

    with backends.use_backend("auto"):
        assert backends.deflate_backend() == backends.deflate_backend(1) == "isal"
        assert {backends.deflate_backend(level) for level in (0, *range(2, 10))} == {"libdeflate"}
        # level 2 is libdeflate's level 1, other levels keep their number
        assert bytes(backends.deflate_whole(DATA, 2)) == bytes(deflate.deflate_compress(DATA, 1))
        assert bytes(backends.deflate_whole(DATA, 6)) == bytes(deflate.deflate_compress(DATA, 6))


@pytest.mark.parametrize("level", range(1, 10))
def test_automatic_levels_are_about_as_small_as_zlib(level):
    data = _image_like()
    with backends.use_backend("auto"):
        ours = backends.deflate_whole(data, level)
    assert zlib.decompress(ours, -15) == data
    assert len(ours) <= 1.03 * len(zlib.compress(data, level, wbits=-15))


def test_forced_backend_keeps_the_level():
    if "libdeflate" not in backends.available_backends():
        pytest.skip("libdeflate (package deflate) is not installed")
    import deflate

    with backends.use_backend("libdeflate"):
        assert backends.deflate_backend(1) == "libdeflate"
        assert bytes(backends.deflate_whole(DATA, 1)) == bytes(deflate.deflate_compress(DATA, 1))
    with backends.use_backend("stdlib"):
        assert backends.deflate_whole(DATA, 4) == zlib.compress(DATA, 4, wbits=-15)
