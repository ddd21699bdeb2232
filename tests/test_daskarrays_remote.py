"""nivox.to_dask on URLs: chunks read by range, on threads and on a LocalCluster of two worker processes."""

from __future__ import annotations

import gzip
import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import nivox as nib

pytest.importorskip("dask")
pytest.importorskip("fsspec")
pytest.importorskip("aiohttp")

from test__remote import _Server  # noqa: E402

SHAPE = (32, 32, 16, 6)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[_Server, np.ndarray]]:
    root = tmp_path_factory.mktemp("dask-served")
    data = np.random.default_rng(9).integers(-500, 500, SHAPE, dtype=np.int16)
    img = nib.Nifti1Image(data, np.eye(4))
    nib.save(img, root / "x.nii")
    nib.save(img, root / "x.nii.gz")  # nivox's members and table
    (root / "plain.nii.gz").write_bytes(gzip.compress(img.to_bytes()))  # one deflate stream
    server = _Server(root, honour_range=True)
    yield server, data
    server.close()


NAMES = ["x.nii", "x.nii.gz", "plain.nii.gz"]


@pytest.mark.parametrize("name", NAMES)
def test_proxy_of_url_pickles_as_reference(served: tuple[_Server, np.ndarray], name: str) -> None:
    server, data = served
    img = nib.load(server.url(name))
    blob = pickle.dumps(img.dataobj)
    assert len(blob) < 4096 + 16 * 20  # the URL, filesystem options, layout: no data
    np.testing.assert_array_equal(pickle.loads(blob)[..., 4], data[..., 4])


@pytest.mark.parametrize("name", NAMES)
def test_to_dask_url_threads(served: tuple[_Server, np.ndarray], name: str) -> None:
    server, data = served
    arr = nib.to_dask(server.url(name))
    assert arr.shape == SHAPE and arr.chunks[-1] == (1,) * SHAPE[-1]
    np.testing.assert_array_equal(arr.compute(scheduler="threads"), data)


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    """One LocalCluster of two worker processes for the module (starting one takes seconds)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, worker_dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client


def test_to_dask_url_on_local_cluster(served: tuple[_Server, np.ndarray], client: object) -> None:
    server, data = served
    for name in NAMES:
        arr = nib.to_dask(server.url(name))
        before = len(server.log)
        np.testing.assert_array_equal(client.compute(arr).result(), data)  # type: ignore[attr-defined]
        np.testing.assert_array_equal(client.compute(arr.mean(axis=-1)).result(),  # type: ignore[attr-defined]
                                      data.mean(axis=-1))
        # the workers opened the URL themselves: they asked the server
        assert len(server.log) > before
        pids = set(client.run(lambda: __import__("os").getpid()).values())  # type: ignore[attr-defined]
        assert len(pids) == 2


def _statistics(client: object, arr: object, full: np.ndarray) -> None:
    """mean and std over time and a masked time series on the cluster equal numpy on the local array."""
    mask = full.mean(axis=-1) > 0
    mean, std, series = client.compute(  # type: ignore[attr-defined]
        [arr.mean(axis=-1), arr.std(axis=-1), arr.vindex[np.nonzero(mask)]], sync=True)  # type: ignore[attr-defined]
    np.testing.assert_allclose(mean, full.mean(axis=-1), rtol=1e-6)
    np.testing.assert_allclose(std, full.std(axis=-1), rtol=1e-6)
    np.testing.assert_array_equal(series, full[mask])


def _forget_remote_indexes() -> None:
    from nivox import _remotestream

    _remotestream.clear()


def test_single_stream_url_workers_share_seek_points(tmp_path: Path, client: object) -> None:
    """Workers leave a URL's seek points in index_dir; a later run reads one volume without decoding from the start."""
    pytest.importorskip("indexed_gzip")
    shape = (64, 64, 40, 16)  # 5 MiB of data: several seek points (one per MiB)
    data = np.random.default_rng(11).integers(-300, 300, shape, dtype=np.int16)
    root = tmp_path / "served"
    root.mkdir()
    nib.save(nib.Nifti1Image(data, np.eye(4)), root / "local.nii")
    (root / "big.nii.gz").write_bytes(gzip.compress(nib.load(root / "local.nii").to_bytes(), 6))  # one stream
    size = (root / "big.nii.gz").stat().st_size
    full = np.asarray(nib.load(root / "local.nii").dataobj)
    index_dir = tmp_path / "indexes"
    server = _Server(root, honour_range=True)
    try:
        client.run(_forget_remote_indexes)  # type: ignore[attr-defined]
        arr = nib.to_dask(server.url("big.nii.gz"), index_dir=index_dir)
        before = server.bytes_sent
        # one chunk: what it needs only (no worker decodes the whole stream for an index)
        np.testing.assert_array_equal(client.compute(arr[..., 0]).result(), full[..., 0])  # type: ignore[attr-defined]
        assert server.bytes_sent - before < size / 3
        _statistics(client, arr, full)
        first_run = server.bytes_sent - before
        # not from the start once per chunk (16 x the file): one worker decodes the stream for
        # the index, the other reads with its own points until the index appears; each chunk
        # then decodes from the seek point before it (points are 1 MiB of data apart)
        assert first_run < 4 * size, (first_run, size)
        saved = list(index_dir.glob("remote-*.nvidx"))
        assert len(saved) == 1 and not list(index_dir.glob("*.building"))

        # a later run: fresh readers in the workers, which find the index in the folder
        client.run(_forget_remote_indexes)  # type: ignore[attr-defined]
        before = server.bytes_sent
        arr = nib.to_dask(server.url("big.nii.gz"), index_dir=index_dir)
        np.testing.assert_array_equal(client.compute(arr[..., -1]).result(), full[..., -1])  # type: ignore[attr-defined]
        last_volume = server.bytes_sent - before
        # the last volume (the last 1/16 of the stream), from the seek point before it
        assert last_volume < size / 3, (last_volume, size)
    finally:
        server.close()


