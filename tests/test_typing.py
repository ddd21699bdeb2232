"""Type checkers see nivox's real API: ``nib.load(...).affine`` type-checks (a common nibabel complaint)."""

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("mypy")

USER_CODE = textwrap.dedent(
    '''
    import numpy as np
    import nivox as nib

    img = nib.load("x.nii.gz")
    affine = img.affine
    data = img.get_fdata(dtype=np.float32)
    shape: tuple[int, ...] = img.shape
    new = nib.Nifti1Image(data, affine)
    new.header.set_xyzt_units("mm")
    nib.save(new, "y.nii")
    reveal_type(img)
    '''
)


def test_mypy_accepts_typical_user_code(tmp_path):
    script = tmp_path / "user.py"
    script.write_text(USER_CODE)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--cache-dir", str(tmp_path / "cache"),
         str(script)],
        capture_output=True, text=True,
    )
    lines = [line for line in result.stdout.splitlines() if "error" in line]
    assert lines == [], result.stdout
    assert "SpatialImage" in result.stdout  # load is typed, not Any


def test_package_is_marked_typed():
    from importlib import resources

    assert resources.files("nivox").joinpath("py.typed").is_file()
