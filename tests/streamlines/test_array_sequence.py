"""ArraySequence: the whole-array operations agree with element-by-element definitions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nivox.streamlines.array_sequence as aseq
from nivox.streamlines.array_sequence import ArraySequence, concatenate


def _elements(seed: int, lengths: list[int], width: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, width)) for n in lengths]


lengths_st = st.lists(st.integers(1, 6), min_size=1, max_size=12)
index_st = st.one_of(st.slices(12), st.lists(st.integers(0, 11), max_size=6))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(lengths=lengths_st, idx=index_st, seed=st.integers(0, 1000))
def test_views_copy_ops_and_setitem(lengths: list[int], idx, seed: int) -> None:
    elems = _elements(seed, lengths)
    seq = ArraySequence(elems)
    if isinstance(idx, list):
        idx = [i for i in idx if i < len(elems)]
        picked = [elems[i] for i in idx]
    else:
        picked = elems[idx]
    view = seq[idx]
    assert view._is_view and np.shares_memory(view._data, seq._data) or len(picked) == 0
    got = view.copy()
    assert not got._is_view and got._data.shape[0] == sum(len(p) for p in picked)
    for a, b in zip(got, picked):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(view * 2 + 1, picked):
        np.testing.assert_array_equal(a, b * 2 + 1)
    for a, b in zip(view - view, picked):
        np.testing.assert_array_equal(a, b - b)
    if len(picked) and len(set(map(id, picked))) == len(picked):
        # in place on a view changes exactly the selected rows of the parent
        before = seq._data.copy()
        unique = isinstance(idx, slice) or len(set(idx)) == len(idx)
        if unique:
            view += 10
            rows = np.zeros(len(before), bool)
            for o, n in zip(view._offsets, view._lengths):
                rows[o : o + n] = True
            np.testing.assert_array_equal(seq._data[rows], before[rows] + 10)
            np.testing.assert_array_equal(seq._data[~rows], before[~rows])
            seq[idx] = 0
            assert np.all(seq._data[rows] == 0)


def test_chunked_paths_match(monkeypatch) -> None:
    """Row indexes built a chunk at a time give the same results as in one go."""
    elems = _elements(1, [3, 1, 4, 1, 5, 9, 2, 6])
    seq = ArraySequence(elems)
    whole = seq[::-2].copy()
    monkeypatch.setattr(aseq, "_CHUNK_ROWS", 2)
    chunked = seq[::-2].copy()
    np.testing.assert_array_equal(whole._data, chunked._data)
    np.testing.assert_array_equal(whole._lengths, chunked._lengths)


def test_extend_from_generator_grows_geometrically() -> None:
    seq = ArraySequence(buffer_size=1e-4)  # tiny buffer: many growth steps
    elems = _elements(2, [2] * 500)
    seq.extend(e for e in elems)
    assert len(seq) == 500 and seq._data.shape == (1000, 3)
    np.testing.assert_array_equal(seq.get_data(), np.concatenate(elems))


def test_concatenate_both_axes() -> None:
    a = ArraySequence(_elements(3, [2, 3]))
    b = ArraySequence(_elements(4, [2, 3]))
    rows = concatenate([a, b], axis=0)
    assert len(rows) == 4
    cols = concatenate([a, b], axis=1)
    assert cols.common_shape == (6,)
    np.testing.assert_array_equal(cols[1], np.hstack([a[1], b[1]]))


def test_shapes_must_match() -> None:
    seq = ArraySequence(_elements(5, [2, 2]))
    with pytest.raises(ValueError):
        seq.extend([np.ones((2, 4))])
    with pytest.raises(ValueError):
        seq.append(np.ones((1, 2)))


def test_save_load(tmp_path) -> None:
    seq = ArraySequence(_elements(6, [1, 2, 3]))[::2]
    seq.save(tmp_path / "s.npz")
    back = ArraySequence.load(tmp_path / "s.npz")
    for a, b in zip(back, seq):
        np.testing.assert_array_equal(a, b)
