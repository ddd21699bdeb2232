"""nivox.brikhead: AFNIImage/AFNIHeader/AFNIArrayProxy through the shared suites, mixed types, writing.

nibabel is the oracle: whatever nivox writes, nibabel reads with the same data, affine and zooms.
"""

from __future__ import annotations

import bz2
import gzip
import io
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from suites.header_api import HeaderAPI
from suites.image_api import ImageAPI
from suites.proxy_api import ProxyAPI

import nivox
from nivox.brikhead import (
    AFNIArrayProxy,
    AFNIHeader,
    AFNIHeaderError,
    AFNIImage,
    AFNIImageError,
    format_AFNI_header,
    parse_AFNI_header,
)
from nivox.errors import HeaderDataError, NivoxWarning, TruncatedDataError

nib = pytest.importorskip("nibabel")
rng = np.random.default_rng(7)
AFNI_DTYPES = (np.uint8, np.int16, np.float32, np.complex64)
# nibabel reads AFNI complex sub-bricks (8 bytes: two floats) as complex128, so it cannot be the oracle there
NIBABEL_READS = (np.uint8, np.int16, np.float32)


def _affine():
    affine = np.diag([2.0, 3.0, 4.0, 1.0])
    affine[:3, 3] = [-10, 20, 5]
    return affine


def _dataset(tmp_path, bricks, types, name="mix+orig", factors=None, compress=None, extra=None):
    """A dataset written by hand (not by nivox's writer): bricks are (i, j, k) arrays."""
    shape = bricks[0].shape
    info = {
        "TYPESTRING": "3DIM_HEAD_ANAT", "SCENE_DATA": [0, 2, 0, -999, -999, -999, -999, -999],
        "ORIENT_SPECIFIC": [0, 3, 4], "ORIGIN": [-10.0, -20.0, 5.0], "DELTA": [2.0, 3.0, 4.0],
        "IJK_TO_DICOM_REAL": [2.0, 0.0, 0.0, -10.0, 0.0, 3.0, 0.0, -20.0, 0.0, 0.0, 4.0, 5.0],
        "DATASET_RANK": [3, len(bricks), 0, 0, 0, 0, 0, 0], "DATASET_DIMENSIONS": list(shape) + [0, 0],
        "BRICK_TYPES": types, "BYTEORDER_STRING": "LSB_FIRST",
        "BRICK_FLOAT_FACS": factors if factors is not None else [0.0] * len(bricks),
        "BRICK_LABS": "~".join(f"b{i}" for i in range(len(bricks))),
        "HISTORY_NOTE": "[someone] 3dcalc -a x+orig -expr a\\n[other] 3dTcat",
    }
    info.update(extra or {})
    (tmp_path / f"{name}.HEAD").write_text(format_AFNI_header(info))
    codes = {0: "<u1", 1: "<i2", 3: "<f4", 5: "<c8"}
    payload = b"".join(b.astype(codes[t]).tobytes(order="F") for b, t in zip(bricks, types))
    suffix, packer = {None: ("", bytes), "gz": (".gz", gzip.compress), "bz2": (".bz2", bz2.compress)}[compress]
    (tmp_path / f"{name}.BRIK{suffix}").write_bytes(packer(payload))
    return tmp_path / f"{name}.HEAD"


# ---- shared suites --------------------------------------------------------------------------


