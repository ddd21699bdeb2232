"""A small MATLAB ``.mat`` reader and writer, enough for SPM's affine sidecars.

SPM stores an image's voxel-to-world matrix next to Analyze files in a
``.mat`` file. Level 4 files (what nivox and nibabel write) are simple enough
to handle here, so SPM sidecars need no scipy: each variable is a 20-byte
header (type code, rows, columns, imaginary flag, name length), the
NUL-terminated name, then the values in column-major order. Level 5 files
(what MATLAB itself writes) are compressed, tagged structures; those are left
to :func:`scipy.io.loadmat` when scipy is installed.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

from .errors import ImageFileError, MissingDependencyError, WriterError

__all__ = ["mat_format", "read_mat", "write_mat"]

Source = bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes]

# precision digit of the v4 type code -> stored element type
_V4_PRECISIONS = {0: "f8", 1: "f4", 2: "i4", 3: "i2", 4: "u2", 5: "u1"}
# machine digit -> byte order; VAX and Cray floating point (2-4) are not IEEE
_V4_MACHINES = {0: "<", 1: ">"}
_V4_HEADER = 20
_V5_HEADER = 128
_SCIPY_META = ("__header__", "__version__", "__globals__")


def _as_bytes(source: Source) -> tuple[bytes, str]:
    """The whole content of ``source`` and a name to put in messages."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "<bytes>"
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        with open(path, "rb") as fobj:
            return fobj.read(), path
    return source.read(), str(getattr(source, "name", "<file object>"))


def mat_format(data: bytes) -> str:
    """Which MATLAB level ``data`` is: '4', '5', '7.3' (HDF5), or '' when it is none of them.

    A level 4 file starts with a type code below 5000 written as a 4-byte
    integer, so one of its first four bytes is zero; a level 5 file starts
    with descriptive text and ends its 128-byte header with 'IM' or 'MI'.
    """
    if len(data) == 0:
        return "4"  # no variables at all
    if len(data) >= 4 and 0 in data[:4]:
        return "4"
    if len(data) >= _V5_HEADER and data[126:128] in (b"IM", b"MI"):
        order = "<" if data[126:128] == b"IM" else ">"
        version = int(np.frombuffer(data[124:126], dtype=f"{order}u2")[0])
        return "7.3" if version == 0x0200 else "5"
    return ""


def read_mat(source: Source, name: str | None = None) -> dict[str, np.ndarray]:
    """The variables of a MATLAB ``.mat`` file, by name.

    Parameters
    ----------
    source : bytes, path or binary file object
        The file's content, or where to read it.
    name : str, optional
        The file's name for error messages (found from ``source`` when possible).

    Returns
    -------
    dict
        Level 4 numeric variables come back as float64 (complex128 when they
        have an imaginary part) 2-D arrays, text variables as arrays of str,
        one per row. Level 5 variables are as :func:`scipy.io.loadmat` gives them.

    Raises
    ------
    ImageFileError
        The content is not a readable MATLAB file.
    MissingDependencyError
        A level 5 file and scipy is not installed.
    """
    data, found_name = _as_bytes(source)
    name = name or found_name
    kind = mat_format(data)
    if kind == "4":
        return _read_v4(data, name)
    if kind == "5":
        return _read_v5(data, name)
    if kind == "7.3":
        raise ImageFileError(f"{name} is a MATLAB v7.3 (HDF5) .mat file, which nivox cannot "
                             "read; save it from MATLAB with -v7 or -v6")
    raise ImageFileError(f"{name} is not a MATLAB .mat file")


def _read_v5(data: bytes, name: str) -> dict[str, np.ndarray]:
    try:
        from scipy.io import loadmat
    except ImportError as err:
        raise MissingDependencyError(
            f"{name} is a MATLAB v5 .mat file; reading it needs scipy: pip install nivox[spm]"
        ) from err
    try:
        contents = loadmat(io.BytesIO(data))
    except Exception as err:  # scipy raises many types for a damaged file
        raise ImageFileError(f"{name} could not be read as a MATLAB v5 .mat file: {err}") from err
    return {key: value for key, value in contents.items() if key not in _SCIPY_META}


