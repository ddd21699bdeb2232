"""TRX tractograms (``.trx``): a zip of plain little-endian arrays.

Members (the TRX specification, as trx-python writes and reads it):
``header.json`` (``DIMENSIONS``, ``VOXEL_TO_RASMM``, ``NB_VERTICES``,
``NB_STREAMLINES``), ``positions.3.<float dtype>`` (RAS+ mm),
``offsets.<uint dtype>`` (``NB_STREAMLINES + 1`` entries, the last one
``NB_VERTICES``; files with ``NB_STREAMLINES`` entries are read too),
``dps/<name>[.<dim>].<dtype>``, ``dpv/<name>[.<dim>].<dtype>``,
``groups/<name>.<uint dtype>`` (streamline indices) and
``dpg/<group>/<name>[.<dim>].<dtype>``.

Uncompressed members of a file on disk are memory-mapped (copy-on-write), so
loading costs no reading until the points are used; compressed members are
decompressed straight into their arrays. Groups and data per group are kept
in the header (``header['groups']``, ``header['data_per_group']``) and
written back on save.
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import DataError, HeaderError, InvalidArgumentError, NivoxError
from ._io import describe, is_path, writing
from .array_sequence import ArraySequence, _chunks, _compact_rows
from .header import Field
from .tractogram import LazyTractogram, Tractogram, TractogramItem, transformed
from .tractogram_file import TractogramFile

__all__ = ["TrxFile"]

_DTYPES = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float16", "float32", "float64", "bit"}
_MAX_HEADER = 1 << 20
# deflate cannot expand data by more than about 1032:1
_MAX_RATIO = 1040


def _split_name(member: str) -> tuple[str, str, int, np.dtype] | None:
    """(folder, base, dim, dtype) of an array member, None for anything else."""
    folder, base = os.path.split(member)
    parts = base.split(".")
    if len(parts) not in (2, 3) or parts[-1] not in _DTYPES:
        return None
    dtype = np.dtype(bool if parts[-1] == "bit" else parts[-1]).newbyteorder("<")
    try:
        dim = int(parts[1]) if len(parts) == 3 else 1
    except ValueError:
        return None
    return folder, parts[0], dim, dtype


class TrxFile(TractogramFile):
    """A tractogram in the TRX format (points in RAS+ mm), with data per point and streamline."""

    SUPPORTS_DATA_PER_POINT = True
    SUPPORTS_DATA_PER_STREAMLINE = True

    @classmethod
    def is_correct_format(cls, fileobj: Any) -> bool:
        """Whether `fileobj` is a zip holding ``header.json`` (a file object's position is kept)."""
        try:
            if is_path(fileobj):
                if not zipfile.is_zipfile(fileobj):
                    return False
                with zipfile.ZipFile(fileobj) as zf:
                    return "header.json" in zf.namelist()
            start = fileobj.tell()
            try:
                if fileobj.read(4) != b"PK\x03\x04":
                    return False
                fileobj.seek(start)
                with zipfile.ZipFile(fileobj) as zf:
                    return "header.json" in zf.namelist()
            finally:
                fileobj.seek(start)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, IndexError, KeyError, TypeError,
                struct.error, EOFError, RuntimeError, NotImplementedError):
            return False  # not a zip this reader can open: not TRX (load says why if asked to)

    @classmethod
    def create_empty_header(cls) -> dict[str, Any]:
        return {Field.VOXEL_TO_RASMM: np.eye(4, dtype=np.float32),
                Field.DIMENSIONS: np.ones(3, np.uint16), Field.NB_STREAMLINES: 0, "NB_VERTICES": 0}

    @classmethod
    def load(cls, fileobj: Any, lazy_load: bool = False) -> TrxFile:
        """Read a TRX file name or binary file object; streamlines in RAS+ mm."""
        name = describe(fileobj)
        _check_directory(fileobj, name)
        try:
            with zipfile.ZipFile(fileobj) as zf:
                hdr, arrays = _read_zip(zf, fileobj, name)
        except (NivoxError, FileNotFoundError):
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, zlib.error, RuntimeError,
                NotImplementedError, struct.error, ValueError, IndexError, KeyError, TypeError) as err:
            # the zip layer's ways of saying "damaged": bad CRC, sizes, offsets, methods, and
            # the IndexError/KeyError/TypeError its parser lets out on mangled extra fields
            raise DataError(f"{name}: not a readable TRX zip file: {err!r}") from None
        seq, dps, dpv = _assemble(hdr, arrays, name)
        tractogram: Tractogram
        if lazy_load:
            def items() -> Iterator[TractogramItem]:
                for i, pts in enumerate(seq):
                    yield TractogramItem(pts, {k: v[i] for k, v in dps.items()},
                                         {k: v[i] for k, v in dpv.items()})

            tractogram = LazyTractogram.from_data_func(items)
        else:
            tractogram = Tractogram(seq, dps, dpv)
        tractogram.affine_to_rasmm = np.eye(4)
        return cls(tractogram, header=hdr)

    def save(self, fileobj: Any) -> None:
        """Write as an uncompressed TRX zip (memory-mappable) to a file name (atomically) or file object."""
        header = self.create_empty_header()
        header.update(self.header)
        tractogram = self.tractogram
        if isinstance(tractogram, LazyTractogram):
            items = [t for t in tractogram.to_world(lazy=True)]  # not list(): it asks len() first
            tractogram = Tractogram([t.streamline for t in items],
                                    {k: [t.data_for_streamline[k] for t in items]
                                     for k in (items[0].data_for_streamline if items else {})},
                                    {k: [t.data_for_points[k] for t in items]
                                     for k in (items[0].data_for_points if items else {})},
                                    affine_to_rasmm=np.eye(4))
        if tractogram.affine_to_rasmm is None:
            raise InvalidArgumentError("Streamlines are in a unknown space. This error can be avoided by "
                             "setting the 'affine_to_rasmm' property.")
        seq = tractogram.streamlines
        lengths = seq._lengths.astype(np.int64)
        n_vert = int(lengths.sum())
        affine = np.asarray(tractogram.affine_to_rasmm, np.float64)
        rows = _compact_rows(seq) if len(seq) else np.zeros((0, 3), np.float32)
        pos_dtype = rows.dtype if rows.dtype.kind == "f" else np.dtype(np.float32)
        off_dtype = np.dtype("<u4") if n_vert < 2**32 else np.dtype("<u8")
        offsets = np.zeros(len(lengths) + 1, off_dtype)
        np.cumsum(lengths, out=offsets[1:])
        meta = {
            "DIMENSIONS": [int(v) for v in np.asarray(header[Field.DIMENSIONS]).ravel()],
            "VOXEL_TO_RASMM": np.asarray(header[Field.VOXEL_TO_RASMM], np.float64).reshape(4, 4).tolist(),
            "NB_VERTICES": n_vert,
            "NB_STREAMLINES": len(lengths),
        }
        with writing(fileobj) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.writestr("header.json", json.dumps(meta))
            with zf.open(f"positions.3.{pos_dtype.name}", "w", force_zip64=True) as out:
                identity = np.allclose(affine, np.eye(4))
                ends = np.cumsum(lengths)
                for _, j, row in _chunks(lengths):
                    pts = rows[row : int(ends[j - 1])]
                    if not identity:
                        pts = transformed(pts, affine)
                    out.write(np.ascontiguousarray(pts, pos_dtype.newbyteorder("<")).tobytes())
            zf.writestr(f"offsets.{off_dtype.name}", offsets.tobytes())
            for key, value in tractogram.data_per_streamline.items():
                _write_array(zf, "dps", key, np.asarray(value))
            for key, value in tractogram.data_per_point.items():
                _write_array(zf, "dpv", key, _compact_rows(value))
            for key, idx in (header.get("groups") or {}).items():
                idx = np.asarray(idx)
                kind = idx.dtype if idx.dtype.kind == "u" else np.dtype(np.uint32)
                zf.writestr(f"groups/{key}.{kind.name}", idx.astype(kind.newbyteorder("<")).tobytes())
            for group, values in (header.get("data_per_group") or {}).items():
                for key, value in values.items():
                    _write_array(zf, f"dpg/{group}", key, np.asarray(value))


