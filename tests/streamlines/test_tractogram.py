"""Tractogram transforms: whole-array paths agree with the per-streamline definitions."""

from __future__ import annotations

import numpy as np
import pytest

import nivox.streamlines.tractogram as tgmod
from nivox.affines import apply_affine
from nivox.streamlines import LazyTractogram, Tractogram


def _affine(rng: np.random.Generator) -> np.ndarray:
    aff = np.eye(4)
    aff[:3, :3] = rng.standard_normal((3, 3))
    aff[:3, 3] = rng.standard_normal(3) * 10
    return aff


def test_apply_affine_on_a_sliced_view_changes_only_the_selection() -> None:
    rng = np.random.default_rng(0)
    sl = [rng.standard_normal((n, 3)) for n in (3, 1, 4, 2, 5)]
    t = Tractogram(sl, affine_to_rasmm=np.eye(4))
    view = t[::2]
    aff = _affine(rng)
    view.apply_affine(aff)
    for i, s in enumerate(t.streamlines):
        expected = apply_affine(aff, sl[i]) if i % 2 == 0 else sl[i]
        np.testing.assert_allclose(s, expected, rtol=1e-12)
    np.testing.assert_allclose(view.affine_to_rasmm, np.linalg.inv(aff))


@pytest.mark.parametrize("n", [10, 5000, 300_000])
def test_transform_rows_inplace_matches_apply_affine(n: int) -> None:
    rng = np.random.default_rng(1)
    rows = rng.standard_normal((n, 3)).astype(np.float32)
    aff = _affine(rng).astype(np.float32)
    expected = apply_affine(aff, rows)
    got = rows.copy()
    tgmod.transform_rows_inplace(got, aff, chunk=1000)  # many chunks, threads for the big case
    np.testing.assert_array_equal(got, expected)


def test_transformed_keeps_apply_affines_dtype_and_values() -> None:
    rng = np.random.default_rng(2)
    rows = rng.standard_normal((2000, 3)).astype(np.float32)
    aff = _affine(rng)
    got = tgmod.transformed(rows, aff, chunk=300)
    expected = apply_affine(aff, rows)
    assert got.dtype == expected.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_lazy_streamlines_apply_the_pending_affine_per_streamline() -> None:
    rng = np.random.default_rng(3)
    sl = [rng.standard_normal((n, 3)).astype(np.float32) for n in (2, 6, 1)]
    aff = _affine(rng)
    lazy = LazyTractogram(lambda: iter(sl), affine_to_rasmm=np.eye(4)).apply_affine(aff)
    for got, s in zip(lazy.streamlines, sl):
        np.testing.assert_allclose(got, apply_affine(aff, s), rtol=1e-12)
