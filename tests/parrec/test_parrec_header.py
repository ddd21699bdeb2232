"""PAR parsing and PARRECHeader: volume bookkeeping, sorting, errors, against nibabel where it reads."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from suites.parrec_files import ParSpec, make_parrec

from nivox.errors import PARRECError
from nivox.parrec import (
    PARRECHeader,
    image_def_dtype,
    parse_PAR_header,
    supported_versions,
    vol_is_full,
    vol_numbers,
)

nib_parrec = pytest.importorskip("nibabel.parrec")


def _parse(par: bytes):
    return parse_PAR_header(io.BytesIO(par))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 6), max_size=40))
def test_vol_numbers_and_vol_is_full_match_nibabel(slice_nos):
    assert vol_numbers(slice_nos) == nib_parrec.vol_numbers(slice_nos)
    for top in (6, 7):
        np.testing.assert_array_equal(vol_is_full(slice_nos, top), nib_parrec.vol_is_full(slice_nos, top))


def test_vol_is_full_bounds():
    with pytest.raises(ValueError):
        vol_is_full([0, 1, 2], 2)
    with pytest.raises(ValueError):
        vol_is_full([1, 2, 3], 3, 2)
    # a huge announced slice count costs nothing (no set of all slice numbers is built)
    assert not vol_is_full([1, 2], 10**15).any()


@pytest.mark.parametrize("version", supported_versions)
def test_versions_parse_like_nibabel(version):
    par = make_parrec(version=version, diffusion=version != "V4", dynamic=version == "V4", n_vols=4)[0]
    ours = _parse(par)
    theirs = nib_parrec.parse_PAR_header(io.StringIO(par.decode()))
    assert ours[0].keys() == theirs[0].keys()
    assert ours[1].dtype == theirs[1].dtype
    for name in ours[1].dtype.names:
        np.testing.assert_array_equal(ours[1][name], theirs[1][name])
    if version == "V4.2":
        assert ours[1].dtype == image_def_dtype


def test_text_and_binary_sources_same():
    par = make_parrec()[0]
    a = _parse(par)
    b = parse_PAR_header(io.StringIO(par.decode()))
    assert a[0].keys() == b[0].keys()
    assert a[1].tobytes() == b[1].tobytes()


def test_unknown_version_read_by_column_count():
    par = make_parrec(version="V4.1")[0].replace(b"export tool     V4.1", b"export tool     V4.9")
    with pytest.warns(UserWarning, match="V4.9.*as V4.1"):
        info, defs = _parse(par)
    assert "diffusion b value number" in defs.dtype.names
    assert "label type" not in defs.dtype.names


def test_unknown_general_key_warned_not_fatal():
    spec = ParSpec(extra_general=[".    Brand new field                    :   42"])
    with pytest.warns(UserWarning, match="Brand new field"):
        info, _ = _parse(make_parrec(spec)[0])
    assert "max_slices" in info


@pytest.mark.parametrize("change, message", [
    ((b"Max. number of slices/locations    :   4", b"Max. number of slices/locations    :   four"), "four"),
    ((b"FOV (ap,fh,rl) [mm]", b"FOV (ap,fh,rl) [mm]"), None),
])
def test_bad_general_values(change, message):
    par = make_parrec()[0].replace(*change)
    if message is None:
        _parse(par)
        return
    with pytest.raises(PARRECError, match=message):
        _parse(par)


def test_short_image_line_named():
    par = make_parrec()[0]
    lines = par.split(b"\n")
    index = next(i for i, line in enumerate(lines) if line.strip()[:1].isdigit())
    lines[index] = b" ".join(lines[index].split()[:20])
    with pytest.raises(PARRECError, match=f"line {index + 1}"):
        _parse(b"\n".join(lines))


def test_bad_number_in_image_line_named():
    par = make_parrec()[0]
    lines = par.split(b"\n")
    index = next(i for i, line in enumerate(lines) if line.strip()[:1].isdigit())
    tokens = lines[index].split()
    tokens[7] = b"sixteen"
    lines[index] = b"  ".join(tokens)
    with pytest.raises(PARRECError, match=f"line {index + 1}.*sixteen|sixteen.*line {index + 1}"):
        _parse(b"\n".join(lines))


def test_missing_required_general_info():
    info, defs = _parse(make_parrec()[0])
    del info["max_slices"]
    with pytest.raises(PARRECError, match="Max. number of slices"):
        PARRECHeader(info, defs)
    info, defs = _parse(make_parrec()[0])
    del info["angulation"]
    hdr = PARRECHeader(info, defs)
    with pytest.raises(PARRECError, match="Angulation"):
        hdr.get_affine()


def test_no_image_lines_or_no_complete_volume():
    info, defs = _parse(make_parrec()[0])
    with pytest.raises(PARRECError, match="no image lines"):
        PARRECHeader(info, defs[:0])
    with pytest.raises(PARRECError, match="no complete volume"):
        PARRECHeader(info, defs[:2], permit_truncated=True)


def test_bitpix_and_orientation_codes():
    info, defs = _parse(make_parrec()[0])
    bad = defs.copy()
    bad["image pixel size"] = 32
    with pytest.raises(PARRECError, match="32"):
        PARRECHeader(info, bad)
    hdr = PARRECHeader(info, defs)
    hdr.image_defs["slice orientation"] = 7
    with pytest.raises(PARRECError, match="orientation"):
        hdr.get_affine()


def test_affine_origin_values():
    info, defs = _parse(make_parrec(off_center=(10, 20, 30))[0])
    hdr = PARRECHeader(info, defs)
    scanner, fov = hdr.get_affine(), hdr.get_affine(origin="fov")
    np.testing.assert_allclose(scanner[:3, :3], fov[:3, :3])
    # the off-centre (ap, fh, rl) in RAS is (-rl, -ap, fh)
    np.testing.assert_allclose(scanner[:3, 3] - fov[:3, 3], [-30, -10, 20])
    with pytest.raises(ValueError):
        hdr.get_affine(origin="centre")


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([1, 2, 3]), st.tuples(*[st.floats(-40, 40, allow_nan=False)] * 3),
       st.tuples(*[st.floats(-50, 50, allow_nan=False)] * 3), st.sampled_from(["V4", "V4.1", "V4.2"]))
def test_affine_matches_nibabel_oblique(orientation, angulation, off_center, version):
    par = make_parrec(orientation=orientation, angulation=angulation, off_center=off_center, version=version)[0]
    ours = PARRECHeader(*_parse(par))
    theirs = nib_parrec.PARRECHeader(*nib_parrec.parse_PAR_header(io.StringIO(par.decode())))
    for origin in ("scanner", "fov"):
        np.testing.assert_allclose(ours.get_affine(origin), theirs.get_affine(origin), rtol=1e-12, atol=1e-10)


def test_bvals_bvecs_rotated_to_voxel_axes():
    for orientation in (1, 2, 3):
        par, _, _, facts = make_parrec(version="V4.2", diffusion=True, dynamic=False, n_vols=4,
                                       orientation=orientation)
        hdr = PARRECHeader(*_parse(par))
        bvals, bvecs = hdr.get_bvals_bvecs()
        np.testing.assert_allclose(bvals, facts["bvals"])
        theirs = nib_parrec.PARRECHeader(*nib_parrec.parse_PAR_header(io.StringIO(par.decode())))
        np.testing.assert_allclose(bvecs, theirs.get_bvals_bvecs()[1])
        np.testing.assert_allclose(np.linalg.norm(bvecs[1:], axis=1), 1, atol=2e-3)
        np.testing.assert_allclose(hdr.get_q_vectors(), bvecs * bvals[:, None])


def test_bvals_differing_within_volume_refused():
    par = make_parrec(version="V4.2", diffusion=True, dynamic=False, n_vols=3)[0]
    info, defs = _parse(par)
    defs["diffusion_b_factor"][1] = 7.0
    with pytest.raises(PARRECError, match="b-values"):
        PARRECHeader(info, defs).get_bvals_bvecs()


def test_volume_labels_and_sidecar_facts():
    par = make_parrec(n_vols=3)[0]
    hdr = PARRECHeader(*_parse(par))
    labels = hdr.get_volume_labels()
    assert list(labels) == ["dynamic scan number"]
    np.testing.assert_array_equal(labels["dynamic scan number"], [1, 2, 3])
    assert hdr.get_water_fat_shift() == 7.25
    assert hdr.get_echo_train_length() == 39
    assert hdr.get_data_offset() == 0
    assert hdr.as_analyze_map()["descr"] == "exam;synthetic;2026.01.02/03:04:05;proto"
