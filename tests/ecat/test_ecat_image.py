"""nivox.ecat: the shared header/proxy/image suites, frames, scaling, writing, and nibabel as the oracle."""

from __future__ import annotations

import io
import pickle
import threading
import warnings

import numpy as np
import pytest
from ecat_maker import ecat_bytes
from suites.header_api import HeaderAPI
from suites.image_api import ImageAPI
from suites.proxy_api import ProxyAPI

import nivox
from nivox.ecat import (
    EcatHeader,
    EcatImage,
    EcatImageArrayProxy,
    EcatSubHeader,
    get_frame_order,
    get_series_framenumbers,
    read_mlist,
)
from nivox.errors import ImageFileError, NivoxError
from nivox.volumeutils import native_code, swapped_code

nib = pytest.importorskip("nibabel")
rng = np.random.default_rng(12)


def _frames(shape=(5, 4, 3), n=3, dtype=np.int16):
    return [(rng.random(shape) * 1000).astype(dtype) for _ in range(n)]


def _write(tmp_path, frames, factors, name="img.v", **kwargs):
    path = tmp_path / name
    path.write_bytes(ecat_bytes(frames, factors, **kwargs))
    return path


def _expected(frames, factors, calibration=2.0, order=None):
    order = range(len(frames)) if order is None else order
    return np.stack([frames[i] * calibration * np.float32(factors[i]).item() for i in order], axis=-1)


# ---- shared suites ------------------------------------------------------------------


class TestEcatHeaderAPI(HeaderAPI):
    header_class = EcatHeader
    nibabel_class_name = "ecat.EcatHeader"

    def test_default_header(self):
        hdr = self.header_class()
        assert hdr.endianness == native_code
        assert len(hdr.binaryblock) == 512
        assert hdr["magic_number"] == b"MATRIX72" and hdr["sw_version"] == 74
        with pytest.raises(NotImplementedError):
            hdr.get_data_dtype()

    def test_shape_zooms_dtype(self):
        pytest.skip("the ECAT main header holds no shape, zooms or dtype (the subheaders do)")

    def test_binaryblock_round_trip_and_byteswap(self):
        hdr = self.header_class()
        hdr["num_frames"] = 3
        hdr["scan_start_time"] = 42
        assert self.header_class(hdr.binaryblock) == hdr
        swapped = hdr.as_byteswapped(swapped_code)
        back = self.header_class(swapped.binaryblock)
        assert back.endianness == swapped_code  # guessed from sw_version
        assert back["num_frames"] == 3 and back == hdr

    def test_copy_is_independent(self):
        hdr = self.header_class()
        other = hdr.copy()
        other["num_frames"] = 9
        assert hdr["num_frames"] == 0

    def test_from_fileobj_and_write_to(self):
        hdr = self.header_class()
        hdr["num_frames"] = 2
        bio = io.BytesIO()
        hdr.write_to(bio)
        bio.seek(0)
        assert self.header_class.from_fileobj(bio)["num_frames"] == 2

    def test_data_to_and_from_fileobj(self):
        pytest.skip("frames are read through EcatSubHeader, not the main header")

    def test_str_mentions_fields(self):
        assert "magic_number" in str(self.header_class())

    def test_matches_nibabel_defaults(self):
        ours, theirs = EcatHeader(), nib.ecat.EcatHeader()
        assert ours.binaryblock == theirs.binaryblock
        theirs["num_frames"] = 4
        for block in (theirs.binaryblock, theirs.as_byteswapped().binaryblock):
            assert EcatHeader(block)["num_frames"] == 4
            assert EcatHeader(block).endianness == nib.ecat.EcatHeader(block).endianness


