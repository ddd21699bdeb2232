"""TRK reading and writing: the record walk (vectorised and looped), gathering in place, bad files."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest

import nivox.streamlines as nvs
from nivox.errors import DataError, HeaderError
from nivox.streamlines import _trkrecords as records
from nivox.streamlines.trk import TrkFile, get_affine_trackvis_to_rasmm


def _records(lengths: list[int], k: int, m: int, rng: np.random.Generator, endian: str = "<"):
    """Record words written one by one (the plain definition of the layout)."""
    parts, pts, props = [], [], []
    for n in lengths:
        rows = rng.standard_normal((n, k)).astype(np.float32)
        pr = rng.standard_normal(m).astype(np.float32)
        parts += [np.array([n], endian + "i4").tobytes(), rows.astype(endian + "f4").tobytes(),
                  pr.astype(endian + "f4").tobytes()]
        pts.append(rows)
        props.append(pr)
    return b"".join(parts), pts, props


@pytest.mark.parametrize("k,m", [(3, 0), (5, 0), (3, 2), (4, 3)])
@pytest.mark.parametrize("lengths", [[1], [3, 1, 4, 1, 5, 9, 2, 6], [1] * 50, [200, 1, 2]])
def test_walk_vectorised_equals_loop(k: int, m: int, lengths: list[int]) -> None:
    raw, pts, _ = _records(lengths, k, m, np.random.default_rng(len(lengths)))
    words = np.frombuffer(raw, np.int32)
    fast = records._walk_vectorised(words, k, m, 0)
    slow = records._walk_loop(words, k, m, 0, "x")
    assert fast is not None
    np.testing.assert_array_equal(fast, slow)
    np.testing.assert_array_equal(records._walk_vectorised(words, k, m, len(lengths)), slow)


@pytest.mark.parametrize("poison", ["empty record", "subnormal", "zeros"])
def test_walk_falls_back_to_the_loop(poison: str) -> None:
    rng = np.random.default_rng(5)
    lengths = [3, 2, 4]
    raw, _, _ = _records(lengths, 3, 0, rng)
    words = np.frombuffer(raw, np.int32).copy()
    if poison == "empty record":
        words = np.r_[words[:10], np.int32(0), words[10:]]  # a record of 0 points after the first
    elif poison == "subnormal":
        words[2] = 5  # a coordinate that reads as a small count
    else:
        words[1:4] = 0  # +0.0 coordinates are not candidates at all: still vectorised
    slow = records._walk_loop(words, 3, 0, 0, "x")
    fast = records._walk_vectorised(words, 3, 0, 0)
    if poison == "zeros":
        np.testing.assert_array_equal(fast, slow)
    else:
        assert fast is None
    np.testing.assert_array_equal(records.walk(words, 3, 0, 0, "x"), slow)


@pytest.mark.parametrize("k,m", [(3, 0), (6, 0), (3, 2), (5, 1)])
def test_gather_in_place(k: int, m: int, monkeypatch) -> None:
    monkeypatch.setattr(records, "_BLOCK_WORDS", 16)  # records spanning block edges
    lengths = [1, 7, 2, 11, 1]
    raw, pts, props = _records(lengths, k, m, np.random.default_rng(6))
    words = np.frombuffer(raw, np.int32).copy()
    starts = records.walk(words, k, m, 0, "x")
    rows, counts, got_props = records.gather(words, starts, k, m)
    np.testing.assert_array_equal(counts, lengths)
    np.testing.assert_array_equal(rows, np.concatenate(pts))
    np.testing.assert_array_equal(got_props, np.array(props).reshape(len(lengths), m))
    assert np.shares_memory(rows, words)  # no second copy of the points
    if k > 3:
        points, scalars = records.split_points(rows, words)
        np.testing.assert_array_equal(points, np.concatenate(pts)[:, :3])
        np.testing.assert_array_equal(scalars, np.concatenate(pts)[:, 3:])


def _trk_file(lengths: list[int], ns: int = 0, m: int = 0, count: int | None = None,
              endian: str = "<") -> bytes:
    header = TrkFile._default_structarr(endianness="big" if endian == ">" else "little")
    header["nb_scalars_per_point"] = ns
    header["nb_properties_per_streamline"] = m
    header["n_count" if "n_count" in header.dtype.names else "nb_streamlines"] = \
        len(lengths) if count is None else count
    raw, _, _ = _records(lengths, 3 + ns, m, np.random.default_rng(7), endian)
    return header.tobytes() + raw


@pytest.mark.parametrize("endian", ["<", ">"])
def test_eager_and_lazy_agree(endian: str) -> None:
    data = _trk_file([4, 1, 6], ns=2, m=1, endian=endian)
    eager = TrkFile.load(io.BytesIO(data))
    lazy = TrkFile.load(io.BytesIO(data), lazy_load=True)
    for a, b in zip(eager.streamlines, lazy.streamlines):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    assert eager.streamlines._data.dtype == np.float32
    assert list(eager.tractogram.data_per_point) == ["scalars"]
    assert list(eager.tractogram.data_per_streamline) == ["properties"]


@pytest.mark.parametrize("cut,lazy", [(c, lz) for c in range(4) for lz in (False, True)])
def test_bad_data_raise_data_error_naming_the_file(tmp_path: Path, cut: int, lazy: bool) -> None:
    if cut == 0:
        data = _trk_file([3, 2])[:-6]                # truncated inside the last record
    elif cut == 1:
        data = _trk_file([3, 2], count=5)            # header announces more streamlines
    elif cut == 2:
        data = _trk_file([3, 2])[:-2]                # truncated inside a float
    else:
        data = bytearray(_trk_file([3, 2]))
        data[1000:1004] = np.array([-3], "<i4").tobytes()  # a negative count
        data = bytes(data)
    path = tmp_path / "bad.trk"
    path.write_bytes(data)
    with pytest.raises(DataError, match="bad.trk"):
        f = nvs.load(str(path), lazy_load=lazy)
        list(f.streamlines)


def test_count_zero_means_read_to_the_end() -> None:
    f = TrkFile.load(io.BytesIO(_trk_file([2, 3, 4], count=0)))
    assert [len(s) for s in f.streamlines] == [2, 3, 4]
    assert f.header["nb_streamlines"] == 3


@pytest.mark.parametrize("field,value", [
    ("hdr_size", 10), ("version", 7), ("voxel_sizes", [0, 1, 1]), ("voxel_sizes", [np.nan, 1, 1]),
    ("voxel_order", b"XYZ"), ("nb_properties_per_streamline", -1),
])
def test_bad_headers(tmp_path: Path, field: str, value) -> None:
    data = bytearray(_trk_file([2]))
    header = np.frombuffer(data[:1000], TrkFile._default_structarr("little").dtype).copy()
    header[field] = value
    data[:1000] = header.tobytes()
    path = tmp_path / "odd.trk"
    path.write_bytes(bytes(data))
    with pytest.raises(HeaderError, match="odd.trk"):
        nvs.load(str(path))


def test_short_header(tmp_path: Path) -> None:
    path = tmp_path / "short.trk"
    path.write_bytes(b"TRACK" + b"\0" * 100)
    with pytest.raises(HeaderError, match="short.trk"):
        nvs.load(str(path))


def test_points_are_transformed_in_place_once() -> None:
    """voxmm -> RAS+ mm with the half-voxel shift and the header's voxel order."""
    header = TrkFile._default_structarr("little")
    header["voxel_sizes"] = [2, 2, 2]
    header["dimensions"] = [10, 10, 10]
    header["voxel_order"] = b"LPS"
    header["nb_streamlines"] = 1
    pts = np.array([[1.0, 1.0, 1.0], [3.0, 5.0, 7.0]], np.float32)  # voxmm
    data = header.tobytes() + np.array([2], "<i4").tobytes() + pts.tobytes()
    f = TrkFile.load(io.BytesIO(data))
    aff = get_affine_trackvis_to_rasmm({k: header[k] for k in header.dtype.names})
    expected = pts @ aff[:3, :3].T + aff[:3, 3]
    np.testing.assert_allclose(f.streamlines[0], expected, rtol=1e-6)
    # voxel centre of voxel 0 (voxmm 1, 1, 1) is the flipped voxel 9 along x and y
    np.testing.assert_allclose(f.streamlines[0][0], [9, 9, 0])


def test_save_blocks_do_not_change_bytes(tmp_path: Path, monkeypatch) -> None:
    rng = np.random.default_rng(8)
    lengths = [1, 4, 2, 9, 3]
    t = nvs.Tractogram([rng.standard_normal((n, 3)).astype(np.float32) for n in lengths],
                       {"w": rng.standard_normal((5, 2))},
                       {"c": [rng.standard_normal((n, 1)).astype(np.float32) for n in lengths]},
                       affine_to_rasmm=np.eye(4))
    nvs.save(t, str(tmp_path / "a.trk"))
    import nivox.streamlines.array_sequence as aseq

    monkeypatch.setattr(aseq, "_CHUNK_ROWS", 2)
    nvs.save(t, str(tmp_path / "b.trk"))
    assert (tmp_path / "a.trk").read_bytes() == (tmp_path / "b.trk").read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lazy = nvs.load(str(tmp_path / "a.trk"), lazy_load=True)
        nvs.save(lazy, str(tmp_path / "c.trk"))
    assert (tmp_path / "c.trk").read_bytes() == (tmp_path / "a.trk").read_bytes()
