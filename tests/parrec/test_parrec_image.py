"""PARRECImage and PARRECArrayProxy: the shared suites on synthetic files, and PAR/REC specifics."""

from __future__ import annotations

import os

import numpy as np
import pytest
from suites.parrec_files import make_parrec, write_parrec
from suites.proxy_api import ProxyAPI
from suites.read_image_api import ReadImageAPI

import nivox
from nivox.arrayproxy import reshape_dataobj
from nivox.errors import ImageFileError, NivoxError, PARRECError, TruncatedDataError
from nivox.parrec import PARRECArrayProxy, PARRECHeader, PARRECImage, exts2pars


class TestPARRECImageAPI(ReadImageAPI):
    image_class = PARRECImage

    def example(self, tmp_path):
        path, expected, _ = write_parrec(tmp_path, vary_scaling=True, line_order="slice",
                                         angulation=(5.0, -10.0, 15.0), off_center=(1, 2, 3))
        return path, expected


class TestPARREC3DImageAPI(ReadImageAPI):
    image_class = PARRECImage

    def example(self, tmp_path):
        path, expected, _ = write_parrec(tmp_path, n_vols=1, bits=8, orientation=3, version="V4")
        return path, expected


class TestPARRECProxyAPI(ProxyAPI):
    image_class = PARRECImage

    def make_proxy(self, tmp_path):
        path, expected, _ = write_parrec(tmp_path, vary_scaling=True, line_order="slice")
        return nivox.load(path).dataobj, expected

    def test_reshape(self, tmp_path):
        # no reshape method (as nibabel's): reshape_dataobj falls back on numpy, in C order
        proxy, expected = self.make_proxy(tmp_path)
        assert not hasattr(proxy, "reshape")
        np.testing.assert_allclose(reshape_dataobj(proxy, (-1,)), expected.reshape(-1))

    def test_keep_file_open_reads_same(self, tmp_path):
        # PAR/REC proxies are built from a header, not a (shape, dtype, ...) spec
        proxy, expected = self.make_proxy(tmp_path)
        with open(proxy.file_like, "rb") as fobj:
            again = PARRECArrayProxy(fobj, nivox.load(proxy.file_like).header)
            np.testing.assert_allclose(again[..., 0], expected[..., 0])
            np.testing.assert_allclose(np.asarray(again), expected)


def test_extension_case_and_either_file(tmp_path):
    path, expected, _ = write_parrec(tmp_path, par_ext=".par", rec_ext=".rec")
    for name in ("synth.par", "synth.rec"):
        np.testing.assert_allclose(nivox.load(tmp_path / name).get_fdata(), expected)
    # a pair whose extensions differ in case is found too
    other = tmp_path / "mixed"
    other.mkdir()
    path, expected, _ = write_parrec(other, par_ext=".PAR", rec_ext=".rec")
    np.testing.assert_allclose(nivox.load(path).get_fdata(), expected)
    np.testing.assert_allclose(nivox.load(other / "synth.rec").get_fdata(), expected)


def test_scaling_fp_and_dv(tmp_path):
    path, expected, facts = write_parrec(tmp_path, vary_scaling=True)
    dv = PARRECImage.from_filename(path)
    fp = PARRECImage.from_filename(path, scaling="fp")
    np.testing.assert_allclose(dv.get_fdata(), expected)
    # FP = DV / (RS * SS), per slice
    divisor = (facts["slopes"] * facts["scale_slopes"]).T[None, None]
    np.testing.assert_allclose(fp.get_fdata(), expected / divisor)
    with pytest.raises(ValueError):
        PARRECImage.from_filename(path, scaling="xx")


def test_float32_read_matches_float64(tmp_path):
    path, expected, _ = write_parrec(tmp_path, vary_scaling=True)
    img = nivox.load(path)
    as32 = np.asarray(img.dataobj, dtype=np.float32)
    assert as32.dtype == np.float32
    assert np.array_equal(as32, np.asarray(img.dataobj).astype(np.float32))
    assert img.dataobj.get_unscaled().dtype == np.uint16


def test_slice_reads_only_needed_images(tmp_path, monkeypatch):
    path, expected, _ = write_parrec(tmp_path, n_slices=5, n_vols=6)
    proxy = nivox.load(path).dataobj
    calls = []
    import nivox.parrec.proxy as proxy_module

    real = proxy_module.fileslice

    def counting(fobj, slicer, *args, **kwargs):
        calls.append(slicer)
        return real(fobj, slicer, *args, **kwargs)

    monkeypatch.setattr(proxy_module, "fileslice", counting)
    np.testing.assert_allclose(proxy[..., 4], expected[..., 4])
    # volume 4 is images 20..24 of the REC file, read in one request
    assert calls == [(slice(None), slice(None), slice(20, 25))]


