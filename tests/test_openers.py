"""Opener and ImageOpener: codec choice by suffix, ownership, errors; nibabel reads what we write."""

import bz2
import gzip
import io
from pathlib import Path

import pytest

from nivox.errors import ImageFileError, ImageFileNotFoundError
from nivox.openers import DeterministicGzipFile, ImageOpener, Opener

DATA = b"neuroimaging " * 5000

DECOMPRESS = {".gz": gzip.decompress, ".bz2": bz2.decompress, "": lambda blob: blob}


def _zstd_decompress(blob):
    import zstandard

    return zstandard.ZstdDecompressor().decompressobj().decompress(blob)


@pytest.mark.parametrize("ext", ["", ".gz", ".bz2", ".zst", ".GZ"])
def test_write_then_read_by_suffix(tmp_path, ext):
    if ext == ".zst":
        pytest.importorskip("zstandard")
    path = tmp_path / f"image.nii{ext}"
    with Opener(path, "wb") as out:
        assert out.me_opened and out.mode == "wb" and not out.closed
        out.write(DATA)
    assert out.closed
    decompress = _zstd_decompress if ext == ".zst" else DECOMPRESS[ext.lower()]
    assert decompress(path.read_bytes()) == DATA
    with Opener(path) as stream:
        assert stream.mode == "rb" and stream.name == path
        assert stream.read(5) == DATA[:5]
        stream.seek(13)
        assert stream.tell() == 13
        buffer = bytearray(13)
        assert stream.readinto(buffer) == 13 and bytes(buffer) == DATA[13:26]


def test_codec_for():
    assert Opener.codec_for("a.nii.gz").name == "gzip"
    assert Opener.codec_for("a.nii") is None
    assert Opener.codec_for(io.BytesIO()) is None
    assert Opener.codec_for("a.mgz") is None
    assert ImageOpener.codec_for("a.MGZ").name == "gzip"


def test_image_opener_reads_and_writes_mgz(tmp_path):
    path = tmp_path / "brain.mgz"
    with ImageOpener(path, "wb") as out:
        out.write(DATA)
    assert gzip.decompress(path.read_bytes()) == DATA
    with Opener(path) as raw:  # plain Opener does not know .mgz
        assert raw.read(2) == b"\x1f\x8b"


def test_register_extension_is_per_class(tmp_path):
    class FormatOpener(ImageOpener):
        pass

    FormatOpener.register_extension(".vol", "bz2")
    assert FormatOpener.codec_for("x.vol").name == "bz2"
    assert FormatOpener.codec_for("x.mgz").name == "gzip"
    assert ImageOpener.codec_for("x.vol") is None and Opener.codec_for("x.vol") is None
    with pytest.raises(KeyError):
        FormatOpener.register_extension(".x", "rar")


def test_nibabel_style_extension_hook():
    class Legacy(ImageOpener):
        compress_ext_map = dict(ImageOpener.compress_ext_map)

    Legacy.compress_ext_map[".lgz"] = Legacy.gz_def
    assert Legacy.codec_for("a.lgz").name == "gzip"


def test_file_objects_are_used_as_given_and_not_closed():
    stream = io.BytesIO(DATA)
    with Opener(stream, "wb") as opener:  # mode is ignored for file objects
        assert opener.fobj is stream and not opener.me_opened and opener.name is None
        assert opener.read(4) == DATA[:4]
    assert not stream.closed
    opener.close_if_mine()
    assert not stream.closed
    with pytest.raises(AttributeError):
        opener.mode  # noqa: B018 - BytesIO has no mode


