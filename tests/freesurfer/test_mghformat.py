"""MGHImage / MGHHeader: the shared API suites, lossless tags, shapes and dtypes, nibabel both ways."""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from suites.header_api import HeaderAPI
from suites.image_api import ImageAPI
from suites.proxy_api import ProxyAPI

import nivox
from nivox.errors import HeaderDataError, ImageFileError, MGHError, NivoxError
from nivox.freesurfer import mghformat
from nivox.freesurfer._mghtags import parse_tags, tags_bytes
from nivox.freesurfer.mghformat import MGHHeader, MGHImage

MGH_DTYPES = (np.uint8, np.int16, np.uint16, np.int32, np.float32, np.complex64)
NIBABEL_MGH_DTYPES = MGH_DTYPES[:-1]  # nibabel reads no MRI_FLOAT_COMPLEX


class TestMGHImageAPI(ImageAPI):
    image_class = MGHImage
    storable_dtypes = MGH_DTYPES
    compressed_suffixes = ("",)  # .mgz is the compressed form; tested below
    supports_bytes = True

    # MGH data are big-endian whatever the array's order (as in nibabel), and
    # have at least three and at most four axes: these checks say so
    def test_construct_shape_ndim_affine(self):
        img, data = self.make_image((2, 3, 4))
        assert img.shape == (2, 3, 4) and img.ndim == 3
        assert img.get_data_dtype() == np.dtype(">i2")
        assert img.dataobj is data

    @pytest.mark.parametrize("shape, stored", [((2, 3, 4), (2, 3, 4)), ((5, 4, 3, 2), (5, 4, 3, 2)),
                                               ((7,), (7, 1, 1)), ((3, 1, 2, 1), (3, 1, 2))])
    def test_round_trip_shapes(self, tmp_path, shape, stored):
        img, data = self.make_image(shape)
        loaded, _ = self.save_load(img, tmp_path)
        assert loaded.shape == stored
        assert np.array_equal(np.asanyarray(loaded.dataobj), data.reshape(stored))
        assert np.allclose(loaded.affine, img.affine)

    def test_round_trip_dtypes(self, tmp_path):
        for dtype in self.storable_dtypes:
            img, data = self.make_image(dtype=dtype)
            loaded, _ = self.save_load(img, tmp_path)
            assert loaded.get_data_dtype() == np.dtype(dtype).newbyteorder(">")
            assert np.array_equal(np.asanyarray(loaded.dataobj), data)

    def test_set_data_dtype_aliases(self):
        img, _ = self.make_image()
        for alias in (np.float32, "float32", np.dtype("f4"), "float", "MRI_FLOAT", 3):
            img.set_data_dtype(alias)
            assert img.get_data_dtype() == np.dtype(">f4")

    def test_proxy_slicing_and_pickle(self, tmp_path):
        img, data = self.make_image((5, 4, 3, 2))
        img.to_filename(tmp_path / "img.mgz")
        proxy = nivox.load(tmp_path / "img.mgz").dataobj
        assert np.array_equal(proxy[1:4, ::2, -1], data[1:4, ::2, -1])
        assert np.array_equal(proxy[..., 1], data[..., 1])
        again = pickle.loads(pickle.dumps(proxy))
        assert np.array_equal(np.asanyarray(again), data)

    def test_mgz_round_trip(self, tmp_path):
        img, data = self.make_image((5, 4, 3, 2))
        img.to_filename(tmp_path / "x.mgz")
        assert (tmp_path / "x.mgz").read_bytes()[:2] == b"\x1f\x8b"
        loaded = nivox.load(tmp_path / "x.mgz")
        assert isinstance(loaded, MGHImage)
        assert loaded.dataobj.is_compressed
        assert np.array_equal(np.asanyarray(loaded.dataobj), data)
        assert np.array_equal(loaded.dataobj[:, 1:3, 2, 1], data[:, 1:3, 2, 1])


