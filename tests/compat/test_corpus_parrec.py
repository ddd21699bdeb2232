"""Every PAR/REC file of the corpus: nivox reads what nibabel reads, identically; refuses what nibabel refuses.

Headers are compared for every PAR (with and without ``strict_sort`` and
``permit_truncated``); images and data wherever the REC file is there too.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

import nivox
from nivox.errors import NivoxError
from nivox.parrec import PARRECHeader

nib = pytest.importorskip("nibabel")
from nibabel import parrec as nib_parrec  # noqa: E402


def _par_files() -> list[Path]:
    location = os.environ.get("NIVOX_CORPUS")
    if not location or not Path(location).is_dir():
        return []
    found = []
    for dirpath, _, names in os.walk(location):
        found += [Path(dirpath) / name for name in names if name.lower().endswith(".par")]
    return sorted(found)


PARS = _par_files()
IDS = [f"{p.parent.name}/{p.name}" for p in PARS]


def _rec_of(par: Path) -> Path | None:
    for ext in (".REC", ".rec"):
        if par.with_suffix(ext).exists():
            return par.with_suffix(ext)
    return None


def _quiet(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args, **kwargs)


def _header(module, par: Path, **options):
    with open(par) as fobj:
        return module.PARRECHeader.from_fileobj(fobj, **options)


def _assert_same_header(ours, theirs) -> None:
    assert set(ours.general_info) == set(theirs.general_info)
    for key, value in theirs.general_info.items():
        np.testing.assert_array_equal(ours.general_info[key], value, err_msg=key)
    assert ours.image_defs.dtype == theirs.image_defs.dtype
    for name in theirs.image_defs.dtype.names:
        np.testing.assert_array_equal(ours.image_defs[name], theirs.image_defs[name], err_msg=name)
    assert ours.get_data_shape() == theirs.get_data_shape()
    assert ours.get_data_dtype() == theirs.get_data_dtype()
    assert ours.get_zooms() == theirs.get_zooms()
    np.testing.assert_array_equal(ours.get_sorted_slice_indices(), theirs.get_sorted_slice_indices())
    for method in ("dv", "fp"):
        for a, b in zip(ours.get_data_scaling(method), theirs.get_data_scaling(method)):
            np.testing.assert_array_equal(a, b)
    assert list(ours.get_volume_labels()) == list(theirs.get_volume_labels())
    for key, value in theirs.get_volume_labels().items():
        np.testing.assert_array_equal(ours.get_volume_labels()[key], value)
    for a, b in zip(_quiet(ours.get_bvals_bvecs), _quiet(theirs.get_bvals_bvecs)):
        if b is None:
            assert a is None
        else:
            np.testing.assert_array_equal(a, b)
    assert ours.get_water_fat_shift() == theirs.get_water_fat_shift()
    assert ours.get_echo_train_length() == theirs.get_echo_train_length()
    assert ours.as_analyze_map() == theirs.as_analyze_map()
    try:
        their_affine = {origin: theirs.get_affine(origin=origin) for origin in ("scanner", "fov")}
        assert ours.get_slice_orientation() == theirs.get_slice_orientation()
    except Exception:
        with pytest.raises(NivoxError):
            ours.get_affine()
        return
    for origin, affine in their_affine.items():
        np.testing.assert_array_equal(ours.get_affine(origin=origin), affine)


@pytest.mark.skipif(not PARS, reason="NIVOX_CORPUS is not set or holds no PAR files")
@pytest.mark.parametrize("par", PARS, ids=IDS)
@pytest.mark.parametrize("options", [{}, {"strict_sort": True}, {"permit_truncated": True}],
                         ids=["default", "strict", "permit"])
def test_header_same_as_nibabel(par, options):
    try:
        theirs = _quiet(_header, nib_parrec, par, **options)
    except Exception:
        with pytest.raises(NivoxError):
            _quiet(_header, nivox.parrec, par, **options)
        return
    ours = _quiet(_header, nivox.parrec, par, **options)
    assert isinstance(ours, PARRECHeader)
    _assert_same_header(ours, theirs)


@pytest.mark.skipif(not PARS, reason="NIVOX_CORPUS is not set or holds no PAR files")
@pytest.mark.parametrize("par", [p for p in PARS if _rec_of(p)], ids=[i for p, i in zip(PARS, IDS) if _rec_of(p)])
@pytest.mark.parametrize("scaling", ["dv", "fp"])
def test_image_same_as_nibabel(par, scaling):
    try:
        theirs = _quiet(nib.load, par, scaling=scaling)
        their_data = np.asanyarray(theirs.dataobj)
    except Exception:
        with pytest.raises(NivoxError) as caught:
            np.asanyarray(_quiet(nivox.load, par, scaling=scaling).dataobj)
        assert par.name in str(caught.value)
        return
    ours = _quiet(nivox.load, par, scaling=scaling)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.shape == theirs.shape
    assert ours.get_data_dtype() == theirs.get_data_dtype()
    np.testing.assert_array_equal(ours.affine, theirs.affine)
    assert ours.header.get_zooms() == theirs.header.get_zooms()
    data = np.asanyarray(ours.dataobj)
    assert data.dtype == their_data.dtype
    np.testing.assert_array_equal(data, their_data)
    np.testing.assert_array_equal(ours.dataobj.get_unscaled(), theirs.dataobj.get_unscaled())
    np.testing.assert_array_equal(ours.get_fdata(dtype=np.float32), theirs.get_fdata(dtype=np.float32))
    # and from the REC name
    np.testing.assert_array_equal(np.asanyarray(_quiet(nivox.load, _rec_of(par), scaling=scaling).dataobj),
                                  their_data)
    if ours.ndim == 4:
        np.testing.assert_array_equal(ours.dataobj[..., -1], theirs.dataobj[..., -1])
    np.testing.assert_array_equal(ours.dataobj[:, 3:9:2, 1], theirs.dataobj[:, 3:9:2, 1])


@pytest.mark.skipif(not PARS, reason="NIVOX_CORPUS is not set or holds no PAR files")
@pytest.mark.parametrize("par", [p for p in PARS if _rec_of(p)], ids=[i for p, i in zip(PARS, IDS) if _rec_of(p)])
def test_strict_sort_image_same_as_nibabel(par):
    try:
        theirs = np.asanyarray(_quiet(nib.load, par, strict_sort=True, permit_truncated=True).dataobj)
    except Exception:
        with pytest.raises(NivoxError):
            np.asanyarray(_quiet(nivox.load, par, strict_sort=True, permit_truncated=True).dataobj)
        return
    ours = np.asanyarray(_quiet(nivox.load, par, strict_sort=True, permit_truncated=True).dataobj)
    np.testing.assert_array_equal(ours, theirs)
