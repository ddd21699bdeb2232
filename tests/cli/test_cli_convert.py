"""Tests of ``nivox convert``: formats by extension, dtype casts with safe scaling, levels, errors."""

import os
import subprocess
import sys

import numpy as np
import pytest

import nivox
from nivox.cli.convert import _Range, check_representable, read_volumes
from nivox.cli.main import main
from nivox.testing import data_path

nib = pytest.importorskip("nibabel")

EXAMPLE4D = os.path.join(data_path, "example4d.nii.gz")
ANATOMICAL = os.path.join(data_path, "anatomical.nii")
FLOAT32 = os.path.join(data_path, "float32.nii.gz")


def convert(capsys, *args):
    status = main(["convert", *args])
    return status, capsys.readouterr().err


def same_image(path_a, path_b, atol=0.0, reader=nib.load):
    a, b = reader(path_a), reader(path_b)
    np.testing.assert_allclose(b.affine, a.affine, atol=1e-5)
    np.testing.assert_allclose(b.get_fdata(), a.get_fdata(), atol=atol, equal_nan=True)
    return a, b


@pytest.mark.parametrize("out, klass", [
    ("o.nii", "Nifti1Image"), ("o.nii.gz", "Nifti1Image"), ("o.img", "Nifti1Pair"),
    ("o.hdr.gz", "Nifti1Pair"), ("o.nii.bz2", "Nifti1Image"),
])
def test_formats_by_extension(capsys, tmp_path, out, klass):
    target = str(tmp_path / out)
    status, err = convert(capsys, EXAMPLE4D, target)
    assert status == 0 and err == ""
    assert type(nivox.load(target)).__name__ == klass
    src, dst = same_image(EXAMPLE4D, target, reader=nivox.load)
    assert dst.get_data_dtype() == src.get_data_dtype()
    if not out.endswith(".bz2"):
        same_image(EXAMPLE4D, target)  # nibabel reads it the same


def test_zstd_output(capsys, tmp_path):
    target = str(tmp_path / "o.nii.zst")
    assert convert(capsys, ANATOMICAL, target)[0] == 0
    with open(target, "rb") as f:
        assert f.read(4) == b"\x28\xb5\x2f\xfd"  # zstd frame magic
    same_image(ANATOMICAL, target, reader=nivox.load)


def test_nifti2_and_analyze_formats(capsys, tmp_path):
    two = str(tmp_path / "two.nii")
    assert convert(capsys, ANATOMICAL, two, "--format", "nifti2")[0] == 0
    assert type(nib.load(two)).__name__ == "Nifti2Image"
    same_image(ANATOMICAL, two)
    plain = str(tmp_path / "plain.hdr")
    assert convert(capsys, ANATOMICAL, plain, "--format", "analyze")[0] == 0
    assert type(nivox.load(plain)).__name__.endswith("AnalyzeImage")
    np.testing.assert_array_equal(nib.load(plain).get_fdata(), nib.load(ANATOMICAL).get_fdata())


def test_scaled_data_refused_where_no_scale_factor(capsys, tmp_path):
    plain = str(tmp_path / "plain.hdr")
    status, err = convert(capsys, EXAMPLE4D, plain, "--format", "analyze")
    assert status == 1
    assert err.startswith(f"nivox: error: {plain}: values in [") and "whole numbers" in err
    assert not os.path.exists(plain) and not os.path.exists(plain[:-4] + ".img")
    # SPM99 Analyze stores a slope
    spm = str(tmp_path / "spm.img")
    assert convert(capsys, EXAMPLE4D, spm, "--format", "spm99-analyze")[0] == 0
    nifti = nib.load(EXAMPLE4D)
    step = abs(nifti.dataobj.slope)
    np.testing.assert_allclose(nib.load(spm).get_fdata(), nifti.get_fdata(), atol=step)


def test_dtype_cast_with_scaling(capsys, tmp_path):
    target = str(tmp_path / "i16.nii")
    source = str(tmp_path / "f.nii")
    rng = np.random.default_rng(0)
    data = rng.normal(size=(6, 7, 8)).astype(np.float32) * 1000
    nib.save(nib.Nifti1Image(data, np.eye(4)), source)
    assert convert(capsys, source, target, "--dtype", "int16")[0] == 0
    out = nib.load(target)
    assert out.get_data_dtype() == np.int16
    slope = out.dataobj.slope
    np.testing.assert_allclose(out.get_fdata(), data, atol=slope)  # within one step


def test_dtype_cast_without_scaling_needed(capsys, tmp_path):
    target = str(tmp_path / "u8.hdr")
    assert convert(capsys, ANATOMICAL, target, "--dtype", "int16", "--format", "analyze")[0] == 0
    out = nib.load(target)
    assert out.get_data_dtype() == np.int16
    np.testing.assert_array_equal(out.get_fdata(), nib.load(ANATOMICAL).get_fdata())


