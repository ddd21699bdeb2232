"""Tests of the NIfTI-1 / NIfTI-2 / Analyze code tables in nivox.nifti1.codes."""

import numpy as np
import pytest

from nivox.nifti1 import codes
from nivox.nifti1.codes import (
    analyze_data_type_codes,
    data_type_codes,
    intent_codes,
    slice_order_codes,
    unit_codes,
    xform_codes,
)

nib_nifti1 = pytest.importorskip("nibabel.nifti1")
nib_analyze = pytest.importorskip("nibabel.analyze")
nib_casting = pytest.importorskip("nibabel.casting")

# Deliberate departures from nibabel (see the module docstring of codes.py).
FIXED_PARAMETERS = {
    9: ("p1 = shape", "p2 = scale"),
    18: ("p1 = location", "p2 = scale", "p3 = power"),
    20: ("p1 = mu", "p2 = lambda"),
}
# Every element of a Recoder row is an alias, parameter tuples included.
EXTRA_ALIASES = {"intent_codes": {"topup cubic spline coef", *FIXED_PARAMETERS.values()}}

TABLES = [
    ("data_type_codes", data_type_codes, nib_nifti1.data_type_codes),
    ("analyze_data_type_codes", analyze_data_type_codes, nib_analyze.data_type_codes),
    ("intent_codes", intent_codes, nib_nifti1.intent_codes),
    ("xform_codes", xform_codes, nib_nifti1.xform_codes),
    ("unit_codes", unit_codes, nib_nifti1.unit_codes),
    ("slice_order_codes", slice_order_codes, nib_nifti1.slice_order_codes),
]
TABLE_IDS = [name for name, _, _ in TABLES]


def same_value(ours, theirs):
    if isinstance(theirs, np.dtype):
        return isinstance(ours, np.dtype) and ours == theirs
    if isinstance(theirs, type):
        return ours is theirs
    return type(ours) is type(theirs) and ours == theirs


@pytest.mark.parametrize(("name", "ours", "theirs"), TABLES, ids=TABLE_IDS)
def test_fields_match_nibabel(name, ours, theirs):
    assert ours.fields == theirs.fields


@pytest.mark.parametrize(("name", "ours", "theirs"), TABLES, ids=TABLE_IDS)
def test_every_nibabel_alias_gives_the_same_row(name, ours, theirs):
    for alias in theirs.code.keys():
        if name == "intent_codes" and alias not in ours:
            # nibabel's garbled parameter tuples, replaced in nivox
            assert theirs.code[alias] in FIXED_PARAMETERS and isinstance(alias, tuple)
            continue
        assert alias in ours, (name, alias)
        for field in theirs.fields:
            expected = getattr(theirs, field)[alias]
            if field == "parameters" and theirs.code[alias] in FIXED_PARAMETERS:
                expected = FIXED_PARAMETERS[theirs.code[alias]]
            got = getattr(ours, field)[alias]
            assert same_value(got, expected), (name, alias, field, got, expected)


@pytest.mark.parametrize(("name", "ours", "theirs"), TABLES, ids=TABLE_IDS)
def test_no_aliases_beyond_nibabels_except_documented(name, ours, theirs):
    extra = [k for k in ours.code.keys() if k not in theirs.code]
    assert set(extra) == EXTRA_ALIASES.get(name, set())


@pytest.mark.parametrize(("name", "ours", "theirs"), TABLES, ids=TABLE_IDS)
def test_same_set_of_codes(name, ours, theirs):
    assert ours.value_set() == set(theirs.value_set())
    assert ours.value_set("label") == set(theirs.value_set("label"))


def test_intent_parameters_follow_nifti1_h():
    assert intent_codes.parameters["weibull"] == ("p1 = location", "p2 = scale", "p3 = power")
    assert intent_codes.parameters["gamma"] == ("p1 = shape", "p2 = scale")
    assert intent_codes.parameters["inverse gaussian"] == ("p1 = mu", "p2 = lambda")
    # every statistic's parameter entries are names of p1..p3, in order
    for code in range(2, 25):
        params = intent_codes.parameters[code]
        assert len(params) <= 3
        for number, name in enumerate(params, start=1):
            assert name.startswith(f"p{number}")