def test_to_dask_on_s3_url(tmp_path: Path) -> None:
    pytest.importorskip("s3fs")
    pytest.importorskip("moto.moto_server.werkzeug_app")
    from _s3server import S3Server

    data = np.random.default_rng(10).integers(-500, 500, SHAPE, dtype=np.int16)
    server = S3Server()
    try:
        bucket = server.new_bucket()
        options = server.storage_options
        for name in ("x.nii.gz", "x.nii"):
            url = f"s3://{bucket}/{name}"
            nib.save(nib.Nifti1Image(data, np.eye(4)), url, storage_options=options)
            arr = nib.to_dask(url, storage_options=options)
            before = server.bytes_sent
            np.testing.assert_array_equal(arr[..., 3].compute(scheduler="threads"), data[..., 3])
            assert server.bytes_sent - before < len(server.filesystem().cat_file(f"{bucket}/{name}")) / 2
            np.testing.assert_array_equal(arr.compute(scheduler="threads"), data)
    finally:
        server.close()


def test_to_dask_on_s3_url_on_local_cluster(tmp_path: Path, client: object) -> None:
    """Two worker processes read an s3:// image themselves (storage options travel with the graph)."""
    pytest.importorskip("s3fs")
    pytest.importorskip("moto.moto_server.werkzeug_app")
    from _s3server import S3Server

    shape = (24, 20, 16, 12)
    data = np.random.default_rng(12).integers(-500, 500, shape, dtype=np.int16)
    img = nib.Nifti1Image(data, np.eye(4))
    nib.save(img, tmp_path / "local.nii.gz")
    full = nib.load(tmp_path / "local.nii.gz").get_fdata()
    server = S3Server()
    try:
        bucket = server.new_bucket()
        options = server.storage_options
        nib.save(img, f"s3://{bucket}/members.nii.gz", storage_options=options)  # nivox's members
        server.filesystem().pipe_file(f"{bucket}/stream.nii.gz", gzip.compress(img.to_bytes()))  # one stream
        client.run(_forget_remote_indexes)  # type: ignore[attr-defined]
        for name in ("members.nii.gz", "stream.nii.gz"):
            arr = nib.to_dask(f"s3://{bucket}/{name}", storage_options=options, index_dir=tmp_path / "idx")
            assert arr.chunks[-1] == (1,) * shape[-1]
            gets = server.gets
            _statistics(client, arr, full)
            assert server.gets > gets  # the workers fetched the chunks from the server
    finally:
        server.close()


def test_shared_index_of_another_version_is_rebuilt(tmp_path: Path) -> None:
    """An index left for an earlier version of the URL's file is not used: it is rebuilt for this one."""
    pytest.importorskip("indexed_gzip")
    from nivox import _remotestream

    root = tmp_path / "served"
    root.mkdir()
    rng = np.random.default_rng(13)
    index_dir = tmp_path / "indexes"
    server = _Server(root, honour_range=True)
    try:
        url = server.url("v.nii.gz")
        saved: list[bytes] = []
        for shape in [(64, 64, 24, 6), (64, 64, 24, 8)]:  # the second version is larger
            data = rng.integers(-300, 300, shape, dtype=np.int16)
            (root / "v.nii.gz").write_bytes(gzip.compress(nib.Nifti1Image(data, np.eye(4)).to_bytes(), 1))
            _remotestream.clear()
            arr = nib.to_dask(url, index_dir=index_dir)
            np.testing.assert_array_equal(arr.compute(scheduler="sync"), data)
            (index,) = index_dir.glob("remote-*.nvidx")
            saved.append(index.read_bytes())
        assert saved[0] != saved[1]
        _remotestream.clear()
        _remotestream.load_index(url, index_dir / index.name)  # made for the file as it is now
    finally:
        server.close()
