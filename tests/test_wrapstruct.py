"""WrapStruct on a small made-up header, so the mechanism is tested apart from any format."""

import logging

import numpy as np
import pytest

from nivox.batteryrunners import Report
from nivox.errors import HeaderDataError
from nivox.volumeutils import Recoder, native_code, swapped_code
from nivox.wrapstruct import LabeledWrapStruct, WrapStruct, WrapStructError

colour_codes = Recoder(((0, "none"), (1, "red"), (2, "green")), fields=("code", "label"))


class Toy(LabeledWrapStruct):
    template_dtype = np.dtype([("size", "i4"), ("colour", "i2"), ("value", "f4")])
    _field_recoders = {"colour": colour_codes}

    @classmethod
    def default_structarr(cls, endianness=None):
        arr = super().default_structarr(endianness)
        arr["size"] = 10
        return arr

    @classmethod
    def guessed_endian(cls, hdr):
        return native_code if int(hdr["size"]) == 10 else swapped_code

    @classmethod
    def _get_checks(cls):
        return (cls._chk_size, cls._chk_value)

    @staticmethod
    def _chk_size(hdr, fix=False):
        report = Report(HeaderDataError)
        if hdr["size"] == 10:
            return hdr, report
        report.problem_level = 30
        report.problem_msg = "size should be 10"
        if fix:
            hdr["size"] = 10
            report.fix_msg = "set size to 10"
        return hdr, report

    @staticmethod
    def _chk_value(hdr, fix=False):
        report = Report(HeaderDataError)
        if np.isfinite(hdr["value"]):
            return hdr, report
        report.problem_level = 40
        report.problem_msg = "value is not finite"
        return hdr, report


def test_default_and_mapping_access():
    hdr = Toy()
    assert hdr["size"] == 10
    assert hdr.keys() == ["size", "colour", "value"]
    assert dict(hdr.items())["size"] == 10
    assert hdr.get("missing", "dflt") == "dflt"
    hdr["value"] = 2.5
    assert list(hdr)[2] == "value"
    assert hdr.values()[2] == 2.5


def test_binaryblock_round_trip_both_orders():
    hdr = Toy()
    hdr["colour"] = 2
    swapped = hdr.as_byteswapped()
    assert swapped.endianness == swapped_code
    assert swapped.binaryblock != hdr.binaryblock
    # guessed byte order reads the swapped block back correctly
    again = Toy(swapped.binaryblock)
    assert again.endianness == swapped_code
    assert again["colour"] == 2
    assert again == hdr  # equality ignores byte order


def test_wrong_block_size_raises():
    with pytest.raises(WrapStructError):
        Toy(b"\x00" * 3)


def test_block_is_copied_not_aliased():
    block = bytearray(Toy().binaryblock)
    hdr = Toy(bytes(block))
    hdr["colour"] = 1
    assert Toy(bytes(block))["colour"] == 0


def test_check_fix_repairs_and_raises(caplog):
    hdr = Toy()
    hdr["size"] = 3
    with caplog.at_level(logging.WARNING):
        fixed = Toy(hdr.binaryblock, endianness=native_code)
    assert fixed["size"] == 10
    assert "set size to 10" in caplog.text
    hdr = Toy()
    hdr["value"] = np.nan
    with pytest.raises(HeaderDataError, match="not finite"):
        Toy(hdr.binaryblock)
    assert Toy(hdr.binaryblock, check=False)["value"] != 0  # check=False keeps it


def test_diagnose_binaryblock():
    hdr = Toy()
    hdr["size"] = 3
    hdr["value"] = np.inf
    text = Toy.diagnose_binaryblock(hdr.binaryblock, native_code)
    assert text.splitlines() == ["size should be 10", "value is not finite"]
    assert Toy.diagnose_binaryblock(Toy().binaryblock) == ""


def test_labels():
    hdr = Toy()
    hdr["colour"] = 1
    assert hdr.get_value_label("colour") == "red"
    hdr["colour"] = 7
    assert hdr.get_value_label("colour") == "<unknown code 7>"
    with pytest.raises(ValueError):
        hdr.get_value_label("size")
    assert "<unknown code 7>" in str(hdr)


def test_copy_is_independent():
    hdr = Toy()
    other = hdr.copy()
    other["colour"] = 2
    assert hdr["colour"] == 0
    assert WrapStruct() != Toy()
