import pytest

import nivox
from nivox.pkg_info import cmp_pkg_version, get_pkg_info, pkg_commit_hash


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1.0", "1.0.0", 0),
        ("1.2", "1.1", 1),
        ("1.1dev", "1.1", -1),
        ("1.2.1rc", "1.2.1rc1", -1),
        ("1.2.1a", "1.2.1b", -1),
        ("1.2.0+1", "1.2", 1),
        ("1.2.1rc1+1", "1.2.1", -1),
        ("1.2.0.post1", "1.2.0", 1),
        ("1.0.dev0", "1.0a1", -1),
        ("1!0.1", "2.0", 1),
    ],
)
def test_cmp_pkg_version(a, b, expected):
    assert cmp_pkg_version(a, b) == expected
    assert cmp_pkg_version(b, a) == -expected


def test_release_stage_sequence():
    seq = ("3.0.0dev", "3.0.0rc1", "3.0.0rc1.post.dev", "3.0.0rc2", "3.0.0")
    for early, late in zip(seq[:-1], seq[1:]):
        assert cmp_pkg_version(early, late) == -1


def test_default_is_nivox_version():
    from nivox.nibabel_alias import NIBABEL_API_VERSION

    # by default: the nibabel version nivox stands in for, as nibabel code asks it
    assert cmp_pkg_version(NIBABEL_API_VERSION) == 0
    assert cmp_pkg_version("5.0") == -1
    assert cmp_pkg_version("1000.0") == 1


@pytest.mark.parametrize("bad", [["foo"], ["foo.2", "1.0"], ["1.0", "foo.2"]])
def test_invalid_versions(bad):
    with pytest.raises(ValueError):
        cmp_pkg_version(*bad)


def test_get_info(tmp_path):
    info = nivox.get_info()
    assert info["nivox_version"] == nivox.__version__
    assert set(info) >= {"commit_source", "commit_hash", "np_version", "sys_version"}
    assert pkg_commit_hash(str(tmp_path)) == ("(none found)", "<not found>")
    assert get_pkg_info(str(tmp_path))["pkg_path"] == str(tmp_path)