@pytest.mark.parametrize("args, problem", [
    (["--dtype", "uint8"], "NaN or infinite values cannot be stored as uint8"),
    (["--dtype", "int16"], "NaN or infinite values cannot be stored as int16"),
])
def test_nan_into_integers_refused(capsys, tmp_path, args, problem):
    target = str(tmp_path / "o.nii")
    status, err = convert(capsys, FLOAT32, target, *args)
    assert status == 1 and err == f"nivox: error: {target}: " + f"{int(np.isnan(nib.load(FLOAT32).get_fdata()).sum())} {problem}\n"
    assert not os.path.exists(target)


def test_out_of_range_integers_refused_without_scaling(capsys, tmp_path):
    target = str(tmp_path / "o.hdr")
    status, err = convert(capsys, ANATOMICAL, target, "--dtype", "int8", "--format", "analyze")
    assert status == 1
    assert "values in [0, 255] do not fit int8 [-128, 127]" in err
    # NIfTI can scale them
    nifti = str(tmp_path / "o.nii")
    assert convert(capsys, ANATOMICAL, nifti, "--dtype", "int8")[0] == 0
    out = nib.load(nifti)
    np.testing.assert_allclose(out.get_fdata(), nib.load(ANATOMICAL).get_fdata(),
                               atol=out.dataobj.slope)


def test_float_overflow_and_inexact_integers_refused(capsys, tmp_path):
    big = str(tmp_path / "big.nii")
    nib.save(nib.Nifti1Image(np.array([[[1e300, 1.0]]]), np.eye(4)), big)
    status, err = convert(capsys, big, str(tmp_path / "o.nii"), "--dtype", "float32")
    assert status == 1 and "exceed the range of float32" in err
    ints = str(tmp_path / "ints.nii")
    nib.save(nib.Nifti1Image(np.array([[[2**30 + 1, 0]]], dtype=np.int32), np.eye(4)), ints)
    status, err = convert(capsys, ints, str(tmp_path / "o.nii"), "--dtype", "float32")
    assert status == 1 and "cannot all be stored exactly as float32" in err
    status, _ = convert(capsys, ints, str(tmp_path / "o.nii"), "--dtype", "float64")
    assert status == 0


def test_check_representable_rules():
    def found(values):
        r = _Range()
        r.add(np.asarray(values))
        return r

    check_representable(found([0, 255]), np.dtype(np.uint8), can_scale=False)
    check_representable(found([0.5, 1e6]), np.dtype(np.int16), can_scale=True)
    check_representable(found(np.array([1e10], np.float64)), np.dtype(np.float32), False)
    check_representable(found([np.nan, 1.5]), np.dtype(np.float32), can_scale=False)
    check_representable(found(np.zeros((0,))), np.dtype(np.int8), can_scale=False)
    for values, dtype, scale, message in [
        ([1j], np.float32, True, "complex"),
        ([np.inf], np.int16, True, "NaN or infinite"),
        ([-1], np.uint8, False, "do not fit"),
        ([0.5], np.int16, False, "whole numbers"),
        ([1e39], np.float32, False, "exceed the range"),
        (np.array([2**53 + 1], np.int64), np.float64, False, "exactly"),
    ]:
        with pytest.raises(ValueError, match=message):
            check_representable(found(values), np.dtype(dtype), scale)


def test_read_volumes_matches_whole_read():
    img = nivox.load(EXAMPLE4D)
    data, found = read_volumes(img)
    np.testing.assert_array_equal(data, img.get_fdata(dtype=data.dtype))
    assert found.low == data.min() and found.high == data.max()


def test_5d_round_trip(capsys, tmp_path):
    data = np.random.default_rng(0).normal(size=(3, 4, 5, 2, 3)).astype(np.float32)
    source, target = str(tmp_path / "five.nii"), str(tmp_path / "five.nii.gz")
    nib.save(nib.Nifti1Image(data, np.eye(4)), source)
    loaded, _ = read_volumes(nivox.load(source))
    np.testing.assert_array_equal(loaded, data)  # volumes land where they belong
    assert convert(capsys, source, target)[0] == 0
    np.testing.assert_array_equal(nib.load(target).get_fdata(), data)


def test_existing_output_needs_force(capsys, tmp_path):
    target = tmp_path / "o.nii"
    target.write_bytes(b"precious")
    status, err = convert(capsys, ANATOMICAL, str(target))
    assert status == 1
    assert err == f"nivox: error: {target}: File exists; use --force to replace it\n"
    assert target.read_bytes() == b"precious"
    assert convert(capsys, ANATOMICAL, str(target), "--force")[0] == 0
    same_image(ANATOMICAL, str(target))


def test_compresslevel(capsys, tmp_path):
    one, nine = str(tmp_path / "one.nii.gz"), str(tmp_path / "nine.nii.gz")
    assert convert(capsys, EXAMPLE4D, one, "--compresslevel", "1")[0] == 0
    assert convert(capsys, EXAMPLE4D, nine, "--compresslevel", "9")[0] == 0
    assert open(one, "rb").read() != open(nine, "rb").read()
    same_image(one, nine)
    plain = str(tmp_path / "plain.nii")
    assert convert(capsys, EXAMPLE4D, plain, "--compresslevel", "9") == (0, "")  # nothing to do
    assert main(["convert", EXAMPLE4D, plain, "--compresslevel", "-1"]) == 2


