"""Scaling and casting on several threads (nivox._scaling)."""

import numpy as np
import pytest


@pytest.mark.parametrize(
    "raw_dtype, out_dtype",
    [("i2", "f4"), ("i2", "f8"), ("f4", "f8"), ("u1", "f8"), ("f4", "f4"), ("i4", "f4")],
)
@pytest.mark.parametrize("scaled", [False, True])
def test_conversion_in_place_on_several_threads(monkeypatch, raw_dtype, out_dtype, scaled):
    # raw data in the tail of the output's memory, converted in rounds of parallel parts
    from nivox import _scaling

    monkeypatch.setattr(_scaling, "PARALLEL_MIN", 4096)
    monkeypatch.setattr(_scaling, "cpu_threads", lambda: 3)
    rng = np.random.default_rng(0)
    values = rng.integers(0, 100, (37, 41, 23)).astype(raw_dtype)
    out = np.empty(values.shape, out_dtype)
    memory = out.reshape(-1).view(np.uint8)
    raw = memory[memory.size - values.nbytes :].view(raw_dtype).reshape(values.shape)
    raw[...] = values
    slope, inter = (np.float64(0.5), np.float64(-3)) if scaled else (np.float64(1), np.float64(0))
    _scaling.scale_into(raw, out, slope.astype(out_dtype), inter.astype(out_dtype),
                        np.dtype(out_dtype), np.dtype(out_dtype))
    expected = values.astype(out_dtype) * np.array(slope, out_dtype) + np.array(inter, out_dtype)
    assert np.array_equal(out, expected)


def test_conversion_of_separate_arrays_on_several_threads(monkeypatch):
    from nivox import _scaling

    monkeypatch.setattr(_scaling, "PARALLEL_MIN", 4096)
    values = np.arange(200_000, dtype=np.int16).reshape(400, 500)
    out = np.empty(values.shape, np.float64, order="F")
    _scaling.scale_into(np.asfortranarray(values), out, np.float64(2), np.float64(1),
                        np.dtype("f8"), np.dtype("f8"))
    assert np.array_equal(out, values * 2.0 + 1)