class TestMGHHeaderAPI(HeaderAPI):
    header_class = MGHHeader
    nibabel_class_name = "freesurfer.mghformat.MGHHeader"
    supported_dtypes = MGH_DTYPES
    max_ndim = 4

    # MGH differs from the binary-header model in three documented ways: the
    # default shape is (1, 1, 1), the byte order is always big-endian, and
    # there is no sizeof_hdr field
    def test_default_header(self):
        hdr = self.header_class()
        assert hdr.endianness == ">"
        assert len(hdr.binaryblock) == 110
        assert hdr.get_data_shape() == (1, 1, 1)
        assert hdr.get_zooms() == (1.0, 1.0, 1.0)

    def test_binaryblock_round_trip_and_byteswap(self):
        hdr = self.header_class()
        hdr.set_data_shape((3, 4, 5))
        hdr.set_data_dtype(np.int16)
        assert self.header_class(hdr.binaryblock) == hdr
        assert hdr.as_byteswapped(">") == hdr
        for order in (None, "<"):
            with pytest.raises(ValueError):
                hdr.as_byteswapped(order)

    def test_shape_zooms_dtype(self):
        hdr = self.header_class()
        hdr.set_data_shape((2, 3, 4, 5))
        hdr.set_zooms((1.5, 2, 3, 0.5))
        assert np.allclose(hdr.get_zooms(), (1.5, 2, 3, 0.5))
        for bad in ((1, 2), (1, 2, -3, 1), (0, 1, 1), (1, 1, 1, -1), (1, 1, 1, 1, 1)):
            with pytest.raises(HeaderDataError):
                hdr.set_zooms(bad)
        with pytest.raises(HeaderDataError):
            hdr.set_data_shape((1,) * 5)
        for dtype in self.supported_dtypes:
            hdr.set_data_dtype(dtype)
            assert hdr.get_data_dtype() == np.dtype(dtype).newbyteorder(">")
        for bad in ("not a dtype", np.float64, np.int8, np.complex128):
            with pytest.raises(HeaderDataError):
                hdr.set_data_dtype(bad)

    def test_copy_is_independent(self):
        hdr = self.header_class()
        other = hdr.copy()
        other.set_data_shape((9, 9))
        assert hdr.get_data_shape() == (1, 1, 1)

    def test_may_contain_header(self):
        hdr = self.header_class()
        assert self.header_class.may_contain_header(hdr.binaryblock)
        assert not self.header_class.may_contain_header(b"\x00" * 10)
        assert not self.header_class.may_contain_header(b"\x00" * 110)

    def test_str_mentions_fields(self):
        assert "goodRASFlag" in str(self.header_class())

    def test_from_fileobj_and_write_to(self):
        hdr = self.header_class()
        hdr.set_data_shape((2, 2, 2))
        bio = io.BytesIO()
        hdr.write_to(bio)
        bio.seek(0)
        assert self.header_class.from_fileobj(bio).get_data_shape() == (2, 2, 2)

    def test_data_to_and_from_fileobj(self):
        hdr = self.header_class()
        data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
        hdr.set_data_shape(data.shape)
        hdr.set_data_dtype(np.int16)
        bio = io.BytesIO()
        bio.write(b"\x00" * mghformat.DATA_OFFSET)
        bio.write(data.astype(">i2").tobytes(order="F"))
        bio.seek(0)
        assert np.array_equal(hdr.data_from_fileobj(bio), data)


class TestMGHProxy(ProxyAPI):
    def make_proxy(self, tmp_path):
        data = np.linspace(-50, 70, 120).reshape(4, 5, 3, 2).astype(np.float32)
        MGHImage(data, np.eye(4)).to_filename(tmp_path / "p.mgz")
        return nivox.load(tmp_path / "p.mgz").dataobj, data


# ---- lossless tags ----------------------------------------------------------------------

def _tagged_file(tmp_path, name="tagged.mgz"):
    """An MGH file with FreeSurfer-style tags after the scan parameters, written by hand."""
    data = np.arange(60, dtype=np.float32).reshape(3, 4, 5, order="F")
    fixed = np.zeros((), mghformat.header_dtype)
    fixed["version"] = 1
    fixed["dims"] = [3, 4, 5, 1]
    fixed["type"] = 3
    fixed["goodRASFlag"] = 1
    fixed["delta"] = [1, 1, 1.5]
    fixed["Mdc"] = [[-1, 0, 0], [0, 0, 1], [0, -1, 0]]
    fixed["Pxyz_c"] = [1, 2, 3]
    footer = np.array([2300, 0.15, 2.9, 900, 256], ">f4").tobytes()
    tags = (tags_bytes([(3, b"mri_convert in.nii out.mgz\x00"), (41, b"ROW\x00"), (43, struct.pack(">f", 3.0)),
                        (99, b"unknown payload")])
            + struct.pack(">i", 1) + b"\x01\x02old colour table without a length")
    raw = fixed.tobytes() + b"\x00" * (284 - 90) + data.astype(">f4").tobytes(order="F") + footer + tags
    path = tmp_path / name
    path.write_bytes(gzip.compress(raw) if name.endswith(".mgz") else raw)
    return path, raw, tags, data


