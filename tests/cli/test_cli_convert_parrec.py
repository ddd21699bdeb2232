"""``nivox convert`` with PAR/REC input: the same NIfTI and sidecars as nibabel's parrec2nii, and more."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from suites.parrec_files import write_parrec

from nivox.cli.main import main

nib = pytest.importorskip("nibabel")
PARREC2NII = shutil.which("parrec2nii") or str(Path(sys.executable).parent / "parrec2nii")


def _theirs(par: Path, folder: Path, *options: str) -> Path:
    folder.mkdir(exist_ok=True)
    run = subprocess.run([PARREC2NII, "-b", "--volume-info", "-o", str(folder), "--overwrite", *options, str(par)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return folder / (par.stem + ".nii")


def _same_nifti(ours: Path, theirs: Path) -> None:
    a, b = nib.load(ours), nib.load(theirs)
    assert a.shape == b.shape
    assert a.get_data_dtype() == b.get_data_dtype()
    np.testing.assert_array_equal(a.get_fdata(), b.get_fdata())
    np.testing.assert_allclose(a.affine, b.affine, atol=1e-6)
    for key in ("sform_code", "qform_code", "cal_min", "cal_max", "descrip", "xyzt_units", "pixdim"):
        np.testing.assert_array_equal(a.header[key], b.header[key], err_msg=key)
    assert a.dataobj.slope == b.dataobj.slope and a.dataobj.inter == b.dataobj.inter


@pytest.fixture(scope="module")
def have_parrec2nii():
    if not os.path.exists(PARREC2NII):
        pytest.skip("nibabel's parrec2nii script is not installed")


@pytest.mark.parametrize("spec", [
    {},
    {"vary_scaling": True},
    {"orientation": 2, "angulation": (10.0, -20.0, 5.0), "off_center": (3.0, 4.0, 5.0)},
    {"orientation": 3, "n_vols": 1, "bits": 8},
    {"version": "V4.2", "diffusion": True, "dynamic": False, "n_vols": 5, "orientation": 2},
], ids=["uniform", "varying", "sagittal-oblique", "coronal-3d", "dwi"])
@pytest.mark.parametrize("scaling", ["dv", "fp", "off"])
def test_same_as_parrec2nii(tmp_path, capsys, have_parrec2nii, spec, scaling):
    par, _, _ = write_parrec(tmp_path, **spec)
    ours = tmp_path / "ours" / "synth.nii"
    ours.parent.mkdir()
    assert main(["convert", str(par), str(ours), "--scaling", scaling]) == 0, capsys.readouterr().err
    theirs = _theirs(par, tmp_path / "theirs", "--scaling", scaling)
    _same_nifti(ours, theirs)
    if spec.get("diffusion"):
        np.testing.assert_allclose(np.loadtxt(ours.with_suffix(".bval")), np.loadtxt(theirs.with_suffix(".bvals")))
        np.testing.assert_allclose(np.loadtxt(ours.with_suffix(".bvec")), np.loadtxt(theirs.with_suffix(".bvecs")),
                                   atol=1e-6)
    else:
        assert not ours.with_suffix(".bval").exists()
    labels = ours.with_suffix(".ordering.csv")
    assert labels.exists() == theirs.with_suffix(".ordering.csv").exists()
    if labels.exists():
        assert labels.read_text() == theirs.with_suffix(".ordering.csv").read_text()


def test_corpus_dti_same_as_parrec2nii(tmp_path, capsys, corpus, have_parrec2nii):
    par = corpus / "nitest-balls1" / "PARREC" / "DTI.PAR"
    if not par.exists():
        pytest.skip("DTI.PAR is not in the corpus")
    ours = tmp_path / "DTI.nii.gz"
    assert main(["convert", str(par), str(ours)]) == 0, capsys.readouterr().err
    theirs = _theirs(par, tmp_path / "theirs")
    _same_nifti(ours, theirs)
    assert (tmp_path / "DTI.bval").read_text().split() == ["1000", "1000", "1000", "1000", "1000", "1000", "0"]
    np.testing.assert_allclose(np.loadtxt(tmp_path / "DTI.bvec"), np.loadtxt(theirs.with_suffix(".bvecs")))


def test_float32_on_request(tmp_path, capsys):
    par, expected, _ = write_parrec(tmp_path, vary_scaling=True)
    out = tmp_path / "f.nii.gz"
    assert main(["convert", str(par), str(out), "--dtype", "float32"]) == 0, capsys.readouterr().err
    img = nib.load(out)
    assert img.get_data_dtype() == np.float32
    # the same values as the float64 conversion, rounded to float32 (data reoriented to LAS+)
    ref = tmp_path / "d.nii"
    assert main(["convert", str(par), str(ref)]) == 0
    np.testing.assert_array_equal(img.get_fdata(), nib.load(ref).get_fdata().astype(np.float32))
    assert np.isclose(np.sort(img.get_fdata().ravel()), np.sort(expected.ravel()), rtol=1e-6).all()


def test_trace_volume_dropped_unless_kept(tmp_path, capsys):
    par, _, _ = write_parrec(tmp_path, version="V4.2", diffusion=True, dynamic=False, n_vols=4)
    text = par.read_text().splitlines()
    # make the last volume a trace: b > 0, no direction
    last_vol = [i for i, line in enumerate(text) if line.strip()[:1].isdigit()][-4:]
    for i in last_vol:
        tokens = text[i].split()
        tokens[-4:-1] = ["0.000"] * 3
        text[i] = "  ".join(tokens)
    par.write_text("\n".join(text))
    out = tmp_path / "dropped.nii"
    assert main(["convert", str(par), str(out)]) == 0, capsys.readouterr().err
    assert nib.load(out).shape[-1] == 3
    assert len((tmp_path / "dropped.bval").read_text().split()) == 3
    kept = tmp_path / "kept.nii"
    assert main(["convert", str(par), str(kept), "--keep-trace"]) == 0
    assert nib.load(kept).shape[-1] == 4


def test_strict_sort_and_permit_truncated_options(tmp_path, capsys):
    par, expected, _ = write_parrec(tmp_path, n_vols=3)
    lines = par.read_text().splitlines()
    last = max(i for i, line in enumerate(lines) if line.strip()[:1].isdigit())
    par.write_text("\n".join(lines[:last] + lines[last + 1:]))
    out = tmp_path / "t.nii"
    assert main(["convert", str(par), str(out)]) == 1
    err = capsys.readouterr().err
    assert "synth.PAR" in err and "partial volume" in err
    assert main(["convert", str(par), str(out), "--permit-truncated", "--strict-sort"]) == 0
    assert nib.load(out).shape == expected[..., :2].shape


def test_bad_par_is_one_line_error(tmp_path, capsys):
    (tmp_path / "x.PAR").write_text("# Research image export tool     V4.2\n"
                                    ".    Max. number of slices/locations    :   many\n")
    (tmp_path / "x.REC").write_bytes(b"")
    assert main(["convert", str(tmp_path / "x.PAR"), str(tmp_path / "x.nii")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "x.PAR" in err and "many" in err


def test_store_header_read_back_by_exts2pars(tmp_path, capsys):
    import nivox
    from nivox.parrec import exts2pars

    par, _, _ = write_parrec(tmp_path, n_vols=2)
    out = tmp_path / "stored.nii.gz"
    assert main(["convert", str(par), str(out), "--store-header"]) == 0, capsys.readouterr().err
    (stored,) = exts2pars(nivox.load(out))
    assert stored.get_data_shape() == (6, 5, 4, 2)
    assert len(exts2pars(nib.load(out))) == 1  # nibabel reads it too
    assert main(["convert", str(par), str(tmp_path / "plain.nii")]) == 0
    assert exts2pars(nivox.load(tmp_path / "plain.nii")) == []


@pytest.mark.parametrize("command", ["describe", "ls", "header", "stats"])
def test_other_commands_read_parrec(tmp_path, capsys, command):
    par, expected, _ = write_parrec(tmp_path, vary_scaling=True)
    assert main([command, str(par)]) == 0
    out = capsys.readouterr().out
    assert "synth.PAR" in out
    if command == "describe":
        assert "PARRECImage" in out and "a slope and intercept per slice" in out
    if command == "header":
        assert "max_slices" in out and "image lines           12" in out
    if command == "stats":
        assert f"{expected.max():.6g}" in out


def test_describe_uniform_scaling_shows_slope(tmp_path, capsys):
    par, _, _ = write_parrec(tmp_path)
    assert main(["describe", "--json", str(par)]) == 0
    import json

    (record,) = json.loads(capsys.readouterr().out)
    assert record["scaling"] == {"slope": 1.29035, "inter": 0.0}
