"""The header API of formats whose header is not one binary block (MINC, PAR/REC, ...).

Such headers still give what nibabel's ``SpatialHeader`` gives: data type,
shape and voxel sizes that can be read, set and copied. A format's test
module subclasses ``SpatialHeaderAPI`` and sets ``header_class``.
"""

from __future__ import annotations

import numpy as np
import pytest

from nivox.errors import HeaderDataError


class SpatialHeaderAPI:
    header_class: type = None
    supported_dtypes: tuple = (np.uint8, np.int16, np.int32, np.float32, np.float64)

    def test_default_header(self):
        hdr = self.header_class()
        assert hdr.get_data_dtype() == np.float32
        assert hdr.get_data_shape() == (0,)
        assert hdr.get_zooms() == (1.0,)

    def test_init_shape_zooms_dtype(self):
        hdr = self.header_class(np.int16, (2, 3, 4), (1.5, 2, 3))
        assert hdr.get_data_dtype() == np.int16
        assert hdr.get_data_shape() == (2, 3, 4)
        assert hdr.get_zooms() == (1.5, 2.0, 3.0)
        hdr.set_data_shape((2, 3, 4, 5))
        assert hdr.get_zooms() == (1.5, 2.0, 3.0, 1.0)  # new axes get voxel size 1
        with pytest.raises(HeaderDataError):
            hdr.set_zooms((1, 2))
        with pytest.raises(HeaderDataError):
            hdr.set_zooms((1, 2, -3, 1))
        for dtype in self.supported_dtypes:
            hdr.set_data_dtype(dtype)
            assert hdr.get_data_dtype() == np.dtype(dtype)
        with pytest.raises(HeaderDataError):
            hdr.set_data_dtype("not a dtype")

    def test_copy_eq_and_from_header(self):
        hdr = self.header_class(np.uint8, (3, 4, 5), (2, 2, 2))
        other = hdr.copy()
        assert other == hdr
        other.set_data_shape((9, 9))
        assert hdr.get_data_shape() == (3, 4, 5)
        assert other != hdr
        again = self.header_class.from_header(hdr)
        assert again == hdr and again is not hdr
        assert self.header_class.from_header(None) == self.header_class()

    def test_best_affine_from_zooms(self):
        hdr = self.header_class(np.int16, (3, 4, 5), (2, 3, 4))
        affine = hdr.get_best_affine()
        assert affine.shape == (4, 4)
        assert np.allclose(np.abs(np.diag(affine))[:3], (2, 3, 4))
