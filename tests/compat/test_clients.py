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
