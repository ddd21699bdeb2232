import pytest

from nivox.filename_parser import TypesFilenamesError, splitext_addext, types_filenames

PAIR = (("header", ".hdr"), ("image", ".img"))


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("a.hdr", {"header": "a.hdr", "image": "a.img"}),
        ("a.img", {"header": "a.hdr", "image": "a.img"}),
        ("a.IMG", {"header": "a.HDR", "image": "a.IMG"}),
        ("a.hdr.gz", {"header": "a.hdr.gz", "image": "a.img.gz"}),
        ("a.HDR.GZ", {"header": "a.HDR.GZ", "image": "a.IMG.GZ"}),
        ("a", {"header": "a.hdr", "image": "a.img"}),
        ("dir.with.dots/a.hdr", {"header": "dir.with.dots/a.hdr", "image": "dir.with.dots/a.img"}),
    ],
)
def test_pair_names(template, expected):
    assert types_filenames(template, PAIR, trailing_suffixes=(".gz",)) == expected


def test_wrong_extension_is_refused_when_enforced():
    with pytest.raises(TypesFilenamesError, match=r"\.nii"):
        types_filenames("a.nii", PAIR)
    # the error is also a ValueError for callers written against builtins
    with pytest.raises(ValueError):
        types_filenames("a.foo", PAIR)


def test_unknown_extension_kept_for_first_type_when_not_enforced():
    assert types_filenames("a.foo", PAIR, enforce_extensions=False) == {
        "header": "a.foo", "image": "a.img"}


def test_single_file_types_share_the_name():
    single = (("image", ".nii"), ("header", ".nii"))
    assert types_filenames("x.nii", single) == {"image": "x.nii", "header": "x.nii"}


def test_splitext_addext():
    assert splitext_addext("brain.nii.gz") == ("brain", ".nii", ".gz")
    assert splitext_addext("a.NII.GZ") == ("a", ".NII", ".GZ")
    assert splitext_addext("a.NII.GZ", match_case=True) == ("a.NII", ".GZ", "")
    assert splitext_addext("plain") == ("plain", "", "")


def test_pathlike_and_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    names = types_filenames("~/x.hdr", PAIR)
    assert names["image"] == str(tmp_path / "x.img")


def test_extension_only_names_and_dots():
    from nivox.filename_parser import splitext_addext

    assert splitext_addext(".nii") == ("", ".nii", "")
    assert splitext_addext("...nii") == ("..", ".nii", "")
    assert splitext_addext("dir.d/.nii.gz") == ("dir.d/", ".nii", ".gz")
    for dots in (".", "..", "..."):
        assert splitext_addext(dots) == (dots, "", "")
    assert splitext_addext("dir.d/name") == ("dir.d/name", "", "")


def test_types_filenames_trailing_dot_case_and_bare_suffix():
    from nivox.filename_parser import TypesFilenamesError, types_filenames

    pair = (("image", ".img"), ("header", ".hdr"))
    assert types_filenames("test.", pair) == {"image": "test.img", "header": "test.hdr"}
    assert types_filenames("test.img", (("image", ".IMG"), ("header", ".HDR"))) == {
        "image": "test.img", "header": "test.hdr"}
    assert types_filenames("t.IMG.Gz", pair) == {"image": "t.IMG.Gz", "header": "t.HDR.Gz"}
    with pytest.raises(TypesFilenamesError):
        types_filenames("test.gz", pair)  # a suffix with no extension before it
    assert types_filenames("test.gz", pair, enforce_extensions=False) == {
        "image": "test.gz", "header": "test.hdr.gz"}


def test_parse_filename_matches_type_endings():
    from nivox.filename_parser import parse_filename

    types = (("t1", "ext1"), ("t2", "ext2"))
    assert parse_filename("/p/fname.funny", types, ()) == ("/p/fname", ".funny", None, None)
    assert parse_filename("/p/fnameext2.gz", types, (".gz",)) == ("/p/fname", "ext2", ".gz", "t2")
    assert parse_filename("/p/fnameEXT2.gz", types, (".gz",), True) == ("/p/fnameEXT2", "", ".gz", None)
