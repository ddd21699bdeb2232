"""Real client libraries run on nivox through nivox.install_as_nibabel, each in a fresh process.

The same client script runs twice, once with the real nibabel and once with
nivox standing in for it; the results must agree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")

NILEARN_SCRIPT = """
import json, sys
import numpy as np
if sys.argv[1] == "nivox":
    import nivox
    nivox.install_as_nibabel()
import nibabel
from nilearn import image, masking
from nilearn.maskers import NiftiMasker

rng = np.random.default_rng(0)
affine = np.array([[3.0, 0, 0, -90], [0, 3, 0, -120], [0, 0, 3.5, -60], [0, 0, 0, 1]])
grid = np.indices((12, 14, 10)).astype(float)
inside = ((grid[0] - 6) ** 2 + (grid[1] - 7) ** 2 + (grid[2] - 5) ** 2) < 16  # a "brain"
data = (np.where(inside, 1000.0, 20.0)[..., None] + rng.normal(0, 10, (12, 14, 10, 8)))
data = data.astype(np.float32)
bold = nibabel.Nifti1Image(data, affine)
bold.header.set_zooms((3, 3, 3.5, 2.0))
path = sys.argv[2] + "/bold.nii.gz"
nibabel.save(bold, path)
loaded = image.load_img(path)
mean = image.mean_img(loaded, copy_header=True)
smoothed = image.smooth_img(mean, fwhm=6)
resampled = image.resample_img(mean, target_affine=np.diag([4.0, 4, 4]), interpolation="linear",
                               copy_header=True, force_resample=True)
mask = masking.compute_epi_mask(loaded)
series = NiftiMasker(mask_img=mask).fit_transform(loaded)
print(json.dumps({
    "nibabel": nibabel.__name__ + " " + nibabel.__version__,
    "image_class": type(loaded).__module__,
    "mean": float(np.asarray(mean.dataobj).mean()),
    "mean_shape": list(mean.shape),
    "mean_zooms": [float(z) for z in mean.header.get_zooms()],
    "smoothed": float(np.asarray(smoothed.dataobj).sum()),
    "resampled_shape": list(resampled.shape),
    "resampled": float(np.asarray(resampled.dataobj).sum()),
    "mask_voxels": int(np.asarray(mask.dataobj).sum()),
    "series": [float(v) for v in series.sum(axis=1)],
}))
"""

DIPY_SCRIPT = """
import json, sys
import numpy as np
if sys.argv[1] == "nivox":
    import nivox
    nivox.install_as_nibabel()
import nibabel
from dipy.io.stateful_tractogram import Space, StatefulTractogram, Origin
from dipy.io.streamline import load_tractogram, save_tractogram

out = sys.argv[2]
rng = np.random.default_rng(0)
affine = np.array([[-2.0, 0, 0, 90], [0, 2, 0, -126], [0, 0, 2.5, -72], [0, 0, 0, 1]])
shape = (40, 50, 30)
ref = nibabel.Nifti1Image(np.zeros(shape, np.float32), affine)
ref_path = out + "/ref.nii.gz"
nibabel.save(ref, ref_path)
lengths = rng.integers(1, 30, 200)
streamlines = [np.cumsum(rng.normal(0, 1, (n, 3)), axis=0).astype(np.float32) + [20, 25, 15] for n in lengths]
sft = StatefulTractogram(streamlines, ref_path, Space.VOX)
sft.data_per_point = {"fa": [rng.random((n, 1)).astype(np.float32) for n in lengths]}
sft.data_per_streamline = {"w": rng.random((len(lengths), 1)).astype(np.float32)}
res = {"nibabel": nibabel.__name__ + " " + nibabel.__version__}
for ext in ("trk", "tck"):
    path = f"{out}/a.{ext}"
    save_tractogram(sft, path, bbox_valid_check=False)
    kw = {} if ext == "trk" else {"reference": ref_path}
    loaded = load_tractogram(path, kw.get("reference", "same"), bbox_valid_check=False)
    res[ext + "_class"] = type(loaded.streamlines).__module__
    res[ext + "_n"] = len(loaded.streamlines)
    res[ext + "_dtype"] = str(loaded.streamlines._data.dtype)
    res[ext + "_rasmm"] = float(np.sum(loaded.streamlines._data, dtype=np.float64))
    loaded.to_vox()
    res[ext + "_vox"] = float(np.sum(loaded.streamlines._data, dtype=np.float64))
    loaded.to_corner()
    res[ext + "_corner"] = float(np.sum(loaded.streamlines._data, dtype=np.float64))
    res[ext + "_affine"] = np.asarray(loaded.affine).tolist()
    res[ext + "_dims"] = [int(d) for d in loaded.dimensions]
    res[ext + "_dpp"] = sorted(loaded.data_per_point.keys())
    res[ext + "_valid"] = bool(loaded.is_bbox_in_vox_valid())
    if ext == "trk":
        res["trk_fa"] = float(np.sum(loaded.data_per_point["fa"].get_data(), dtype=np.float64))
        res["trk_w"] = float(np.sum(loaded.data_per_streamline["w"], dtype=np.float64))
    # a second save (from what was loaded) and load again
    path2 = f"{out}/b.{ext}"
    save_tractogram(loaded, path2, bbox_valid_check=False)
    again = load_tractogram(path2, kw.get("reference", "same"), bbox_valid_check=False)
    res[ext + "_again"] = float(np.sum(again.streamlines._data, dtype=np.float64))
    with open(path2, "rb") as f:
        res[ext + "_bytes"] = __import__("hashlib").sha1(f.read()).hexdigest()
