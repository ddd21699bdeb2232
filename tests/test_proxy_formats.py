"""The proxy protocol for every format that writes: plain, compressed, scaled, big-endian."""

import numpy as np
import pytest
from suites.proxy_api import ProxyAPI

import nivox
from nivox.nifti1 import Nifti1Image

SHAPE = (4, 5, 3, 2)


def _scaled_image(klass, big_endian=False):
    data = np.linspace(-50, 70, np.prod(SHAPE)).reshape(SHAPE).astype(np.float32)
    # the header's byte order decides the file's
    header = klass.header_class(endianness=">") if big_endian else None
    img = klass(data, np.diag([2, 3, 4, 1.0]), header)
    img.set_data_dtype(np.int16)
    return img


class _FormatProxy(ProxyAPI):
    klass_name = "Nifti1Image"
    filename = "img.nii"
    big_endian = False

    def make_proxy(self, tmp_path):
        klass = getattr(nivox, self.klass_name)
        path = tmp_path / self.filename
        _scaled_image(klass, self.big_endian).to_filename(path)
        img = nivox.load(path)
        # the expected values: what the file holds after quantisation, read independently
        return img.dataobj, np.asanyarray(img.dataobj).copy()

    def test_expected_is_close_to_source(self, tmp_path):
        proxy, expected = self.make_proxy(tmp_path)
        source = np.linspace(-50, 70, np.prod(SHAPE)).reshape(SHAPE)
        step = abs(proxy.slope) if proxy.slope else 1
        assert np.abs(expected - source).max() <= step


class TestNifti1Proxy(_FormatProxy):
    pass


class TestNifti1GzProxy(_FormatProxy):
    filename = "img.nii.gz"


class TestNifti1BigEndianProxy(_FormatProxy):
    filename = "img.nii"
    big_endian = True


class TestNifti2PairProxy(_FormatProxy):
    klass_name = "Nifti2Pair"
    filename = "img.img"


class TestSpm2Proxy(_FormatProxy):
    klass_name = "Spm2AnalyzeImage"
    filename = "img.img.bz2"


def test_big_endian_file_on_disk_reads_natively(tmp_path):
    img = _scaled_image(Nifti1Image, big_endian=True)
    img.to_filename(tmp_path / "be.nii")
    loaded = nivox.load(tmp_path / "be.nii")
    assert loaded.header.endianness == ">"
    assert loaded.get_fdata().dtype.isnative
    nib = pytest.importorskip("nibabel")
    np.testing.assert_array_equal(loaded.get_fdata(), nib.load(tmp_path / "be.nii").get_fdata())