def test_open_file_object_keeps_its_name_and_mode(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(DATA)
    with open(path, "rb") as raw:
        opener = Opener(raw)
        assert opener.name == str(path) and opener.mode == "rb" and opener.fileno() == raw.fileno()


def test_close_if_mine_closes_own_files(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(DATA)
    opener = Opener(str(path))
    opener.close_if_mine()
    assert opener.closed


def test_iteration_and_text_mode(tmp_path):
    path = tmp_path / "lines.txt"
    with Opener(path, "w") as out:
        out.write("one\ntwo\n")
    assert list(Opener(path)) == [b"one\n", b"two\n"]
    with pytest.raises(ValueError, match="binary"):
        Opener(tmp_path / "t.gz", "wt")


def test_missing_file_is_image_file_not_found(tmp_path):
    missing = tmp_path / "nothing.nii.gz"
    for path in (missing, tmp_path / "nothing.nii"):
        with pytest.raises(ImageFileNotFoundError, match="nothing.nii") as info:
            Opener(path)
        assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ImageFileError)
    with pytest.raises(ImageFileNotFoundError, match="cannot write"):
        Opener(tmp_path / "no_dir" / "x.nii.gz", "wb")


def test_argument_errors(tmp_path):
    path = tmp_path / "x.nii"
    path.write_bytes(b"x")
    with pytest.raises(TypeError, match="'foo'"):
        Opener(path, "rb", foo=1)
    with pytest.raises(TypeError, match="multiple values"):
        Opener(path, "rb", mode="rb")
    # compression options are accepted and ignored for plain files
    assert Opener(path, "rb", compresslevel=3, keep_open=True).read() == b"x"


def test_compresslevel_default_and_explicit(tmp_path, monkeypatch):
    noisy = bytes(range(256)) * 2000 + DATA
    sizes = {}
    for level in (1, 9):
        with Opener(tmp_path / f"{level}.bz2", "wb", level) as out:
            out.write(noisy)
        sizes[level] = (tmp_path / f"{level}.bz2").read_bytes()[3:4]
    assert sizes == {1: b"1", 9: b"9"}
    monkeypatch.setattr(Opener, "default_compresslevel", 7)
    with Opener(tmp_path / "d.bz2", "wb") as out:
        out.write(noisy)
    assert (tmp_path / "d.bz2").read_bytes()[3:4] == b"7"


def test_gzip_writes_are_deterministic_with_mtime_option(tmp_path):
    for name in ("a.gz", "bbbbbbbb.gz"):
        with Opener(tmp_path / name, "wb") as out:
            out.write(DATA)
    first, second = ((tmp_path / n).read_bytes() for n in ("a.gz", "bbbbbbbb.gz"))
    assert first == second and first[4:8] == bytes(4) and not first[3] & 0x08
    with Opener(tmp_path / "m.gz", "wb", mtime=99) as out:
        out.write(b"x")
    assert (tmp_path / "m.gz").read_bytes()[4] == 99
    assert issubclass(DeterministicGzipFile, gzip.GzipFile)


def test_accepts_paths_strings_and_bytes(tmp_path):
    path = tmp_path / "x.gz"
    with Opener(str(path), "wb") as out:
        out.write(DATA)
    for name in (path, str(path), bytes(path)):
        with Opener(name) as stream:
            assert stream.read() == DATA


def test_nibabel_reads_what_we_write(tmp_path):
    nib_openers = pytest.importorskip("nibabel.openers")
    for ext in (".gz", ".bz2", ".mgz"):
        path = tmp_path / f"x{ext}"
        with ImageOpener(path, "wb") as out:
            out.write(DATA)
        with nib_openers.ImageOpener(str(path)) as theirs:
            assert theirs.read() == DATA


def test_we_read_what_nibabel_writes(tmp_path):
    nib_openers = pytest.importorskip("nibabel.openers")
    for ext in (".gz", ".bz2", ".mgz"):
        path = Path(tmp_path / f"y{ext}")
        with nib_openers.ImageOpener(str(path), "wb") as theirs:
            theirs.write(DATA)
        with ImageOpener(path) as ours:
            assert ours.read() == DATA


def test_compresslevel_precedence(tmp_path, monkeypatch):
    from nivox import openers

    def level_of(**kwargs):
        path = tmp_path / "x.gz"
        with Opener(path, "wb", **kwargs) as out:
            out.write(DATA)
        return path.read_bytes()[8]  # XFL: 4 fastest (0-1), 0 middle, 2 best (9)

    assert level_of() == 4  # Opener.default_compresslevel is 1
    monkeypatch.setattr(openers, "default_compresslevel", 9)
    assert level_of() == 2
    with openers.write_options(compresslevel=5):
        assert level_of() == 0
        with openers.write_options(compresslevel=None):  # None keeps the outer setting
            assert level_of() == 0
        assert level_of(compresslevel=1) == 4  # an explicit level wins
    assert level_of() == 2
    monkeypatch.setattr(openers, "default_compresslevel", None)
    monkeypatch.setattr(Opener, "default_compresslevel", 9)
    assert level_of() == 2
    with pytest.raises(TypeError):
        with openers.write_options(compresslevel=1.5):
            pass
