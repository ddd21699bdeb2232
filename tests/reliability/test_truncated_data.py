"""Short and corrupt files: reading says which file, how many bytes were expected and how many there are."""

from __future__ import annotations

import bz2
import gzip
import warnings

import numpy as np
import pytest

import nivox
from nivox.errors import CorruptStreamError, ImageFileError, NivoxError, TruncatedDataError

zstandard = pytest.importorskip("zstandard")

DATA = np.arange(6 * 7 * 8, dtype=np.float32).reshape(6, 7, 8)
NBYTES = DATA.nbytes
COMPRESS = {
    "": lambda b: b,
    ".gz": lambda b: gzip.compress(b, mtime=0),
    ".bz2": bz2.compress,
    ".zst": lambda b: zstandard.ZstdCompressor(write_checksum=True).compress(b),
}


@pytest.fixture(scope="module")
def nii_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("src") / "src.nii"
    nivox.Nifti1Image(DATA, np.eye(4)).to_filename(path)
    return path.read_bytes()


def _reads():
    return {
        "all": lambda img: np.asanyarray(img.dataobj),
        "slice": lambda img: img.dataobj[..., -1],  # the last slab: in the missing bytes
        "fdata": lambda img: img.get_fdata(dtype=np.float32),
    }


@pytest.mark.parametrize("suffix", list(COMPRESS))
@pytest.mark.parametrize("keep_file_open", [False, True])
@pytest.mark.parametrize("read", list(_reads()))
def test_short_data_names_file_and_byte_counts(tmp_path, nii_bytes, suffix, keep_file_open, read):
    path = tmp_path / f"short.nii{suffix}"
    path.write_bytes(COMPRESS[suffix](nii_bytes[:-100]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # found at load, reported at read (as nibabel does)
        img = nivox.load(path, keep_file_open=keep_file_open, mmap=keep_file_open)
    with pytest.raises(TruncatedDataError) as caught:
        _reads()[read](img)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert f"expected {NBYTES} bytes" in message and f"holds {NBYTES - 100}" in message
    assert isinstance(caught.value, OSError)  # what nibabel raises for short files


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".zst"])
@pytest.mark.parametrize("keep_file_open", [False, True])
def test_cut_compressed_stream_is_a_clear_error(tmp_path, nii_bytes, suffix, keep_file_open):
    path = tmp_path / f"cut.nii{suffix}"
    stream = COMPRESS[suffix](nii_bytes)
    path.write_bytes(stream[: len(stream) - 12])
    with pytest.raises((CorruptStreamError, TruncatedDataError), match=f"^{path}: "):
        np.asanyarray(nivox.load(path, keep_file_open=keep_file_open).dataobj)


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".zst"])
def test_corrupt_compressed_stream_is_a_clear_error(tmp_path, suffix):
    # big enough that the header decodes before the damage is met
    data = np.random.default_rng(1).integers(0, 40, size=(64, 64, 32), dtype=np.int16)
    plain = tmp_path / "big.nii"
    nivox.Nifti1Image(data, np.eye(4)).to_filename(plain)
    stream = bytearray(COMPRESS[suffix](plain.read_bytes()))
    stream[-(len(stream) // 3)] ^= 0x5A  # decodes to wrong values, as the checksum tells
    path = tmp_path / f"bad.nii{suffix}"
    path.write_bytes(bytes(stream))
    with pytest.raises(NivoxError, match=str(path)) as caught:
        read = np.asanyarray(nivox.load(path).dataobj)
        assert np.array_equal(read, data), "corrupt data read without an error"
    # bzip2 checks whole blocks: the header itself may come out garbled ("not an image")
    assert isinstance(caught.value, (CorruptStreamError, ImageFileError))


def test_corrupt_start_of_stream_is_not_called_an_unknown_format(tmp_path, nii_bytes):
    path = tmp_path / "cut.nii.bz2"
    path.write_bytes(bz2.compress(nii_bytes)[:40])  # too short even for the header
    with pytest.raises(CorruptStreamError, match=f"^{path}: .*ends before"):
        nivox.load(path)


def test_short_pair_data_file(tmp_path):
    path = tmp_path / "pair.img"
    nivox.Nifti1Pair(DATA, np.eye(4)).to_filename(path)
    path.write_bytes(path.read_bytes()[:-8])
    img = nivox.load(path, mmap=False)
    with pytest.raises(TruncatedDataError, match=f"^{path}: expected {NBYTES} bytes.*holds {NBYTES - 8}"):
        img.dataobj[...]
    with pytest.raises(TruncatedDataError, match=f"^{path}: "):
        nivox.load(path, validation="raise")


def test_short_bytes(nii_bytes):
    img = nivox.Nifti1Image.from_bytes(nii_bytes[:-4])
    with pytest.raises(TruncatedDataError, match=f"expected {NBYTES} bytes.*holds {NBYTES - 4}"):
        np.asanyarray(img.dataobj)


@pytest.mark.parametrize("suffix", list(COMPRESS))
def test_header_cut_short(tmp_path, nii_bytes, suffix):
    path = tmp_path / f"stub.nii{suffix}"
    path.write_bytes(COMPRESS[suffix](nii_bytes[:200]))
    with pytest.raises(NivoxError, match=str(path)):
        nivox.Nifti1Image.from_filename(path)


def test_truncation_beyond_any_expansion_refused_at_load_in_raise_mode(tmp_path, nii_bytes):
    # a 60 kB gzip file cannot hold the 200 MB the header asks for, whatever it holds
    hdr = nivox.Nifti1Header(nii_bytes[:348])
    hdr.set_data_shape((400, 400, 320))
    path = tmp_path / "claims.nii.gz"
    path.write_bytes(gzip.compress(hdr.binaryblock + nii_bytes[348:] + bytes(60000), mtime=0))
    with pytest.raises(TruncatedDataError, match=f"^{path}: .* decompress to at most"):
        nivox.load(path, validation="raise")
    img = nivox.load(path)
    with pytest.raises(TruncatedDataError, match="decompress to at most"):
        img.dataobj[0, 0, 0]
