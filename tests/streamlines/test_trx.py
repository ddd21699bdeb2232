"""TRX through nivox.streamlines.load/save, checked against trx-python (the reference reader/writer)."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import nivox.streamlines as nvs
from nivox.errors import DataError, HeaderError, NivoxError

nib = pytest.importorskip("nibabel")
tmm = pytest.importorskip("trx.trx_file_memmap")


def _tractogram(rng: np.random.Generator, lengths: list[int]):
    streamlines = [rng.standard_normal((n, 3)).astype(np.float32) * 20 for n in lengths]
    dpv = {"fa": [rng.random((n, 1)).astype(np.float32) for n in lengths],
           "rgb": [rng.random((n, 3)).astype(np.float32) for n in lengths]}
    dps = {"weight": rng.random((len(lengths), 1)).astype(np.float32),
           "cluster": rng.integers(0, 5, (len(lengths), 2)).astype(np.int16)}
    return streamlines, dpv, dps


def _written_by_trx_python(path: Path, rng: np.random.Generator, lengths: list[int]):
    streamlines, dpv, dps = _tractogram(rng, lengths)
    t = nib.streamlines.Tractogram(streamlines, dps, dpv, affine_to_rasmm=np.eye(4))
    ref = nib.Nifti1Image(np.zeros((20, 21, 22), np.float32), np.diag([1.5, 1.5, 2.0, 1.0]))
    trx = tmm.TrxFile.from_tractogram(t, reference=ref, dtype_dict={
        "positions": np.float32, "offsets": np.uint64, "dpv": {}, "dps": {"cluster": np.int16}})
    trx.groups["left"] = np.array([0, 2], np.uint32)
    tmm.save(trx, str(path))
    trx.close()
    return streamlines, dpv, dps


@pytest.mark.parametrize("lazy", [False, True])
def test_reads_what_trx_python_writes(tmp_path: Path, lazy: bool) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "a.trx"
    streamlines, dpv, dps = _written_by_trx_python(path, rng, [1, 4, 2, 7])
    assert nvs.detect_format(str(path)) is nvs.TrxFile
    f = nvs.load(str(path), lazy_load=lazy)
    assert isinstance(f, nvs.TrxFile)
    np.testing.assert_array_equal(f.header["voxel_to_rasmm"], np.diag([1.5, 1.5, 2.0, 1.0]))
    np.testing.assert_array_equal(f.header["dimensions"], [20, 21, 22])
    np.testing.assert_array_equal(f.header["groups"]["left"], [0, 2])
    got = [np.asarray(s) for s in f.streamlines]
    assert len(got) == len(streamlines)
    for a, b in zip(got, streamlines):
        np.testing.assert_array_equal(a, b)
    t = f.tractogram
    for key, values in dpv.items():
        for a, b in zip(t.data_per_point[key], values):
            np.testing.assert_array_equal(np.asarray(a).reshape(b.shape), b)
    for key, values in dps.items():
        got_dps = np.asarray(list(t.data_per_streamline[key]))
        np.testing.assert_array_equal(got_dps.reshape(values.shape), values)


def test_trx_python_reads_what_nivox_writes(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    streamlines, dpv, dps = _tractogram(rng, [3, 1, 5])
    t = nvs.Tractogram(streamlines, dps, dpv, affine_to_rasmm=np.eye(4))
    header = {"voxel_to_rasmm": np.diag([2.0, 2.0, 2.0, 1.0]), "dimensions": np.array([5, 6, 7]),
              "groups": {"g": np.array([1], np.uint32)}}
    path = tmp_path / "b.trx"
    nvs.save(t, str(path), header=header)
    with zipfile.ZipFile(path) as zf:  # uncompressed members: memory-mappable by any reader
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
    trx = tmm.load(str(path))
    try:
        assert trx.header["NB_STREAMLINES"] == 3 and trx.header["NB_VERTICES"] == 9
        np.testing.assert_array_equal(trx.header["DIMENSIONS"], [5, 6, 7])
        np.testing.assert_array_equal(trx.header["VOXEL_TO_RASMM"], np.diag([2.0, 2.0, 2.0, 1.0]))
        for a, b in zip(trx.streamlines, streamlines):
            np.testing.assert_array_equal(a, b)
        for key, values in dpv.items():
            for a, b in zip(trx.data_per_vertex[key], values):
                np.testing.assert_array_equal(np.asarray(a).reshape(b.shape), b)
        np.testing.assert_array_equal(trx.data_per_streamline["cluster"], dps["cluster"])
        assert trx.data_per_streamline["cluster"].dtype == np.int16
        np.testing.assert_array_equal(trx.groups["g"], [1])
    finally:
        trx.close()


def test_round_trip_through_nivox_and_lazy_save(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    path = tmp_path / "a.trx"
    streamlines, _, _ = _written_by_trx_python(path, rng, [2, 3, 4])
    lazy = nvs.load(str(path), lazy_load=True)
    out = tmp_path / "b.trx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nvs.save(lazy.tractogram, str(out))
    back = nvs.load(str(out))
    for a, b in zip(back.streamlines, streamlines):
        np.testing.assert_array_equal(a, b)
    assert sorted(back.tractogram.data_per_point) == ["fa", "rgb"]


def test_save_applies_affine_to_rasmm(tmp_path: Path) -> None:
    """TRX holds RAS+ mm: points in another space are transformed on the way out."""
    pts = [np.array([[1.0, 2.0, 3.0]], np.float32)]
    aff = np.diag([2.0, 2.0, 2.0, 1.0])
    aff[:3, 3] = [10, 0, -5]
    nvs.save(nvs.Tractogram(pts, affine_to_rasmm=aff), str(tmp_path / "a.trx"))
    np.testing.assert_allclose(nvs.load(str(tmp_path / "a.trx")).streamlines[0], [[12.0, 4.0, 1.0]])


def _rewrite(src: Path, dst: Path, replace: dict[str, bytes]) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, replace.get(item.filename, zin.read(item.filename)))


@pytest.mark.parametrize("member,data,error", [
    ("offsets.uint64", np.array([0, 2, 1, 3, 10], "<u8").tobytes(), DataError),
    ("offsets.uint64", np.array([0, 2, 3], "<u8").tobytes(), DataError),
    ("positions.3.float32", b"\0" * 12, DataError),
    ("positions.3.float32", b"\0" * 13, DataError),
    ("header.json", b"{not json", HeaderError),
    ("header.json", b'{"NB_STREAMLINES": -1, "NB_VERTICES": 3}', HeaderError),
    ("groups/left.uint32", np.array([0, 99], "<u4").tobytes(), DataError),
])
def test_bad_trx_files_name_the_file(tmp_path: Path, member: str, data: bytes, error: type) -> None:
    good = tmp_path / "good.trx"
    _written_by_trx_python(good, np.random.default_rng(3), [1, 2, 1, 1])
    bad = tmp_path / "bad.trx"
    _rewrite(good, bad, {member: data})
    with pytest.raises(error, match="bad.trx"):
        nvs.load(str(bad))


def test_truncated_zip_is_a_nivox_error(tmp_path: Path) -> None:
    good = tmp_path / "good.trx"
    _written_by_trx_python(good, np.random.default_rng(4), [3, 3])
    bad = tmp_path / "cut.trx"
    bad.write_bytes(good.read_bytes()[:-40])
    with pytest.raises(NivoxError, match="cut.trx"):
        nvs.load(str(bad))


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_compression_methods_other_than_deflate_are_refused(tmp_path: Path, method: int) -> None:
    """A damaged LZMA stream would choose the decoder's dictionary size (memory): not read at all."""
    good = tmp_path / "good.trx"
    _written_by_trx_python(good, np.random.default_rng(5), [2, 2])
    odd = tmp_path / "odd.trx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(odd, "w", compression=method) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, zin.read(item.filename))
    with pytest.raises(DataError, match="odd.trx.*compression method"):
        nvs.load(str(odd))


