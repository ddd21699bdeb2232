"""Saving data that are not in memory slab by slab (nivox._chunksave): same files as in-memory saves."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import nivox
from nivox import _chunksave
from nivox._chunksave import ChunkedWriter, slabs, streams
from nivox._codecs import gzip as nvgzip
from nivox.errors import WriterError

nib = pytest.importorskip("nibabel")
da = pytest.importorskip("dask.array")

AFFINE = np.array([[-2.0, 0, 0, 90], [0, 2, 0.1, -126], [0, 0, 2.5, -72], [0, 0, 0, 1]])


@pytest.fixture
def small_slabs(monkeypatch):
    """Every non-numpy data object streams, in slabs of 3000 bytes."""
    monkeypatch.setattr(_chunksave, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(_chunksave, "CHUNK_BYTES", 3000)


class Counted:
    """An array-like that is not in memory, counting the elements read."""

    def __init__(self, array):
        self._array = array
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim
        self.read = 0
        self.slices = []

    def __getitem__(self, index):
        part = self._array[index]
        self.read += part.size
        self.slices.append(index)
        return part.copy()


def _contents(path):
    path = str(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as fobj:
        return fobj.read()


def _files(path):
    path = str(path)
    if path.endswith((".img", ".img.gz")):
        return [path, path.replace(".img", ".hdr")]
    return [path]


def _same_files(a, b):
    return all(_contents(x) == _contents(y) for x, y in zip(_files(a), _files(b)))


def _image(data, name, dtype):
    klass = nivox.Nifti1Pair if ".img" in name else nivox.Nifti2Image if "n2" in name else nivox.Nifti1Image
    img = klass(data, AFFINE)
    img.set_data_dtype(dtype)
    return img


# ---------------------------------------------------------------- slab plans

@pytest.mark.parametrize("order", ["F", "C"])
@pytest.mark.parametrize("budget", [1, 7, 100, 5000, 10**6])
def test_slabs_cover_the_file_once_in_order(order, budget):
    shape = (5, 4, 3, 6)
    flat = np.arange(np.prod(shape)).reshape(shape, order=order)
    seen = []
    for index in slabs(shape, 1, order, budget):
        seen.extend(flat[index].ravel(order=order))  # a slab is one contiguous stretch
    assert seen == list(range(np.prod(shape)))


def test_slabs_fill_the_budget_with_whole_volumes():
    plan = list(slabs((10, 10, 10, 8), 2, "F", 2000 * 3))
    assert plan[0] == (slice(None),) * 3 + (slice(0, 3),) and len(plan) == 3


def test_slabs_follow_dask_chunks_and_never_split_one_along_a_slower_axis():
    shape = (6, 5, 4, 10)
    # one volume (240 bytes) fits the budget, but chunks hold 3 z-planes of 4 volumes
    chunks = ((6,), (5,), (3, 1), (4, 4, 2))
    plan = list(slabs(shape, 2, "F", 250, chunks))
    runs = [index[3] for index in plan]
    assert runs == [slice(0, 4), slice(4, 8), slice(8, 10)]
    assert all(index[:3] == (slice(None),) * 3 for index in plan)
    # chunks smaller than the budget are grouped
    plan = list(slabs(shape, 2, "F", 240 * 5, ((6,), (5,), (4,), (1,) * 10)))
    assert [index[3] for index in plan] == [slice(0, 5), slice(5, 10)]


def test_what_streams():
    big = np.zeros((4, 4), np.int16)
    assert not streams(big)  # numpy arrays are written as they are
    assert streams(da.zeros((64, 64, 64, 128), np.int16))  # 64 MiB: at the threshold
    assert not streams(da.zeros((4, 4), np.int16))  # small: computed whole
    assert not streams([[1, 2], [3, 4]])


# ---------------------------------------------------------------- same bytes as in memory

def _series(dtype, seed=0, shape=(9, 8, 7, 6)):
    rng = np.random.default_rng(seed)
    data = rng.normal(0, 300, shape)
    if np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
        data = data.clip(info.min, info.max)
    return data.astype(dtype)


CASES = [
    # (input dtype, output dtype, what is special)
    (np.float32, np.int16, "scaled"),
    (np.float64, np.uint8, "scaled, unsigned"),
    (np.float32, np.int16, "nan"),
    (np.float32, np.uint8, "inf"),
    (np.float32, np.int16, "whole numbers: no scaling"),
    (np.float32, np.int16, "whole numbers in one slab only"),
    (np.int32, np.int16, "fits"),
    (np.int32, np.uint8, "integers to shift and scale"),
    (np.int16, np.int16, "same type"),
    (np.int16, np.float32, "safe cast"),
    (np.float64, np.float32, "float narrowing"),
    (np.float32, np.int16, "all nan"),
]


@pytest.mark.parametrize("name", ["x.nii", "x.nii.gz", "x.img", "x.img.gz", "x_n2.nii"])
@pytest.mark.parametrize("in_dtype, out_dtype, case", CASES)
def test_streamed_save_writes_the_in_memory_bytes(tmp_path, small_slabs, name, in_dtype, out_dtype, case):
    data = _series(in_dtype)
    if case == "nan":
        data[1, 2, 3, 4] = data[0, 0, 0, 0] = np.nan
    elif case == "inf":
        data[4, 4, 4, 1], data[2, 2, 2, 5] = np.inf, -np.inf
    elif case.startswith("whole numbers"):
        data = np.round(data)
        if "one slab" in case:
            data[3, 3, 3, 5] += 0.5
    elif case == "integers to shift and scale":
        data = data.astype(np.int32) * 1000 + 70000
    elif case == "all nan":
        data[:] = np.nan
    streamed, in_memory = tmp_path / f"s-{name}", tmp_path / f"m-{name}"
    nivox.save(_image(da.from_array(data, chunks=(9, 8, 7, 2)), name, out_dtype), streamed)
    nivox.save(_image(data, name, out_dtype), in_memory)
    assert _same_files(streamed, in_memory)
    back = nib.load(str(streamed))
    assert back.get_data_dtype() == out_dtype
    expected = np.asanyarray(nib.load(str(in_memory)).dataobj)
    np.testing.assert_array_equal(np.asanyarray(back.dataobj), expected)


def test_user_scaling_is_kept(tmp_path, small_slabs):
    data = _series(np.float32)
    img = nivox.Nifti1Image(da.from_array(data, chunks=(9, 8, 7, 1)), AFFINE)
    img.set_data_dtype(np.int16)
    img.header.set_slope_inter(0.5, 10)
    ref = nivox.Nifti1Image(data, AFFINE, img.header)
    ref.header.set_slope_inter(0.5, 10)
    nivox.save(img, tmp_path / "s.nii")
    nivox.save(ref, tmp_path / "m.nii")
    assert _same_files(tmp_path / "s.nii", tmp_path / "m.nii")
    assert nib.load(str(tmp_path / "s.nii")).dataobj.slope == 0.5


def test_nans_to_integers_read_back_as_nearly_zero(tmp_path, small_slabs):
    data = _series(np.float64)
    data[::2, 1, :, 3] = np.nan
    img = nivox.Nifti1Image(da.from_array(data, chunks=(9, 8, 7, 1)), AFFINE, dtype=np.int16)
    nivox.save(img, tmp_path / "n.nii.gz")
    back = nib.load(str(tmp_path / "n.nii.gz"))
    got = back.get_fdata()
    nan = np.isnan(data)
    assert np.all(np.abs(got[nan]) <= back.dataobj.slope / 2)  # the stored integer nearest 0
    np.testing.assert_allclose(got[~nan], data[~nan], atol=back.dataobj.slope)


def test_unscalable_data_raise_the_in_memory_error(tmp_path, small_slabs):
    data = np.full((9, 8, 7, 6), 1e30, np.float32)
    data[0] = -1e30
    for stored in (data, da.from_array(data, chunks=(9, 8, 7, 1))):
        img = nivox.MGHImage(stored, AFFINE)
        img.set_data_dtype(np.int32)  # MGH stores no scale factor: 1e30 is no int32
        with pytest.raises(WriterError, match="no scale factor"):
            nivox.save(img, tmp_path / "x.mgh")
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize("name", ["x.mgh", "x.mgz"])
@pytest.mark.parametrize("dtype", [np.float32, np.int16, np.uint8])
def test_mgh_streamed_equals_in_memory(tmp_path, small_slabs, name, dtype):
    data = _series(np.float32).clip(0, 255).astype(dtype)
    nivox.save(nivox.MGHImage(da.from_array(data, chunks=(9, 8, 3, 1)), AFFINE), tmp_path / f"s{name}")
    nivox.save(nivox.MGHImage(data, AFFINE), tmp_path / f"m{name}")
    assert _same_files(tmp_path / f"s{name}", tmp_path / f"m{name}")
    np.testing.assert_array_equal(np.asanyarray(nib.load(str(tmp_path / f"s{name}")).dataobj), data)


def test_compat_alias_takes_the_range_slab_by_slab(tmp_path, small_slabs):
    data = (np.arange(9 * 8 * 7 * 6) * 13).reshape(9, 8, 7, 6).astype(np.uint16)  # up to 39299
    counted = Counted(data)
    img = nivox.Nifti1Image(counted, AFFINE)
    img.set_data_dtype("compat")
    nivox.save(img, tmp_path / "c.nii")
    back = nib.load(str(tmp_path / "c.nii"))
    assert back.get_data_dtype() == np.int32  # 40000 does not fit int16
    np.testing.assert_array_equal(np.asanyarray(back.dataobj), data)
    assert all(part != (slice(None),) * 4 for part in counted.slices)


# ---------------------------------------------------------------- passes and reads

def test_one_pass_when_the_data_cast_safely(tmp_path, small_slabs):
    data = _series(np.int16)
    counted = Counted(data)
    nivox.save(nivox.Nifti1Image(counted, AFFINE), tmp_path / "one.nii")
    assert counted.read == data.size
    assert max(np.prod(data[index].shape) * 2 for index in counted.slices) <= 3000


def test_two_passes_when_the_scaling_depends_on_the_range(tmp_path, small_slabs):
    data = _series(np.float32)
    counted = Counted(data)
    nivox.save(nivox.Nifti1Image(counted, AFFINE, dtype=np.int16), tmp_path / "two.nii")
    assert counted.read == 2 * data.size
    writer = ChunkedWriter(Counted(data), np.int16, lambda sample, whole: nivox.arraywriters.ArrayWriter(
        sample, np.int16, check_scaling=False))
    assert writer.passes == 2


def test_proxy_of_single_stream_gz_is_decoded_once_per_pass(tmp_path, small_slabs, inflated):
    shape = (20, 20, 10, 12)
    raw = (np.arange(np.prod(shape)) % 777).astype(np.int16).reshape(shape)
    source = tmp_path / "nib.nii.gz"
    nib.save(nib.Nifti1Image(raw, AFFINE), str(source))  # one gzip stream
    nvgzip.clear_index_cache()
    img = nivox.load(source)
    stream = 352 + raw.nbytes
    nivox.save(img, tmp_path / "out.nii")  # int16 to int16: one pass, in file order
    assert stream <= sum(inflated) <= stream + (64 << 10)
    np.testing.assert_array_equal(np.asanyarray(nib.load(str(tmp_path / "out.nii")).dataobj), raw)
    inflated.clear()
    img.set_data_dtype(np.uint8)  # needs the range first: two passes, each front to back
    nivox.save(img, tmp_path / "pair.img")
    assert sum(inflated) <= 2 * stream + (64 << 10)


def test_proxy_save_memory_is_two_slabs(tmp_path, monkeypatch):
    monkeypatch.setattr(_chunksave, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(_chunksave, "CHUNK_BYTES", 1 << 20)
    shape = (64, 64, 64, 128)  # 64 MiB of int16
    raw = np.zeros(shape, np.int16)
    raw[::3] = np.arange(shape[-1], dtype=np.int16)
    nib.save(nib.Nifti1Image(raw, AFFINE), str(tmp_path / "in.nii.gz"))
    img = nivox.load(tmp_path / "in.nii.gz")
    del raw
    for out in ("out.nii", "out.img"):
        tracemalloc.start()
        nivox.save(img, tmp_path / out)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        # two 1 MiB slabs, the decoder's buffers (4-5 MiB) and its seek points: not the 64 MiB
        assert peak < 16 << 20, (out, peak)
    back = nib.load(str(tmp_path / "out.img"))
    assert back.shape == shape and np.array_equal(back.dataobj[..., 7], np.where(
        np.arange(64)[:, None, None] % 3 == 0, 7, 0) * np.ones(shape[:3], np.int16))


# ---------------------------------------------------------------- atomic

def test_failure_mid_write_keeps_the_old_file(tmp_path, small_slabs):
    target = tmp_path / "keep.nii.gz"
    nivox.save(nivox.Nifti1Image(np.ones((2, 2, 2), np.int16), AFFINE), target)
    before = target.read_bytes()
    data = da.from_array(_series(np.int16), chunks=(9, 8, 7, 1))

    def fail_late(block, block_info=None):
        if block_info[0]["chunk-location"][-1] == 4:
            raise OSError("disk gone")
        return block

    failing = data.map_blocks(fail_late, dtype=np.int16)
    for name in ("keep.nii.gz", "keep.nii"):
        with pytest.raises(OSError, match="disk gone"):
            nivox.save(nivox.Nifti1Image(failing, AFFINE), tmp_path / name)
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["keep.nii.gz"]  # no temporaries, no partial keep.nii


# ---------------------------------------------------------------- larger than the memory allowed

_LIMIT = 640 << 20  # address space of the saving process (imports alone take about 300 MiB)


def _run_limited(body: str) -> None:
    """Run ``body`` in a Python whose address space is capped at _LIMIT."""
    script = textwrap.dedent(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, ({_LIMIT}, {_LIMIT}))
        import numpy as np
        import nivox
    """) + textwrap.dedent(body)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = dict(os.environ, MALLOC_ARENA_MAX="2",  # glibc reserves 64 MiB of address space per arena
               PYTHONPATH=os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False,
                          timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]