@pytest.mark.parametrize("name", ["tagged.mgh", "tagged.mgz"])
def test_tags_survive_load_and_save_byte_for_byte(tmp_path, name):
    path, raw, tags, _ = _tagged_file(tmp_path, name)
    img = nivox.load(path)
    assert img.header.tags == tags
    assert [t.name for t in img.header.get_tags()] == ["CMDLINE", "PEDIR", "FIELDSTRENGTH", "TAG_99"]
    assert img.header["tr"] == np.float32(2300)
    out = tmp_path / ("out" + path.suffix)
    nivox.save(img, out)
    written = out.read_bytes()
    if name.endswith(".mgz"):
        written = gzip.decompress(written)
    assert written == raw
    # a modified image keeps its tags too
    changed = MGHImage(np.asanyarray(img.dataobj) * 2, img.affine, img.header)
    changed.to_filename(tmp_path / "changed.mgh")
    assert (tmp_path / "changed.mgh").read_bytes().endswith(tags)


def test_tags_parse_stops_at_unparseable():
    blocks, rest = parse_tags(tags_bytes([(3, b"abc")]) + struct.pack(">iq", 41, 1000) + b"xx")
    assert [(b.tag, b.data) for b in blocks] == [(3, b"abc")]
    assert rest.startswith(struct.pack(">i", 41))
    with pytest.raises(ValueError):
        tags_bytes([(1, b"")])


def test_nibabel_reads_our_tagged_file(tmp_path):
    nib = pytest.importorskip("nibabel")
    path, _, _, data = _tagged_file(tmp_path)
    nivox.save(nivox.load(path), tmp_path / "again.mgz")
    theirs = nib.load(tmp_path / "again.mgz")
    assert np.array_equal(theirs.get_fdata(), data)
    assert theirs.header.binaryblock == nivox.load(path).header.binaryblock


# ---- shapes and dtypes ----------------------------------------------------------------------

def test_uint16_round_trip_and_nibabel_agrees(tmp_path):
    nib = pytest.importorskip("nibabel")
    data = np.array([0, 1, 40000, 65535] * 6, np.uint16).reshape(2, 3, 4)
    MGHImage(data, np.eye(4)).to_filename(tmp_path / "u.mgz")
    ours = nivox.load(tmp_path / "u.mgz")
    assert ours.get_data_dtype() == np.dtype(">u2")
    assert np.array_equal(np.asanyarray(ours.dataobj), data)
    assert np.array_equal(np.asanyarray(nib.load(tmp_path / "u.mgz").dataobj), data)


# ---- FreeSurfer's other data types ----------------------------------------------------------


def _hand_written(path, code, dims, payload: bytes):
    """An MGH file made byte by byte: header with type ``code``, then ``payload`` and a footer."""
    fixed = np.zeros((), mghformat.header_dtype)
    fixed["version"] = 1
    fixed["dims"] = dims
    fixed["type"] = code
    fixed["goodRASFlag"] = 1
    fixed["delta"] = [1, 2, 3]
    fixed["Mdc"] = np.eye(3)
    raw = fixed.tobytes() + b"\x00" * (284 - 90) + payload + np.array([2000, 0, 0, 0, 0], ">f4").tobytes()
    path.write_bytes(gzip.compress(raw) if path.suffix == ".mgz" else raw)
    return raw


