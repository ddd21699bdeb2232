"""nivox.install_as_nibabel: libraries that import nibabel get nivox, in a fresh process each."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def run_python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(SRC), (env or {}).pop("PYTHONPATH", ""), ) if p)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=full_env, timeout=120)


def test_nibabel_resolves_to_nivox_modules():
    result = run_python("""
        import sys
        import nivox
        nivox.install_as_nibabel()
        import nibabel
        import nibabel.nifti1
        from nibabel.loadsave import load
        assert nibabel.nifti1 is nivox.nifti1 is sys.modules["nibabel.nifti1"]
        assert load is nivox.loadsave.load
        assert nibabel.Nifti1Image is nivox.Nifti1Image
        # the aliased module keeps its own identity
        assert nivox.nifti1.__spec__.name == "nivox.nifti1"
        assert nivox.nifti1.__name__ == "nivox.nifti1"
        print(nibabel.__version__, nivox.__version__)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["5.4.2", __import__("nivox").__version__]


def test_mock_patch_through_nibabel_name_hits_nivox():
    result = run_python("""
        from unittest import mock
        import nivox
        nivox.install_as_nibabel()
        with mock.patch("nibabel.loadsave.load", return_value="patched"):
            assert nivox.loadsave.load("anything") == "patched"
        assert nivox.loadsave.load.__module__ == "nivox.loadsave"
    """)
    assert result.returncode == 0, result.stderr


def test_missing_submodule_names_nivox_and_never_loads_real_nibabel():
    result = run_python("""
        import sys
        import nivox
        nivox.install_as_nibabel()
        try:
            import nibabel.not_a_module
        except ModuleNotFoundError as err:
            print(err)
        import os
        ours = os.path.dirname(nivox.__file__) + os.sep  # not "nivox" in the path: a checkout may be named so
        real = [name for name, mod in list(sys.modules.items())
                if (name == "nibabel" or name.startswith("nibabel."))
                and getattr(mod, "__file__", None)
                and not str(mod.__file__).startswith(ours)]
        assert not real, real
    """)
    assert result.returncode == 0, result.stderr
    assert "nivox" in result.stdout and "nibabel.not_a_module" in result.stdout


def test_refuses_when_real_nibabel_was_imported_first():
    pytest.importorskip("nibabel")
    result = run_python("""
        import nibabel
        import nivox
        from nivox.nibabel_alias import NibabelAlreadyImportedError
        from nivox.errors import NivoxError
        try:
            nivox.install_as_nibabel()
        except NibabelAlreadyImportedError as err:
            assert isinstance(err, NivoxError) and isinstance(err, RuntimeError)
            print("refused")
        import os
        assert not nibabel.__file__.startswith(os.path.dirname(nivox.__file__) + os.sep)
        assert nibabel.__file__.endswith(os.path.join("nibabel", "__init__.py"))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "refused"


def test_install_is_idempotent_and_uninstall_forgets_names():
    result = run_python("""
        import sys
        import nivox
        from nivox.nibabel_alias import is_installed_as_nibabel, uninstall_as_nibabel
        nivox.install_as_nibabel()
        nivox.install_as_nibabel()
        import nibabel.funcs
        assert is_installed_as_nibabel()
        uninstall_as_nibabel()
        assert not is_installed_as_nibabel()
        assert not [n for n in sys.modules if n.split(".")[0] == "nibabel"]
    """)
    assert result.returncode == 0, result.stderr


def test_sitecustomize_recipe_from_the_readme(tmp_path):
    # the README's recipe, verbatim in spirit: a sitecustomize that reads NIVOX_AS_NIBABEL
    (tmp_path / "sitecustomize.py").write_text(textwrap.dedent("""
        import os
        if os.environ.get("NIVOX_AS_NIBABEL") == "1":
            import nivox
            nivox.install_as_nibabel()
    """))
    client = """
        # client code as a library that knows only nibabel writes it
        import numpy as np
        import nibabel as nib
        from nibabel.processing import smooth_image
        img = nib.Nifti1Image(np.arange(24, dtype=np.float32).reshape(2, 3, 4), np.eye(4))
        assert type(img).__module__.startswith("nivox.")
        smoothed = smooth_image(img, 0)
        print(type(nib.load).__module__, nib.load.__module__)
    """
    result = run_python(client, env={"PYTHONPATH": str(tmp_path), "NIVOX_AS_NIBABEL": "1"})
    assert result.returncode == 0, result.stderr
    assert "nivox.loadsave" in result.stdout