class TestAFNIHeaderAPI(HeaderAPI):
    header_class = AFNIHeader
    supported_dtypes = (np.uint8, np.int16, np.float32, np.complex64)

    def test_default_header(self):
        hdr = AFNIHeader()
        assert hdr.info == {} and hdr.get_data_shape() == (0,) and hdr.get_zooms() == (1.0,)
        with pytest.raises(AFNIHeaderError):
            AFNIHeader.from_header(None)
        with pytest.raises(AFNIHeaderError):
            AFNIHeader.from_header(nivox.Nifti1Header())

    def test_shape_zooms_dtype(self):
        self.max_ndim = 7
        hdr = AFNIHeader()
        hdr.set_data_shape((2, 3, 4, 5))
        hdr.set_zooms((1.5, 2, 3, 0.5))
        assert np.allclose(hdr.get_zooms(), (1.5, 2, 3, 0.5))
        with pytest.raises(HeaderDataError):
            hdr.set_zooms((1, 2, -3, 1))
        for dtype in self.supported_dtypes:
            hdr.set_data_dtype(dtype)
            assert hdr.get_data_dtype() == np.dtype(dtype)
        with pytest.raises(HeaderDataError):
            hdr.set_data_dtype("not a dtype")

    def test_binaryblock_round_trip_and_byteswap(self, tmp_path):
        # the text equivalent: a header's attributes written and parsed again give the same header
        head = _dataset(tmp_path, [np.zeros((2, 3, 4))] * 2, [1, 1])
        hdr = AFNIHeader.from_fileobj(str(head))
        again = AFNIHeader(parse_AFNI_header(io.StringIO(format_AFNI_header(hdr.info))))
        assert again == hdr and again.info == hdr.info
        big = dict(hdr.info, BYTEORDER_STRING="MSB_FIRST")
        assert AFNIHeader(big).get_data_dtype() == np.dtype(">i2")

    def test_copy_is_independent(self):
        hdr = AFNIHeader({"DATASET_RANK": [3, 1], "DATASET_DIMENSIONS": [2, 2, 2], "BRICK_TYPES": 1,
                          "DELTA": [1.0, 1.0, 1.0]})
        other = hdr.copy()
        other.set_data_shape((9, 9))
        other.info["DELTA"][0] = 5.0
        assert hdr.get_data_shape() == (2, 2, 2, 1) and hdr.info["DELTA"][0] == 1.0

    def test_from_fileobj_and_write_to(self, tmp_path):
        head = _dataset(tmp_path, [np.zeros((2, 2, 2))], [3])
        with open(head, "rb") as fobj:
            assert AFNIHeader.from_fileobj(fobj).get_data_shape() == (2, 2, 2, 1)
        assert AFNIHeader.from_fileobj(str(head)).get_data_dtype() == np.float32

    def test_data_to_and_from_fileobj(self, tmp_path):
        bricks = [np.arange(24).reshape(2, 3, 4)] * 2
        head = _dataset(tmp_path, bricks, [0, 1])
        hdr = AFNIHeader.from_fileobj(str(head))
        with open(str(head)[:-5] + ".BRIK", "rb") as fobj:
            data = hdr.data_from_fileobj(fobj)
        assert data.dtype == np.int16 and np.array_equal(data, np.stack(bricks, -1))

    def test_may_contain_header(self):
        assert AFNIHeader.may_contain_header(b"\ntype = string-attribute\nname = X\n")
        assert not AFNIHeader.may_contain_header(b"\x00" * 10)

    def test_str_mentions_fields(self, tmp_path):
        assert "BRICK_TYPES" in str(AFNIHeader.from_fileobj(str(_dataset(tmp_path, [np.zeros((1, 1, 1))], [1]))))


class TestAFNIProxyAPI(ProxyAPI):
    def make_proxy(self, tmp_path):
        data = (rng.random((5, 4, 3, 2)) * 100).astype(np.int16)
        AFNIImage(data, _affine()).to_filename(tmp_path / "p+orig.HEAD")
        return nivox.load(tmp_path / "p+orig.HEAD").dataobj, data


class TestAFNIMixedProxyAPI(ProxyAPI):
    def make_proxy(self, tmp_path):
        bricks = [(rng.random((5, 4, 3)) * 100).astype(t) for t in (np.uint8, np.float32, np.int16)]
        head = _dataset(tmp_path, bricks, [0, 3, 1])
        return nivox.load(head).dataobj, np.stack(bricks, -1).astype(np.float32)

    def test_keep_file_open_reads_same(self, tmp_path):
        proxy, expected = self.make_proxy(tmp_path)
        again = AFNIArrayProxy(proxy.file_like, nivox.load(str(proxy.file_like)[:-5] + ".HEAD").header,
                               keep_file_open=True)
        np.testing.assert_array_equal(again[..., 1], expected[..., 1])


