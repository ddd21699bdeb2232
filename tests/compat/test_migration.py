"""A script written for nibabel runs unchanged with ``import nivox as nib``, with the same results.

The script is run twice, once with each library bound to ``nib``, and what it
computed is compared.
"""

from __future__ import annotations

import numpy as np
import pytest

import nivox

nibabel = pytest.importorskip("nibabel")

USER_SCRIPT = '''
import os
import numpy as np

out = {}
data = (np.arange(6 * 5 * 4 * 3) % 97).reshape(6, 5, 4, 3).astype(np.float32) * 1.5
affine = np.array([[-2.0, 0, 0, 90], [0, 2, 0, -126], [0, 0, 2, -72], [0, 0, 0, 1]])
img = nib.Nifti1Image(data, affine)
img.header.set_xyzt_units("mm", "sec")
img.header["pixdim"][4] = 2.0
img.set_data_dtype(np.int16)
path = os.path.join(workdir, "bold.nii.gz")
nib.save(img, path)

img = nib.load(path)
out["shape"] = img.shape
out["ndim"] = img.ndim
out["zooms"] = tuple(float(z) for z in img.header.get_zooms())
out["units"] = img.header.get_xyzt_units()
out["affine"] = img.affine.copy()
out["codes"] = nib.aff2axcodes(img.affine)
out["dtype"] = str(img.get_data_dtype())
out["is_proxy"] = nib.is_proxy(img.dataobj)
out["in_memory_before"] = img.in_memory
out["slice"] = np.asanyarray(img.dataobj[..., 1])
out["slope"] = float(img.dataobj.slope)
out["unscaled_sum"] = int(img.dataobj.get_unscaled().astype(np.int64).sum())

unchanged = img.get_fdata(caching="unchanged")
out["in_memory_unchanged"] = img.in_memory
filled = img.get_fdata()
out["same_cached"] = img.get_fdata() is filled
out["f32_dtype"] = str(img.get_fdata(dtype=np.float32).dtype)
out["mean"] = float(filled.mean())
out["close_to_original"] = bool(np.allclose(filled, data, atol=float(img.dataobj.slope)))
img.uncache()
out["in_memory_after_uncache"] = img.in_memory

first_vol = img.slicer[..., 0]
out["first_vol_shape"] = first_vol.shape

modified = nib.Nifti1Image(filled[::-1] * 2, img.affine, img.header)
modified.set_data_dtype(np.float32)
nib.save(modified, os.path.join(workdir, "pair.img"))
nib.save(modified, os.path.join(workdir, "single.nii"))
pair = nib.load(os.path.join(workdir, "pair.hdr"))
single = nib.load(os.path.join(workdir, "single.nii"))
out["pair_class"] = type(pair).__name__
out["single_class"] = type(single).__name__
out["pair_equals_single"] = bool(np.array_equal(pair.get_fdata(), single.get_fdata()))
out["pair_data"] = pair.get_fdata()
out["sform_code"] = int(single.header["sform_code"])
canonical = nib.as_closest_canonical(single)
out["canonical_codes"] = nib.aff2axcodes(canonical.affine)
four = nib.four_to_three(single)
out["n_volumes"] = len(four)
'''


def _run(library, workdir):
    namespace = {"nib": library, "workdir": str(workdir)}
    exec(compile(USER_SCRIPT, "user_script.py", "exec"), namespace)
    return namespace["out"]


def test_nibabel_script_runs_unchanged(tmp_path):
    (tmp_path / "nibabel").mkdir()
    (tmp_path / "nivox").mkdir()
    theirs = _run(nibabel, tmp_path / "nibabel")
    ours = _run(nivox, tmp_path / "nivox")
    assert ours.keys() == theirs.keys()
    for key, expected in theirs.items():
        got = ours[key]
        if isinstance(expected, np.ndarray):
            np.testing.assert_allclose(got, expected, err_msg=key)
        elif isinstance(expected, float):
            assert got == pytest.approx(expected, rel=1e-6), key
        else:
            assert got == expected, key
