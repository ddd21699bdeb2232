"""The member table nivox ends its gzip files with: found from the tail, ignored by other readers."""

from __future__ import annotations

import gzip
import io
import struct
import zlib

import numpy as np
import pytest

import nivox as nib
from nivox._codecs import gzformat
from nivox._codecs import gzip as nvgzip
from nivox._codecs.gztable import MAX_MEMBERS, build_table_member, read_table
from nivox._codecs.gzwrite import GzipMemberWriter

DATA = np.random.default_rng(11).integers(0, 50, 700_001, dtype=np.uint8).tobytes()


def _blob(table: bool = True, member_size: int = 100_000, data: bytes = DATA) -> bytes:
    out = io.BytesIO()
    with GzipMemberWriter(out, 6, member_size=member_size, threads=2, table=table) as writer:
        writer.write(data)
    return out.getvalue()


def _pread(blob: bytes):
    return lambda at, n: blob[at : at + n]


def test_table_lists_what_the_headers_say() -> None:
    with_table, without = _blob(True), _blob(False)
    assert with_table.startswith(without)  # the table is one more member at the end
    points = read_table(_pread(with_table), len(with_table))
    walked, complete = gzformat.scan_members(_pread(without), len(without))
    assert complete and points == walked
    assert read_table(_pread(without), len(without)) is None


@pytest.mark.parametrize("size", [0, 1, 99_999, 100_000, 100_001])
def test_every_gzip_reader_sees_only_the_data(size: int) -> None:
    data = DATA[:size]
    blob = _blob(data=data)
    assert gzip.decompress(blob) == data
    decoder, out, rest = zlib.decompressobj(31), b"", blob
    while rest:  # member after member, as zlib-based readers (ITK's gzread) do
        decoder = zlib.decompressobj(31)
        out += decoder.decompress(rest)
        rest = decoder.unused_data
    assert out == data
    points = read_table(_pread(blob), len(blob))
    assert points is not None and points[-1][1] == size


def test_tail_read_is_one_request_for_small_tables() -> None:
    blob = _blob()
    calls = []

    def pread(at: int, n: int) -> bytes:
        calls.append((at, n))
        return blob[at : at + n]

    assert read_table(pread, len(blob)) is not None
    assert len(calls) == 1 and calls[0][0] + calls[0][1] == len(blob)


def test_big_table_takes_a_second_read() -> None:
    sizes = [1000] * 5000
    member = build_table_member(sizes, 1 << 16, 10)
    assert member is not None and len(member) > 4096
    blob = bytes(sum(sizes)) + member
    points = read_table(_pread(blob), len(blob))
    assert points is not None and len(points) == 5001 and points[-1] == (sum(sizes), 4999 * (1 << 16) + 10)
    assert build_table_member([1000] * (MAX_MEMBERS + 1), 1 << 16, 10) is None


def _corrupt(blob: bytes, at_from_end: int, value: bytes) -> bytes:
    pos = len(blob) - at_from_end
    return blob[:pos] + value + blob[pos + len(value):]


def test_a_table_that_does_not_add_up_is_ignored() -> None:
    blob = _blob()
    length = int.from_bytes(blob[-18:-14], "little")
    start = len(blob) - length
    payload = start + 12 + 20 + 4  # fixed header, XLEN, NV subfield, NT subfield header
    first = struct.unpack_from("<I", blob, payload + 24)[0]
    bad_size = blob[: payload + 24] + struct.pack("<I", first + 1) + blob[payload + 28 :]
    assert read_table(_pread(bad_size), len(bad_size)) is None
    # a stride no deflate stream of that size can expand to: not believed, nothing allocated
    huge = blob[: payload + 8] + struct.pack("<Q", 1 << 50) + blob[payload + 16 :]
    assert read_table(_pread(huge), len(huge)) is None
    # a marker without a member behind it
    assert read_table(_pread(_corrupt(blob, 18, struct.pack("<I", 40))), len(blob)) is None
    assert read_table(_pread(b"\x1f\x8b" + bytes(40)), 42) is None
    # gzip readers never look at it
    assert gzip.decompress(bad_size) == DATA


def test_images_with_table_read_alike_by_nibabel_and_simpleitk(tmp_path, monkeypatch) -> None:
    nibabel = pytest.importorskip("nibabel")
    sitk = pytest.importorskip("SimpleITK")
    monkeypatch.setattr(nvgzip, "MEMBER_SIZE", 64 * 1024)
    data = np.random.default_rng(2).integers(-500, 500, (40, 30, 20, 5), dtype=np.int16)
    path = tmp_path / "x.nii.gz"
    nib.save(nib.Nifti1Image(data, np.diag([2.0, 2.0, 2.5, 1.0])), path)
    blob = path.read_bytes()
    assert read_table(_pread(blob), len(blob)) is not None
    np.testing.assert_array_equal(np.asarray(nibabel.load(path).dataobj), data)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(sitk.ReadImage(str(path))).transpose(3, 2, 1, 0), data)
    assert len(gzip.decompress(blob)) == 352 + data.nbytes
    np.testing.assert_array_equal(nib.load(path).dataobj[..., 3], data[..., 3])


@pytest.mark.parametrize("cut", [5, 60, 100])
def test_file_cut_in_its_table_is_reported(tmp_path, cut: int) -> None:
    from nivox.errors import CorruptStreamError

    path = tmp_path / "cut.gz"
    path.write_bytes(_blob()[:-cut])  # every data member intact, the table cut short
    with pytest.raises(CorruptStreamError, match="cut.gz"):
        nvgzip.open_read(path).read()
    with pytest.raises(EOFError):
        gzip.decompress(path.read_bytes())  # as gzip itself says