class TestEcatProxyAPI(ProxyAPI):
    def make_proxy(self, tmp_path):
        frames = _frames()
        path = _write(tmp_path, frames, [1.0, 0.5, 2.0])
        return nivox.load(path).dataobj, _expected(frames, [1.0, 0.5, 2.0])

    def test_is_proxy_and_attributes(self, tmp_path):
        proxy, expected = self.make_proxy(tmp_path)
        assert nivox.arrayproxy.is_proxy(proxy) and proxy.shape == expected.shape
        assert proxy.ndim == 4 and proxy.dtype == np.float64

    def test_unscaled_and_scaling(self, tmp_path):
        proxy, expected = self.make_proxy(tmp_path)
        sub = proxy._subheader
        raw = sub.raw_data_from_fileobj(1)
        assert np.allclose(sub.data_from_fileobj(1), expected[..., 1])
        assert np.allclose(raw * 2.0 * 0.5, expected[..., 1])

    def test_reshape(self, tmp_path):
        # no reshape method, as in nibabel: reshape_dataobj goes through numpy (C order)
        proxy, expected = self.make_proxy(tmp_path)
        flat = nivox.arrayproxy.reshape_dataobj(proxy, (-1,))
        assert np.array_equal(flat, expected.reshape(-1))
        theirs = nib.ecat.load(proxy._subheader.fileobj).dataobj
        assert np.array_equal(flat, nib.arrayproxy.reshape_dataobj(theirs, (-1,)))

    def test_keep_file_open_reads_same(self, tmp_path):
        proxy, expected = self.make_proxy(tmp_path)
        img = EcatImage.from_filename(proxy._subheader.fileobj, keep_file_open=True)
        np.testing.assert_allclose(img.dataobj[..., 0], expected[..., 0])
        np.testing.assert_allclose(np.asarray(img.dataobj), expected)


class TestEcatImageAPI(ImageAPI):
    """The image API where ECAT has it: images come from files (makeable is False, as in nibabel)."""

    image_class = EcatImage
    compressed_suffixes = ("", ".gz", ".bz2")

    def make_image(self, shape=(5, 4, 3, 2), dtype=np.int16, affine=None, tmp=None):
        shape = tuple(shape) + (1,) * (4 - len(shape))
        frames = [(rng.random(shape[:3]) * 100).astype(dtype) for _ in range(shape[3])]
        bio = io.BytesIO(ecat_bytes(frames, [1.0] * shape[3], calibration=1.0))
        holder = nivox.FileHolder(fileobj=bio)
        img = EcatImage.from_file_map({"image": holder, "header": holder})
        return img, np.stack(frames, axis=-1).astype(np.float64)

    def test_construct_shape_ndim_affine(self):
        img, data = self.make_image((2, 3, 4, 2))
        assert img.shape == (2, 3, 4, 2) and img.ndim == 4
        assert img.affine.dtype == np.float64
        parts = img.get_fdata(), img.affine, img.header, img.get_subheaders(), img.get_mlist()
        made = EcatImage(*parts)
        assert made.dataobj is parts[0]
        assert np.array_equal(made.get_fdata(), data)

    def test_affine_none_and_bad_affine(self):
        img, _ = self.make_image()
        parts = img.header, img.get_subheaders(), img.get_mlist()
        assert EcatImage(img.get_fdata(), None, *parts).affine is None
        with pytest.raises(ValueError):
            EcatImage(img.get_fdata(), np.eye(3), *parts)

    def test_zooms_follow_affine(self):
        img, _ = self.make_image()
        zooms = img.get_subheaders().get_zooms()
        assert np.allclose(np.diag(img.affine)[:3], zooms[:3])

    def test_get_fdata_caching_in_memory(self):
        img, data = self.make_image()
        first = img.get_fdata()
        assert img.get_fdata() is first and np.array_equal(first, data)
        as32 = img.get_fdata(dtype=np.float32)
        assert as32.dtype == np.float32
        with pytest.raises(ValueError):
            img.get_fdata(dtype=np.int16)

    def save_load(self, img, tmp_path, suffix=""):
        path = tmp_path / f"img.v{suffix}"
        img.to_filename(path)
        return EcatImage.from_filename(path), path

    @pytest.mark.parametrize("shape", [(2, 3, 4, 1), (5, 4, 3, 2), (7, 1, 1, 3)])
    def test_round_trip_shapes(self, tmp_path, shape):
        img, data = self.make_image(shape)
        loaded, _ = self.save_load(img, tmp_path)
        assert loaded.shape == shape
        assert np.array_equal(np.asanyarray(loaded.dataobj), data)
        assert np.allclose(loaded.affine, img.affine)

    def test_round_trip_dtypes(self, tmp_path):
        for dtype in (np.uint8, np.int16, np.int32, np.float32):
            img, data = self.make_image(dtype=dtype)
            loaded, _ = self.save_load(img, tmp_path)
            assert loaded.get_data_dtype(0) == np.dtype(dtype)
            assert np.array_equal(loaded.get_fdata(), data)

    def test_file_map_in_memory(self):
        img, data = self.make_image()
        bio = io.BytesIO()
        holder = nivox.FileHolder(fileobj=bio)
        img.to_file_map({"image": holder, "header": holder})
        bio.seek(0)
        loaded = EcatImage.from_file_map({"image": holder, "header": holder})
        assert np.array_equal(np.asanyarray(loaded.dataobj), data)

    def test_from_image_and_instance_to_filename(self, tmp_path):
        img, _ = self.make_image()
        with pytest.raises(NotImplementedError):
            EcatImage.from_image(img)

    def test_slicer(self):
        # nibabel's slicer fails on ECAT (TypeError); nivox's gives the data and affine, no subheaders
        img, data = self.make_image((5, 4, 3, 2))
        with pytest.raises(IndexError):
            img.slicer[0]
        sliced = img.slicer[1:4, ::2]
        assert sliced.shape == (3, 2, 3, 2) and np.array_equal(sliced.get_fdata(), data[1:4, ::2])
        assert np.allclose(sliced.affine[:3, 3], (img.affine @ [1, 0, 0, 1])[:3])

    def test_set_data_dtype_aliases(self):
        img, _ = self.make_image()
        assert img.get_data_dtype(0) == np.int16  # ECAT: per frame, from the subheaders

    def test_filename_get_set(self, tmp_path):
        img, _ = self.make_image()
        target = tmp_path / "x.v"
        img.set_filename(str(target))
        assert img.get_filename() == str(target)
        img.to_filename(target)
        assert EcatImage.from_filename(target).get_filename() == str(target)


