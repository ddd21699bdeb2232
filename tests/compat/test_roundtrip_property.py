"""Property tests: random images written by nivox read identically by nivox and nibabel, and back."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nivox
from nivox.nifti1 import Nifti1Extension

nib = pytest.importorskip("nibabel")

CLASSES = {
    ("nifti1", ".nii"): "Nifti1Image",
    ("nifti1", ".img"): "Nifti1Pair",
    ("nifti2", ".nii"): "Nifti2Image",
    ("nifti2", ".img"): "Nifti2Pair",
    ("analyze", ".img"): "AnalyzeImage",
}
DTYPES = {
    "nifti": ["uint8", "int8", "int16", "uint16", "int32", "uint32", "int64", "float32", "float64",
              "complex64", "complex128"],
    "analyze": ["uint8", "int16", "int32", "float32", "float64", "complex64"],
}


@st.composite
def images(draw):
    family = draw(st.sampled_from(["nifti1", "nifti2", "analyze"]))
    ext = ".img" if family == "analyze" else draw(st.sampled_from([".nii", ".img"]))
    compressed = draw(st.sampled_from(["", ".gz", ".bz2"]))
    ndim = draw(st.integers(1, 7))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim)))
    dtype = np.dtype(draw(st.sampled_from(DTYPES["analyze" if family == "analyze" else "nifti"])))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        data = rng.integers(max(info.min, -(2**40)), min(info.max, 2**40), size=shape, dtype=dtype,
                            endpoint=True)
    elif dtype.kind == "c":
        data = (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(dtype)
    else:
        data = (rng.normal(size=shape) * 100).astype(dtype)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    affine = np.eye(4)
    affine[:3, :3] = q * rng.uniform(0.5, 3, 3) if draw(st.booleans()) else np.diag(rng.uniform(0.5, 3, 3))
    affine[:3, 3] = rng.uniform(-100, 100, 3)
    out_dtype = None
    if family != "analyze" and dtype.kind == "f" and draw(st.booleans()):
        out_dtype = np.dtype(draw(st.sampled_from(["int16", "uint8", "int32"])))  # scaled on write
    n_ext = draw(st.integers(0, 2)) if family != "analyze" else 0
    return family, ext, compressed, data, affine, out_dtype, n_ext


def _class(library, family, ext):
    return getattr(library, CLASSES[(family, ext)])


def _compare(ours, theirs):
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.header.binaryblock == theirs.header.binaryblock
    np.testing.assert_array_equal(ours.affine, theirs.affine)
    np.testing.assert_array_equal(np.asanyarray(ours.dataobj), np.asanyarray(theirs.dataobj))
    if hasattr(theirs.header, "extensions"):
        assert [(e.get_code(), e.get_content()) for e in ours.header.extensions] == \
               [(e.get_code(), e.get_content()) for e in theirs.header.extensions]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(images())
def test_written_by_nivox_read_by_both(tmp_path_factory, case):
    family, ext, compressed, data, affine, out_dtype, n_ext = case
    folder = tmp_path_factory.mktemp("w")
    img = _class(nivox, family, ext)(data, affine, dtype=data.dtype if data.dtype == np.int64 else None)
    for index in range(n_ext):
        img.header.extensions.append(Nifti1Extension("comment", f"note {index}".encode()))
    if out_dtype is not None:
        img.set_data_dtype(out_dtype)
    path = folder / f"img{ext}{compressed}"
    nivox.save(img, path)
    ours, theirs = nivox.load(path), nib.load(path)
    _compare(ours, theirs)
    if out_dtype is None:
        np.testing.assert_array_equal(np.asanyarray(ours.dataobj), data)
    else:
        slope = ours.dataobj.slope
        assert np.allclose(ours.get_fdata(), data, atol=abs(slope) / 2 + 1e-6 * np.abs(data).max())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(images())
def test_written_by_nibabel_read_by_nivox(tmp_path_factory, case):
    family, ext, compressed, data, affine, out_dtype, n_ext = case
    folder = tmp_path_factory.mktemp("r")
    klass = _class(nib, family, ext)
    img = klass(data, affine, dtype=data.dtype) if data.dtype == np.int64 else klass(data, affine)
    for index in range(n_ext):
        img.header.extensions.append(nib.nifti1.Nifti1Extension("comment", f"note {index}".encode()))
    if out_dtype is not None:
        img.set_data_dtype(out_dtype)
    path = folder / f"img{ext}{compressed}"
    nib.save(img, path)
    _compare(nivox.load(path), nib.load(path))
