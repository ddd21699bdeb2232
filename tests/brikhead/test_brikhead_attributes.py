"""nivox.brikhead.attributes: parsing and writing the text of .HEAD files."""

from __future__ import annotations

import io

import pytest

from nivox.brikhead import (
    AFNIHeaderError,
    _unpack_var,
    format_AFNI_header,
    parse_AFNI_header,
)
from nivox.brikhead.attributes import parse_text

nib = pytest.importorskip("nibabel")

EXAMPLE = """
type = string-attribute
name = TYPESTRING
count = 15
'3DIM_HEAD_ANAT~

type = integer-attribute
name = DATASET_RANK
count = 8
 3 2 0 0 0
 0 0 0

type  = float-attribute
name  = DELTA
count = 3
     2.5  3  -4e-1

type = string-attribute
name = BRICK_LABS
count = 9
'#0~#1~#2~

type = integer-attribute
name = BRICK_TYPES
count = 1
 1
"""


def test_values_have_nibabel_shapes():
    info = parse_text(EXAMPLE)
    assert info == {"TYPESTRING": "3DIM_HEAD_ANAT", "DATASET_RANK": [3, 2, 0, 0, 0, 0, 0, 0],
                    "DELTA": [2.5, 3.0, -0.4], "BRICK_LABS": "#0~#1~#2", "BRICK_TYPES": 1}
    assert info == nib.brikhead.parse_AFNI_header(io.StringIO(EXAMPLE))


def test_file_names_and_binary_or_text_files(tmp_path):
    path = tmp_path / "x+orig.HEAD"
    path.write_text(EXAMPLE)
    assert parse_AFNI_header(str(path)) == parse_AFNI_header(path) == parse_text(EXAMPLE)
    with open(path) as text, open(path, "rb") as binary:
        assert parse_AFNI_header(text) == parse_AFNI_header(binary)


def test_strings_are_read_by_count():
    # a string holding a blank line and a line starting with "type": nibabel's split on blank lines breaks
    note = "line one\n\ntype = what\nend"
    text = format_AFNI_header({"HISTORY_NOTE": note, "BRICK_TYPES": [1, 3]})
    assert parse_text(text) == {"HISTORY_NOTE": note, "BRICK_TYPES": [1, 3]}


def test_format_round_trip_exact_floats():
    info = {"A": [0.1, -1e-300, 3.0, float("inf")], "B": [1, -2, 3, 4, 5, 6, 7], "C": "x~y", "D": 7}
    assert parse_text(format_AFNI_header(info)) == info


@pytest.mark.parametrize("var", [
    "type = badtype-attribute\nname = BRICK_TYPES\ncount = 1\n1\n",
    "type = integer-attribute\ncount = 1\n1\n",
    "type = integer-attribute\nname = X\ncount = 1\n1.5\n",
    "type = float-attribute\nname = X\ncount = 2\n1 abc\n",
])
def test_bad_attributes_raise_like_nibabel(var):
    with pytest.raises(AFNIHeaderError):
        _unpack_var(var)
    with pytest.raises(nib.brikhead.AFNIHeaderError):
        nib.brikhead._unpack_var(var)


def test_errors_name_the_file(tmp_path):
    path = tmp_path / "broken+orig.HEAD"
    path.write_text(EXAMPLE.replace("integer-attribute\nname = BRICK_TYPES", "integer-attribute\nname = BRICK_TYPES\n"
                                    ).replace(" 1\n", " one\n"))
    with pytest.raises(AFNIHeaderError, match="broken"):
        parse_AFNI_header(path)
    path.write_bytes(b"\x89PNG garbage")
    with pytest.raises(AFNIHeaderError, match="not an AFNI HEAD file|no AFNI attributes"):
        parse_AFNI_header(path)
    assert isinstance(AFNIHeaderError("x"), ValueError)