# ---- behaviour ------------------------------------------------------------------------


def test_multi_frame_scaling_matches_nibabel(tmp_path):
    frames = _frames(n=4)
    factors = [1.0, 0.25, 3.5, 1e-3]
    path = _write(tmp_path, frames, factors, calibration=1.7)
    ours, theirs = nivox.load(path), nib.ecat.load(path)
    assert isinstance(ours, EcatImage)
    assert np.array_equal(ours.get_fdata(), theirs.get_fdata())
    assert np.array_equal(ours.affine, theirs.affine)
    for index in (np.s_[..., 2], np.s_[1:3, :, 0], np.s_[..., 1:4:2], np.s_[None, 0, ..., ::-1],
                  np.s_[:, [0, 2]], np.s_[..., -1]):
        assert np.array_equal(ours.dataobj[index], theirs.get_fdata()[index]), index
    for frame in range(4):
        assert np.array_equal(ours.get_frame(frame), theirs.get_frame(frame))


def test_frames_stored_out_of_order(tmp_path):
    frames = _frames(n=3)
    ids = [16842755, 16842753, 16842754]  # acquired 3rd, 1st, 2nd
    path = _write(tmp_path, frames, [1.0] * 3, ids=ids)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = nivox.load(path), nib.ecat.load(path)
        assert np.array_equal(ours.get_fdata(), theirs.get_fdata())
        assert np.array_equal(ours.get_fdata(), _expected(frames, [1.0] * 3, order=[1, 2, 0]))
        assert get_series_framenumbers(ours.get_mlist()) == nib.ecat.get_series_framenumbers(ours.get_mlist())
        assert get_frame_order(ours.get_mlist()) == nib.ecat.get_frame_order(ours.get_mlist())
    with pytest.warns(UserWarning, match="out of order"):
        get_frame_order(ours.get_mlist())


@pytest.mark.parametrize("orientation", [0, 1, 8])
def test_patient_orientation_flips_like_nibabel(tmp_path, orientation):
    frames = _frames(n=2)
    path = _write(tmp_path, frames, [1.0, 2.0], orientation=orientation)
    ours, theirs = nivox.load(path), nib.ecat.load(path)
    assert np.array_equal(ours.get_fdata(), theirs.get_fdata())
    assert np.array_equal(ours.dataobj[1:3, ::2, 0, 1], theirs.get_fdata()[1:3, ::2, 0, 1])
    for option in ("neurological", "radiological"):
        assert np.array_equal(ours.get_frame(0, option), theirs.get_frame(0, option))
    # saving keeps the stored orientation: nibabel reads the copy as it read the original
    ours.to_filename(tmp_path / "copy.v")
    assert np.array_equal(nib.ecat.load(tmp_path / "copy.v").get_fdata(), theirs.get_fdata())


@pytest.mark.parametrize("endian", ["<", ">"])
def test_resave_is_byte_identical(tmp_path, endian):
    path = _write(tmp_path, _frames(n=3), [1.0, 0.5, 0.25], endian=endian)
    nivox.load(path).to_filename(tmp_path / "again.v")
    assert (tmp_path / "again.v").read_bytes() == path.read_bytes()


