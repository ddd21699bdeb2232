"""nivox.streamlines against nibabel.streamlines: the same files read the same, both ways.

Generated tractograms (hypothesis: counts, lengths down to 1 point, data per
point and per streamline, affines) are written by one library and read by the
other, and every .trk/.tck of the corpus is read by both.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nivox.streamlines as nvs
from nivox.errors import NivoxError

nib = pytest.importorskip("nibabel")
nbs = nib.streamlines

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@st.composite
def tractograms(draw: st.DrawFn, with_data: bool = True) -> dict:
    n = draw(st.integers(0, 12))
    lengths = draw(st.lists(st.integers(1, 9), min_size=n, max_size=n))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    streamlines = [(rng.standard_normal((m, 3)) * 40).astype(np.float32) for m in lengths]
    dpp, dps = {}, {}
    if with_data and n:
        for i in range(draw(st.integers(0, 2))):
            width = draw(st.integers(1, 3))
            dpp[f"p{i}"] = [rng.standard_normal((m, width)).astype(np.float32) for m in lengths]
        for i in range(draw(st.integers(0, 2))):
            width = draw(st.integers(1, 3))
            dps[f"s{i}"] = rng.standard_normal((n, width)).astype(np.float32)
    sizes = draw(st.sampled_from([(1.0, 1.0, 1.0), (2.0, 2.0, 2.0), (1.25, 0.8, 3.0)]))
    order = draw(st.sampled_from(["RAS", "LPS", "LAS", "PIR"]))
    return {"streamlines": streamlines, "dpp": dpp, "dps": dps, "voxel_sizes": sizes,
            "voxel_order": order, "dims": (40, 50, 30)}


def _vox_to_ras(spec: dict) -> np.ndarray:
    aff = np.diag([*spec["voxel_sizes"], 1.0])
    aff[:3, 3] = [-20, -30, 10]
    return aff


def _trk_header(spec: dict, lib) -> dict:
    return {lib.Field.VOXEL_SIZES: np.array(spec["voxel_sizes"], np.float32),
            lib.Field.DIMENSIONS: np.array(spec["dims"], np.int16),
            lib.Field.VOXEL_TO_RASMM: _vox_to_ras(spec).astype(np.float32),
            lib.Field.VOXEL_ORDER: spec["voxel_order"].encode()}


def _build(lib, spec: dict, ext: str):
    data = spec if ext == ".trk" else {**spec, "dpp": {}, "dps": {}}
    return lib.Tractogram(data["streamlines"], data["dps"] or None, data["dpp"] or None,
                          affine_to_rasmm=np.eye(4))


def _same(a, b, rtol: float = 1e-6, atol: float = 2e-4) -> None:
    """Tractograms equal up to float32 rounding of the voxmm round trip."""
    sa = [np.asarray(s) for s in a.streamlines]
    sb = [np.asarray(s) for s in b.streamlines]
    assert [len(s) for s in sa] == [len(s) for s in sb]
    for x, y in zip(sa, sb):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)
    assert sorted(a.data_per_point) == sorted(b.data_per_point)
    assert sorted(a.data_per_streamline) == sorted(b.data_per_streamline)
    for k in a.data_per_point:
        for x, y in zip(a.data_per_point[k], b.data_per_point[k]):
            np.testing.assert_array_equal(np.asarray(x, np.float32), np.asarray(y, np.float32))
    for k in a.data_per_streamline:
        np.testing.assert_array_equal(np.asarray(a.data_per_streamline[k], np.float32),
                                      np.asarray(b.data_per_streamline[k], np.float32))


@pytest.mark.parametrize("ext", [".trk", ".tck"])
@pytest.mark.parametrize("writer,reader", [("nibabel", "nivox"), ("nivox", "nibabel"), ("nivox", "nivox")])
@SETTINGS
@given(spec=tractograms())
def test_round_trip(tmp_path_factory, ext: str, writer: str, reader: str, spec: dict) -> None:
    path = tmp_path_factory.mktemp("rt") / f"t{ext}"
    wlib = nbs if writer == "nibabel" else nvs
    rlib = nbs if reader == "nibabel" else nvs
    kwargs = {"header": _trk_header(spec, wlib)} if ext == ".trk" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wlib.save(_build(wlib, spec, ext), str(path), **kwargs)
        back = rlib.load(str(path))
        # what the writer itself reads back is the reference (both libraries round to float32)
        ref = nbs.load(str(path))
    _same(back.tractogram, ref.tractogram, rtol=0, atol=0)
    _same(back.tractogram, _build(nvs, spec, ext))
    if ext == ".trk":
        np.testing.assert_array_equal(back.header[nvs.Field.VOXEL_TO_RASMM], ref.header["voxel_to_rasmm"])
        assert back.header[nvs.Field.VOXEL_ORDER] == ref.header["voxel_order"]


@pytest.mark.parametrize("ext", [".trk", ".tck"])
@SETTINGS
@given(spec=tractograms())
def test_same_bytes_as_nibabel(tmp_path_factory, ext: str, spec: dict) -> None:
    """nivox writes the bytes nibabel writes for the same tractogram and header."""
    folder = tmp_path_factory.mktemp("bytes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lib, name in ((nbs, "a"), (nvs, "b")):
            kwargs = {"header": _trk_header(spec, lib)} if ext == ".trk" else {}
            lib.save(_build(lib, spec, ext), str(folder / f"{name}{ext}"), **kwargs)
    a = (folder / f"a{ext}").read_bytes()
    b = (folder / f"b{ext}").read_bytes()
    if ext == ".tck":
        assert a == b
        return
    # TRK: same header; points may differ in the last bit (float64 vs blocked maths)
    assert a[:1000] == b[:1000]
    assert len(a) == len(b)
    fa = np.frombuffer(a[1000:], "<f4")
    fb = np.frombuffer(b[1000:], "<f4")
    np.testing.assert_allclose(fa, fb, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("ext", [".trk", ".tck"])
@SETTINGS
@given(spec=tractograms())
def test_lazy_matches_eager(tmp_path_factory, ext: str, spec: dict) -> None:
    path = tmp_path_factory.mktemp("lazy") / f"t{ext}"
    kwargs = {"header": _trk_header(spec, nvs)} if ext == ".trk" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nvs.save(_build(nvs, spec, ext), str(path), **kwargs)
        eager = nvs.load(str(path)).tractogram
        lazy = nvs.load(str(path), lazy_load=True).tractogram
        # .streamlines carries the pending voxmm -> RAS+ transform (iterating the items
        # gives the stored points, as in nibabel)
        points = [s for s in lazy.streamlines]
        per_point = {k: list(lazy.data_per_point[k]) for k in lazy.data_per_point}
    assert len(points) == len(eager)
    for p, s in zip(points, eager.streamlines):
        np.testing.assert_allclose(p, s, rtol=1e-6, atol=1e-5)
    assert per_point.keys() == set(eager.data_per_point)
    for k in eager.data_per_point:
        for p, v in zip(per_point[k], eager.data_per_point[k]):
            np.testing.assert_array_equal(p, v)
    # a lazy tractogram saves to the same file
    again = path.with_name("again" + ext)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nvs.save(nvs.load(str(path), lazy_load=True).tractogram, str(again), **kwargs)
    if ext == ".tck":
        assert again.read_bytes() == path.read_bytes()
    else:
        _same(nvs.load(str(again)).tractogram, eager)


def _corpus_tractograms() -> list[Path]:
    location = os.environ.get("NIVOX_CORPUS")
    if not location or not Path(location).is_dir():
        return []
    out = []
    for dirpath, _, names in os.walk(location):
        out += [Path(dirpath) / n for n in names if n.lower().endswith((".trk", ".tck"))]
    return sorted(out)


CORPUS = _corpus_tractograms()


@pytest.mark.skipif(not CORPUS, reason="NIVOX_CORPUS is not set (or holds no .trk/.tck files)")
@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
@pytest.mark.parametrize("lazy", [False, True])
def test_corpus_reads_like_nibabel(path: Path, lazy: bool) -> None:
    def read(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = lib.load(str(path), lazy_load=lazy)
            items = [(np.asarray(i.streamline), {k: np.asarray(v) for k, v in i.data_for_points.items()},
                      {k: np.asarray(v) for k, v in i.data_for_streamline.items()}) for i in t.tractogram]
        return t, items

    try:
        ref, ref_items = read(nbs)
    except Exception as err:  # nibabel refuses it: nivox must refuse it with a NivoxError naming it
        with pytest.raises(NivoxError, match=path.name):
            read(nvs)
        return
    got, got_items = read(nvs)
    assert len(got_items) == len(ref_items)
    for (p1, d1, s1), (p2, d2, s2) in zip(got_items, ref_items):
        np.testing.assert_array_equal(p1, p2)
        assert d1.keys() == d2.keys() and s1.keys() == s2.keys()
        for k in d1:
            np.testing.assert_array_equal(d1[k], d2[k])
        for k in s1:
            np.testing.assert_array_equal(s1[k], s2[k])
    # the streamlines (with lazy loading: the pending voxmm -> RAS+ transform) are bitwise nibabel's
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for a, b in zip(got.streamlines, ref.streamlines):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for key, value in ref.header.items():
        if key.startswith("_"):
            continue
        np.testing.assert_array_equal(np.asarray(got.header[key]), np.asarray(value), err_msg=key)