@pytest.mark.parametrize("args, problem", [
    (["{tmp}/o.xyz"], "cannot tell the format from extension '.xyz'"),
    (["{tmp}/o.img", "--format", "nifti1"], "format nifti1 writes .nii files, not .img"),
    (["{tmp}/o.nii", "--dtype", "float16"], 'data dtype "float16" not supported'),
])
def test_output_errors_name_the_output(capsys, tmp_path, args, problem):
    args = [a.format(tmp=tmp_path) for a in args]
    status, err = convert(capsys, ANATOMICAL, *args)
    assert status == 1 and err.startswith(f"nivox: error: {args[0]}: {problem}")
    assert err.count("\n") == 1


def test_input_errors_name_the_input(capsys, tmp_path):
    missing = str(tmp_path / "none.nii")
    status, err = convert(capsys, missing, str(tmp_path / "o.nii"))
    assert status == 1 and err == f"nivox: error: {missing}: No such file or directory\n"
    assert main(["convert", "--dtype", "nonsense", ANATOMICAL, "o.nii"]) == 2


def test_debug_traceback(capsys, tmp_path):
    target = str(tmp_path / "o.nii")
    assert main(["convert", "--debug", FLOAT32, target, "--dtype", "uint8"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.splitlines()[-1].startswith(f"nivox: error: {target}: ")


def test_subprocess_convert(tmp_path):
    target = str(tmp_path / "o.nii")
    proc = subprocess.run([sys.executable, "-m", "nivox.cli.main", "convert", EXAMPLE4D, target],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""
    same_image(EXAMPLE4D, target)


CORPUS_FILES = [
    ("nibabel/tests_data/standard.nii.gz", "o.hdr.gz"),
    ("itk-examples/KmeansTest_T1UCharRaw.nii.gz", "o.nii.gz"),
    ("nibabel/tests_data/example_nifti2.nii.gz", "o.nii"),
    ("nibabel/tests_data/functional.nii", "o.img"),
    ("dipy/func_coef.nii.gz", "o.nii"),
    ("mricron/attention.nii.gz", "o.hdr"),
]


@pytest.mark.parametrize("relpath, out", CORPUS_FILES)
def test_corpus_round_trip(corpus, capsys, tmp_path, relpath, out):
    source = str(corpus / relpath)
    target = str(tmp_path / out)
    status, err = convert(capsys, source, target)
    assert status == 0, err
    a, b = same_image(source, target, atol=1e-6)
    assert b.get_data_dtype() == a.get_data_dtype()


def test_rescaling_is_reported_with_the_largest_change(capsys, tmp_path):
    out = tmp_path / "small.nii"
    assert main(["convert", "--dtype", "uint8", EXAMPLE4D, str(out)]) == 0
    err = capsys.readouterr().err
    source, written = nib.load(EXAMPLE4D), nib.load(str(out))
    change = np.abs(written.get_fdata() - source.get_fdata()).max()
    assert f"{out}: data rescaled to fit uint8: slope {source.dataobj.slope:.6g} -> " in err
    assert f"{written.dataobj.slope:.6g}, intercept" in err
    assert f"largest change in a value {change:.6g}" in err and "--keep-scaling" in err
    # same dtype: nivox keeps the source's factors, and says nothing
    assert main(["convert", EXAMPLE4D, str(tmp_path / "same.nii")]) == 0
    assert "rescaled" not in capsys.readouterr().err


def test_keep_scaling_stores_the_source_values_and_factors(capsys, tmp_path):
    out = tmp_path / "kept.nii.gz"
    assert main(["convert", "--keep-scaling", EXAMPLE4D, str(out)]) == 0
    assert "rescaled" not in capsys.readouterr().err
    source, written = nib.load(EXAMPLE4D), nib.load(str(out))
    assert (written.dataobj.slope, written.dataobj.inter) == (source.dataobj.slope,
                                                              source.dataobj.inter)
    np.testing.assert_array_equal(written.dataobj.get_unscaled(), source.dataobj.get_unscaled())
    np.testing.assert_array_equal(written.get_fdata(), source.get_fdata())
    # stored values that do not fit the dtype asked for are refused, not wrapped
    assert main(["convert", "--keep-scaling", "--dtype", "uint8", EXAMPLE4D,
                 str(tmp_path / "x.nii")]) == 1
    assert "do not fit uint8" in capsys.readouterr().err
    # a format without scale factors cannot keep them
    assert main(["convert", "--keep-scaling", "--format", "analyze", EXAMPLE4D,
                 str(tmp_path / "a.img")]) == 1
    assert "--keep-scaling" in capsys.readouterr().err
