"""The example images shipped in nivox.testing: reproducible, small, and what they claim to be."""

import gzip
import os
import runpy
import struct
from pathlib import Path

import numpy as np
import pytest

import nivox
from nivox.testing import data_path, example_files

GENERATOR = Path(__file__).resolve().parents[2] / "scripts" / "make_example_data.py"
DATA = Path(data_path)


def gzip_payload(path):
    with gzip.open(path, "rb") as fobj:
        return fobj.read()


def gzip_header(path):
    """(flags, mtime) from the fixed 10-byte gzip member header."""
    head = Path(path).read_bytes()[:10]
    assert head[:2] == b"\x1f\x8b", f"{path} is not gzip"
    flags, mtime = struct.unpack("<BI", head[3:8])
    return flags, mtime


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    if not GENERATOR.is_file():
        pytest.skip(f"{GENERATOR} not present (installed package, not a source tree)")
    out = tmp_path_factory.mktemp("example_data")
    namespace = runpy.run_path(str(GENERATOR), run_name="make_example_data")
    assert namespace["main"]([str(out)]) == 0
    return out


def test_shipped_files_listed_and_present():
    shipped = sorted(p.name for p in DATA.iterdir() if p.is_file())
    assert shipped == sorted(example_files)


def test_total_size_well_under_1mb():
    total = sum(p.stat().st_size for p in DATA.iterdir() if p.is_file())
    assert total < 600_000, f"example data grew to {total} bytes"


def test_generator_reproduces_shipped_files(regenerated):
    made = sorted(p.name for p in regenerated.iterdir())
    assert made == sorted(example_files)
    for name in made:
        fresh, shipped = regenerated / name, DATA / name
        if name.endswith(".gz"):
            # compressed bytes depend on the gzip backend installed (isal, zlib-ng, zlib),
            # so compare what the streams hold, and that neither carries a timestamp
            assert gzip_payload(fresh) == gzip_payload(shipped), f"{name} differs from generator"
            for path in (fresh, shipped):
                flags, mtime = gzip_header(path)
                assert mtime == 0, f"{path} has a gzip timestamp"
                assert not flags & 0x08, f"{path} stores a file name"
        else:
            assert fresh.read_bytes() == shipped.read_bytes(), f"{name} differs from generator"


def test_generator_is_deterministic_across_runs(regenerated, tmp_path):
    namespace = runpy.run_path(str(GENERATOR), run_name="make_example_data")
    assert namespace["main"]([str(tmp_path)]) == 0
    for name in example_files:
        assert (tmp_path / name).read_bytes() == (regenerated / name).read_bytes(), name


def test_example4d_has_what_it_promises():
    img = nivox.load(DATA / "example4d.nii.gz")
    header = img.header
    assert len(img.shape) == 4 and img.shape[3] >= 2
    assert img.get_data_dtype() == np.int16
    assert img.dataobj.slope != 1.0 or img.dataobj.inter != 0.0
    assert int(header["qform_code"]) > 0 and int(header["sform_code"]) > 0
    assert not np.allclose(header.get_qform(), header.get_sform())
    assert header.get_xyzt_units() == ("mm", "sec")
    assert header.get_zooms()[3] == pytest.approx(2.0)
    assert header.get_dim_info() == (0, 1, 2)
    assert header.get_slice_duration() == pytest.approx(0.1)
    times = header.get_slice_times()
    assert len(times) == img.shape[2] and None not in times
    assert len(header.extensions) == 1
    assert header.extensions[0].get_code() == 6  # comment


def test_other_examples_formats():
    anat = nivox.load(DATA / "anatomical.nii")
    assert anat.ndim == 3 and anat.get_data_dtype() in (np.uint8, np.int16)
    data = np.asanyarray(anat.dataobj)
    assert data.max() > data.min()
    assert isinstance(nivox.load(DATA / "analyze.hdr"), nivox.AnalyzeImage)
    assert (DATA / "analyze.img").stat().st_size == np.prod(
        nivox.load(DATA / "analyze.hdr").shape) * 2
    flt = nivox.load(DATA / "float32.nii.gz")
    assert flt.get_data_dtype() == np.float32
    nifti2 = nivox.load(DATA / "example_nifti2.nii.gz")
    assert type(nifti2).__name__ == "Nifti2Image"


@pytest.mark.parametrize("name", [n for n in example_files if n != "analyze.img"])
def test_nibabel_reads_examples_alike(name):
    nib = pytest.importorskip("nibabel")
    ours, theirs = nivox.load(DATA / name), nib.load(DATA / name)
    assert ours.shape == theirs.shape
    assert ours.get_data_dtype() == theirs.get_data_dtype()
    np.testing.assert_allclose(ours.affine, theirs.affine, atol=1e-6)
    np.testing.assert_array_equal(ours.get_fdata(), theirs.get_fdata())