def test_edited_data_saved_scaled_per_frame(tmp_path):
    frames = _frames(n=2)
    img = nivox.load(_write(tmp_path, frames, [1.0, 1.0]))
    edited = img.get_fdata() * 0.37 + 11.1
    new = EcatImage(edited, img.affine, img.header, img.get_subheaders(), img.get_mlist())
    new.to_filename(tmp_path / "edited.v")
    back = nib.ecat.load(tmp_path / "edited.v").get_fdata()
    assert np.allclose(back, edited, atol=np.abs(edited).max() / 30000)
    assert not np.array_equal(back, img.get_fdata())


def test_read_mlist_and_subheaders_match_nibabel(tmp_path):
    path = _write(tmp_path, _frames(n=5), [1.0] * 5)
    with open(path, "rb") as fobj:
        hdr = EcatHeader.from_fileobj(fobj)
        ours = read_mlist(fobj, hdr.endianness)
        theirs = nib.ecat.read_mlist(fobj, hdr.endianness)
        assert np.array_equal(ours, theirs)
        sub = EcatSubHeader(hdr, ours, fobj)
        assert sub.get_nframes() == 5 and sub.get_shape(4) == (5, 4, 3)
        assert sub._get_frame_offset(1) == int(ours[1][1]) * 512


def test_gzip_and_nivox_load(tmp_path):
    import gzip

    frames = _frames(n=2)
    path = tmp_path / "img.v.gz"
    path.write_bytes(gzip.compress(ecat_bytes(frames, [1.0, 2.0])))
    img = nivox.load(path)
    assert isinstance(img, EcatImage)
    assert np.array_equal(img.get_fdata(), _expected(frames, [1.0, 2.0]))


