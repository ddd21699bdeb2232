"""Threads reading one image agree with one thread; loads in threads keep their own mode and file name;
proxies and images travel to other processes as references to their files, not as data."""

from __future__ import annotations

import logging
import pickle
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

import nivox
from nivox import validation
from nivox.errors import HeaderDataError
from nivox.nifti1 import Nifti1Header

N_THREADS = 16
SHAPE = (12, 10, 8, 6)
RNG = np.random.default_rng(42)
FLOATS = RNG.normal(size=SHAPE).astype(np.float32) * 100


@pytest.fixture(scope="module", params=["img.nii", "img.nii.gz", "img.img.gz", "img.nii.bz2"])
def image_path(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("threads") / request.param
    klass = nivox.Nifti1Pair if ".img" in request.param else nivox.Nifti1Image
    img = klass(FLOATS, np.eye(4))
    img.set_data_dtype(np.int16)  # scaled: reads go through the scaling path too
    img.to_filename(path)
    return path


def _random_index(rng):
    """A mix of basic indices: slices with steps, integers, ellipsis."""
    index = []
    for size in SHAPE:
        kind = rng.integers(4)
        if kind == 0:
            index.append(int(rng.integers(-size, size)))
        elif kind == 1:
            start, stop = sorted(rng.integers(0, size + 1, 2))
            index.append(slice(int(start), int(stop), int(rng.integers(1, 3))))
        else:
            index.append(slice(None, None, -1) if kind == 2 else slice(None))
    return tuple(index)


@pytest.mark.parametrize(("keep_file_open", "mmap"), [(False, True), (True, True), (False, False), (True, False)])
def test_threads_read_what_one_thread_reads(image_path, keep_file_open, mmap):
    img = nivox.load(image_path, keep_file_open=keep_file_open, mmap=mmap)
    whole = np.asanyarray(nivox.load(image_path).dataobj)
    indices = [_random_index(np.random.default_rng(seed)) for seed in range(N_THREADS * 12)]
    expected = [whole[index] for index in indices]
    start = threading.Barrier(N_THREADS)

    def work(worker):
        start.wait(10)  # all threads hit the file at once
        mine = range(worker, len(indices), N_THREADS)
        out = [(i, img.dataobj[indices[i]]) for i in mine]
        if worker % 4 == 0:
            out.append((-1, np.asanyarray(img.dataobj)))
        if worker % 4 == 1:
            out.append((-2, img.get_fdata(caching="unchanged", dtype=np.float32)))
        return out

    with ThreadPoolExecutor(N_THREADS) as pool:
        results = [item for chunk in pool.map(work, range(N_THREADS)) for item in chunk]
    for i, got in results:
        if i == -1:
            np.testing.assert_array_equal(got, whole)
        elif i == -2:
            np.testing.assert_array_equal(got, whole.astype(np.float32))
        else:
            np.testing.assert_array_equal(got, expected[i])


def test_threads_loading_broken_files_keep_their_own_mode_and_file(tmp_path):
    # each thread loads its own damaged file in its own mode; what it sees must name its file
    paths = []
    for index in range(N_THREADS):
        path = tmp_path / f"bad{index:02d}.nii"
        nivox.Nifti1Image(np.zeros((2, 3, 4), np.int16), np.eye(4)).to_filename(path)
        raw = bytearray(path.read_bytes())
        hdr = Nifti1Header(bytes(raw[:348]), check=False)
        hdr["pixdim"][2] = 0  # fixable, level 30
        raw[:348] = hdr.binaryblock
        path.write_bytes(bytes(raw))
        paths.append(path)
    records = []
    lock = threading.Lock()

    class Collect(logging.Handler):
        def emit(self, record):
            with lock:
                records.append((record.threadName, record.getMessage()))

    handler = Collect(logging.DEBUG)
    logger = logging.getLogger("nivox.global")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    start = threading.Barrier(N_THREADS)

    def work(index):
        threading.current_thread().name = f"loader-{index}"
        start.wait(10)
        outcomes = []
        for repeat in range(5):
            mode = ("raise", "warn")[(index + repeat) % 2]
            with validation.mode("ignore"):  # a thread's block never leaks into the others
                try:
                    nivox.load(paths[index], validation=mode)
                    outcomes.append((mode, "loaded"))
                except HeaderDataError as err:
                    assert str(err).startswith(f"{paths[index]}: ")
                    outcomes.append((mode, "raised"))
        return outcomes

    try:
        import warnings

        with warnings.catch_warnings():  # set once, before the threads start
            warnings.simplefilter("ignore")
            with ThreadPoolExecutor(N_THREADS) as pool:
                results = list(pool.map(work, range(N_THREADS)))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    for outcomes in results:
        assert all(result == ("raised" if mode == "raise" else "loaded") for mode, result in outcomes)
    assert len(records) == N_THREADS * 5
    for thread_name, message in records:
        index = int(thread_name.split("-")[1])
        assert message.startswith(f"{paths[index]}: pixdim"), (thread_name, message)


# ---- other processes --------------------------------------------------------------------


def _read_in_child(payload):
    obj = pickle.loads(payload)
    proxy = obj.dataobj if hasattr(obj, "dataobj") else obj
    return proxy[..., 2], np.asanyarray(proxy)


@pytest.mark.parametrize("name", ["img.nii", "img.nii.gz"])
@pytest.mark.parametrize("keep_file_open", [False, True])
def test_proxies_and_images_pickle_as_references(tmp_path, name, keep_file_open):
    big = np.random.default_rng(0).integers(0, 1000, size=(64, 64, 32, 4)).astype(np.int16)
    path = tmp_path / name
    nivox.Nifti1Image(big, np.eye(4)).to_filename(path)
    img = nivox.load(path, keep_file_open=keep_file_open)
    img.dataobj[0]  # opened (and, with keep_file_open, kept open) before pickling
    img.get_fdata()  # a cache of the whole image, which must not travel
    payloads = [pickle.dumps(img.dataobj), pickle.dumps(img)]
    assert all(len(p) < 8192 for p in payloads), [len(p) for p in payloads]  # the data are 1 MB
    assert img.in_memory  # pickling left the original's cache alone
    with ProcessPoolExecutor(2) as pool:
        results = list(pool.map(_read_in_child, payloads))
    for volume, whole in results:
        np.testing.assert_array_equal(volume, big[..., 2])
        np.testing.assert_array_equal(whole, big)
    restored = pickle.loads(payloads[1])
    assert not restored.in_memory and restored.get_filename() == str(path)
    np.testing.assert_array_equal(restored.affine, img.affine)