def test_strict_sort_shuffled_lines(tmp_path):
    nib = pytest.importorskip("nibabel")
    par, rec, expected, _ = make_parrec(n_vols=3, vary_scaling=True)
    lines = par.decode().splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip() and line.strip()[0].isdigit())
    last = max(i for i, line in enumerate(lines) if line.strip() and line.strip()[0].isdigit())
    image_lines = lines[first:last + 1]
    order = np.random.default_rng(3).permutation(len(image_lines))
    images = [rec[i * 60:(i + 1) * 60] for i in range(len(image_lines))]
    shuffled_par = "\n".join(lines[:first] + [image_lines[i] for i in order] + lines[last + 1:])
    (tmp_path / "s.PAR").write_text(shuffled_par)
    (tmp_path / "s.REC").write_bytes(b"".join(images[i] for i in order))
    ours = PARRECImage.from_filename(tmp_path / "s.PAR", strict_sort=True)
    theirs = nib.parrec.load(tmp_path / "s.PAR", strict_sort=True)
    np.testing.assert_allclose(ours.get_fdata(), expected)
    np.testing.assert_array_equal(ours.get_fdata(), theirs.get_fdata())
    np.testing.assert_array_equal(ours.header.get_sorted_slice_indices(), theirs.header.get_sorted_slice_indices())


def test_short_rec_file_named(tmp_path):
    path, _, _ = write_parrec(tmp_path)
    rec = tmp_path / "synth.REC"
    rec.write_bytes(rec.read_bytes()[:-7])
    img = nivox.load(path)  # the header alone is fine
    with pytest.raises(TruncatedDataError, match="synth.REC"):
        img.get_fdata()
    # the first volume is all there
    assert img.dataobj[..., 0].shape == img.shape[:3]


def test_missing_rec_file(tmp_path):
    path, _, _ = write_parrec(tmp_path)
    os.unlink(tmp_path / "synth.REC")
    img = nivox.load(path)
    assert img.header.get_data_shape() == (6, 5, 4, 3)
    with pytest.raises(NivoxError, match="synth.REC"):
        img.get_fdata()


def test_not_a_par_file(tmp_path):
    (tmp_path / "x.PAR").write_bytes(b"\x00\x01binary junk")
    (tmp_path / "x.REC").write_bytes(b"\x00" * 10)
    with pytest.raises(ImageFileError, match="x.PAR"):
        nivox.load(tmp_path / "x.PAR")
    with pytest.raises(PARRECError):
        PARRECImage.from_filename(tmp_path / "x.PAR")


def test_truncated_header_needs_permission(tmp_path):
    par, rec, expected, _ = make_parrec(n_vols=3)
    lines = par.decode().splitlines()
    last = max(i for i, line in enumerate(lines) if line.strip() and line.strip()[0].isdigit())
    (tmp_path / "t.PAR").write_text("\n".join(lines[:last] + lines[last + 1:]))  # last slice lost
    (tmp_path / "t.REC").write_bytes(rec)
    with pytest.raises(PARRECError, match="t.PAR"):
        nivox.load(tmp_path / "t.PAR")
    with pytest.warns(UserWarning, match="partial volume"):
        img = nivox.load(tmp_path / "t.PAR", permit_truncated=True)
    np.testing.assert_allclose(img.get_fdata(), expected[..., :2])


def test_saving_refused_converting_works(tmp_path):
    path, expected, _ = write_parrec(tmp_path)
    img = nivox.load(path)
    with pytest.raises(NotImplementedError):
        img.to_filename(tmp_path / "x.PAR")
    nifti = nivox.Nifti1Image.from_image(img)
    assert nifti.header.get_xyzt_units() == ("mm", "sec")
    np.testing.assert_allclose(nifti.header.get_zooms(), img.header.get_zooms(), rtol=1e-6)


def test_exts2pars_round_trip(tmp_path):
    from nivox.nifti1 import Nifti1Extension

    path, _, _ = write_parrec(tmp_path)
    nifti = nivox.Nifti1Image.from_image(nivox.load(path))
    assert exts2pars(nifti) == []
    nifti.header.extensions.append(Nifti1Extension("comment", path.read_bytes()))
    nifti.header.extensions.append(Nifti1Extension("comment", b"other"))
    (found,) = exts2pars(nifti.header)
    assert isinstance(found, PARRECHeader)
    assert found.get_data_shape() == (6, 5, 4, 3)


def test_header_from_other_header_refused():
    with pytest.raises(PARRECError):
        PARRECHeader.from_header(None)
    with pytest.raises(PARRECError):
        PARRECHeader.from_header(nivox.Nifti1Header())


def test_short_rec_with_permit_truncated_keeps_complete_volumes(tmp_path):
    path, expected, _ = write_parrec(tmp_path, n_slices=4, n_vols=3)
    rec = tmp_path / "synth.REC"
    image_bytes = 6 * 5 * 2
    rec.write_bytes(rec.read_bytes()[: image_bytes * 9 + 11])  # 2 volumes and a bit of the third
    with pytest.raises(TruncatedDataError, match="synth.REC"):
        nivox.load(path).get_fdata()
    with pytest.warns(UserWarning, match="holds 9 of the 12 images"):
        img = nivox.load(path, permit_truncated=True)
    assert img.shape == (6, 5, 4, 2)
    np.testing.assert_allclose(img.get_fdata(), expected[..., :2])
    rec.write_bytes(rec.read_bytes()[: image_bytes * 3])  # not one volume left
    with pytest.raises(PARRECError, match="no complete volume"):
        nivox.load(path, permit_truncated=True)