def test_directory_beyond_the_file_is_refused_before_reading(tmp_path: Path) -> None:
    """zipfile would allocate the claimed directory size (up to 4 GiB) before noticing."""
    good = tmp_path / "good.trx"
    _written_by_trx_python(good, np.random.default_rng(6), [2, 2])
    data = bytearray(good.read_bytes())
    at = data.rfind(b"PK\x05\x06")
    data[at + 12 : at + 16] = (2**31).to_bytes(4, "little")
    bad = tmp_path / "dir.trx"
    bad.write_bytes(bytes(data))
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="dir.trx.*directory"):
            nvs.load(str(bad))
        assert tracemalloc.get_traced_memory()[1] < 16 << 20
    finally:
        tracemalloc.stop()


def test_member_size_beyond_the_file_is_refused_before_reading(tmp_path: Path) -> None:
    """A stored member whose directory entry claims 64 MiB: zipfile would read (allocate) that much."""
    good = tmp_path / "good.trx"
    _written_by_trx_python(good, np.random.default_rng(7), [2, 2])
    data = bytearray(good.read_bytes())
    entry = data.find(b"PK\x01\x02")  # first central directory entry
    data[entry + 20 : entry + 24] = (64 << 20).to_bytes(4, "little")  # its compressed size
    bad = tmp_path / "big.trx"
    bad.write_bytes(bytes(data))
    with pytest.raises(DataError, match="big.trx"):
        nvs.load(str(bad))
