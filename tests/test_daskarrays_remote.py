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


def test_to_dask_url_on_local_cluster(served: tuple[_Server, np.ndarray]) -> None:
    distributed = pytest.importorskip("distributed")
    server, data = served
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        for name in NAMES:
            arr = nib.to_dask(server.url(name))
            before = len(server.log)
            np.testing.assert_array_equal(client.compute(arr).result(), data)
            np.testing.assert_array_equal(client.compute(arr.mean(axis=-1)).result(), data.mean(axis=-1))
            # the workers opened the URL themselves: they asked the server
            assert len(server.log) > before
            pids = set(client.run(lambda: __import__("os").getpid()).values())
            assert len(pids) == 2


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
