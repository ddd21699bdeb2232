"""The codec registry: lookups, sniffing, lazy imports, missing backends."""

import subprocess
import sys

import pytest

from nivox import _codecs
from nivox.errors import MissingDependencyError


def test_every_row_has_a_module_with_the_codec_interface():
    for codec in _codecs.CODECS:
        module = codec.module
        assert module.__name__ == f"nivox._codecs.{codec.name}"
        for function in ("available", "open_read", "open_write"):
            assert callable(getattr(module, function))
        assert codec.extensions and all(ext.startswith(".") and ext == ext.lower() for ext in codec.extensions)


def test_magics_do_not_overlap():
    magics = [codec.magic for codec in _codecs.CODECS]
    for i, first in enumerate(magics):
        for second in magics[i + 1 :]:
            assert not first.startswith(second) and not second.startswith(first)


@pytest.mark.parametrize(
    ("name", "codec"),
    [("a.nii.gz", "gzip"), ("A.NII.GZ", "gzip"), ("x.bz2", "bz2"), ("y.ZST", "zstd"), ("b.nii", None), ("gz", None)],
)
def test_for_path(name, codec):
    found = _codecs.for_path(name)
    assert (found.name if found else None) == codec


def test_for_path_extra_extensions():
    assert _codecs.for_path("brain.mgz") is None
    assert _codecs.for_path("brain.MGZ", extra={".mgz": "gzip"}).name == "gzip"


def test_for_extension_and_by_name():
    assert _codecs.for_extension(".GZ") is _codecs.by_name("gzip")
    assert _codecs.for_extension(".nii") is None
    with pytest.raises(KeyError, match="no compression codec named 'lz4'"):
        _codecs.by_name("lz4")


@pytest.mark.parametrize(
    ("prefix", "name"),
    [(b"\x1f\x8b\x08\x00", "gzip"), (b"BZh91AY", "bz2"), (b"\x28\xb5\x2f\xfd\x00", "zstd"), (b"\x5c\x01\x00\x00", None), (b"", None), (b"\x1f", None)],
)
def test_sniff(prefix, name):
    found = _codecs.sniff(prefix)
    assert (found.name if found else None) == name


def test_missing_backend_names_the_extra(monkeypatch):
    codec = _codecs.by_name("zstd")
    monkeypatch.setattr(codec.module, "available", lambda: False)
    assert not codec.available()
    with pytest.raises(MissingDependencyError, match=r"pip install nivox\[zstd\]") as info:
        codec.open_read("x.zst")
    assert isinstance(info.value, ImportError)
    with pytest.raises(MissingDependencyError):
        codec.open_write("x.zst", 3)


def test_registry_lookups_import_no_backend():
    code = (
        "import sys, nivox._codecs as c; c.sniff(b'\\x1f\\x8b'); c.for_path('a.zst');"
        "print(sorted(m for m in ('zstandard', 'isal', 'zlib_ng', 'indexed_gzip') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_corrupt_stream_error_names_file():
    err = _codecs.corrupt_stream_error("/data/brain.nii.gz", EOFError("x"))
    assert "/data/brain.nii.gz" in str(err) and "truncated" in str(err)
    err = _codecs.corrupt_stream_error(None, OSError("bad crc"))
    assert "<stream>" in str(err) and "bad crc" in str(err)
