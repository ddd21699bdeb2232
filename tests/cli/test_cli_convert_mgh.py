"""``nivox convert`` to and from MGH/MGZ: dtypes MGH lacks are converted and reported, not dropped silently."""

import numpy as np
import pytest

import nivox
from nivox.cli.main import main

nib = pytest.importorskip("nibabel")


def convert(capsys, *args):
    status = main(["convert", *args])
    return status, capsys.readouterr().err


def _nifti(tmp_path, data, **header):
    img = nivox.Nifti1Image(data, np.diag([2.0, 2, 3, 1]), dtype=data.dtype)
    for key, value in header.items():
        img.header[key] = value
    img.header.set_xyzt_units("mm", "sec")
    if data.ndim == 4:
        img.header.set_zooms((2, 2, 3, 1.5))
    path = tmp_path / "in.nii.gz"
    img.to_filename(path)
    return path


def test_float64_nifti_to_mgz_reports_float32(capsys, tmp_path):
    data = np.linspace(0, 1, 24).reshape(2, 3, 4, 1)
    src = _nifti(tmp_path, data, descrip=b"from the scanner")
    status, err = convert(capsys, str(src), str(tmp_path / "o.mgz"))
    assert status == 0
    assert "stores no float64 data: writing float32" in err
    assert "description" in err
    out = nib.load(tmp_path / "o.mgz")  # nibabel reads what nivox wrote
    assert out.shape == (2, 3, 4) and out.get_data_dtype() == np.dtype(">f4")
    assert np.allclose(out.get_fdata(), data[..., 0])
    assert np.allclose(out.affine, np.diag([2.0, 2, 3, 1]))


def test_int16_nifti_to_mgh_keeps_dtype_and_tr_in_ms(capsys, tmp_path):
    data = np.arange(2 * 3 * 4 * 5, dtype=np.int16).reshape(2, 3, 4, 5)
    src = _nifti(tmp_path, data)
    status, err = convert(capsys, str(src), str(tmp_path / "o.mgh"))
    assert status == 0 and err == ""
    out = nivox.load(tmp_path / "o.mgh")
    assert out.get_data_dtype() == np.dtype(">i2")
    assert out.header.get_zooms()[3] == 1500.0  # 1.5 s as FreeSurfer's milliseconds
    assert np.array_equal(np.asanyarray(out.dataobj), data)


def test_dtype_mgh_cannot_store_is_refused(capsys, tmp_path):
    src = _nifti(tmp_path, np.zeros((2, 2, 2), np.int16))
    status, err = convert(capsys, str(src), str(tmp_path / "o.mgz"), "--dtype", "int8")
    assert status == 1
    assert "cannot store int8" in err and "o.mgz" in err
    assert not (tmp_path / "o.mgz").exists()


def test_int64_values_beyond_int32_are_refused(capsys, tmp_path):
    src = _nifti(tmp_path, np.full((2, 2, 2), 2**40, np.int64))
    status, err = convert(capsys, str(src), str(tmp_path / "o.mgz"))
    assert status == 1 and "int32" in err


def test_mgz_to_nifti_and_back(capsys, tmp_path):
    data = np.arange(60, dtype=np.uint16).reshape(3, 4, 5)
    nivox.MGHImage(data, np.diag([1.5, 1, 1, 1])).to_filename(tmp_path / "a.mgz")
    assert convert(capsys, str(tmp_path / "a.mgz"), str(tmp_path / "b.nii"))[0] == 0
    assert convert(capsys, str(tmp_path / "b.nii"), str(tmp_path / "c.mgz"))[0] == 0
    back = nivox.load(tmp_path / "c.mgz")
    assert back.get_data_dtype() == np.dtype(">u2")
    assert np.array_equal(np.asanyarray(back.dataobj), data)
    assert np.allclose(back.affine, np.diag([1.5, 1, 1, 1]))