def _volume(shape, t):
    """Volume ``t`` of the big test series: compresses well, differs from volume to volume."""
    volume = np.zeros(shape[:3], np.int16)
    volume[t % shape[0]] = t
    volume[:, t % shape[1], :7] = -t
    return volume


def _check_volumes(path, shape):
    img = nib.load(str(path))
    assert img.shape == shape and img.get_data_dtype() == np.int16
    for t in range(shape[3]):  # nibabel reads it back, volume by volume
        assert np.array_equal(img.dataobj[..., t], _volume(shape, t)), (path, t)


@pytest.mark.parametrize("name", ["big.nii.gz", "big.nii"])
def test_dask_image_larger_than_the_memory_allowed(tmp_path, name):
    shape = (256, 256, 128, 128)  # 2 GiB of int16: over three times the limit
    path = tmp_path / name
    _run_limited(f"""
        import dask
        import dask.array as da
        dask.config.set(num_workers=2)
        shape = {shape}

        def volume(block_info=None):
            t = block_info[None]["chunk-location"][-1]
            vol = np.zeros(shape[:3], np.int16)
            vol[t % shape[0]] = t
            vol[:, t % shape[1], :7] = -t
            return vol[..., None]

        data = da.map_blocks(volume, dtype=np.int16, chunks=tuple((n,) for n in shape[:3]) + ((1,) * shape[3],))
        nivox.save(nivox.Nifti1Image(data, np.eye(4)), {str(path)!r})
    """)
    _check_volumes(path, shape)


