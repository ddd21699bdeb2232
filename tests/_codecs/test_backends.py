"""Deflate backends: every one inflates and deflates to the same data; choosing and overriding them."""

import os
import zlib

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
