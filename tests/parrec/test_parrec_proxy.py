"""PARRECArrayProxy indexing: any basic or fancy index gives what numpy gives on the whole array."""

from __future__ import annotations

import io
import pickle
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from suites.parrec_files import make_parrec

from nivox.fileholders import FileHolder
from nivox.parrec import PARRECArrayProxy, PARRECImage

SHAPE = (5, 4, 3, 4)


@lru_cache(maxsize=None)
def _files(order: str, version: str):
    par, rec, expected, _ = make_parrec(inplane=SHAPE[:2], n_slices=SHAPE[2], n_vols=SHAPE[3], vary_scaling=True,
                                        line_order=order, version=version)
    return par, rec, expected


def _image(order: str, version: str = "V4.2") -> tuple[PARRECImage, np.ndarray]:
    par, rec, expected = _files(order, version)
    file_map = {"header": FileHolder(fileobj=io.BytesIO(par)), "image": FileHolder(fileobj=io.BytesIO(rec))}
    return PARRECImage.from_file_map(file_map), expected


def _axis_index(length: int):
    return (st.integers(-length, length - 1)
            | st.builds(slice, st.none() | st.integers(-length - 1, length + 1),
                        st.none() | st.integers(-length - 1, length + 1),
                        st.none() | st.sampled_from([1, 2, 3, -1, -2])))


@st.composite
def basic_indices(draw):
    n_axes = draw(st.integers(0, 4))
    items = [draw(_axis_index(SHAPE[axis])) for axis in range(n_axes)]
    for _ in range(draw(st.integers(0, 2))):
        items.insert(draw(st.integers(0, len(items))), None)
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), Ellipsis)
    return tuple(items)


@settings(max_examples=150, deadline=None)
@given(basic_indices(), st.sampled_from(["volume", "slice"]))
def test_basic_indices_match_numpy(index, order):
    img, expected = _image(order)
    try:
        wanted = expected[index]
    except IndexError:  # (an Ellipsis moved the indices onto shorter axes)
        with pytest.raises(IndexError):
            img.dataobj[index]
        return
    np.testing.assert_array_equal(img.dataobj[index], wanted)


@pytest.mark.parametrize("index", [([0, 2, 2],), (slice(None), [True, False, True, False]),
                                   (Ellipsis, [3, 0]), (0, slice(None), [1, 2], [0, 3])])
def test_fancy_indices_match_numpy(index):
    img, expected = _image("slice")
    np.testing.assert_array_equal(img.dataobj[index], expected[index])


def test_out_of_range_and_too_many_indices():
    img, _ = _image("volume")
    with pytest.raises(IndexError):
        img.dataobj[:, :, 3]
    with pytest.raises(IndexError):
        img.dataobj[0, 0, 0, 0, 0]


def test_threads_share_one_file_object():
    img, expected = _image("slice")
    proxy = img.dataobj
    jobs = [(Ellipsis, v) for v in range(SHAPE[3])] * 8 + [(slice(None), 1)] * 8
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(proxy.__getitem__, jobs))
    for job, result in zip(jobs, results):
        np.testing.assert_array_equal(result, expected[job])


def test_pickled_file_object_proxy_reads_same():
    img, expected = _image("volume")
    again = pickle.loads(pickle.dumps(img.dataobj))
    np.testing.assert_array_equal(np.asarray(again), expected)


def test_mmap_values_checked_and_keyword_only():
    img, _ = _image("volume")
    par, rec, _ = _files("volume", "V4.2")
    for bad in ("r+", "w+", "yes"):
        with pytest.raises(ValueError):
            PARRECArrayProxy(io.BytesIO(rec), img.header, mmap=bad)
    with pytest.raises(TypeError):
        PARRECArrayProxy(io.BytesIO(rec), img.header, True)
    # never a memory map: every read reorders or scales
    assert not isinstance(PARRECArrayProxy(io.BytesIO(rec), img.header).get_unscaled(), np.memmap)


def test_unscaled_and_dtype_argument():
    img, expected = _image("slice")
    proxy = img.dataobj
    raw = proxy.get_unscaled()
    assert raw.dtype == np.dtype("<u2")
    np.testing.assert_allclose(raw * proxy.slope + proxy.inter, expected)
    assert np.asarray(proxy, dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(np.asarray(proxy, dtype=np.float32), expected.astype(np.float32))