@pytest.mark.parametrize("suffix", [".mgh", ".mgz"])
def test_float_complex_is_real_then_imaginary_big_endian(tmp_path, suffix):
    # MRI_FLOAT_COMPLEX (7): FreeSurfer writes each voxel as two big-endian float32, real first
    values = np.arange(24, dtype=np.float32)
    data = (values + 1j * (100 - values)).astype(np.complex64).reshape(2, 3, 4, order="F")
    pairs = np.stack([values, 100 - values], axis=1).astype(">f4").tobytes()
    path = tmp_path / f"fs{suffix}"
    raw = _hand_written(path, 7, [2, 3, 4, 1], pairs)
    img = nivox.load(path)
    assert img.get_data_dtype() == np.dtype(">c8") and img.header.get_data_bytespervox() == 8
    assert np.array_equal(np.asanyarray(img.dataobj), data)
    assert img.dataobj[1, 2, 3] == data[1, 2, 3]
    # written back the same way
    out = tmp_path / f"out{suffix}"
    MGHImage(data, img.affine, img.header).to_filename(out)
    written = out.read_bytes()
    written = gzip.decompress(written) if suffix == ".mgz" else written
    assert written == raw
    assert mghformat.mgh_dtype_for(np.complex128) == np.complex64


def test_complex_from_nifti_converts(tmp_path):
    data = (np.arange(24) * (1 - 2j)).reshape(2, 3, 4)  # complex128
    nivox.save(nivox.Nifti1Image(data, np.eye(4)), tmp_path / "c.mgz")
    loaded = nivox.load(tmp_path / "c.mgz")
    assert loaded.get_data_dtype() == np.dtype(">c8")
    assert np.array_equal(np.asanyarray(loaded.dataobj), data.astype(np.complex64))


def test_tensor_reads_nine_frames_whatever_the_header_says(tmp_path):
    # MRI_TENSOR (6): float32, and FreeSurfer's reader sets nine frames itself
    tensors = np.arange(2 * 3 * 4 * 9, dtype=np.float32)
    path = tmp_path / "dti.mgh"
    raw = _hand_written(path, 6, [2, 3, 4, 1], tensors.astype(">f4").tobytes())
    img = nivox.load(path)
    assert img.shape == (2, 3, 4, 9) and img.get_data_dtype() == np.dtype(">f4")
    assert int(img.header["type"]) == 6 and int(img.header["dims"][3]) == 9
    assert np.array_equal(np.asanyarray(img.dataobj).reshape(-1, order="F"), tensors)
    assert img.header["tr"] == np.float32(2000)  # the footer is found after 9 frames
    nivox.save(img, tmp_path / "again.mgh")
    again = (tmp_path / "again.mgh").read_bytes()
    assert again[28:] == raw[28:] and struct.unpack(">4i", again[4:20]) == (2, 3, 4, 9)
    # the type is chosen by code or name; float32 data still mean MRI_FLOAT
    hdr = MGHHeader()
    for alias in (6, "MRI_TENSOR", "tensor"):
        hdr.set_data_dtype(alias)
        assert int(hdr["type"]) == 6
    hdr.set_data_dtype(np.float32)
    assert int(hdr["type"]) == 3
    # other than nine frames cannot be saved as tensors: FreeSurfer would misread them
    with pytest.raises(MGHError, match="9 frames"):
        MGHImage(np.zeros((2, 3, 4, 5), np.float32), img.affine, img.header).to_filename(tmp_path / "bad.mgh")
    assert not (tmp_path / "bad.mgh").exists()


@pytest.mark.parametrize("code, name", [(2, "MRI_LONG"), (5, "MRI_BITMAP"), (8, "MRI_DOUBLE_COMPLEX"),
                                        (9, "MRI_RGB")])
def test_types_freesurfer_cannot_read_are_refused_naming_file_and_code(tmp_path, code, name):
    path = tmp_path / "odd.mgz"
    _hand_written(path, code, [2, 2, 2, 1], b"\x00" * 128)
    with pytest.raises(MGHError, match=f"code {code} \\({name}\\)") as err:
        nivox.load(path)
    assert str(path) in str(err.value)
    assert isinstance(err.value, ValueError)