class TestAFNIImageAPI(ImageAPI):
    image_class = AFNIImage
    storable_dtypes = AFNI_DTYPES
    compressed_suffixes = ("", ".gz", ".bz2")

    def make_image(self, shape=(2, 3, 4), dtype=np.int16, affine=None):
        # AFNI datasets read back 4-D (sub-bricks last, as in nibabel): make them 4-D
        shape = tuple(shape) + (1,) * (4 - len(shape))
        return super().make_image(shape, dtype, affine)

    def test_construct_shape_ndim_affine(self):
        data = np.zeros((2, 3, 4), np.int16)
        img = AFNIImage(data, _affine())
        assert img.shape == (2, 3, 4) and img.dataobj is data and img.get_data_dtype() == np.int16

    @pytest.mark.parametrize("shape", [(2, 3, 4), (5, 4, 3, 2), (7,), (3, 1, 2, 1, 1)])
    def test_round_trip_shapes(self, tmp_path, shape):
        data = (rng.random(shape) * 100).astype(np.int16)
        img = AFNIImage(data, _affine())
        img.to_filename(tmp_path / "s.HEAD")
        padded = (tuple(shape) + (1, 1, 1, 1))[:4]
        for loaded in (nivox.load(tmp_path / "s.HEAD"), nib.load(tmp_path / "s.HEAD")):
            assert loaded.shape == padded
            assert np.array_equal(np.asanyarray(loaded.dataobj), data.reshape(padded))
            assert np.allclose(loaded.affine, img.affine)

    def test_five_real_axes_refused(self, tmp_path):
        with pytest.raises(HeaderDataError, match="at most 4 axes"):
            AFNIImage(np.zeros((2, 2, 2, 2, 2)), _affine()).to_filename(tmp_path / "five.HEAD")
        assert not list(tmp_path.iterdir())


# ---- reading ---------------------------------------------------------------------------


def test_mixed_brick_types(tmp_path):
    bricks = [(rng.random((4, 3, 2)) * 200).astype(t) for t in (np.uint8, np.int16, np.float32, np.complex64)]
    head = _dataset(tmp_path, bricks, [0, 1, 3, 5])
    img = nivox.load(head)
    assert img.get_data_dtype() == np.complex64
    assert img.header.get_brick_dtypes() == [np.dtype(t) for t in ("u1", "<i2", "<f4", "<c8")]
    expected = np.stack(bricks, -1).astype(np.complex64)
    assert np.array_equal(np.asarray(img.dataobj), expected)
    for index in (np.s_[..., 2], np.s_[1:3, :, 0, ::-1], np.s_[None, 0, ..., 1:3], np.s_[:, [0, 2]],
                  np.s_[0, 0, 0, 0], np.s_[..., 4:]):
        assert np.array_equal(img.dataobj[index], expected[index]), index
    with pytest.raises(nib.brikhead.AFNIImageError):
        nib.load(head)  # nibabel refuses mixed types
    # saved again, each sub-brick keeps its type
    img.to_filename(tmp_path / "again+orig.HEAD")
    again = nivox.load(tmp_path / "again+orig.HEAD")
    assert again.header.info["BRICK_TYPES"] == [0, 1, 3, 5]
    assert np.array_equal(np.asarray(again.dataobj), expected)