def _check_directory(fileobj: Any, name: str) -> None:
    """Refuse a zip whose end record puts its central directory beyond the file.

    zipfile reads the directory with one ``read(size)`` of the size the end
    record claims (up to 4 GiB, or more with ZIP64), allocating it first.
    """
    if is_path(fileobj):
        with open(fileobj, "rb") as f:
            _check_directory_in(f, name)
        return
    start = fileobj.tell()
    try:
        _check_directory_in(fileobj, name)
    finally:
        fileobj.seek(start)


def _check_directory_in(f: Any, name: str) -> None:
    size = f.seek(0, os.SEEK_END)
    tail_len = min(size, 22 + 65535)
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return  # zipfile says what is wrong
    cd_size, cd_offset = struct.unpack("<LL", tail[at + 12 : at + 20])
    if cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        loc = tail.rfind(b"PK\x06\x07", 0, at)
        if loc >= 0 and at - loc >= 20:
            (record_at,) = struct.unpack("<Q", tail[loc + 8 : loc + 16])
            if record_at + 56 <= size:
                f.seek(record_at)
                record = f.read(56)
                if record[:4] == b"PK\x06\x06" and len(record) == 56:
                    cd_size, cd_offset = struct.unpack("<QQ", record[40:56])
    if cd_size > size or cd_offset > size:
        raise DataError(f"{name}: the zip directory claims {cd_size} bytes at offset {cd_offset}, "
                        f"beyond the file's {size} bytes")


