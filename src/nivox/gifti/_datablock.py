"""The text of a GIFTI ``<Data>`` element, to and from arrays, in each of the four encodings.

Every size is checked against the ``DimN`` attributes before the array is
made: base64 text decodes to at most 3/4 of its length, a compressed block is
inflated only up to the size the dimensions give (a zlib bomb stops there),
and an external file must hold the bytes the dimensions and offset name.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
import struct
import sys
import zlib
from typing import Any

import numpy as np

from ..nifti1 import data_type_codes
from .util import array_index_order_codes, gifti_encoding_codes, gifti_endian_codes
from ..errors import InvalidArgumentError

__all__ = ["decode_data", "encode_data"]

_MMAP_MODES = (True, False, "c", "r", "r+")


def _fail(message: str) -> Exception:
    from .parse_gifti_fast import GiftiParseError

    return GiftiParseError(message)


def _dtype_of(darray: Any) -> np.dtype:
    try:
        dtype = np.dtype(data_type_codes.dtype[darray.datatype])
    except (KeyError, TypeError):
        raise _fail(f"unknown DataType {darray.datatype!r}") from None
    if dtype.kind == "V":
        raise _fail(f"DataType {data_type_codes.niistring.get(darray.datatype, darray.datatype)} "
                    "has no array type")
    order = gifti_endian_codes.byteorder.get(darray.endian, "undef")
    if order not in ("big", "little"):
        order = sys.byteorder  # undefined byte order: the reader's, as other readers assume
    return dtype.newbyteorder("<" if order == "little" else ">")


def _shape_of(darray: Any) -> tuple[int, ...]:
    shape = tuple(int(d) for d in darray.dims)
    if any(d < 0 for d in shape):
        raise _fail(f"negative dimension in {shape}")
    return shape


def decode_data(darray: Any, fname: str | None, text: str | bytes | memoryview | None,
                mmap: Any = True) -> np.ndarray:
    """The array a ``<Data>`` element holds (or an external file it points at).

    Parameters
    ----------
    darray : GiftiDataArray
        The enclosing DataArray, whose attributes give type, shape, order and encoding.
    fname : str or None
        The GIFTI file's name (external files are found beside it); None for bytes.
    text : str, bytes-like or None
        The element's text (None when it was empty).
    mmap : {True, False, 'c', 'r', 'r+'}
        Memory-map external files (True means 'c').
    """
    if mmap not in _MMAP_MODES:
        raise InvalidArgumentError("mmap value should be one of True, False, 'c', 'r', 'r+'")
    label = gifti_encoding_codes.label.get(darray.encoding)
    if label not in ("ASCII", "B64BIN", "B64GZ", "External"):
        raise _fail(f"Unknown encoding {darray.encoding}")
    dtype = _dtype_of(darray)
    shape = _shape_of(darray)
    order = array_index_order_codes.npcode.get(darray.ind_ord, "C")
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    text = text or ""
    if label == "ASCII" and not isinstance(text, str):
        text = bytes(text).decode("latin-1")  # a block the parser lifted out as bytes
    if label == "ASCII":
        flat = _parse_ascii(text, dtype, count)
    elif label == "External":
        return _read_external(darray, fname, dtype, shape, order, nbytes, mmap)
    else:
        raw = _unbase64(text)
        if label == "B64GZ":
            raw = _inflate(raw, nbytes)
        if len(raw) != nbytes:
            raise _fail(f"data hold {len(raw)} bytes but dimensions {list(shape)} of "
                        f"{dtype.name} need {nbytes}")
        # writable, as users modify arrays in place (libdeflate already gives a bytearray)
        flat = np.frombuffer(raw if isinstance(raw, bytearray) else bytearray(raw), dtype=dtype)
    return flat.reshape(shape, order=order)


def _parse_ascii(text: str, dtype: np.dtype, count: int) -> np.ndarray:
    tokens = text.split()
    if len(tokens) != count:
        raise _fail(f"ASCII data hold {len(tokens)} values but the dimensions give {count}")
    try:
        return np.array(tokens, dtype=dtype)
    except ValueError:
        # integers written as floats ("1.0") by some tools
        return np.array(tokens, dtype=np.float64).astype(dtype)


def _unbase64(text: str | bytes | memoryview) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii") if isinstance(text, str) else text)
    except (binascii.Error, UnicodeEncodeError, ValueError) as err:
        raise _fail(f"data are not valid base64 ({err})") from None


_MAX_RATIO = 1032  # the most a deflate stream expands (258-byte matches in 2-bit codes)
_ZLIB_LEVEL = 6  # zlib's default, as other GIFTI writers use; libdeflate makes it fast


def _zlib_compress(raw: bytes) -> bytes:
    """A zlib stream of ``raw``: header, raw deflate from the fastest backend, Adler-32."""
    from .._codecs import backends

    body = backends.deflate_whole(raw, _ZLIB_LEVEL)
    return b"\x78\x9c" + bytes(body) + struct.pack(">I", zlib.adler32(raw))


def _inflate_fast(raw: bytes, nbytes: int) -> bytes | None:
    """The zlib stream inflated by libdeflate into exactly ``nbytes`` (None: use zlib instead).

    libdeflate writes into a buffer of the size asked for and fails on more,
    so a decompression bomb stops at ``nbytes``.
    """
    from .._codecs import backends

    if backends.whole_backend() != "libdeflate" or len(raw) < 6:
        return None
    if nbytes > _MAX_RATIO * len(raw) + 1024:
        # deflate cannot expand further than this: refuse before allocating what the dims ask
        raise _fail(f"compressed data of {len(raw)} bytes cannot hold the {nbytes} bytes "
                    "the dimensions give")
    cmf, flg = raw[0], raw[1]
    if cmf & 0x0F != 8 or (cmf * 256 + flg) % 31 or flg & 0x20:
        raise _fail("compressed data are not a zlib stream")
    try:
        out = backends.inflate_whole(memoryview(raw)[2:], nbytes)
    except backends.decode_errors() as err:
        raise _fail(f"compressed data are damaged or inflate to more than the {nbytes} bytes "
                    f"the dimensions give ({err})") from None
    if len(out) != nbytes:
        raise _fail(f"compressed data end early: {len(out)} of {nbytes} bytes")
    if zlib.adler32(out) != struct.unpack(">I", raw[-4:])[0]:
        raise _fail("compressed data fail their Adler-32 check")
    return out


def _inflate(raw: bytes, nbytes: int) -> bytes:
    fast = _inflate_fast(raw, nbytes)
    if fast is not None:
        return fast
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(raw, nbytes + 1)  # never more than one byte past the size
    except zlib.error as err:
        raise _fail(f"compressed data are damaged ({err})") from None
    if len(out) > nbytes or inflater.unconsumed_tail:
        raise _fail(f"compressed data inflate to more than the {nbytes} bytes the dimensions give")
    if not inflater.eof:
        raise _fail(f"compressed data end early: {len(out)} of {nbytes} bytes")
    return out


def _read_external(darray: Any, fname: str | None, dtype: np.dtype, shape: tuple[int, ...],
                   order: str, nbytes: int, mmap: Any) -> np.ndarray:
    if fname is None:
        raise _fail("ExternalFileBinary is not supported when loading from in-memory XML")
    ext_fname = os.path.join(os.path.dirname(fname), darray.ext_fname)
    if not darray.ext_fname or not os.path.isfile(ext_fname):
        raise _fail(f"Cannot locate external file {ext_fname}")
    offset = int(darray.ext_offset)
    size = os.path.getsize(ext_fname)
    if offset < 0 or offset + nbytes > size:
        raise _fail(f"external file {ext_fname} holds {size} bytes; the data need {nbytes} "
                    f"from offset {offset}")
    if mmap and nbytes:
        try:
            return np.memmap(ext_fname, dtype=dtype, mode="c" if mmap is True else mmap,
                             offset=offset, shape=shape, order=order)
        except (AttributeError, TypeError, ValueError, OSError):
            pass  # cannot map (special file, odd offset): read it instead
    count = nbytes // dtype.itemsize if dtype.itemsize else 0
    flat = np.fromfile(ext_fname, dtype=dtype, count=count, offset=offset)
    return flat.reshape(shape, order=order)


# ---- writing ---------------------------------------------------------------------------

def _ascii_format(dtype: np.dtype) -> str:
    if dtype.kind in "iub":
        return "%d"
    if dtype.kind == "f":
        # enough digits to read back the same value (nibabel writes 6 decimals)
        return "%.9g" if dtype.itemsize <= 4 else "%.17g"
    return "%r"


def _ascii_text(arr: np.ndarray) -> str:
    if arr.ndim == 0:
        arr = arr.reshape(1)
    rows = arr.reshape(arr.shape[0], -1) if arr.ndim > 1 else arr[:, None]
    if arr.dtype.kind == "c":
        return "\n".join(" ".join(str(complex(v)).strip("()") for v in row) for row in rows)
    fmt = " ".join([_ascii_format(arr.dtype)] * rows.shape[1])
    return "\n".join(fmt % tuple(row) for row in rows.tolist())


def encode_data(data: Any, encoding: int, dtype: np.dtype, ordering: int) -> str:
    """The text of a ``<Data>`` element holding ``data`` as ``dtype`` (native byte order)."""
    label = gifti_encoding_codes.label[encoding]
    order = array_index_order_codes.npcode[ordering]
    if data is None:
        return ""
    arr = np.asanyarray(data, dtype)
    if label == "ASCII":
        if order == "F":
            arr = np.asarray(arr).ravel(order="F").reshape(arr.shape, order="C")
        return _ascii_text(arr)
    if label in ("B64BIN", "B64GZ"):
        raw = arr.tobytes(order)
        if label == "B64GZ":
            raw = _zlib_compress(raw)
        return base64.b64encode(raw).decode("ascii")
    if label == "External":
        raise NotImplementedError("writing ExternalFileBinary data is not supported; "
                                  "use Base64Binary or GZipBase64Binary")
    return ""