def test_intent_aliases():
    assert intent_codes.code["NIFTI_INTENT_TIMESERIES"] == 2001
    assert intent_codes.code["time series"] == 2001
    assert intent_codes.niistring[2001] == "NIFTI_INTENT_TIME_SERIES"
    assert intent_codes.code["topup cubic spline coef"] == 2016
    assert intent_codes.label[2016] == "topup cubic spline coef "
    assert 3005 not in intent_codes


def test_xform_template_code_from_nifti2():
    assert xform_codes.code["template"] == 5
    assert xform_codes.niistring[5] == "NIFTI_XFORM_TEMPLATE_OTHER"


def test_unit_and_slice_codes():
    assert unit_codes.code["mm"] == 2 and unit_codes.label[48] == "rads"
    assert slice_order_codes.code["alt dec 2"] == 6
    assert slice_order_codes.label["seq inc"] == "sequential increasing"


# Bits per voxel from nifti1.h, independent of nibabel.
BITPIX = {
    2: 8, 4: 16, 8: 32, 16: 32, 32: 64, 64: 64, 128: 24, 256: 8, 512: 16,
    768: 32, 1024: 64, 1280: 64, 1792: 128, 2304: 32,
}


@pytest.mark.parametrize("code", sorted(BITPIX))
def test_dtype_columns(code):
    dtype = data_type_codes.dtype[code]
    sw_dtype = data_type_codes.sw_dtype[code]
    assert dtype.itemsize * 8 == BITPIX[code]
    assert dtype.isnative
    assert sw_dtype == dtype.newbyteorder("S")
    if dtype.itemsize > 1 and dtype.fields is None:
        assert not sw_dtype.isnative
    # every alias of the row leads back to the code
    for alias in (dtype, sw_dtype, data_type_codes.label[code], data_type_codes.type[code]):
        assert data_type_codes.code[alias] == code
    assert data_type_codes.code[data_type_codes.niistring[code]] == code


def test_lookup_by_type_dtype_name_and_code():
    for key in ("float32", np.float32, np.dtype(np.float32), "NIFTI_TYPE_FLOAT32", 16):
        assert data_type_codes.code[key] == 16
    assert data_type_codes.code[np.dtype(">i2").newbyteorder("<")] == 4
    assert data_type_codes.code[np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1")])] == 128
    assert data_type_codes.label[2304] == "RGBA"


def test_no_float16_code():
    # NIfTI has no half-precision type, and nibabel does not map one either
    assert np.float16 not in data_type_codes
    assert np.dtype(np.float16) not in data_type_codes
    assert np.float16 not in nib_nifti1.data_type_codes


def test_binary128_decision_matches_nibabel():
    assert codes._have_binary128() == nib_casting.have_binary128()


def test_float128_rows_follow_the_platform():
    expected = np.longdouble if codes._have_binary128() else np.void
    assert data_type_codes.type[1536] is expected
    assert data_type_codes.type[2048] is (np.clongdouble if expected is np.longdouble else np.void)


def test_binary128_table_maps_longdouble():
    table = codes._make_data_type_codes(binary128=True)
    assert table.type[1536] is np.longdouble
    assert table.dtype[1536] == np.dtype(np.longdouble)
    assert table.code[np.longdouble] == 1536
    assert table.code[np.clongdouble] == 2048
    assert table.sw_dtype[2048] == np.dtype(np.clongdouble).newbyteorder("S")
    # with both long types mapped, the bare void type falls back to DT_ALL
    assert table.code[np.void] == 255


def test_without_binary128_longdouble_is_unknown():
    table = codes._make_data_type_codes(binary128=False)
    assert np.longdouble not in table
    assert table.type[1536] is np.void
    assert table.code["float128"] == 1536


def test_analyze_subset():
    assert analyze_data_type_codes.value_set() == {0, 1, 2, 4, 8, 16, 32, 64, 128, 255}
    assert not hasattr(analyze_data_type_codes, "niistring")
    assert np.int8 not in analyze_data_type_codes
    assert analyze_data_type_codes.code[np.void] == 255
