"""Converting between NIfTI/Analyze/SPM classes and saving after load: nivox writes what nibabel writes.

Each case is done twice, once with nivox and once with nibabel, from the same file; both results
are read back with nibabel and compared field by field (codes, quaternion, qfac, offsets, sform,
pixdim, shape, dtype, affine, data). The only allowed difference is nivox's exact integers: float
data holding whole numbers are stored unscaled, so nivox's values must be at least as close to
the source as nibabel's.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

import nivox

nib = pytest.importorskip("nibabel")

CLASSES = ["AnalyzeImage", "Spm99AnalyzeImage", "Spm2AnalyzeImage", "Nifti1Pair", "Nifti1Image",
           "Nifti2Pair", "Nifti2Image"]
EXTENSION = {"AnalyzeImage": ".img", "Spm99AnalyzeImage": ".img", "Spm2AnalyzeImage": ".img",
             "Nifti1Pair": ".img", "Nifti1Image": ".nii", "Nifti2Pair": ".img", "Nifti2Image": ".nii"}
# header fields whose values must match exactly (where the header has them)
FIELDS = ["dim", "pixdim", "datatype", "bitpix", "qform_code", "sform_code", "quatern_b", "quatern_c",
          "quatern_d", "qoffset_x", "qoffset_y", "qoffset_z", "srow_x", "srow_y", "srow_z",
          "xyzt_units", "dim_info", "intent_code", "descrip", "origin", "glmin"]

LAS = np.array([[-2.0, 0, 0, 90], [0, 2.0, 0, -126], [0, 0, 2.5, -72], [0, 0, 0, 1]])
SHEARED = np.array([[-2.0, 0.3, 0, 90], [0.1, 2.0, 0, -126], [0, 0.2, 2.5, -72], [0, 0, 0, 1]])


def _generated(kind: str, path: Path) -> Path:
    """Write one source file with nibabel; ``kind`` says which header case it is."""
    rng = np.random.default_rng(len(kind))
    data = rng.integers(-200, 3000, size=(5, 6, 4, 3)).astype(np.int16)
    hdr = nib.Nifti1Header()
    hdr.set_data_dtype(np.int16)
    img = nib.Nifti1Image(data, None, hdr)
    h = img.header
    h.set_zooms((2.0, 2.0, 2.5, 1.7))  # 1.7: a TR that conversions must keep
    h.set_xyzt_units("mm", "sec")
    h["descrip"] = kind
    if kind == "qform_only":  # codes 1/0, left-handed (pixdim[0] = -1)
        img.set_qform(LAS, code="scanner")
        img.set_sform(None, code=0)
    elif kind == "sform_only_lhs_qform":  # code-0 qform with stored, left-handed values
        img.set_qform(LAS, code="unknown")
        img.set_sform(LAS, code="aligned")
    elif kind == "no_codes":  # 0/0: the affine comes from the zooms
        img.set_qform(LAS, code=0)
        img.set_sform(None, code=0)
    elif kind == "sheared":  # sform with shears; zooms must stay the header's
        img.set_qform(LAS, code="scanner")
        img.set_sform(SHEARED, code="mni")
    elif kind == "scaled_float":  # a file whose int16 values are scaled
        img = nib.Nifti1Image(data.astype(np.float32) * 0.37 + 5, LAS)
        img.set_data_dtype(np.int16)
    elif kind == "whole_float":  # float data stored as float; saved back as int16 below
        img = nib.Nifti1Image(data.astype(np.float64), LAS)
        img.set_data_dtype(np.float32)
    out = path / f"{kind}.nii"
    nib.save(img, out)
    return out


GENERATED = ["qform_only", "sform_only_lhs_qform", "no_codes", "sheared", "scaled_float", "whole_float"]


def _quiet(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args, **kwargs)


def _run(lib, source: Path, klass: str, out: Path, mode: str):
    """Load ``source`` with ``lib`` and write it to ``out`` as ``klass``; the exception if refused."""
    img = lib.load(source)
    try:
        if mode == "from_image":
            new = getattr(lib, klass).from_image(img)
        else:  # "rebuild": the pattern of user scripts, Class(data, img.affine, img.header)
            new = getattr(lib, klass)(np.asanyarray(img.dataobj), img.affine, img.header)
        new.to_filename(out)
    except Exception as err:  # noqa: BLE001 - compared with what the other library does
        return err
    return None


def _compare(source: Path, klass: str, tmp: Path, mode: str) -> None:
    mine, theirs = tmp / "nivox", tmp / "nibabel"
    mine.mkdir(exist_ok=True)
    theirs.mkdir(exist_ok=True)
    name = source.name.split(".")[0] + EXTENSION[klass]
    my_error = _quiet(_run, nivox, source, klass, mine / name, mode)
    their_error = _quiet(_run, nib, source, klass, theirs / name, mode)
    if their_error is not None:
        assert my_error is not None, f"nibabel refused ({their_error!r}), nivox wrote a file"
        return
    assert my_error is None, f"nivox refused ({my_error!r}), nibabel wrote a file"
    my_back = _quiet(getattr(nib, klass).from_filename, mine / name)
    their_back = _quiet(getattr(nib, klass).from_filename, theirs / name)
    my_hdr, their_hdr = my_back.header, their_back.header
    for field in FIELDS:
        if field in their_hdr:
            np.testing.assert_array_equal(my_hdr[field], their_hdr[field], err_msg=field)
    np.testing.assert_allclose(my_back.affine, their_back.affine, atol=1e-6)
    assert my_back.shape == their_back.shape
    original = _quiet(nib.load, source).get_fdata()
    my_data, their_data = my_back.get_fdata(), their_back.get_fdata()
    np.testing.assert_array_equal(np.isnan(my_data), np.isnan(their_data))
    finite = np.isfinite(original) & np.isfinite(their_data)
    if finite.any():
        their_error_max = np.max(np.abs(their_data - original)[finite])
        assert np.max(np.abs(my_data - original)[finite]) <= their_error_max + 1e-6


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sources")
    return {kind: _generated(kind, root) for kind in GENERATED}


@pytest.mark.parametrize("kind", GENERATED)
@pytest.mark.parametrize("klass", CLASSES)
def test_from_image_matches_nibabel(sources: dict[str, Path], kind: str, klass: str, tmp_path: Path) -> None:
    _compare(sources[kind], klass, tmp_path, "from_image")


@pytest.mark.parametrize("kind", GENERATED)
@pytest.mark.parametrize("klass", ["Nifti1Image", "Nifti1Pair", "Nifti2Image"])
def test_rebuild_with_header_matches_nibabel(sources: dict[str, Path], kind: str, klass: str,
                                             tmp_path: Path) -> None:
    _compare(sources[kind], klass, tmp_path, "rebuild")


@pytest.mark.parametrize("source_class", CLASSES)
@pytest.mark.parametrize("klass", CLASSES)
def test_every_pair_of_classes(sources: dict[str, Path], source_class: str, klass: str,
                               tmp_path: Path) -> None:
    """Source in every class (written by nibabel from the left-handed qform file), then converted."""
    staged = tmp_path / "staged"
    staged.mkdir()
    img = _quiet(nib.load, sources["sform_only_lhs_qform"])
    source = staged / ("src" + EXTENSION[source_class])
    _quiet(getattr(nib, source_class).from_image(img).to_filename, source)
    _compare(source, klass, tmp_path, "from_image")


def _corpus_files() -> list[Path]:
    location = os.environ.get("NIVOX_CORPUS")
    if not location or not Path(location).is_dir():
        return []
    manifest = Path(location) / "MANIFEST.tsv"
    found = []
    for line in manifest.read_text().splitlines()[1:]:
        relpath, size, _, tier = line.split("\t")[:4]
        # small enough to convert seven ways in a test run
        if tier == "core" and relpath.endswith((".nii", ".nii.gz", ".hdr")) and int(size) < 2_000_000:
            found.append(Path(location) / relpath)
    return found


@pytest.mark.skipif(not _corpus_files(), reason="NIVOX_CORPUS is not set: corpus conversions not checked")
@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: str(p.name))
@pytest.mark.parametrize("klass", ["Nifti1Image", "Nifti1Pair", "Nifti2Image", "Spm2AnalyzeImage"])
def test_corpus_conversions_match_nibabel(path: Path, klass: str, tmp_path: Path) -> None:
    try:
        _quiet(nib.load, path).get_fdata()
    except Exception:  # noqa: BLE001 - files nibabel cannot read are test_corpus_nifti's business
        pytest.skip("nibabel does not read this file")
    if type(_quiet(nib.load, path)).__name__ not in CLASSES:
        pytest.skip("not a NIfTI/Analyze file for nibabel")
    _compare(path, klass, tmp_path, "from_image")
    if klass.startswith("Nifti"):
        _compare(path, klass, tmp_path, "rebuild")
