"""nivox.load on binary file objects (BytesIO, open files), compressed or not."""

from __future__ import annotations

import bz2
import gzip
import io
from pathlib import Path

import numpy as np
import pytest

import nivox as nib
from nivox.errors import ImageFileError


def _image(klass: type = nib.Nifti1Image) -> nib.Nifti1Image:
    data = np.arange(3 * 4 * 5 * 6, dtype=np.int16).reshape(3, 4, 5, 6)
    affine = np.diag([2.0, 3.0, 4.0, 1.0])
    affine[:3, 3] = [-10, 5, 7]
    return klass(data, affine)


def _same(loaded: nib.Nifti1Image, path: Path) -> None:
    ref = nib.load(path)
    assert type(loaded) is type(ref)
    np.testing.assert_array_equal(loaded.affine, ref.affine)
    assert loaded.header == ref.header
    np.testing.assert_array_equal(loaded.get_fdata(), ref.get_fdata())
    np.testing.assert_array_equal(loaded.dataobj[..., 4], ref.dataobj[..., 4])


@pytest.mark.parametrize("klass", [nib.Nifti1Image, nib.Nifti2Image])
def test_bytesio_nii_and_gz(tmp_path: Path, klass: type) -> None:
    img = _image(klass)
    for name in ("x.nii", "x.nii.gz"):
        path = tmp_path / name
        nib.save(img, path)
        loaded = nib.load(io.BytesIO(path.read_bytes()))
        _same(loaded, path)


def test_bz2_stream_detected_by_magic(tmp_path: Path) -> None:
    path = tmp_path / "x.nii"
    nib.save(_image(), path)
    loaded = nib.load(io.BytesIO(bz2.compress(path.read_bytes())))
    _same(loaded, path)


def test_open_file_uses_its_name_and_stays_open(tmp_path: Path) -> None:
    path = tmp_path / "x.nii.gz"
    nib.save(_image(nib.Nifti2Image), path)
    with open(path, "rb") as fobj:
        loaded = nib.load(fobj)
        _same(loaded, path)
        assert not fobj.closed


def test_stream_read_from_its_start_whatever_the_position(tmp_path: Path) -> None:
    path = tmp_path / "x.nii"
    nib.save(_image(), path)
    stream = io.BytesIO(path.read_bytes())
    stream.seek(200)
    _same(nib.load(stream), path)


def test_unseekable_stream_is_buffered(tmp_path: Path) -> None:
    path = tmp_path / "x.nii.gz"
    nib.save(_image(), path)

    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:
            return self._inner.readinto(buffer)

    _same(nib.load(Pipe(path.read_bytes())), path)


def test_not_an_image_and_empty_streams() -> None:
    with pytest.raises(ImageFileError, match="Cannot work out file type"):
        nib.load(io.BytesIO(b"hello world, this is not an image" * 40))
    with pytest.raises(ImageFileError, match="Empty file"):
        nib.load(io.BytesIO(b""))
    # gzip of non-image bytes: decoded, then rejected by the header sniff
    with pytest.raises(ImageFileError, match="Cannot work out file type"):
        nib.load(io.BytesIO(gzip.compress(b"\0" * 2000)))


def test_storage_options_only_for_urls(tmp_path: Path) -> None:
    path = tmp_path / "x.nii"
    nib.save(_image(), path)
    with pytest.raises(TypeError, match="storage_options"):
        nib.load(path, storage_options={"anon": True})


def test_mgz_stream(tmp_path: Path) -> None:
    data = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    path = tmp_path / "x.mgz"
    nib.save(nib.MGHImage(data, np.eye(4)), path)
    loaded = nib.load(io.BytesIO(path.read_bytes()))
    assert isinstance(loaded, nib.MGHImage)
    np.testing.assert_array_equal(loaded.get_fdata(), data)
    np.testing.assert_array_equal(loaded.affine, nib.load(path).affine)


def test_load_kwargs_pass_through(tmp_path: Path) -> None:
    path = tmp_path / "x.nii"
    nib.save(_image(), path)
    loaded = nib.load(io.BytesIO(path.read_bytes()), mmap=False, keep_file_open=True)
    _same(loaded, path)
    with pytest.raises(ValueError):
        nib.load(io.BytesIO(path.read_bytes()), mmap="bogus")
