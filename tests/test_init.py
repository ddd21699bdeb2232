"""The package root: lazy names, ``from nivox import *``, absent format modules."""

import subprocess
import sys

import pytest

import nivox


def test_star_import_and_hasattr_in_a_fresh_process():
    code = (
        "import nivox\n"
        "ns = {}\n"
        "exec('from nivox import *', ns)\n"
        "for name in ('Minc1Image', 'MGHImage', 'PARRECImage', 'EcatImage', 'AFNIImage'):\n"
        "    hasattr(nivox, name)\n"
        "assert 'load' in ns and 'imageglobals' in ns\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_absent_module_is_attribute_error(monkeypatch):
    monkeypatch.setitem(nivox._LAZY_NAMES, "FakeImage", "no_such_format")
    assert not hasattr(nivox, "FakeImage")
    with pytest.raises(AttributeError, match="no_such_format"):
        nivox.FakeImage
    assert "FakeImage" not in dir(nivox)


def test_missing_dependency_inside_a_module_is_not_hidden(tmp_path, monkeypatch):
    (tmp_path / "needs_dep.py").write_text("import a_dependency_that_is_not_installed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(nivox, "__path__", [*nivox.__path__, str(tmp_path)])
    monkeypatch.setitem(nivox._LAZY_NAMES, "Thing", "needs_dep")
    with pytest.raises(ModuleNotFoundError, match="a_dependency_that_is_not_installed"):
        nivox.Thing


def test_compat_modules_reachable():
    for name in ("imageglobals", "pkg_info", "spaces", "tripwire", "onetime", "_compression"):
        assert getattr(nivox, name).__name__ == f"nivox.{name}"
    assert nivox.get_info()["nivox_version"] == nivox.__version__
