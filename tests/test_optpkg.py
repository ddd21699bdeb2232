"""Tests of nivox.optpkg: optional imports that trip late with a clear error."""

import copy
import pickle
import sys
import types
import unittest

import numpy as np
import pytest

from nivox.errors import NivoxError
from nivox.optpkg import TripWire, TripWireError, is_tripwire, optional_package

MISSING = "nivox_no_such_package_x9"


def test_present_package_is_returned_as_is():
    module, have, setup_module = optional_package("json")
    import json

    assert module is json
    assert have is True
    assert setup_module() is None


def test_dotted_name_returns_the_submodule():
    module, have, _ = optional_package("os.path")
    import os.path

    assert have and module is os.path


def test_missing_package_gives_tripwire_naming_it():
    module, have, _ = optional_package(MISSING)
    assert have is False
    assert is_tripwire(module)
    with pytest.raises(TripWireError, match=MISSING) as info:
        module.anything
    # the original ImportError is kept for whoever needs the details
    assert isinstance(info.value.__cause__, ImportError)


def test_tripwire_error_is_attribute_error_and_nivox_error():
    module, _, _ = optional_package(MISSING)
    assert not hasattr(module, "some_function")  # hasattr only swallows AttributeError
    with pytest.raises(AttributeError):
        module.x
    with pytest.raises(NivoxError):
        module.x


def test_custom_trip_message():
    module, _, _ = optional_package(MISSING, trip_msg="install the extra 'spm'")
    with pytest.raises(TripWireError, match="^install the extra 'spm'$"):
        module.x


def test_setup_module_skips_when_missing():
    _, _, setup_module = optional_package(MISSING)
    with pytest.raises(unittest.SkipTest, match=MISSING):
        setup_module()


@pytest.mark.parametrize("min_version, have", [
    ("1.0", True),
    (np.__version__, True),
    ("999.0", False),
    ("1.0rc1", True),
])
def test_min_version_string(min_version, have):
    module, got_have, _ = optional_package("numpy", min_version=min_version)
    assert got_have is have
    if have:
        assert module is np
    else:
        with pytest.raises(TripWireError, match=r"^These functions need numpy version >= 999\.0$"):
            module.zeros


def test_min_version_compares_numerically_not_as_text(monkeypatch):
    fake = types.ModuleType("nivox_fake_versioned")
    fake.__version__ = "1.10.2"
    monkeypatch.setitem(sys.modules, "nivox_fake_versioned", fake)
    assert optional_package("nivox_fake_versioned", min_version="1.9")[1] is True
    assert optional_package("nivox_fake_versioned", min_version="1.10.3")[1] is False


def test_min_version_callable():
    module, have, _ = optional_package("numpy", min_version=lambda mod: mod is np)
    assert have and module is np
    module, have, setup_module = optional_package("numpy", min_version=lambda mod: False)
    assert not have
    with pytest.raises(TripWireError, match="version check"):
        module.zeros
    with pytest.raises(unittest.SkipTest):
        setup_module()


def test_broken_package_counts_as_missing(monkeypatch, tmp_path):
    (tmp_path / "nivox_broken_pkg_x9.py").write_text("raise RuntimeError('half installed')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module, have, _ = optional_package("nivox_broken_pkg_x9")
    assert not have
    with pytest.raises(TripWireError, match="half installed"):
        module.x


def test_tripwire_direct_use_and_copies():
    wire = TripWire("needs foo")
    assert is_tripwire(wire) and not is_tripwire(np)
    assert "needs foo" in repr(wire)
    with pytest.raises(TripWireError, match="needs foo"):
        wire.attr
    with pytest.raises(TypeError):
        wire()
    # copying and pickling must not recurse through __getattr__
    for clone in (copy.copy(wire), copy.deepcopy(wire), pickle.loads(pickle.dumps(wire))):
        with pytest.raises(TripWireError, match="needs foo"):
            clone.attr


def test_min_version_as_version_object_and_pep440_order():
    class V:  # stands for packaging.version.Version: only str() is used
        def __init__(self, text):
            self.text = text

        def __str__(self):
            return self.text

    _, have, _ = optional_package("numpy", min_version=V("1.0"))
    assert have
    _, have, _ = optional_package("numpy", min_version=V("1000.0"))
    assert not have
    import numpy

    _, have, _ = optional_package("numpy", min_version=numpy.__version__ + "rc1")
    assert have  # a release candidate is older than the release
