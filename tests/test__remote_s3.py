"""nivox.load and nivox.save on s3:// URLs against a local S3 server (moto) reached through s3fs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import nivox as nib
from nivox.errors import ImageFileError, NivoxError, RemoteFileError

pytest.importorskip("s3fs")
pytest.importorskip("moto.moto_server.werkzeug_app")

from _s3server import S3Server  # noqa: E402

SHAPE = (64, 64, 16, 8)


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    server = S3Server()
    yield server
    server.close()


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return np.random.default_rng(21).integers(-3000, 3000, SHAPE, dtype=np.int16)


@pytest.fixture
def bucket(s3: S3Server) -> str:
    return s3.new_bucket()


def _img(data: np.ndarray) -> nib.Nifti1Image:
    return nib.Nifti1Image(data, np.diag([2.0, 2.0, 3.0, 1.0]))


@pytest.mark.parametrize("name", ["x.nii", "x.nii.gz", "x.mgz"])
def test_save_then_load_round_trip(s3: S3Server, bucket: str, data: np.ndarray, tmp_path: Path, name: str) -> None:
    url = f"s3://{bucket}/sub-01/{name}"
    nib.save(_img(data), url, storage_options=s3.storage_options)
    nib.save(_img(data), tmp_path / name)
    # the object is exactly what a local save writes (deterministic output), uploaded in one piece
    assert s3.filesystem().cat_file(f"{bucket}/sub-01/{name}") == (tmp_path / name).read_bytes()
    loaded, local = nib.load(url, storage_options=s3.storage_options), nib.load(tmp_path / name)
    assert type(loaded) is type(local) and loaded.header == local.header
    np.testing.assert_array_equal(loaded.get_fdata(), local.get_fdata())


def test_save_pair_uploads_both_files(s3: S3Server, bucket: str, data: np.ndarray) -> None:
    nib.save(_img(data[..., 0]), f"s3://{bucket}/pair.img", storage_options=s3.storage_options)
    assert sorted(p.rsplit("/", 1)[1] for p in s3.filesystem().ls(bucket)) == ["pair.hdr", "pair.img"]


def test_failed_upload_names_url_and_keeps_the_old_object(s3: S3Server, bucket: str, data: np.ndarray,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import s3fs

    url = f"s3://{bucket}/keep.nii.gz"
    nib.save(_img(data), url, storage_options=s3.storage_options)
    before = s3.filesystem().cat_file(f"{bucket}/keep.nii.gz")

    def refuse(self: object, *args: object, **kwargs: object) -> None:
        raise PermissionError("Access Denied")

    monkeypatch.setattr(s3fs.S3FileSystem, "put_file", refuse)
    with pytest.raises(RemoteFileError, match="Access Denied") as info:
        nib.save(_img(data * 0), url, storage_options=s3.storage_options)
    assert url in str(info.value)
    monkeypatch.undo()
    assert s3.filesystem().cat_file(f"{bucket}/keep.nii.gz") == before


def test_save_that_cannot_be_written_leaves_object(s3: S3Server, bucket: str, data: np.ndarray) -> None:
    url = f"s3://{bucket}/keep.nii"
    nib.save(_img(data), url, storage_options=s3.storage_options)
    before = s3.filesystem().cat_file(f"{bucket}/keep.nii")
    with pytest.raises(ImageFileError) as info:
        nib.save(_img(data), f"s3://{bucket}/keep.unknown", storage_options=s3.storage_options)
    assert f"s3://{bucket}/keep.unknown" in str(info.value)
    assert s3.filesystem().cat_file(f"{bucket}/keep.nii") == before


def test_save_to_missing_bucket_names_url(s3: S3Server, data: np.ndarray) -> None:
    url = "s3://no-such-bucket-nivox/x.nii"
    with pytest.raises(RemoteFileError) as info:
        nib.save(_img(data), url, storage_options=s3.storage_options)
    assert url in str(info.value) and isinstance(info.value, NivoxError)


def test_header_and_one_volume_by_range(s3: S3Server, bucket: str, data: np.ndarray, tmp_path: Path) -> None:
    url = f"s3://{bucket}/bold.nii"
    nib.save(_img(data), url, storage_options=s3.storage_options)
    before_gets, before_bytes = s3.gets, s3.bytes_sent
    img = nib.load(url, storage_options=s3.storage_options)
    assert img.shape == SHAPE
    assert s3.gets - before_gets == 1 and s3.bytes_sent - before_bytes <= 64 * 1024
    before_gets, before_bytes = s3.gets, s3.bytes_sent
    np.testing.assert_array_equal(img.dataobj[..., 6], data[..., 6])
    assert s3.gets - before_gets == 1 and s3.bytes_sent - before_bytes == data[..., 6].nbytes


def test_missing_object_names_url(s3: S3Server, bucket: str) -> None:
    url = f"s3://{bucket}/missing.nii.gz"
    with pytest.raises(RemoteFileError, match="not found") as info:
        nib.load(url, storage_options=s3.storage_options)
    assert url in str(info.value)


def test_object_replaced_while_read_is_reported(s3: S3Server, bucket: str, data: np.ndarray) -> None:
    url = f"s3://{bucket}/changing.nii"
    nib.save(_img(data), url, storage_options=s3.storage_options)
    img = nib.load(url, storage_options=s3.storage_options)
    np.testing.assert_array_equal(img.dataobj[..., 1], data[..., 1])
    nib.save(_img(data[::-1]), url, storage_options=s3.storage_options)  # same size, new ETag
    with pytest.raises(RemoteFileError, match="changed on the server") as info:
        img.dataobj[..., 2]
    assert url in str(info.value)
