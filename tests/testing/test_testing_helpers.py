"""Tests of the helpers in nivox.testing (warnings, comparisons, data paths)."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import nivox.testing as nt
from nivox.testing import (
    assert_allclose_safely,
    assert_arrays_equal,
    assert_dt_equal,
    assert_re_in,
    clear_and_catch_warnings,
    error_warnings,
    get_test_data,
    suppress_warnings,
)


def test_data_path_is_str_folder_inside_package():
    assert isinstance(nt.data_path, str)
    assert os.path.isdir(nt.data_path)
    assert Path(nt.data_path).parent == Path(nt.__file__).parent


def test_get_test_data_paths():
    base = Path(nt.data_path)
    assert get_test_data() == base
    assert get_test_data(fname="example4d.nii.gz") == base / "example4d.nii.gz"
    assert get_test_data("sub", "x.nii") == base / "sub" / "x.nii"
    assert get_test_data("sub") == base / "sub"
    assert get_test_data(fname="anatomical.nii").is_file()


def test_import_does_not_pull_in_pytest():
    code = "import sys, nivox.testing; print('pytest' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---- assert_allclose_safely -------------------------------------------------


def test_allclose_safely_accepts_close_and_broadcasts():
    assert_allclose_safely([1.0, 2.0], [1.0, 2.0 + 1e-9])
    assert_allclose_safely(np.ones((2, 3)), 1)
    with pytest.raises(AssertionError):
        assert_allclose_safely([1.0, 2.0], [1.0, 2.1])


def test_allclose_safely_unsigned_integers_do_not_wrap():
    # uint8 0 - 255 wraps to 1 in uint8 arithmetic, which looked "close"
    with pytest.raises(AssertionError):
        assert_allclose_safely(np.array([0], np.uint8), np.array([255], np.uint8), atol=2)
    assert_allclose_safely(np.array([200], np.uint8), np.array([200], np.int64))


def test_allclose_safely_nans():
    assert_allclose_safely([np.nan, 1.0], [np.nan, 1.0])
    with pytest.raises(AssertionError):
        assert_allclose_safely([np.nan, 1.0], [1.0, 1.0])
    with pytest.raises(AssertionError):
        assert_allclose_safely([np.nan, 1.0], [np.nan, 1.0], match_nans=False)


def test_allclose_safely_infinities():
    assert_allclose_safely([np.inf, -np.inf], [np.inf, -np.inf])
    with pytest.raises(AssertionError):
        assert_allclose_safely([np.inf], [-np.inf])
    with pytest.raises(AssertionError):
        assert_allclose_safely([np.inf], [1e300])


def test_allclose_safely_tolerances():
    assert_allclose_safely([100.0], [101.0], rtol=0.02)
    with pytest.raises(AssertionError):
        assert_allclose_safely([100.0], [101.0], rtol=0.001)
    assert_allclose_safely([0.0], [0.5], atol=1)


# ---- other assertions --------------------------------------------------------


def test_assert_arrays_equal():
    assert_arrays_equal([np.arange(3), [[1, 2]]], iter([np.arange(3), np.array([[1, 2]])]))
    with pytest.raises(AssertionError):
        assert_arrays_equal([np.arange(3)], [np.arange(3) + 1])
    with pytest.raises(AssertionError, match="length"):
        assert_arrays_equal([np.arange(3)], [np.arange(3), np.arange(3)])
    with pytest.raises(AssertionError, match="length"):
        assert_arrays_equal([np.arange(3), np.arange(3)], [np.arange(3)])


def test_assert_dt_equal_checks_byte_order():
    assert_dt_equal("<i2", np.dtype(np.int16).newbyteorder("<"))
    with pytest.raises(AssertionError):
        assert_dt_equal("<i2", ">i2")
    with pytest.raises(AssertionError):
        assert_dt_equal(np.float32, np.float64)


def test_assert_re_in():
    assert_re_in(r"ab+c", ["x", "abbbc"])
    assert_re_in(r"ab+c", "abc")
    with pytest.raises(AssertionError):
        assert_re_in(r"ab+c", ["x", "ac"])


# ---- warning context managers -------------------------------------------------


def test_clear_and_catch_warnings_clears_then_restores_registries():
    import types

    module = types.ModuleType("nivox_fake_warner")
    key = ("a nivox test warning", UserWarning, 12)
    module.__warningregistry__ = {key: True}
    with clear_and_catch_warnings(modules=[module]):
        # warnings that already fired once in the module may fire again
        assert module.__warningregistry__ == {}
        module.__warningregistry__[("other", UserWarning, 3)] = True
    assert module.__warningregistry__ == {key: True}


def test_clear_and_catch_warnings_class_modules():
    import types

    module = types.ModuleType("nivox_fake_warner2")
    module.__warningregistry__ = {("m", UserWarning, 1): True}

    class clear_mine(clear_and_catch_warnings):
        class_modules = (module,)

    with clear_mine():
        assert module.__warningregistry__ == {}
    assert len(module.__warningregistry__) == 1


def test_clear_and_catch_warnings_records_and_restores_filters():
    filters_before = list(warnings.filters)
    with clear_and_catch_warnings() as caught:
        warnings.simplefilter("always")
        warnings.warn("w1")
    assert [str(w.message) for w in caught] == ["w1"]
    assert warnings.filters == filters_before


def test_error_warnings_raises():
    with error_warnings():
        with pytest.raises(UserWarning, match="boom"):
            warnings.warn("boom")
    # and afterwards warnings are warnings again
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("fine")
    assert len(caught) == 1


def test_suppress_warnings_silences():
    with warnings.catch_warnings(record=True) as outer:
        warnings.simplefilter("always")
        with suppress_warnings():
            warnings.warn("hidden")
        warnings.warn("shown")
    assert [str(w.message) for w in outer] == ["shown"]
