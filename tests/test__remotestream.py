"""Remote .nii.gz by range, counting bytes: seek points for single streams, the member table for nivox's files.

Each test runs against the local HTTP server and the local S3 server (moto
through s3fs), counting the body bytes and requests the server sends.
"""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nivox as nib
from nivox import _remotestream
from nivox._codecs import gzip as nvgzip
from nivox.errors import ImageFileError

pytest.importorskip("indexed_gzip")
pytest.importorskip("fsspec")

from _stores import Store, store  # noqa: E402,F401

SHAPE = (64, 64, 32, 10)  # int16: 256 KiB a volume, 2.5 MiB in all
SPACING = 256 << 10


@pytest.fixture(scope="module")
def series() -> tuple[np.ndarray, bytes, bytes]:
    """The data, the .nii bytes, and the .nii.gz as one deflate stream (as nibabel writes it)."""
    rng = np.random.default_rng(5)
    data = (rng.normal(0, 400, SHAPE)).astype(np.int16)  # compresses to about half
    nii = nib.Nifti1Image(data, np.diag([2.0, 2.0, 2.0, 1.0])).to_bytes()
    return data, nii, gzip.compress(nii, 6)


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(_remotestream, "SPACING", SPACING)
    monkeypatch.setenv("NIVOX_INDEX_DIR", str(tmp_path / "indexes"))
    _remotestream.clear()


def _volume_budget(series: tuple[np.ndarray, bytes, bytes]) -> int:
    """What a load and one volume read may fetch once seek points exist.

    The header (the first 64 KiB block), the compressed bytes of the volume
    and of the stretch from the seek point before it (at most SPACING of
    data), a block of alignment at each end and one read buffer past the end.
    """
    data, nii, blob = series
    ratio = len(blob) / len(nii)
    return 64 * 1024 + int((data[..., 0].nbytes + SPACING) * ratio * 1.1) + 3 * 64 * 1024


def test_second_load_reuses_seek_points(store: Store, series: tuple[np.ndarray, bytes, bytes]) -> None:
    data, _, blob = series
    url = store.put("plain.nii.gz", blob)
    img = nib.load(url, storage_options=store.options)
    np.testing.assert_array_equal(img.dataobj[..., 8], data[..., 8])
    first = store.bytes_sent
    assert first <= len(blob) + _remotestream.READ_BUFFER  # never more than the file
    # a later load of the same URL, another volume: only the stretch from its seek point
    before = store.bytes_sent
    again = nib.load(url, storage_options=store.options)
    np.testing.assert_array_equal(again.dataobj[..., 3], data[..., 3])
    assert store.bytes_sent - before <= _volume_budget(series) < len(blob) / 2
    np.testing.assert_array_equal(again.get_fdata(), data)


def test_saved_index_serves_a_fresh_process(store: Store, series: tuple[np.ndarray, bytes, bytes],
                                            tmp_path: Path) -> None:
    data, _, blob = series
    url = store.put("plain.nii.gz", blob)
    nib.load(url, storage_options=store.options).get_fdata()  # reads it all: points throughout
    sidecar = tmp_path / "plain.nvidx"
    assert nvgzip.save_index(url, sidecar, storage_options=store.options) == str(sidecar)
    # another process: nothing of this one's points, only the saved file
    code = (
        "import sys, numpy as np, nivox as nib\n"
        "from nivox._codecs import gzip as g\n"
        f"opts = {store.options!r}\n"
        f"g.load_index({url!r}, {str(sidecar)!r}, storage_options=opts)\n"
        f"img = nib.load({url!r}, storage_options=opts)\n"
        "np.save(sys.stdout.buffer, np.asarray(img.dataobj[..., 7]))\n"
    )
    before = store.bytes_sent
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True,
                         env={**__import__("os").environ, "PYTHONPATH": ":".join(sys.path)})
    np.testing.assert_array_equal(np.load(io.BytesIO(out.stdout)), data[..., 7])
    # header read + one volume from its nearest point
    assert store.bytes_sent - before <= _volume_budget(series)


def test_index_in_cache_folder_is_used_by_load(store: Store, series: tuple[np.ndarray, bytes, bytes]) -> None:
    data, _, blob = series
    url = store.put("plain.nii.gz", blob)
    nib.load(url, storage_options=store.options).get_fdata()
    nvgzip.save_index(url, storage_options=store.options)  # the default place: the cache folder
    _remotestream.clear()  # as a new run
    before = store.bytes_sent
    np.testing.assert_array_equal(nib.load(url, storage_options=store.options).dataobj[..., 9], data[..., 9])
    assert store.bytes_sent - before <= _volume_budget(series)