def test_proxy_pickles_by_reference_and_threads(tmp_path):
    frames = _frames((20, 20, 10), n=4)
    path = _write(tmp_path, frames, [1.0] * 4)
    expected = _expected(frames, [1.0] * 4)
    for keep in (False, True):
        proxy = EcatImage.from_filename(path, keep_file_open=keep).dataobj
        if not keep:
            payload = pickle.dumps(proxy)
            assert len(payload) < 8000
            assert np.array_equal(np.asarray(pickle.loads(payload)), expected)
        results = {}

        def read(index, proxy=proxy, results=results):
            results[index] = proxy[..., index % 4]

        threads = [threading.Thread(target=read, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(np.array_equal(results[i], expected[..., i % 4]) for i in range(16))


def test_not_ecat_and_registry(tmp_path):
    bad = tmp_path / "bad.v"
    bad.write_bytes(b"not an ecat file" * 64)
    with pytest.raises(ImageFileError, match="bad.v"):
        nivox.load(bad)
    assert any(e.class_name == "EcatImage" for e in nivox.imageclasses.FORMATS)
    assert EcatImage.makeable is False and EcatImageArrayProxy is EcatImage.ImageArrayProxy


def test_matrix_list_outside_file_is_a_clean_error(tmp_path):
    data = bytearray(ecat_bytes(_frames(n=2), [1.0, 1.0]))
    rows = np.frombuffer(bytes(data[512:1024]), ">i4").reshape(32, 4).copy()
    rows[2, 1] = 10_000  # second frame's subheader far past the end
    data[512:1024] = rows.tobytes()
    path = tmp_path / "far.v"
    path.write_bytes(bytes(data))
    with pytest.raises(NivoxError, match="far.v"):
        np.asarray(nivox.load(path).dataobj)


# ---- round trips both ways with nibabel (hypothesis) -------------------------------------

from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=25, deadline=None)
@given(shape=st.tuples(*[st.integers(1, 6)] * 3), n=st.integers(1, 4),
       dtype=st.sampled_from([np.uint8, np.int16, np.int32, np.float32]), endian=st.sampled_from("<>"),
       factor=st.floats(1e-3, 1e3), calibration=st.floats(0.1, 1e4),
       pixel=st.tuples(*[st.floats(0.05, 1.0)] * 3), orientation=st.sampled_from([0, 3, 8]))
def test_round_trips_both_ways(tmp_path_factory, shape, n, dtype, endian, factor, calibration, pixel,
                               orientation):
    folder = tmp_path_factory.mktemp("ecat")
    frames = [(rng.random(shape) * 100).astype(dtype) for _ in range(n)]
    source = folder / "src.v"
    source.write_bytes(ecat_bytes(frames, [factor * (i + 1) for i in range(n)], calibration=calibration,
                                  endian=endian, pixel_size=pixel, orientation=orientation))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        original = nib.ecat.load(source)
        # nivox writes, nibabel reads
        nivox.load(source).to_filename(folder / "by_nivox.v")
        # nibabel writes, nivox reads
        original.to_filename(folder / "by_nibabel.v")
        theirs, ours = nib.ecat.load(folder / "by_nivox.v"), nivox.load(folder / "by_nivox.v")
        for img in (theirs, ours):
            assert np.array_equal(img.get_fdata(), original.get_fdata())
            assert np.array_equal(img.affine, original.affine)
            assert img.header.binaryblock == original.header.binaryblock
        assert ours.get_subheaders().get_zooms() == original.get_subheaders().get_zooms()
        # nibabel's writer stores its matrix list big-endian whatever the header's byte order, and
        # stores flipped frames of files with a patient orientation: compare with what nibabel reads
        try:
            again = nib.ecat.load(folder / "by_nibabel.v")
        except Exception:  # noqa: BLE001 - nibabel refusing in any way counts
            assert endian == "<"
            with pytest.raises(NivoxError, match="by_nibabel"):
                np.asarray(nivox.load(folder / "by_nibabel.v").dataobj)
            return
        ours = nivox.load(folder / "by_nibabel.v")
        assert np.array_equal(ours.get_fdata(), again.get_fdata())
        assert np.array_equal(ours.affine, again.affine)
        if orientation == 8:
            assert np.array_equal(ours.get_fdata(), original.get_fdata())


def test_little_endian_version_72_read(tmp_path):
    # nibabel takes any sw_version but 74 for the other byte order; nivox checks which order reads a version
    frames = _frames(n=2)
    path = _write(tmp_path, frames, [1.0, 2.0], endian="<", sw_version=72)
    img = nivox.load(path)
    assert img.header.endianness == "<"
    assert np.array_equal(img.get_fdata(), _expected(frames, [1.0, 2.0]))


def test_pickle_with_file_kept_open(tmp_path):
    frames = _frames(n=2)
    path = _write(tmp_path, frames, [1.0, 3.0])
    img = EcatImage.from_filename(path, keep_file_open=True)
    again = pickle.loads(pickle.dumps(img.dataobj))
    assert np.array_equal(np.asarray(again), _expected(frames, [1.0, 3.0]))


def test_loaded_header_knows_shape_zooms_dtype_and_converts(tmp_path):
    frames = _frames(n=3)
    img = nivox.load(_write(tmp_path, frames, [1.0, 0.5, 2.0]))
    assert img.header.get_data_shape() == img.shape == (5, 4, 3, 3)
    assert np.allclose(img.header.get_zooms(), (2.0, 2.5, 3.0, 1.0))
    assert img.header.get_data_dtype() == np.float32  # scaled frames
    assert img.get_data_dtype() == np.float32 and img.get_data_dtype(0) == np.int16
    with pytest.raises(NotImplementedError):
        EcatHeader().get_data_shape()  # a bare main header still cannot know
    expected = _expected(frames, [1.0, 0.5, 2.0])
    for name in ("pet.nii.gz", "pet+orig.HEAD"):
        nivox.save(img, tmp_path / name)
        back = nib.load(tmp_path / name)
        assert np.allclose(back.get_fdata(), expected, rtol=1e-6)
        assert np.allclose(back.affine, img.affine)


def test_image_without_subheaders_holds_data_only(tmp_path):
    data = np.ones((2, 3, 4, 2))
    img = EcatImage(data, np.eye(4))
    assert img.shape == (2, 3, 4, 2) and img.get_data_dtype() == np.float64
    with pytest.raises(NivoxError, match="subheaders"):
        img.to_filename(tmp_path / "x.v")
    assert not (tmp_path / "x.v").exists()


def test_command_line_converts_ecat(tmp_path, capsys):
    from nivox.cli.main import main

    frames = _frames(n=2)
    path = _write(tmp_path, frames, [1.0, 4.0])
    assert main(["convert", str(path), str(tmp_path / "out.nii")]) == 0
    assert np.allclose(nib.load(tmp_path / "out.nii").get_fdata(), _expected(frames, [1.0, 4.0]), rtol=1e-6)
    assert main(["header", str(path)]) == 0
    assert "magic_number" in capsys.readouterr().out
