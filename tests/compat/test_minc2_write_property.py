"""Property test: MINC2 files nivox writes from random images read back the same in nibabel and nivox."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nivox

nib = pytest.importorskip("nibabel")
pytest.importorskip("h5py")

DTYPES = ["uint8", "int8", "int16", "uint16", "int32", "uint32", "float32", "float64", "bool", "int64"]


@st.composite
def images(draw):
    ndim = draw(st.integers(1, 5))
    shape = tuple(draw(st.lists(st.integers(1, 40 if ndim == 3 else 6), min_size=ndim, max_size=ndim)))
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if dtype.kind == "b":
        data = rng.random(shape) > 0.5
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        data = rng.integers(max(info.min, -(2**40)), min(info.max, 2**40), size=shape, dtype=dtype,
                            endpoint=True)
    else:
        data = (rng.normal(size=shape) * 100).astype(dtype)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    affine = np.eye(4)
    affine[:3, :3] = (q if draw(st.booleans()) else np.eye(3)[rng.permutation(3)] *
                      rng.choice([-1, 1], 3)) * rng.uniform(0.2, 4, 3)
    affine[:3, 3] = rng.uniform(-150, 150, 3)
    stored = draw(st.sampled_from([None, "int16", "uint8", "float32"]))
    level = draw(st.sampled_from([None, 0, 1, 9]))
    source = "Minc2Image" if dtype.kind == "b" or dtype.itemsize == 8 and dtype.kind in "iu" else draw(st.sampled_from(["Nifti1Image", "Minc2Image"]))
    return data, affine, stored, level, source


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(images())
def test_nibabel_reads_what_nivox_writes(case):
    data, affine, stored, level, source = case
    img = getattr(nivox, source)(data, affine)
    if stored is not None:
        img.set_data_dtype(stored)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "w.mnc"
        options = {} if level is None else {"compresslevel": level}
        nivox.save(img, path, **options)
        ours = nivox.load(path)
        assert type(ours).__name__ == "Minc2Image"
        assert ours.shape == data.shape
        np.testing.assert_allclose(ours.affine, affine, atol=1e-9)
        our_data = ours.get_fdata()
        if data.ndim >= 3:  # nibabel reads only images with three spatial axes
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs = nib.load(path)
                their_data = theirs.get_fdata()
            assert type(theirs).__name__ == "Minc2Image" and theirs.shape == data.shape
            np.testing.assert_allclose(theirs.affine, affine, atol=1e-9)
            np.testing.assert_array_equal(our_data, their_data)
        if stored is None or np.can_cast(data.dtype, stored, "safe"):
            np.testing.assert_array_equal(our_data, data.astype(np.float64))
        else:  # scaled into the stored type, per slice
            finite = data.astype(np.float64)
            # values come back in float32 from small integer types (nibabel's rule), so add
            # float32's rounding of the largest value to the scaling's own error
            rounding = np.abs(finite).max() * 2.0**-23
            assert np.abs(our_data - finite).max() <= (
                np.ptp(finite) / (200 if stored == "uint8" else 50000) + rounding + 1e-9)
