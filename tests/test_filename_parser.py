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
