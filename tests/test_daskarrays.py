"""nivox.to_dask: lazy dask arrays of image data, on threads and on a dask.distributed cluster."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

import nivox
from nivox.errors import ImageMismatchError, InvalidArgumentError
from nivox.testing import data_path

da = pytest.importorskip("dask.array")

EXAMPLE4D = os.path.join(data_path, "example4d.nii.gz")


def fmri_like(shape=(24, 20, 16, 30), seed=0):
    rng = np.random.default_rng(seed)
    base = rng.normal(1000, 50, shape[:3])[..., None]
    return (base + rng.normal(0, 10, shape)).astype(np.float32)


def test_values_and_dtype_match_the_proxy():
    img = nivox.load(EXAMPLE4D)
    arr = nivox.to_dask(img)
    expected = np.asanyarray(img.dataobj)
    assert arr.dtype == expected.dtype and arr.shape == expected.shape
    # one volume per chunk by default
    assert arr.chunks[-1] == (1,) * img.shape[-1] and arr.chunks[:3] == tuple((n,) for n in img.shape[:3])
    np.testing.assert_array_equal(arr.compute(), expected)
    as_float = nivox.to_dask(EXAMPLE4D, dtype=np.float32)
    assert as_float.dtype == np.float32
    np.testing.assert_array_equal(as_float.compute(), img.get_fdata(dtype=np.float32))


def test_graph_holds_references_not_data(tmp_path):
    path = tmp_path / "big.nii.gz"
    nivox.save(nivox.Nifti1Image(fmri_like((40, 40, 30, 40)), np.eye(4)), path)
    arr = nivox.to_dask(path)
    graph = dict(arr.__dask_graph__())
    assert len(pickle.dumps(graph)) < 64 << 10  # the data are 7.7 MB
    # nothing was read while building: a proxy, not an array, is in the graph
    assert not nivox.load(path).in_memory


def test_explicit_and_auto_chunks():
    img = nivox.load(EXAMPLE4D)
    expected = np.asanyarray(img.dataobj)
    for chunks in ("auto", (10, 12, 5, 3), -1):
        arr = nivox.to_dask(img, chunks=chunks)
        np.testing.assert_array_equal(arr.compute(), expected)
    assert nivox.to_dask(img, chunks=(10, 12, 5, 3)).chunks[0] == (10, 10, 10, 10)


def test_3d_slabs_cut_at_gzip_member_starts(tmp_path, monkeypatch):
    from nivox import daskarrays
    from nivox._codecs import gzip as gz

    data = (np.arange(128 * 128 * 70, dtype=np.int32) % 1000).reshape(128, 128, 70, order="F")
    path = tmp_path / "vol.nii.gz"
    nivox.save(nivox.Nifti1Image(data, np.eye(4)), path)
    monkeypatch.setattr(daskarrays, "DEFAULT_SLAB_BYTES", 3 << 19)
    img = nivox.load(path)
    arr = nivox.to_dask(img)
    sizes = arr.chunks[2]
    assert len(sizes) > 1 and sum(sizes) == 70
    plane = 128 * 128 * 4
    assert max(sizes) * plane <= 3 << 19
    member_planes = {-(-(start - img.dataobj.offset) // plane) for start in gz.member_starts(path)}
    cuts = np.cumsum((0,) + sizes[:-1])
    assert set(cuts.tolist()) <= member_planes  # every cut is the first whole plane of a member
    np.testing.assert_array_equal(arr.compute(), data)


def test_from_array_on_the_proxy_reads_lazily(tmp_path):
    img = nivox.load(EXAMPLE4D)
    arr = da.from_array(img.dataobj, chunks=(40, 48, 20, 1))
    assert not img.in_memory
    np.testing.assert_array_equal(arr[..., 1].compute(), np.asanyarray(img.dataobj)[..., 1])


def test_stacking_checks_grids_when_called(tmp_path):
    paths = []
    for number in range(3):
        path = tmp_path / f"v{number}.nii"
        nivox.save(nivox.Nifti1Image(fmri_like((6, 5, 4, 1), seed=number)[..., 0], np.eye(4)), path)
        paths.append(path)
    stacked = nivox.to_dask(paths)
    assert stacked.shape == (6, 5, 4, 3)
    for number, path in enumerate(paths):
        np.testing.assert_array_equal(stacked[..., number].compute(), nivox.load(path).dataobj[:])
    other = tmp_path / "other.nii"
    nivox.save(nivox.Nifti1Image(np.zeros((6, 5, 4), np.float32), np.diag([2, 2, 2, 1])), other)
    with pytest.raises(ImageMismatchError, match="affine"):
        nivox.to_dask([paths[0], other])
    small = tmp_path / "small.nii"
    nivox.save(nivox.Nifti1Image(np.zeros((6, 5, 3), np.float32), np.eye(4)), small)
    with pytest.raises(ImageMismatchError, match="shape"):
        nivox.to_dask([paths[0], small])
    with pytest.raises(InvalidArgumentError):
        nivox.to_dask([])
    with pytest.raises(InvalidArgumentError):
        nivox.to_dask(EXAMPLE4D, dtype=np.int16)


def test_import_nivox_stays_free_of_dask():
    import subprocess
    import sys

    code = "import sys, nivox; nivox.load; print('dask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---- a real cluster of two worker processes ---------------------------------------------


@pytest.fixture(scope="module")
def cluster_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None,
                                       worker_dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.mark.parametrize("writer", ["nibabel", "nivox"])
def test_statistics_on_a_local_cluster(cluster_client, tmp_path, writer):
    data = fmri_like((24, 20, 16, 30))
    path = tmp_path / f"{writer}.nii.gz"
    if writer == "nibabel":
        nib = pytest.importorskip("nibabel")
        nib.save(nib.Nifti1Image(data, np.eye(4)), str(path))  # one deflate stream
    else:
        nivox.save(nivox.Nifti1Image(data, np.eye(4)), path)  # sized members
    index_dir = tmp_path / "indexes"
    arr = nivox.to_dask(path, index_dir=index_dir)
    full = nivox.load(path).get_fdata()
    mask = full.mean(axis=-1) > 1000
    mean, std, series = cluster_client.compute(
        [arr.mean(axis=-1), arr.std(axis=-1), arr.vindex[np.nonzero(mask)]], sync=True)
    np.testing.assert_allclose(mean, full.mean(axis=-1), rtol=1e-5)
    np.testing.assert_allclose(std, full.std(axis=-1), rtol=1e-4)
    np.testing.assert_array_equal(series, full[mask])
    saved = list(index_dir.glob("*.nvidx")) if index_dir.exists() else []
    # a worker that decoded the single stream left its seek points for the others
    assert bool(saved) == (writer == "nibabel")