def test_index_of_another_version_is_refused(store: Store, series: tuple[np.ndarray, bytes, bytes],
                                             tmp_path: Path) -> None:
    data, nii, blob = series
    url = store.put("plain.nii.gz", blob)
    nib.load(url, storage_options=store.options).get_fdata()
    sidecar = tmp_path / "old.nvidx"
    nvgzip.save_index(url, sidecar, storage_options=store.options)
    nvgzip.save_index(url, storage_options=store.options)
    changed = gzip.compress(nii, 9)  # the same data, other bytes
    url = store.put("plain.nii.gz", changed)
    with pytest.raises(ImageFileError, match="another version") as info:
        nvgzip.load_index(url, sidecar, storage_options=store.options)
    assert str(sidecar) in str(info.value)
    _remotestream.clear()
    # the stale index in the cache folder is ignored; the new version reads right
    np.testing.assert_array_equal(nib.load(url, storage_options=store.options).dataobj[..., 4], data[..., 4])


def test_nivox_written_gz_costs_its_members_from_the_first_read(
        store: Store, series: tuple[np.ndarray, bytes, bytes], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from nivox._codecs.gztable import read_table

    data, _, _ = series
    monkeypatch.setattr(nvgzip, "MEMBER_SIZE", 128 << 10)
    path = tmp_path / "members.nii.gz"
    nib.save(nib.Nifti1Image(data, np.diag([2.0, 2.0, 2.0, 1.0])), path)
    blob = path.read_bytes()
    points = read_table(lambda at, n: blob[at:at + n], len(blob))
    assert points is not None
    url = store.put("members.nii.gz", blob)
    before, requests = store.bytes_sent, store.requests
    img = nib.load(url, storage_options=store.options)
    load_cost = store.bytes_sent - before
    volume = 8
    start, stop = 352 + volume * data[..., 0].nbytes, 352 + (volume + 1) * data[..., 0].nbytes
    # the members holding the volume: their compressed bytes are all a read may fetch
    members = [i for i in range(len(points) - 1) if points[i][1] < stop and points[i + 1][1] > start]
    compressed = sum(points[i + 1][0] - points[i][0] for i in members)
    before, requests = store.bytes_sent, store.requests
    np.testing.assert_array_equal(img.dataobj[..., volume], data[..., volume])
    assert store.bytes_sent - before <= compressed
    assert store.requests - requests <= len(members)
    # load: the first block, the table at the end, the first member (the header's)
    assert load_cost <= 64 * 1024 + 4096 + points[1][0]
    np.testing.assert_array_equal(img.get_fdata(), data)
    np.testing.assert_array_equal(nib.load(path).get_fdata(), data)


def test_nibabel_from_url_downloads_the_whole_file(store: Store, series: tuple[np.ndarray, bytes, bytes]) -> None:
    nibabel = pytest.importorskip("nibabel")
    if store.kind != "http":
        pytest.skip("nibabel's from_url speaks HTTP only")
    data, nii, _ = series
    url = store.put("bold.nii", nii)
    before = store.bytes_sent
    np.testing.assert_array_equal(np.asarray(nibabel.Nifti1Image.from_url(url).dataobj[..., 9]), data[..., 9])
    assert store.bytes_sent - before == len(nii)
    before = store.bytes_sent
    np.testing.assert_array_equal(nib.load(url).dataobj[..., 9], data[..., 9])
    assert store.bytes_sent - before <= 64 * 1024 + data[..., 9].nbytes


def test_first_read_fetches_up_to_its_volume_only(store: Store, series: tuple[np.ndarray, bytes, bytes]) -> None:
    data, nii, blob = series
    url = store.put("plain.nii.gz", blob)
    before = store.bytes_sent
    img = nib.load(url, storage_options=store.options)
    np.testing.assert_array_equal(img.dataobj[..., 4], data[..., 4])
    # a stream must be decoded from its start: up to the volume's end, a spacing past it at most
    end_of_volume = 352 + 5 * data[..., 0].nbytes
    ratio = len(blob) / len(nii)
    assert store.bytes_sent - before <= int((end_of_volume + SPACING) * ratio * 1.1) + 3 * 64 * 1024 < len(blob)