from dipy.tracking.streamline import Streamlines, set_number_of_points, transform_streamlines
from dipy.tracking.utils import length
from dipy.io.streamline import load_trk
trk = load_trk(f"{out}/a.trk", "same", bbox_valid_check=False)
res["Streamlines"] = Streamlines.__module__
resampled = set_number_of_points(trk.streamlines, 12)
res["resampled"] = [type(resampled).__module__, float(np.sum(resampled.get_data(), dtype=np.float64))]
moved = transform_streamlines(trk.streamlines, np.linalg.inv(affine))
res["moved"] = [type(moved).__module__, float(np.sum(moved.get_data(), dtype=np.float64))]
res["lengths"] = float(np.sum(list(length(trk.streamlines))))
sft_copy = StatefulTractogram.from_sft(trk.streamlines, trk)
res["from_sft"] = len(sft_copy)
trx_path = f"{out}/a.trx"
save_tractogram(trk, trx_path, bbox_valid_check=False)
trx = load_tractogram(trx_path, "same", bbox_valid_check=False)
res["trx"] = [len(trx), float(np.sum(trx.streamlines.get_data(), dtype=np.float64))]
print(json.dumps(res))
"""


def run_client(script: str, which: str, tmp_path: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])))
    folder = tmp_path / which
    folder.mkdir()
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script), which, str(folder)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_nilearn_image_and_masker_on_nivox(tmp_path):
    pytest.importorskip("nilearn")
    pytest.importorskip("nibabel")
    real = run_client(NILEARN_SCRIPT, "nibabel", tmp_path)
    ours = run_client(NILEARN_SCRIPT, "nivox", tmp_path)
    assert real["image_class"].startswith("nibabel.") and ours["image_class"].startswith("nivox.")
    assert ours["nibabel"] == "nibabel 5.4.2"
    for key in ("mean_shape", "resampled_shape", "mask_voxels"):
        assert ours[key] == real[key], key
    for key in ("mean", "smoothed", "resampled"):
        np.testing.assert_allclose(ours[key], real[key], rtol=1e-6, err_msg=key)
    np.testing.assert_allclose(ours["series"], real["series"], rtol=1e-6)
    # a 3D mean of a 4D series keeps no TR in its header (nilearn copies the header)
    assert ours["mean_zooms"] == real["mean_zooms"]


def test_dipy_tractogram_io_on_nivox(tmp_path):
    # dipy imports nibabel.streamlines as soon as dipy.io is imported: with nivox standing in,
    # its load_tractogram / save_tractogram (TRK, TCK with a reference image, TRX) and its
    # streamline tools must give what they give on nibabel, down to the bytes saved
    pytest.importorskip("dipy")
    pytest.importorskip("nibabel")
    real = run_client(DIPY_SCRIPT, "nibabel", tmp_path)
    ours = run_client(DIPY_SCRIPT, "nivox", tmp_path)
    assert real["trk_class"].startswith("nibabel.") and ours["trk_class"].startswith("nivox.")
    assert ours["Streamlines"].startswith("nivox.") and ours["resampled"][0].startswith("nivox.")
    assert ours["nibabel"] == "nibabel 5.4.2"
    for key, value in real.items():
        if key in ("trk_class", "tck_class", "Streamlines"):
            continue
        if key in ("resampled", "moved"):
            np.testing.assert_allclose(ours[key][1], value[1], rtol=1e-9, err_msg=key)
            continue
        assert ours[key] == value, key