def test_proxy_image_larger_than_the_memory_allowed(tmp_path):
    shape = (256, 256, 128, 72)  # 1.1 GiB of int16, in one gzip stream as most tools write it
    source = tmp_path / "source.nii.gz"
    header = nib.Nifti1Header()
    header.set_data_shape(shape)
    header.set_data_dtype(np.int16)
    header["vox_offset"] = 352
    with gzip.open(source, "wb", compresslevel=1) as stream:
        stream.write(header.binaryblock + b"\0" * 4)  # vox_offset 352
        for t in range(shape[3]):
            stream.write(_volume(shape, t).tobytes(order="F"))
    _run_limited(f"""
        img = nivox.load({str(source)!r})
        nivox.save(img, {str(tmp_path / "copy.nii")!r})
        nivox.save(img, {str(tmp_path / "copy.img")!r})
    """)
    _check_volumes(tmp_path / "copy.nii", shape)
    os.unlink(tmp_path / "copy.nii")
    _check_volumes(tmp_path / "copy.img", shape)


@pytest.mark.parametrize("order", ["F", "C"])
def test_slabs_in_the_other_memory_order_are_reordered_by_tiles(monkeypatch, order):
    monkeypatch.setattr(_chunksave, "_PIECE_BYTES", 500)
    data = np.arange(37 * 21 * 5 * 3, dtype=np.int32).reshape(37, 21, 5, 3)
    other = np.asarray(data, order="C" if order == "F" else "F")
    assert np.array_equal(_chunksave._reordered(other, order), data)
    assert _chunksave._reordered(other, order).flags["F_CONTIGUOUS" if order == "F" else "C_CONTIGUOUS"]


@pytest.mark.parametrize("name", ["self.nii.gz", "self.img"])
def test_saving_over_the_file_being_read(tmp_path, small_slabs, name):
    data = _series(np.float32)
    path = tmp_path / name
    nivox.save(_image(data, name, np.float32), path)
    img = nivox.load(path)
    img.header["descrip"] = b"again"
    nivox.save(img, path)  # read slab by slab from the old file while the new one is written
    back = nib.load(str(path))
    assert back.header["descrip"].item() == b"again"
    np.testing.assert_array_equal(np.asanyarray(back.dataobj), data)