def test_float_factors_like_nibabel(tmp_path):
    bricks = [(rng.random((4, 3, 2)) * 3000).astype(np.int16) for _ in range(3)]
    head = _dataset(tmp_path, bricks, [1, 1, 1], factors=[0.5, 0.0, 1e-3], compress="gz")
    ours, theirs = nivox.load(head), nib.load(head)
    assert np.array_equal(ours.dataobj.scaling, theirs.dataobj.scaling)
    assert np.array_equal(ours.get_fdata(), theirs.get_fdata())
    for index in (np.s_[..., 1], np.s_[1:, ::2], np.s_[0, 0, 0], np.s_[None, ..., ::-1]):
        got = ours.dataobj[index]
        assert got.dtype == theirs.dataobj[index].dtype and np.array_equal(got, theirs.dataobj[index])
    # nibabel cannot index its scaled proxy with arrays; nivox can
    assert np.array_equal(ours.dataobj[:, :, 0, [0, 2]], theirs.get_fdata()[:, :, 0, [0, 2]])
    for dtype in (np.float32, np.float64):
        assert np.asarray(ours.dataobj, dtype=dtype).dtype == np.asarray(theirs.dataobj, dtype=dtype).dtype
    # saved with its factors: stored values and factors unchanged
    ours.to_filename(tmp_path / "scaled+orig.HEAD")
    back = nib.load(tmp_path / "scaled+orig.HEAD")
    assert np.array_equal(back.dataobj.scaling, theirs.dataobj.scaling)
    assert np.array_equal(back.get_fdata(), theirs.get_fdata())


@pytest.mark.parametrize("compress", [None, "gz", "bz2"])
def test_load_by_any_name(tmp_path, compress):
    bricks = [np.arange(24, dtype=np.int16).reshape(2, 3, 4)]
    head = _dataset(tmp_path, bricks, [1], compress=compress)
    brik = str(head)[:-5] + ".BRIK" + {None: "", "gz": ".gz", "bz2": ".bz2"}[compress]
    for name in (head, brik):
        img = nivox.load(name)
        assert isinstance(img, AFNIImage) and np.array_equal(img.get_fdata()[..., 0], bricks[0])
    # as nibabel's AFNIImage.load: the .BRIK name without its compression suffix finds the file
    img = nivox.brikhead.load(str(head)[:-5] + ".BRIK")
    assert np.array_equal(img.get_fdata()[..., 0], bricks[0])


def test_views_labels_space(tmp_path):
    head = _dataset(tmp_path, [np.zeros((2, 2, 2))] * 2, [1, 1], name="v+tlrc",
                    extra={"SCENE_DATA": [2, 2, 0], "TEMPLATE_SPACE": "MNI"})
    img = nivox.load(head)
    assert img.header.get_view() == "tlrc" and img.header.get_space() == "MNI"
    assert img.header.get_volume_labels() == ["b0", "b1"]
    img.to_filename(tmp_path / "w+orig.HEAD")  # another view: the default space of that view
    assert nib.load(tmp_path / "w+orig.HEAD").header.get_space() == "ORIG"
    img.to_filename(tmp_path / "w+tlrc.HEAD")  # same view: the space is kept
    back = nib.load(tmp_path / "w+tlrc.HEAD")
    assert back.header.get_space() == "MNI" and back.header.info["SCENE_DATA"][0] == 2
    assert back.header.get_volume_labels() == ["b0", "b1"]


def test_history_note_and_unknown_attributes_kept(tmp_path):
    head = _dataset(tmp_path, [np.ones((2, 2, 2))], [3], extra={"MY_OWN": [1.5, 2.5], "NOTE_NUMBER": 1})
    img = nivox.load(head)
    img.to_filename(tmp_path / "kept+orig.HEAD")
    info = parse_AFNI_header(tmp_path / "kept+orig.HEAD")
    original = parse_AFNI_header(head)
    for name in ("HISTORY_NOTE", "MY_OWN", "NOTE_NUMBER", "TYPESTRING"):
        assert info[name] == original[name]


def test_missing_or_short_brik(tmp_path):
    head = _dataset(tmp_path, [np.ones((4, 4, 4))] * 2, [1, 1])
    brik = tmp_path / "mix+orig.BRIK"
    brik.write_bytes(brik.read_bytes()[:-10])
    img = nivox.load(head)  # as nibabel: the header loads, reading the data fails
    with pytest.raises(TruncatedDataError, match="mix"):
        img.get_fdata()
    with pytest.raises(TruncatedDataError, match="mix"):
        nivox.load(head, validation="raise")
    brik.unlink()
    with pytest.raises(AFNIImageError, match="mix"):
        nivox.load(head)
    with pytest.raises(FileNotFoundError):
        nivox.load(head)


