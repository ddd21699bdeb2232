"""The array-proxy protocol every format's ``dataobj`` must honour, as a reusable pytest class.

A subclass provides ``make_proxy(tmp_path)`` returning (proxy, expected_array)
for a file written in its format; the tests then check laziness, slicing,
scaling and the attributes users rely on.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from nivox.arrayproxy import is_proxy, reshape_dataobj


class ProxyAPI:
    def make_proxy(self, tmp_path):  # pragma: no cover - subclasses implement
        raise NotImplementedError

    def test_is_proxy_and_attributes(self, tmp_path):
        proxy, expected = self.make_proxy(tmp_path)
        assert is_proxy(proxy)
        assert not is_proxy(expected)
        assert proxy.shape == expected.shape
        assert proxy.ndim == expected.ndim
        assert isinstance(proxy.offset, int)

    def test_array_and_dtype_argument(self, tmp_path):
        proxy, expected = self.make_proxy(tmp_path)
        np.testing.assert_allclose(np.asarray(proxy), expected, rtol=1e-6)
        as32 = np.asarray(proxy, dtype=np.float32)
        assert as32.dtype == np.float32
        np.testing.assert_allclose(as32, expected.astype(np.float32), rtol=1e-6)

    @pytest.mark.parametrize(
        "index",
        [(0,), (-1,), (slice(None, None, 2),), (Ellipsis, 0), (slice(1, 3), None, slice(None, None, -1)),
         (0, 0, 0), (slice(None), [0, 2])],
        ids=["int", "neg", "step", "ellipsis", "newaxis-rev", "scalar", "fancy"],
    )
    def test_slicing_matches_numpy(self, tmp_path, index):
        proxy, expected = self.make_proxy(tmp_path)
        np.testing.assert_allclose(proxy[index], expected[index], rtol=1e-6)

    def test_out_of_range_raises_index_error(self, tmp_path):
        proxy, _ = self.make_proxy(tmp_path)
        with pytest.raises(IndexError):
            proxy[proxy.shape[0]]

    def test_unscaled_and_scaling(self, tmp_path):
        proxy, expected = self.make_proxy(tmp_path)
        raw = proxy.get_unscaled()
        slope = 1.0 if proxy.slope is None else proxy.slope
        inter = 0.0 if proxy.inter is None else proxy.inter
        np.testing.assert_allclose(raw * slope + inter, expected, rtol=1e-6)

    def test_reshape(self, tmp_path):
        proxy, expected = self.make_proxy(tmp_path)
        flat = reshape_dataobj(proxy, (-1,))
        assert flat.shape == (expected.size,)
        np.testing.assert_allclose(np.asarray(flat), expected.reshape(-1, order="F"), rtol=1e-6)

    def test_pickle_keeps_no_data(self, tmp_path):
        proxy, expected = self.make_proxy(tmp_path)
        payload = pickle.dumps(proxy)
        assert len(payload) < 4096 or len(payload) < expected.nbytes / 4
        np.testing.assert_allclose(np.asarray(pickle.loads(payload)), expected, rtol=1e-6)

    def test_keep_file_open_reads_same(self, tmp_path):
        proxy, expected = self.make_proxy(tmp_path)
        again = type(proxy)(proxy.file_like, (proxy.shape, proxy.dtype, proxy.offset, proxy.slope,
                                              proxy.inter), keep_file_open=True)
        np.testing.assert_allclose(again[..., 0], expected[..., 0], rtol=1e-6)