def _v4_byte_order(block: bytes, name: str) -> str:
    """The byte order of a v4 variable header: the one giving a sensible type code."""
    for order in ("<", ">"):
        mopt = int(np.frombuffer(block[:4], dtype=f"{order}i4")[0])
        if 0 <= mopt < 5000:
            machine = mopt // 1000
            if machine not in _V4_MACHINES:
                raise ImageFileError(f"{name} holds non-IEEE (VAX or Cray) numbers, which nivox cannot read")
            return _V4_MACHINES[machine]
    raise ImageFileError(f"{name} has a MATLAB v4 variable header with no valid type code")


def _read_v4(data: bytes, name: str) -> dict[str, np.ndarray]:
    variables: dict[str, np.ndarray] = {}
    pos = 0
    while pos < len(data):
        if len(data) - pos < _V4_HEADER:
            raise ImageFileError(f"{name} ends inside a MATLAB v4 variable header (byte {pos})")
        order = _v4_byte_order(data[pos : pos + 4], name)
        mopt, mrows, ncols, imagf, namlen = (
            int(v) for v in np.frombuffer(data[pos : pos + _V4_HEADER], dtype=f"{order}i4")
        )
        pos += _V4_HEADER
        other, precision, mtype = (mopt // 100) % 10, (mopt // 10) % 10, mopt % 10
        if other != 0 or precision not in _V4_PRECISIONS or mtype not in (0, 1):
            what = "sparse matrices" if mtype == 2 else f"type code {mopt}"
            raise ImageFileError(f"{name} holds a MATLAB v4 variable with {what}, which nivox cannot read")
        if mrows < 0 or ncols < 0 or namlen < 1 or imagf not in (0, 1):
            raise ImageFileError(f"{name} has a corrupt MATLAB v4 variable header (byte {pos - _V4_HEADER})")
        raw_name = data[pos : pos + namlen]
        pos += namlen
        var_name = raw_name.split(b"\0", 1)[0].decode("latin-1")
        dtype = np.dtype(_V4_PRECISIONS[precision]).newbyteorder(order)
        count = mrows * ncols
        nbytes = count * dtype.itemsize * (1 + imagf)
        if len(data) - pos < nbytes or len(raw_name) < namlen:
            raise ImageFileError(f"{name} is truncated: variable {var_name!r} needs {nbytes} bytes of data")
        values = np.frombuffer(data, dtype=dtype, count=count * (1 + imagf), offset=pos)
        pos += nbytes
        real = values[:count].reshape((mrows, ncols), order="F").astype(np.float64)
        if imagf:
            matrix = real + 1j * values[count:].reshape((mrows, ncols), order="F")
        else:
            matrix = real
        if mtype == 1:
            codes = matrix.real.astype(np.uint32)
            variables[var_name] = np.array(["".join(map(chr, row)) for row in codes])
        else:
            variables[var_name] = matrix
    return variables


def write_mat(target: str | os.PathLike[str] | IO[bytes], variables: Mapping[str, Any]) -> None:
    """Write ``variables`` as a MATLAB level 4 file (little-endian float64 matrices).

    Scalars become 1x1 matrices and 1-D arrays row vectors, as MATLAB and
    scipy do. Level 4 holds at most two dimensions.

    Raises
    ------
    WriterError
        A name that is not non-empty ASCII, or a value that is not a
        numeric array of at most two dimensions.
    """
    chunks = [_v4_variable(key, value) for key, value in variables.items()]
    if isinstance(target, (str, os.PathLike)):
        with open(target, "wb") as fobj:
            fobj.writelines(chunks)
    else:
        target.writelines(chunks)


def _v4_variable(key: str, value: Any) -> bytes:
    if not isinstance(key, str) or not key or not key.isascii() or "\0" in key:
        raise WriterError(f"MATLAB variable name must be a non-empty ASCII string, not {key!r}")
    array = np.asarray(value)
    if array.dtype.kind not in "biufc":
        raise WriterError(f"MATLAB v4 variable {key!r} must be numeric, not {array.dtype}")
    if array.ndim > 2:
        raise WriterError(f"MATLAB v4 variable {key!r} can have at most 2 dimensions, not {array.ndim}")
    array = array.reshape((1, -1) if array.ndim < 2 else array.shape)
    is_complex = array.dtype.kind == "c"
    name = key.encode("ascii") + b"\0"
    header = np.array([0, array.shape[0], array.shape[1], int(is_complex), len(name)], dtype="<i4")
    parts = [header.tobytes(), name, np.asarray(array.real, dtype="<f8").tobytes(order="F")]
    if is_complex:
        parts.append(np.asarray(array.imag, dtype="<f8").tobytes(order="F"))
    return b"".join(parts)