def test_corpus_bad_files_raise_nibabels_classes():
    from nibabel.testing import data_path as data
    with pytest.raises(AFNIImageError):
        nivox.load(f"{data}/bad_datatype+orig.HEAD")
    with pytest.raises(AFNIHeaderError, match="bad_attribute"):
        nivox.load(f"{data}/bad_attribute+orig.HEAD")


# ---- writing ---------------------------------------------------------------------------


def test_convert_nifti_and_report_losses(tmp_path):
    data = rng.random((3, 4, 5, 2))
    ni = nivox.Nifti1Image(data, _affine())
    ni.header.set_zooms((2, 3, 4, 1.5))
    with pytest.warns(NivoxWarning, match="float64"):
        nivox.save(ni, tmp_path / "conv.HEAD")
    back = nib.load(tmp_path / "conv.HEAD")
    assert np.allclose(back.get_fdata(), data.astype(np.float32))
    assert back.header.get_zooms() == (2.0, 3.0, 4.0, 1.5)
    ints = nivox.Nifti1Image(np.arange(60, dtype=np.int32).reshape(3, 4, 5), _affine())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nivox.save(ints, tmp_path / "ints.BRIK.gz")  # fits int16: lossless, no warning
    loaded = nivox.load(tmp_path / "ints.HEAD")
    assert loaded.get_data_dtype() == np.uint8  # the smallest AFNI type holding 0..59
    assert np.array_equal(loaded.get_fdata()[..., 0], ints.get_fdata())


def test_save_is_atomic(tmp_path, monkeypatch):
    img = AFNIImage(np.ones((2, 2, 2), np.float32), _affine())
    img.to_filename(tmp_path / "a+orig.HEAD")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("nivox.brikhead.image.format_AFNI_header", broken)
    with pytest.raises(RuntimeError):
        AFNIImage(np.zeros((3, 3, 3), np.float32), _affine()).to_filename(tmp_path / "a+orig.HEAD")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_proxy_pickles_small(tmp_path):
    img = AFNIImage((rng.random((20, 20, 20, 3)) * 100).astype(np.int16), _affine())
    img.to_filename(tmp_path / "pk+orig.BRIK.gz")
    proxy = nivox.load(tmp_path / "pk+orig.HEAD").dataobj
    payload = pickle.dumps(proxy)
    assert len(payload) < 4000
    assert np.array_equal(np.asarray(pickle.loads(payload)), np.asarray(proxy))


def _affines():
    def build(perm, flips, zooms, shift, shear):
        matrix = np.zeros((3, 3))
        for axis, world in enumerate(perm):
            matrix[world, axis] = zooms[axis] * (-1 if flips[axis] else 1)
        matrix = matrix + shear * np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]]) @ matrix
        affine = np.eye(4)
        affine[:3, :3] = matrix
        affine[:3, 3] = shift
        return affine

    floats = st.floats(0.3, 5, allow_nan=False)
    return st.builds(build, st.permutations([0, 1, 2]), st.lists(st.booleans(), min_size=3, max_size=3),
                     st.tuples(floats, floats, floats),
                     st.tuples(*[st.floats(-200, 200, allow_nan=False)] * 3), st.sampled_from([0.0, 0.1]))


@settings(max_examples=25, deadline=None)
@given(shape=st.tuples(*[st.integers(1, 5)] * 4), dtype=st.sampled_from(NIBABEL_READS), affine=_affines(),
       tr=st.sampled_from([0.0, 2.0]))