def test_unknown_type_code_names_file(tmp_path):
    path = tmp_path / "odd.mgh"
    _hand_written(path, 11, [2, 2, 2, 1], b"\x00" * 32)
    with pytest.raises(MGHError, match="unknown MGH data type code 11") as err:
        nivox.load(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("shape, stored", [((4, 3, 2, 1), (4, 3, 2)), ((4,), (4, 1, 1)),
                                           ((4, 3), (4, 3, 1)), ((4, 3, 2, 1, 1), (4, 3, 2))])
def test_singleton_shapes_write(tmp_path, shape, stored):
    data = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    MGHImage(data, np.eye(4)).to_filename(tmp_path / "s.mgh")
    loaded = nivox.load(tmp_path / "s.mgh")
    assert loaded.shape == stored
    assert np.array_equal(np.asanyarray(loaded.dataobj).reshape(-1, order="F"), data.reshape(-1, order="F"))


def test_five_real_axes_refused():
    with pytest.raises(HeaderDataError):
        MGHImage(np.zeros((2, 2, 2, 2, 2), np.float32), np.eye(4))
    # a singleton after frames is a fifth axis too (nibabel's img.slicer test relies on it)
    with pytest.raises(HeaderDataError):
        MGHImage(np.zeros((2, 2, 2, 2, 1), np.float32), np.eye(4))


def test_unsupported_dtype_refused_like_nibabel():
    with pytest.raises(MGHError):
        MGHImage(np.zeros((2, 3, 4), np.float64), np.eye(4))
    assert issubclass(MGHError, NivoxError) and issubclass(MGHError, ValueError)


@pytest.mark.parametrize("src, expected", [(np.float64, np.float32), (np.int8, np.int16),
                                           (np.int64, np.int32), (np.uint16, np.uint16), (np.int16, np.int16)])
def test_nifti_converts_with_nearest_dtype(tmp_path, src, expected):
    data = (np.arange(24) % 2).astype(src).reshape(2, 3, 4, 1)  # 4D, singleton last axis
    aff = np.diag([2.0, 3, 4, 1])
    aff[:3, 3] = [5, 6, 7]
    nivox.save(nivox.Nifti1Image(data, aff, dtype=src), tmp_path / "n.mgz")
    loaded = nivox.load(tmp_path / "n.mgz")
    assert loaded.get_data_dtype() == np.dtype(expected).newbyteorder(">")
    assert loaded.shape == (2, 3, 4)
    assert np.allclose(loaded.affine, aff)
    assert np.array_equal(np.asanyarray(loaded.dataobj), data[..., 0].astype(expected))


def test_int64_values_that_do_not_fit_are_refused(tmp_path):
    data = np.full((2, 2, 2), 2**40, np.int64)
    with pytest.raises(ValueError, match="int32"):
        nivox.save(nivox.Nifti1Image(data, np.eye(4), dtype=np.int64), tmp_path / "big.mgz")
    assert not (tmp_path / "big.mgz").exists()


def test_wonky_cosines_kept_when_affine_unchanged(tmp_path):
    hdr = MGHHeader()
    hdr.set_data_shape((2, 2, 2))
    hdr["Mdc"] = [[1, 2, 3], [2, 3, 1], [3, 1, 2]]
    img = MGHImage(np.zeros((2, 2, 2), np.float32), hdr.get_affine(), hdr)
    img.to_filename(tmp_path / "w.mgh")
    assert np.array_equal(nivox.load(tmp_path / "w.mgh").header["Mdc"], hdr["Mdc"])


# ---- proxy behaviour ---------------------------------------------------------------------------

def test_proxy_pickles_by_reference_and_reads_from_threads(tmp_path):
    data = np.random.default_rng(0).random((20, 21, 22, 4)).astype(np.float32)
    MGHImage(data, np.eye(4)).to_filename(tmp_path / "t.mgz")
    img = nivox.load(tmp_path / "t.mgz", keep_file_open=True)
    blob = pickle.dumps(img.dataobj)
    assert len(blob) < 2000
    results = {}

    def read(frame):
        results[frame] = img.dataobj[..., frame]

    threads = [threading.Thread(target=read, args=(i % 4,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for frame, got in results.items():
        assert np.array_equal(got, data[..., frame])
    assert np.array_equal(pickle.loads(blob)[..., 2], data[..., 2])


def test_mmap_used_for_mgh_not_mgz(tmp_path):
    data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    MGHImage(data, np.eye(4)).to_filename(tmp_path / "m.mgh")
    mapped = np.asanyarray(nivox.load(tmp_path / "m.mgh", mmap="r").dataobj)
    assert isinstance(mapped, np.memmap)
    plain = np.asanyarray(nivox.load(tmp_path / "m.mgh", mmap=False).dataobj)
    assert not isinstance(plain, np.memmap)
    assert np.array_equal(plain, data)


def test_save_failure_leaves_old_file(tmp_path):
    target = tmp_path / "keep.mgz"
    MGHImage(np.ones((2, 2, 2), np.float32), np.eye(4)).to_filename(target)
    before = target.read_bytes()
    bad = MGHImage(np.full((2, 2, 2), 2**40, np.int64), np.eye(4), MGHHeader.from_header(None))
    bad.set_data_dtype(np.int32)
    with pytest.raises(ValueError):
        bad.to_filename(target)
    assert target.read_bytes() == before


# ---- errors name the file -------------------------------------------------------------------------

def test_bad_files_raise_named_errors(tmp_path):
    path = tmp_path / "bad.mgh"
    good = MGHImage(np.ones((3, 3, 3), np.float32), np.eye(4)).to_bytes()
    for blob in (good[:50], good[:200], b"\x00\x00\x00\x01" + b"\xff" * 200):
        path.write_bytes(blob)
        with pytest.raises(NivoxError, match="bad.mgh"):
            np.asanyarray(MGHImage.from_filename(path).dataobj)
    path.write_bytes(b"not an mgh file at all" * 10)
    with pytest.raises(ImageFileError, match="bad.mgh"):
        nivox.load(path)


# ---- both ways with nibabel, generated -----------------------------------------------------------

affines = st.builds(
    lambda zooms, angle, shift: _affine(zooms, angle, shift),
    st.lists(st.floats(0.5, 4), min_size=3, max_size=3),
    st.floats(-3.1, 3.1), st.lists(st.floats(-100, 100), min_size=3, max_size=3))


def _affine(zooms, angle, shift):
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    aff = np.eye(4)
    aff[:3, :3] = rot * zooms
    aff[:3, 3] = shift
    return aff


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=3, max_size=4), dtype=st.sampled_from(NIBABEL_MGH_DTYPES),
       affine=affines, ext=st.sampled_from([".mgh", ".mgz"]), seed=st.integers(0, 100))
def test_round_trips_with_nibabel(tmp_path_factory, shape, dtype, affine, ext, seed):
    nib = pytest.importorskip("nibabel")
    folder = tmp_path_factory.mktemp("rt")
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    rng = np.random.default_rng(seed)
    data = (rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype) if info
            else rng.standard_normal(shape).astype(dtype))
    # ours -> theirs
    MGHImage(data, affine).to_filename(folder / f"o{ext}")
    theirs = nib.load(folder / f"o{ext}")
    assert np.array_equal(np.asanyarray(theirs.dataobj), data.reshape(theirs.shape))
    assert np.allclose(theirs.affine, affine, atol=1e-4)
    # theirs -> ours
    # nibabel cannot write a singleton fourth axis (nibabel#594): give it three
    nib.MGHImage(data.reshape(theirs.shape), affine).to_filename(folder / f"t{ext}")
    ours = nivox.load(folder / f"t{ext}")
    assert ours.shape == theirs.shape
    assert ours.header.binaryblock == nib.load(folder / f"t{ext}").header.binaryblock
    assert np.array_equal(np.asanyarray(ours.dataobj), data.reshape(ours.shape))
    assert np.array_equal(ours.affine, nib.load(folder / f"t{ext}").affine)


# ---- a single-stream .mgz (as FreeSurfer writes) is not decompressed whole at load -----------------

def test_single_stream_mgz_reads_what_is_asked(tmp_path, inflated):
    data = np.random.default_rng(1).random((32, 32, 32, 8)).astype(np.float32)
    raw = MGHImage(data, np.eye(4)).to_bytes()
    tags = tags_bytes([(3, b"recon-all\x00")])
    (tmp_path / "fs.mgz").write_bytes(gzip.compress(raw + tags))  # one deflate stream
    img = nivox.load(tmp_path / "fs.mgz")
    assert np.array_equal(img.dataobj[..., 0], data[..., 0])
    assert sum(inflated) < data.nbytes // 2  # load + first frame: not the whole file
    assert img.header.tags == tags  # read when asked for
    assert img.header.get_zooms()[:3] == (1.0, 1.0, 1.0)
    copy = pickle.loads(pickle.dumps(img))
    assert copy.header.tags == tags
    nivox.save(img, tmp_path / "again.mgz")
    assert nivox.load(tmp_path / "again.mgz").header.tags == tags


def test_lazy_footer_read_once_from_many_threads(tmp_path):
    path, _, tags, _ = _tagged_file(tmp_path, "t.mgz")
    img = nivox.load(path)
    headers = [img.header.copy() for _ in range(8)] + [img.header]
    seen = []
    threads = [threading.Thread(target=lambda h=h: seen.append((h.tags, float(h["tr"])))) for h in headers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [(tags, 2300.0)] * len(headers)


def test_lazy_footer_of_damaged_stream_names_file(tmp_path):
    data = np.arange(4000, dtype=np.float32).reshape(10, 20, 20)
    blob = bytearray(gzip.compress(MGHImage(data, np.eye(4)).to_bytes() + b"\x00" * 64))
    del blob[-30:]  # the stream ends inside the data
    (tmp_path / "cut.mgz").write_bytes(bytes(blob))
    img = nivox.load(tmp_path / "cut.mgz")
    with pytest.raises(NivoxError, match="cut.mgz"):
        img.header.tags  # noqa: B018


def test_lazy_footer_refuses_a_replaced_file(tmp_path):
    path, _, _, _ = _tagged_file(tmp_path, "r.mgz")
    img = nivox.load(path)
    (tmp_path / "sub").mkdir()
    other, _, _, _ = _tagged_file(tmp_path / "sub", "r2.mgz")
    other.write_bytes(other.read_bytes() + b"\x00")  # another size: another file
    other.replace(path)
    with pytest.raises(ImageFileError, match="changed"):
        img.header["tr"]


def test_nivox_written_mgz_reads_footer_at_load(tmp_path):
    path, _, tags, _ = _tagged_file(tmp_path, "n.mgz")
    nivox.save(nivox.load(path), tmp_path / "mine.mgz")  # sized members
    img = nivox.load(tmp_path / "mine.mgz")
    (tmp_path / "mine.mgz").unlink()
    assert img.header.tags == tags and img.header["tr"] == np.float32(2300)


def test_nibabel_names_exist_and_work(tmp_path):
    import nivox.freesurfer as fs

    data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    fs.save(MGHImage(data, np.eye(4)), tmp_path / "n.mgz")
    for loader in (fs.load, mghformat.load, nivox.load):
        img = loader(tmp_path / "n.mgz")
        assert type(img) is nivox.MGHImage is fs.MGHImage
        assert np.array_equal(np.asanyarray(img.dataobj), data)
    mghformat.save(img, tmp_path / "m.mgh")
    assert nivox.load(tmp_path / "m.mgh").header == img.header
    assert nivox.freesurfer.io.read_geometry is fs.read_geometry


def test_mri_frame_tag_dropped_when_frames_change(tmp_path):
    data = np.zeros((2, 2, 2, 3), np.float32)
    header = MGHHeader()
    header.set_data_shape(data.shape)
    header.tags = tags_bytes([(3, b"cmd\x00"), (42, b"\x01" * 30)]) + struct.pack(">i", 1) + b"old"
    img = MGHImage(data, np.eye(4), header)
    img.to_filename(tmp_path / "same.mgz")  # same frames: every byte kept
    assert nivox.load(tmp_path / "same.mgz").header.tags == header.tags
    fewer = img.slicer[..., :2]
    with pytest.warns(UserWarning, match="MRI_FRAME"):
        fewer.to_filename(tmp_path / "fewer.mgz")
    kept = nivox.load(tmp_path / "fewer.mgz").header.tags
    assert [t.tag for t in parse_tags(kept)[0]] == [3]
    assert kept.endswith(struct.pack(">i", 1) + b"old")  # the unparsed rest stays


def test_drop_tags_keeps_other_bytes():
    from nivox.freesurfer._mghtags import drop_tags

    raw = tags_bytes([(3, b"a"), (42, b"bb"), (41, b"c")]) + b"\x00\x00\x00\x01rest"
    out, count = drop_tags(raw, {42})
    assert count == 1
    assert out == tags_bytes([(3, b"a"), (41, b"c")]) + b"\x00\x00\x00\x01rest"
