"""Tests for the MATLAB .mat reader/writer used for SPM sidecars."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

from nivox import _matfile
from nivox.errors import ImageFileError, MissingDependencyError, WriterError

sio = pytest.importorskip("scipy.io")

RNG = np.random.default_rng(20240531)


def _v4_bytes(variables: dict) -> bytes:
    stream = io.BytesIO()
    _matfile.write_mat(stream, variables)
    return stream.getvalue()


def _scipy_bytes(variables: dict, fmt: str, **kwargs) -> bytes:
    stream = io.BytesIO()
    sio.savemat(stream, variables, format=fmt, **kwargs)
    return stream.getvalue()


def test_v4_layout_by_hand():
    # one 2x1 matrix: type 0 (LE double), 2 rows, 1 column, real, name 'ab\0'
    content = _v4_bytes({"ab": np.array([[1.5], [-2.0]])})
    header = np.frombuffer(content[:20], "<i4")
    assert header.tolist() == [0, 2, 1, 0, 3]
    assert content[20:23] == b"ab\0"
    assert np.frombuffer(content[23:], "<f8").tolist() == [1.5, -2.0]


def test_column_major_order():
    matrix = np.arange(6, dtype=float).reshape(2, 3)
    content = _v4_bytes({"x": matrix})
    values = np.frombuffer(content[22:], "<f8")
    assert values.tolist() == [0, 3, 1, 4, 2, 5]


def test_round_trip_own_files():
    variables = {"M": RNG.normal(size=(4, 4)), "mat": RNG.normal(size=(3, 5)),
                 "z": RNG.normal(size=(2, 2)) + 1j * RNG.normal(size=(2, 2))}
    back = _matfile.read_mat(_v4_bytes(variables))
    assert list(back) == ["M", "mat", "z"]
    for key, value in variables.items():
        assert back[key].dtype == (np.complex128 if key == "z" else np.float64)
        np.testing.assert_array_equal(back[key], value)


def test_scalars_and_vectors_shapes():
    back = _matfile.read_mat(_v4_bytes({"s": 3, "v": [1, 2, 3], "b": np.bool_(True)}))
    assert back["s"].shape == (1, 1) and back["s"][0, 0] == 3
    assert back["v"].shape == (1, 3)
    assert back["b"].tolist() == [[1.0]]


def test_scipy_reads_our_v4():
    variables = {"M": RNG.normal(size=(4, 4)), "mat": RNG.normal(size=(4, 4)),
                 "c": RNG.normal(size=(1, 3)) + 2j}
    loaded = sio.loadmat(io.BytesIO(_v4_bytes(variables)))
    for key, value in variables.items():
        np.testing.assert_array_equal(loaded[key], value)


def test_same_bytes_as_scipy_v4():
    variables = {"M": RNG.normal(size=(4, 4)), "mat": RNG.normal(size=(4, 4))}
    assert _v4_bytes(variables) == _scipy_bytes(variables, "4")


@pytest.mark.parametrize("fmt", ["4", "5"])
def test_read_scipy_files(fmt):
    variables = {"mat": RNG.normal(size=(4, 4)), "i16": np.arange(6, dtype=np.int16).reshape(3, 2),
                 "u8": np.arange(4, dtype=np.uint8).reshape(1, 4), "f4": np.ones((2, 2), np.float32),
                 "cplx": np.array([[1 + 2j, 3 - 1j]]), "txt": "hello"}
    back = _matfile.read_mat(_scipy_bytes(variables, fmt))
    assert _matfile.mat_format(_scipy_bytes(variables, fmt)) == fmt
    for key, value in variables.items():
        if key == "txt":
            assert back[key].tolist() == ["hello"]
        else:
            np.testing.assert_array_equal(back[key], value)


def test_read_scipy_v5_compressed_and_3d():
    stack = RNG.normal(size=(4, 4, 3))
    back = _matfile.read_mat(_scipy_bytes({"mat": stack}, "5", do_compression=True))
    np.testing.assert_array_equal(back["mat"], stack)
    assert not any(key.startswith("__") for key in back)


def test_read_big_endian_v4():
    # as SPM on a big-endian workstation wrote them: header and data big-endian, machine digit 1
    matrix = RNG.normal(size=(4, 4))
    content = (np.array([1000, 4, 4, 0, 4], ">i4").tobytes() + b"mat\0"
               + matrix.astype(">f8").tobytes(order="F"))
    back = _matfile.read_mat(content)
    np.testing.assert_array_equal(back["mat"], matrix)


def test_read_single_precision_v4():
    matrix = np.arange(6, dtype=np.float32).reshape(2, 3)
    content = np.array([10, 2, 3, 0, 2], "<i4").tobytes() + b"m\0" + matrix.tobytes(order="F")
    np.testing.assert_array_equal(_matfile.read_mat(content)["m"], matrix)


def test_read_from_path_and_fileobj(tmp_path):
    path = tmp_path / "x.mat"
    _matfile.write_mat(path, {"mat": np.eye(4)})
    np.testing.assert_array_equal(_matfile.read_mat(path)["mat"], np.eye(4))
    np.testing.assert_array_equal(_matfile.read_mat(str(path))["mat"], np.eye(4))
    with open(path, "rb") as fobj:
        np.testing.assert_array_equal(_matfile.read_mat(fobj)["mat"], np.eye(4))


def test_empty_content_has_no_variables():
    assert _matfile.read_mat(b"") == {}


@pytest.mark.parametrize("content, match", [
    (b"not a mat file at all, just text" * 5, "not a MATLAB"),
    (np.array([0, 4, 4, 0, 4], "<i4").tobytes() + b"mat\0" + b"\0" * 16, "truncated"),
    (np.array([0, 4, 4], "<i4").tobytes(), "ends inside"),
    (np.array([2, 1, 1, 0, 2], "<i4").tobytes() + b"m\0" + b"\0" * 8, "sparse"),
    (np.array([2000, 1, 1, 0, 2], "<i4").tobytes() + b"m\0" + b"\0" * 8, "VAX or Cray"),
    (np.array([0, -1, 1, 0, 2], "<i4").tobytes() + b"m\0", "corrupt"),
])
def test_bad_content_raises_naming_file(content, match):
    with pytest.raises(ImageFileError, match=match) as info:
        _matfile.read_mat(content, name="sidecar.mat")
    assert "sidecar.mat" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_v73_refused_with_advice():
    header = b"MATLAB 7.3 MAT-file".ljust(124, b" ") + np.array([0x0200], "<u2").tobytes() + b"IM"
    with pytest.raises(ImageFileError, match="v7.3"):
        _matfile.read_mat(header + b"\0" * 512, name="h5.mat")


def test_v5_without_scipy(monkeypatch):
    content = _scipy_bytes({"mat": np.eye(4)}, "5")
    monkeypatch.setitem(sys.modules, "scipy.io", None)
    with pytest.raises(MissingDependencyError, match=r"pip install nivox\[spm\]") as info:
        _matfile.read_mat(content, name="spm.mat")
    assert "spm.mat" in str(info.value)
    assert isinstance(info.value, ImportError)
    # level 4 needs no scipy
    np.testing.assert_array_equal(_matfile.read_mat(_v4_bytes({"mat": np.eye(4)}))["mat"], np.eye(4))


def test_damaged_v5_is_image_file_error():
    content = bytearray(_scipy_bytes({"mat": np.eye(4)}, "5"))
    del content[140:]
    with pytest.raises(ImageFileError, match="broken.mat"):
        _matfile.read_mat(bytes(content), name="broken.mat")


@pytest.mark.parametrize("variables, match", [
    ({"": np.eye(2)}, "name"),
    ({"bad\0name": np.eye(2)}, "name"),
    ({"é": np.eye(2)}, "name"),
    ({"x": np.ones((2, 2, 2))}, "2 dimensions"),
    ({"x": np.array(["a", "b"])}, "numeric"),
])
def test_write_refuses(variables, match):
    with pytest.raises(WriterError, match=match):
        _v4_bytes(variables)