def test_nibabel_reads_what_nivox_writes(tmp_path_factory, shape, dtype, affine, tr):
    folder = tmp_path_factory.mktemp("rt")
    data = (rng.random(shape) * 100).astype(dtype)
    img = AFNIImage(data, affine)
    img.header.set_zooms(img.header.get_zooms()[:3] + (tr,))
    img.to_filename(folder / "rt+orig.HEAD")
    theirs, ours = nib.load(folder / "rt+orig.HEAD"), nivox.load(folder / "rt+orig.HEAD")
    for loaded in (theirs, ours):
        assert loaded.get_data_dtype() == np.dtype(dtype)
        assert np.array_equal(np.asanyarray(loaded.dataobj), data)
        assert np.array_equal(loaded.affine, affine)
        assert np.allclose(loaded.header.get_zooms(), img.header.get_zooms())
    assert ours.header.info == theirs.header.info
    # and nivox re-saving what it read changes nothing nibabel sees
    ours.to_filename(folder / "again+orig.HEAD")
    assert (folder / "again+orig.BRIK").read_bytes() == (folder / "rt+orig.BRIK").read_bytes()
    assert nib.load(folder / "again+orig.HEAD").header.info == theirs.header.info


def test_complex_is_afni_complex64(tmp_path):
    data = (rng.random((3, 2, 2, 2)) + 1j * rng.random((3, 2, 2, 2))).astype(np.complex64)
    AFNIImage(data, _affine()).to_filename(tmp_path / "c+orig.HEAD")
    assert (tmp_path / "c+orig.BRIK").stat().st_size == data.size * 8  # AFNI: two float32 per value
    assert np.array_equal(np.asarray(nivox.load(tmp_path / "c+orig.HEAD").dataobj), data)


def test_threads_read_mixed_and_scaled_datasets(tmp_path):
    import threading

    bricks = [(rng.random((12, 10, 8)) * 100).astype(t) for t in (np.int16, np.float32, np.uint8, np.int16)]
    head = _dataset(tmp_path, bricks, [1, 3, 0, 1], factors=[2.0, 0.0, 0.5, 0.0], compress="gz")
    expected = np.stack(bricks, -1).astype(np.float64) * [2.0, 1.0, 0.5, 1.0]
    for keep in (False, True):
        proxy = AFNIImage.from_filename(head, keep_file_open=keep).dataobj
        results = {}

        def read(index, proxy=proxy, results=results):
            results[index] = proxy[..., index % 4]

        threads = [threading.Thread(target=read, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(np.array_equal(results[i], expected[..., i % 4]) for i in range(16))


def test_affine_from_orient_specific_when_no_ijk_to_dicom_real(tmp_path):
    affine = np.diag([2.0, 3.0, 4.0, 1.0])
    affine[:3, 3] = [-10, -20, -5]
    flipped = affine @ np.array([[-1, 0, 0, 3], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]])
    for target in (affine, flipped):
        AFNIImage(np.zeros((4, 3, 2), np.int16), target).to_filename(tmp_path / "o+orig.HEAD")
        info = parse_AFNI_header(tmp_path / "o+orig.HEAD")
        del info["IJK_TO_DICOM_REAL"]  # older datasets: the grid attributes alone
        assert np.allclose(AFNIHeader(info).get_affine(), target)
    assert info["ORIENT_SPECIFIC"] == [0, 2, 4] or info["ORIENT_SPECIFIC"][1:] == [2, 4]


def test_header_as_mapping_and_command_line(tmp_path, capsys):
    from nivox.cli.main import main

    head = _dataset(tmp_path, [np.ones((2, 2, 2))], [1])
    hdr = nivox.load(head).header
    assert "BRICK_TYPES" in hdr and hdr["DATASET_RANK"][:2] == [3, 1] and hdr.keys()[0] == "TYPESTRING"
    assert main(["header", str(head)]) == 0
    assert "HISTORY_NOTE" in capsys.readouterr().out
    ni = tmp_path / "n.nii"
    nivox.save(nivox.Nifti1Image(np.arange(8, dtype=np.int16).reshape(2, 2, 2), _affine()), ni)
    assert main(["convert", str(ni), str(tmp_path / "c+tlrc.HEAD")]) == 0
    back = nib.load(tmp_path / "c+tlrc.HEAD")
    assert back.header.get_space() == "TLRC"
    assert np.array_equal(back.get_fdata()[..., 0], np.arange(8).reshape(2, 2, 2))
