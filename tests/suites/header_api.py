"""The header API every binary header class must honour, as a reusable pytest class.

Subclasses set ``header_class`` and, if different, ``sizeof_hdr``. A header
may also be compared with the same-named nibabel class (``nibabel_class``).
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from nivox.errors import HeaderDataError
from nivox.volumeutils import native_code, swapped_code


class HeaderAPI:
    header_class: type = None
    nibabel_class_name: str | None = None
    supported_dtypes: tuple = (np.uint8, np.int16, np.int32, np.float32, np.float64, np.complex64)
    max_ndim: int = 7

    def test_default_header(self):
        hdr = self.header_class()
        assert hdr.endianness == native_code
        assert len(hdr.binaryblock) == self.header_class.template_dtype.itemsize
        assert hdr.get_data_shape() == (0,)
        assert hdr.get_zooms() == (1.0,)

    def test_shape_zooms_dtype(self):
        hdr = self.header_class()
        hdr.set_data_shape((2, 3, 4, 5))
        assert hdr.get_data_shape() == (2, 3, 4, 5)
        hdr.set_zooms((1.5, 2, 3, 0.5))
        assert np.allclose(hdr.get_zooms(), (1.5, 2, 3, 0.5))
        with pytest.raises(HeaderDataError):
            hdr.set_zooms((1, 2))
        with pytest.raises(HeaderDataError):
            hdr.set_zooms((1, 2, -3, 1))
        with pytest.raises(HeaderDataError):
            hdr.set_data_shape((1,) * (self.max_ndim + 1))
        for dtype in self.supported_dtypes:
            hdr.set_data_dtype(dtype)
            assert hdr.get_data_dtype() == np.dtype(dtype)
        with pytest.raises(HeaderDataError):
            hdr.set_data_dtype("not a dtype")

    def test_binaryblock_round_trip_and_byteswap(self):
        hdr = self.header_class()
        hdr.set_data_shape((3, 4, 5))
        hdr.set_data_dtype(np.int16)
        again = self.header_class(hdr.binaryblock)
        assert again == hdr
        swapped = hdr.as_byteswapped(swapped_code)
        read_back = self.header_class(swapped.binaryblock)
        assert read_back.endianness == swapped_code
        assert read_back.get_data_shape() == (3, 4, 5)
        assert read_back.get_data_dtype() == np.dtype(np.int16).newbyteorder(swapped_code)
        assert read_back == hdr

    def test_copy_is_independent(self):
        hdr = self.header_class()
        other = hdr.copy()
        other.set_data_shape((9, 9))
        assert hdr.get_data_shape() == (0,)

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
        hdr.data_to_fileobj(data, bio)
        bio.seek(0)
        assert np.array_equal(hdr.data_from_fileobj(bio), data)

    def test_may_contain_header(self):
        hdr = self.header_class()
        assert self.header_class.may_contain_header(hdr.binaryblock)
        assert self.header_class.may_contain_header(hdr.as_byteswapped().binaryblock)
        assert not self.header_class.may_contain_header(b"\x00" * 10)

    def test_str_mentions_fields(self):
        text = str(self.header_class())
        assert "sizeof_hdr" in text

    def test_matches_nibabel_defaults(self):
        if self.nibabel_class_name is None:
            pytest.skip("no nibabel counterpart")
        nib = pytest.importorskip("nibabel")
        klass = nib
        for part in self.nibabel_class_name.split("."):
            klass = getattr(klass, part)
        theirs = klass()
        ours = self.header_class()
        assert ours.binaryblock == theirs.binaryblock
        # and each reads the other's non-default header identically
        theirs.set_data_shape((3, 4, 5))
        theirs.set_data_dtype(np.int16)
        theirs.set_zooms((2, 3, 4))
        read = self.header_class(theirs.binaryblock)
        assert read.get_data_shape() == (3, 4, 5)
        assert np.allclose(read.get_zooms(), (2, 3, 4))
        assert np.allclose(read.get_best_affine(), theirs.get_best_affine())