def _write_array(zf: zipfile.ZipFile, folder: str, key: str, arr: NDArray[Any]) -> None:
    if arr.dtype.kind not in "iufb":
        arr = arr.astype(np.float32)
    arr = arr.reshape(arr.shape[0], -1) if arr.ndim > 1 else arr.reshape(-1, 1)
    dim = arr.shape[1]
    kind = "bit" if arr.dtype == bool else arr.dtype.name
    member = f"{folder}/{key}.{dim}.{kind}" if dim > 1 else f"{folder}/{key}.{kind}"
    zf.writestr(member, np.ascontiguousarray(arr, arr.dtype.newbyteorder("<")).tobytes())


def _read_zip(zf: zipfile.ZipFile, fileobj: Any, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    zip_size = os.path.getsize(fileobj) if is_path(fileobj) else _stream_size(zf)
    for member in zf.infolist():
        # every member's sizes are checked before anything is read: zipfile reads (and
        # allocates) the compressed size the directory claims
        # bzip2 and LZMA would let a damaged stream choose the decoder's memory (LZMA's
        # dictionary size comes from the stream); TRX writers store or deflate
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise DataError(f"{name}: {member.filename} uses zip compression method "
                            f"{member.compress_type}; TRX members are stored or deflated")
        if member.compress_size > zip_size:
            raise DataError(f"{name}: {member.filename} claims {member.compress_size} bytes, more "
                            f"than the whole file ({zip_size})")
        if member.compress_type == zipfile.ZIP_STORED and member.file_size != member.compress_size:
            raise DataError(f"{name}: {member.filename} is stored uncompressed but its sizes differ "
                            f"({member.file_size} and {member.compress_size})")
    try:
        info = zf.getinfo("header.json")
    except KeyError:
        raise HeaderError(f"{name}: no header.json in the TRX zip") from None
    if info.file_size > _MAX_HEADER:
        raise HeaderError(f"{name}: header.json of {info.file_size} bytes is not a TRX header")
    try:
        meta = json.loads(zf.read("header.json").decode("utf-8"))
        n_str = int(meta["NB_STREAMLINES"])
        n_vert = int(meta["NB_VERTICES"])
        affine = np.asarray(meta.get("VOXEL_TO_RASMM", np.eye(4)), np.float32).reshape(4, 4)
        dims = np.asarray(meta.get("DIMENSIONS", [1, 1, 1]), np.uint16).reshape(3)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as err:
        raise HeaderError(f"{name}: invalid TRX header.json: {err!r}") from None
    if n_str < 0 or n_vert < 0:
        raise HeaderError(f"{name}: negative NB_STREAMLINES or NB_VERTICES in header.json")
    hdr: dict[str, Any] = {Field.VOXEL_TO_RASMM: affine, Field.DIMENSIONS: dims,
                           Field.NB_STREAMLINES: n_str, "NB_VERTICES": n_vert,
                           "groups": {}, "data_per_group": {}}
    arrays: dict[str, Any] = {}
    for member in zf.infolist():
        if member.is_dir() or member.filename == "header.json":
            continue
        parsed = _split_name(member.filename)
        if parsed is None:
            continue
        folder, base, dim, dtype = parsed
        itemsize = dtype.itemsize
        if member.file_size % (itemsize * dim):
            raise DataError(f"{name}: {member.filename} holds {member.file_size} bytes, not whole "
                            f"rows of {dim} {dtype.name}")
        if member.compress_size > zip_size:
            raise DataError(f"{name}: {member.filename} claims {member.compress_size} bytes, more "
                            f"than the whole file ({zip_size})")
        rows = member.file_size // (itemsize * dim)
        arr = _member_array(zf, member, fileobj, dtype, (rows, dim), name)
        arrays[f"{folder}/{base}" if folder else base] = (folder, base, arr)
    return hdr, arrays


def _stream_size(zf: zipfile.ZipFile) -> int:
    fp = zf.fp
    if fp is None:  # pragma: no cover - an open ZipFile has its file
        return 0
    here = fp.tell()
    end = fp.seek(0, os.SEEK_END)
    fp.seek(here)
    return end


def _member_array(zf: zipfile.ZipFile, member: zipfile.ZipInfo, fileobj: Any, dtype: np.dtype,
                  shape: tuple[int, int], name: str) -> NDArray[Any]:
    """A member's array: memory-mapped when stored uncompressed in a file on disk, else read."""
    # sizes come from the zip's directory: check them before allocating anything
    if member.compress_type == zipfile.ZIP_STORED and member.file_size != member.compress_size:
        raise DataError(f"{name}: {member.filename} is stored uncompressed but its sizes differ "
                        f"({member.file_size} and {member.compress_size})")
    if member.file_size > member.compress_size * _MAX_RATIO + 1024:
        raise DataError(f"{name}: {member.filename} claims {member.file_size} bytes from "
                        f"{member.compress_size} compressed bytes, more than deflate can expand to")
    if member.compress_type == zipfile.ZIP_STORED and is_path(fileobj) and member.file_size:
        with open(fileobj, "rb") as f:
            f.seek(member.header_offset)
            local = f.read(30)
        if len(local) == 30 and local[:4] == b"PK\x03\x04":
            start = member.header_offset + 30 + int.from_bytes(local[26:28], "little") + \
                int.from_bytes(local[28:30], "little")
            if start + member.file_size <= os.path.getsize(fileobj):
                return np.memmap(fileobj, dtype=dtype, mode="c", offset=start, shape=shape)
    # compressed: memory follows the bytes that really come out, not the size the directory claims
    data = bytearray()
    with zf.open(member) as src:
        while True:
            chunk = src.read(1 << 20)
            if not chunk:
                break
            data += chunk
            if len(data) > member.file_size:
                raise DataError(f"{name}: {member.filename} holds more than the {member.file_size} "
                                "bytes its zip entry says")
    if len(data) != member.file_size:
        raise DataError(f"{name}: {member.filename} holds {len(data)} bytes, its zip entry says "
                        f"{member.file_size}")
    return np.frombuffer(data, dtype).reshape(shape)


def _assemble(hdr: dict[str, Any], arrays: dict[str, Any], name: str
              ) -> tuple[ArraySequence, dict[str, Any], dict[str, ArraySequence]]:
    n_str, n_vert = hdr[Field.NB_STREAMLINES], hdr["NB_VERTICES"]
    positions = offsets = None
    dps: dict[str, Any] = {}
    dpv_raw: dict[str, Any] = {}
    for folder, base, arr in arrays.values():
        if folder == "" and base == "positions":
            if arr.shape != (n_vert, 3):
                raise DataError(f"{name}: positions hold {arr.shape[0]} rows of {arr.shape[1]}, the "
                                f"header says {n_vert} of 3")
            positions = arr
        elif folder == "" and base == "offsets":
            offsets = arr.reshape(-1)
        elif folder == "dps":
            if arr.shape[0] != n_str:
                raise DataError(f"{name}: dps/{base} has {arr.shape[0]} rows for {n_str} streamlines")
            dps[base] = arr
        elif folder == "dpv":
            if arr.shape[0] != n_vert:
                raise DataError(f"{name}: dpv/{base} has {arr.shape[0]} rows for {n_vert} points")
            dpv_raw[base] = arr
        elif folder == "groups":
            if arr.dtype.kind not in "iu" or (arr.size and (arr.min() < 0 or arr.max() >= n_str)):
                raise DataError(f"{name}: group {base} holds streamline indices out of range")
            hdr["groups"][base] = arr.reshape(-1)
        elif folder.startswith("dpg/"):
            hdr["data_per_group"].setdefault(folder[4:], {})[base] = arr
    if n_str == 0 or n_vert == 0:
        if n_str and n_vert == 0:
            raise DataError(f"{name}: {n_str} streamlines but no points")
        return ArraySequence(), {}, {}
    if positions is None or offsets is None:
        raise DataError(f"{name}: the TRX file lacks its positions or offsets")
    offsets = np.asarray(offsets).astype(np.int64)
    if len(offsets) == n_str:
        offsets = np.append(offsets, n_vert)
    if len(offsets) != n_str + 1 or offsets[0] != 0 or offsets[-1] != n_vert or np.any(np.diff(offsets) < 0):
        raise DataError(f"{name}: offsets ({len(offsets)} entries) do not split {n_vert} points into "
                        f"{n_str} streamlines")
    lengths = np.diff(offsets).astype(np.intp)
    starts = offsets[:-1].astype(np.intp)
    seq = ArraySequence._from_parts(positions, starts, lengths)
    dpv = {k: ArraySequence._from_parts(v, starts, lengths) for k, v in dpv_raw.items()}
    return seq, dps, dpv
