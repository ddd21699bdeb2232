import warnings

import pytest

from nivox.deprecator import Deprecator, ExpiredDeprecationError, deprecate_with_version, expired


def _compare(version):
    # pretend the running version is 2.0
    major = int(version.split(".")[0])
    return -1 if major < 2 else (0 if major == 2 else 1)


def test_warns_before_the_removal_version():
    dep = Deprecator(_compare)

    @dep("use g", since="1.0", until="3.0")
    def f():
        return 42

    with pytest.warns(DeprecationWarning, match="use g"):
        assert f() == 42
    assert "Will raise" in f.__doc__


def test_raises_after_the_removal_version():
    # ``until`` is the last version that only warns, as in nibabel
    dep = Deprecator(_compare)

    @dep("use g", since="1.0", until="2.0")
    def at_until():
        return 42

    with pytest.warns(DeprecationWarning, match="use g"):
        assert at_until() == 42

    @dep("use g", since="0.5", until="1.0")
    def f():
        return 42

    with pytest.raises(ExpiredDeprecationError, match="use g"):
        f()
    assert "Raises" in f.__doc__


def test_docstring_gets_the_message_after_its_summary():
    dep = Deprecator(_compare)

    def documented():
        pass

    documented.__doc__ = "Summary line.\n\n    Details here.\n"

    doc = dep("use g", since="1.0")(documented).__doc__
    assert doc.startswith("Summary line.\n    \n    use g\n    \n    * deprecated from version: 1.0\n")
    assert doc.index("testsetup") < doc.index("Details here.") < doc.index("testcleanup")
    assert "testsetup" in doc and doc.rstrip().endswith("_deprecation_ctx.__exit__(None, None, None)")


def test_default_deprecator_uses_nivox_version():
    @deprecate_with_version("old thing", since="0.0.1", until="0.0.2")
    def f():
        return 1

    with pytest.raises(ExpiredDeprecationError):
        f()

    @deprecate_with_version("soon gone", since="0.0.1", until="99.0")
    def g():
        return 2

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert g() == 2
    assert "soon gone" in str(caught[0].message)


def test_expired_names_the_replacement():
    removed = expired("get_data()", "get_fdata()")
    with pytest.raises(ExpiredDeprecationError, match=r"use get_fdata\(\) instead"):
        removed()
    # also catchable as RuntimeError, as nibabel users wrote it
    with pytest.raises(RuntimeError):
        removed()
