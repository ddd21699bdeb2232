"""TrackVis ``.trk`` tractograms.

A 1000-byte header, then one record per streamline (see
:mod:`nivox.streamlines._trkrecords`). Points are stored in "voxmm": voxel
coordinates times voxel sizes, with (0, 0, 0) at the corner of the first voxel,
along the axes of the header's ``voxel_order``; ``vox_to_ras`` maps voxels to
RAS+ mm. nivox reads them into RAS+ mm with voxel centres at integer voxel
coordinates (a half-voxel shift), as nibabel does, and shifts back on save.

A full read puts the data region in one buffer with one ``readinto``, finds
the records (vectorised when it can), moves the points to the front of the
same buffer and transforms them in place a block at a time.
"""

from __future__ import annotations

import os
import string
import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import DataError, HeaderError, HeaderWarning, InvalidArgumentError
from ..orientations import aff2axcodes, axcodes2ornt, inv_ornt_aff, ornt_transform
from . import _trkrecords as records
from ._io import describe, reading, read_into, remaining_size, writing
from .array_sequence import ArraySequence
from .header import Field
from .tractogram import LazyTractogram, Tractogram, TractogramItem, transform_rows_inplace, transformed
from .tractogram_file import TractogramFile

__all__ = [
    "TrkFile", "header_2_dtype", "header_2_dtd", "get_affine_trackvis_to_rasmm",
    "get_affine_rasmm_to_trackvis", "encode_value_in_name", "decode_value_from_name",
    "MAX_NB_NAMED_SCALARS_PER_POINT", "MAX_NB_NAMED_PROPERTIES_PER_STREAMLINE",
]

MAX_NB_NAMED_SCALARS_PER_POINT = 10
MAX_NB_NAMED_PROPERTIES_PER_STREAMLINE = 10

# The TrackVis version 2 header (1000 bytes), as the format's documentation lays it
# out: field, C type, and the count of items (rows x columns for the 2D fields).
_TRACKVIS_HEADER = f"""
id_string        char    6
dim              short   3
voxel_size       float   3
origin           float   3
n_scalars        short   1
scalar_name      char    {MAX_NB_NAMED_SCALARS_PER_POINT}x20
n_properties     short   1
property_name    char    {MAX_NB_NAMED_PROPERTIES_PER_STREAMLINE}x20
vox_to_ras       float   4x4
reserved         char    444
voxel_order      char    4
pad2             char    4
image_orientation_patient float 6
pad1             char    2
invert_x         uchar   1
invert_y         uchar   1
invert_z         uchar   1
swap_xy          uchar   1
swap_yz          uchar   1
swap_zx          uchar   1
n_count          int     1
version          int     1
hdr_size         int     1
"""
# the documented names that nibabel's API (and so ours) calls by its shared Field names
_RENAMED = {"id_string": Field.MAGIC_NUMBER, "dim": Field.DIMENSIONS, "voxel_size": Field.VOXEL_SIZES,
            "origin": Field.ORIGIN, "n_scalars": Field.NB_SCALARS_PER_POINT,
            "n_properties": Field.NB_PROPERTIES_PER_STREAMLINE, "vox_to_ras": Field.VOXEL_TO_RASMM,
            "voxel_order": Field.VOXEL_ORDER, "n_count": Field.NB_STREAMLINES}


def _header_fields(layout: str) -> list[tuple[Any, ...]]:
    """numpy dtype fields for a layout table: chars are byte strings, a char count their length.

    A vox_to_ras matrix value [3, 3] of 0 means the (version 2) matrix is not recorded.
    """
    codes = {"short": "h", "int": "i4", "float": "f4"}
    fields: list[tuple[Any, ...]] = []
    for line in layout.strip().splitlines():
        name, ctype, count = line.split()
        key = _RENAMED.get(name, name)
        dims = tuple(int(d) for d in count.split("x"))
        if ctype in ("char", "uchar"):  # the last dimension is the string's length
            code, dims = f"S{dims[-1]}", dims[:-1]
        else:
            code = codes[ctype]
        shape: Any = dims if len(dims) > 1 else (dims[0] if dims and dims[0] > 1 else None)
        fields.append((key, code) if shape is None else (key, code, shape))
    return fields


#: the TRK version 2 header, field by field
header_2_dtd = _header_fields(_TRACKVIS_HEADER)
header_2_dtype = np.dtype(header_2_dtd)


def get_affine_trackvis_to_rasmm(header: Any) -> NDArray[np.float32]:
    """The affine from TrackVis voxmm (corner origin) to RAS+ mm (voxel centres at integers).

    Parameters
    ----------
    header : dict or structured array
        A TRK header (``voxel_sizes``, ``voxel_order``, ``dimensions``,
        ``voxel_to_rasmm``).

    Returns
    -------
    (4, 4) float32 ndarray
    """
    # voxmm -> voxel: divide by the voxel sizes
    affine = np.diag(np.r_[1.0 / np.asarray(header[Field.VOXEL_SIZES], np.float64).ravel(), 1.0])
    # TrackVis puts (0, 0, 0) at a voxel's corner, nibabel and nivox at its centre
    shift = np.eye(4)
    shift[:3, 3] = -0.5
    affine = shift @ affine
    # voxel axes as the header's voxel_order names them -> as vox_to_ras orders them
    vox_order = header[Field.VOXEL_ORDER]
    if hasattr(vox_order, "item"):
        vox_order = vox_order.item()
    vox_to_ras = np.asarray(header[Field.VOXEL_TO_RASMM])
    if vox_to_ras.ndim == 3:  # a structured array of one record
        vox_to_ras = vox_to_ras[0]
    from_ornt = axcodes2ornt(vox_order.decode("latin1").upper())
    to_ornt = axcodes2ornt("".join(aff2axcodes(vox_to_ras)))
    reorder = inv_ornt_aff(ornt_transform(from_ornt, to_ornt), np.asarray(header[Field.DIMENSIONS]).ravel())
    affine = reorder @ affine
    return (vox_to_ras @ affine).astype(np.float32)


def get_affine_rasmm_to_trackvis(header: Any) -> NDArray[Any]:
    """The inverse of :func:`get_affine_trackvis_to_rasmm`."""
    return np.linalg.inv(get_affine_trackvis_to_rasmm(header))


def encode_value_in_name(value: int, name: str, max_name_len: int = 20) -> bytes:
    """`name`, then NUL and `value` in digits when `value` > 1, NUL-padded to `max_name_len` bytes."""
    if len(name) > max_name_len:
        raise InvalidArgumentError(f"Data information named '{name}' is too long (max {max_name_len} characters.)")
    encoded = name if value <= 1 else f"{name}\x00{value}"
    if len(encoded) > max_name_len:
        raise InvalidArgumentError(
            f"Data information named '{name}' is too long (need to be less than "
            f"{max_name_len - (len(str(value)) + 1)} characters when storing more than one value "
            "for a given data information."
        )
    return encoded.ljust(max_name_len, "\x00").encode("latin1")


def decode_value_from_name(encoded_name: bytes) -> tuple[str, int]:
    """(name, number of values) from a name written by :func:`encode_value_in_name`."""
    text = encoded_name.decode("latin1")
    if not text:
        return text, 0
    parts = text.rstrip("\x00").split("\x00")
    if len(parts) > 2:
        raise HeaderError(f"Wrong scalar_name or property_name: '{text}'. Unused characters should be \\x00.")
    if len(parts) == 2:
        try:
            return parts[0], int(parts[1])
        except ValueError:
            raise HeaderError(f"Wrong scalar_name or property_name: {text!r}: the value count "
                              "after the NUL is not a number") from None
    return parts[0], 1


def _named_slices(names: Any, total: int, default: str) -> dict[str, slice]:
    """Name -> columns, from the encoded names; unnamed trailing columns get `default`."""
    out: dict[str, slice] = {}
    if total <= 0:
        return out
    col = 0
    for encoded in names:
        name, count = decode_value_from_name(encoded)
        if count == 0:
            continue
        out[name] = slice(col, col + count)
        col += count
    if col < total:
        out[default] = slice(col, total)
    return out


class TrkFile(TractogramFile):
    """A tractogram in TrackVis's TRK format, with data per point and per streamline.

    Streamlines are in RAS+ mm in memory; on disk they are in voxmm with
    (0, 0, 0) at a voxel corner, so they are shifted by half a voxel on load
    and back on save.
    """

    SUPPORTS_DATA_PER_POINT = SUPPORTS_DATA_PER_STREAMLINE = True  # scalars and properties
    MAGIC_NUMBER = b"TRACK"
    HEADER_SIZE = 1000

    def __init__(self, tractogram: Any, header: dict[str, Any] | None = None) -> None:
        super().__init__(tractogram, header)

    @classmethod
    def is_correct_format(cls, fileobj: Any) -> bool:
        """Whether `fileobj` starts with ``TRACK`` (its position is kept)."""
        with reading(fileobj) as f:
            return f.read(len(cls.MAGIC_NUMBER)) == cls.MAGIC_NUMBER

    @classmethod
    def _default_structarr(cls, endianness: str | None = None) -> np.ndarray:
        dt = header_2_dtype
        if endianness is not None:
            codes = {"little": "<", "l": "<", "<": "<", "big": ">", "b": ">", ">": ">",
                     "native": "=", "=": "=", "n": "=", "swapped": "S", "s": "S"}
            dt = dt.newbyteorder(codes.get(endianness, endianness))  # type: ignore[arg-type]
        st = np.zeros((), dtype=dt)
        st[Field.MAGIC_NUMBER] = cls.MAGIC_NUMBER
        st[Field.VOXEL_SIZES] = np.ones(3, "f4")
        st[Field.DIMENSIONS] = np.ones(3, "h")
        st[Field.VOXEL_TO_RASMM] = np.eye(4, dtype="f4")
        st[Field.VOXEL_ORDER] = b"RAS"
        st["version"] = 2
        st["hdr_size"] = cls.HEADER_SIZE
        return st

    @classmethod
    def create_empty_header(cls, endianness: str | None = None) -> dict[str, Any]:
        """A TRK header dict with TrackVis's defaults (identity vox_to_ras, RAS, 1 mm voxels)."""
        st = cls._default_structarr(endianness)
        return dict(zip(st.dtype.names or (), st.tolist()))

    @classmethod
    def load(cls, fileobj: Any, lazy_load: bool = False) -> TrkFile:
        """Read a TRK file name or binary file object; streamlines in RAS+ mm.

        With `lazy_load`, a :class:`LazyTractogram` that reads records as it is iterated.
        """
        hdr = cls._read_header(fileobj)
        try:
            point_slices = _named_slices(hdr["scalar_name"], int(hdr[Field.NB_SCALARS_PER_POINT]), "scalars")
            prop_slices = _named_slices(hdr["property_name"], int(hdr[Field.NB_PROPERTIES_PER_STREAMLINE]),
                                        "properties")
        except HeaderError as err:
            raise HeaderError(f"{describe(fileobj)}: {err}") from None
        tractogram: Tractogram
        if lazy_load:
            def items() -> Any:
                for pts, scals, props in cls._read(fileobj, hdr):
                    yield TractogramItem(pts, {k: props[v] for k, v in prop_slices.items()},
                                         {k: scals[:, v] for k, v in point_slices.items()})

            def moved_streamlines(affine: NDArray[Any]) -> Any:
                # LazyTractogram.streamlines' fast path: a block of records transformed at once
                name = describe(fileobj)
                k = 3 + int(hdr[Field.NB_SCALARS_PER_POINT])
                m = int(hdr[Field.NB_PROPERTIES_PER_STREAMLINE])
                swap = hdr[Field.ENDIANNESS] != ("<" if np.little_endian else ">")
                with reading(fileobj) as f:
                    for rows, counts, _ in records.blocks(f, hdr["_offset_data"], k, m,
                                                          int(hdr[Field.NB_STREAMLINES]), swap, name):
                        pts = transformed(rows[:, :3], affine)
                        ends = np.cumsum(counts).tolist()
                        start = 0
                        for end in ends:
                            yield pts[start:end]
                            start = end

            items.moved_streamlines = moved_streamlines  # type: ignore[attr-defined]
            tractogram = LazyTractogram.from_data_func(items)
            tractogram.affine_to_rasmm = get_affine_trackvis_to_rasmm(hdr)
            tractogram = tractogram.to_world()
        else:
            streamlines, scalars, props = cls._read_all(fileobj, hdr)
            tractogram = Tractogram(streamlines)
            for key, sl in point_slices.items():
                tractogram.data_per_point[key] = scalars[:, sl]
            for key, sl in prop_slices.items():
                tractogram.data_per_streamline[key] = props[:, sl]
            affine = get_affine_trackvis_to_rasmm(hdr)
            tractogram.affine_to_rasmm = affine
            if len(streamlines) and not np.all(affine == np.eye(4)):
                # what to_world() does, a block at a time in place (no second copy of the points)
                transform_rows_inplace(streamlines._data, affine)
                tractogram.affine_to_rasmm = np.dot(affine, np.linalg.inv(affine))
        return cls(tractogram, header=hdr)

    @staticmethod
    def _read_header(fileobj: Any) -> dict[str, Any]:
        """The header as a dict of TRK fields, plus ``endianness`` and ``_offset_data``."""
        name = describe(fileobj)
        with reading(fileobj) as f:
            raw = bytearray(header_2_dtype.itemsize)
            n = f.readinto(raw) if hasattr(f, "readinto") else len(raw)
            if n < len(raw):
                raise HeaderError(f"{name}: the file ends inside the TRK header ({n} of {len(raw)} bytes)")
            offset = f.tell()
        rec = np.frombuffer(raw, dtype=header_2_dtype)
        endianness = "<" if np.little_endian else ">"
        if rec["hdr_size"][0] != TrkFile.HEADER_SIZE:
            endianness = ">" if np.little_endian else "<"
            rec = rec.view(rec.dtype.newbyteorder())
            if rec["hdr_size"][0] != TrkFile.HEADER_SIZE:
                raise HeaderError(f"{name}: Invalid hdr_size: {rec['hdr_size'][0]} instead of {TrkFile.HEADER_SIZE}")
        version = int(rec["version"][0])
        if version == 1:
            rec[Field.VOXEL_TO_RASMM] = np.zeros((4, 4))
        elif version == 3:
            warnings.warn(f"{name}: Parsing a TRK v3 file as v2. Some features may not be handled correctly.",
                          HeaderWarning, stacklevel=3)
        elif version != 2:
            raise HeaderError(f"{name}: NiBabel only supports versions 1 and 2 of the Trackvis file "
                              f"format (nivox too; this one says {version})")
        header = dict(zip(rec.dtype.names or (), rec[0]))
        header[Field.ENDIANNESS] = endianness
        if header[Field.VOXEL_TO_RASMM][3][3] == 0:
            header[Field.VOXEL_TO_RASMM] = np.eye(4, dtype=np.float32)
            warnings.warn(f"{name}: Field 'vox_to_ras' in the TRK's header was not recorded. "
                          "Will continue assuming it's the identity.", HeaderWarning, stacklevel=3)
        if not np.all(np.isfinite(header[Field.VOXEL_TO_RASMM])) or None in aff2axcodes(header[Field.VOXEL_TO_RASMM]):
            raise HeaderError(f"{name}: The 'vox_to_ras' affine is invalid! Could not determine the "
                              f"axis directions from it.\n{header[Field.VOXEL_TO_RASMM]}")
        sizes = np.asarray(header[Field.VOXEL_SIZES], np.float64)
        if not np.all(np.isfinite(sizes)) or np.any(sizes == 0):
            raise HeaderError(f"{name}: invalid voxel sizes {sizes.tolist()} (zero or not finite)")
        if header[Field.VOXEL_ORDER] == b"":
            warnings.warn(f"{name}: Voxel order is not specified, will assume 'LPS' since it is "
                          "Trackvis software's default.", HeaderWarning, stacklevel=3)
            header[Field.VOXEL_ORDER] = b"LPS"
        try:
            axcodes2ornt(header[Field.VOXEL_ORDER].decode("latin1").upper())
        except Exception as err:
            raise HeaderError(f"{name}: invalid voxel_order {header[Field.VOXEL_ORDER]!r}: {err}") from None
        for field in (Field.NB_SCALARS_PER_POINT, Field.NB_PROPERTIES_PER_STREAMLINE, Field.NB_STREAMLINES):
            if header[field] < 0:
                raise HeaderError(f"{name}: negative {field} ({header[field]})")
        header["_offset_data"] = offset
        return header

    @staticmethod
    def _read_all(fileobj: Any, header: dict[str, Any]) -> tuple[ArraySequence, ArraySequence, NDArray[Any]]:
        """(streamlines, scalars, properties) of all records, in voxmm."""
        name = describe(fileobj)
        k = 3 + int(header[Field.NB_SCALARS_PER_POINT])
        m = int(header[Field.NB_PROPERTIES_PER_STREAMLINE])
        offset = header["_offset_data"]
        with reading(fileobj) as f:
            size = remaining_size(f, offset)
            f.seek(offset, os.SEEK_SET)
            if size is None:
                raw = bytearray(f.read())
                size = len(raw)
                words = np.frombuffer(raw[: size // 4 * 4], np.int32).copy()
            else:
                words = np.empty(size // 4, np.int32)
                read_into(f, words, name, "streamline data")
        if header[Field.ENDIANNESS] != ("<" if np.little_endian else ">"):
            words.byteswap(inplace=True)
        expected = int(header[Field.NB_STREAMLINES])
        starts = records.walk(words, k, m, expected, name)
        if not expected and size % 4:
            raise DataError(f"{name}: {size % 4} bytes after the last streamline")
        header[Field.NB_STREAMLINES] = len(starts)
        rows, counts, props = records.gather(words, starts, k, m)
        if k > 3:
            pts, scal = records.split_points(rows, words)
        else:
            pts, scal = rows, np.zeros((len(rows), 0), np.float32)
        pts = _shrink(words, pts)
        keep = counts > 0  # empty records give no streamline (ArraySequence skips them too)
        lengths = counts[keep]
        offsets = np.zeros(len(lengths), np.intp)
        np.cumsum(lengths[:-1], out=offsets[1:])
        streamlines = ArraySequence._from_parts(pts, offsets, lengths)
        scalars = ArraySequence._from_parts(scal, offsets.copy(), lengths.copy()) if k > 3 else ArraySequence()
        return streamlines, scalars, props[keep] if m else props[keep]

    @staticmethod
    def _read(fileobj: Any, header: dict[str, Any]) -> Any:
        """Yield (points, scalars, properties) per streamline, in voxmm, a buffer at a time."""
        name = describe(fileobj)
        k = 3 + int(header[Field.NB_SCALARS_PER_POINT])
        m = int(header[Field.NB_PROPERTIES_PER_STREAMLINE])
        e = header[Field.ENDIANNESS]
        expected = int(header[Field.NB_STREAMLINES])
        count = 0
        with reading(fileobj) as f:
            for item in records.stream(f, header["_offset_data"], k, m, expected, np.dtype(e + "i4"),
                                       np.dtype(e + "f4"), name):
                count += 1
                yield item
        header[Field.NB_STREAMLINES] = count

    def save(self, fileobj: Any) -> None:
        """Write as TRK (little-endian) to a file name (atomically) or a binary file object."""
        header = self._default_structarr(endianness="little")
        for key, value in self.header.items():
            if key in (header_2_dtype.fields or {}):
                header[key] = value
        if header[Field.VOXEL_ORDER] == b"":
            header[Field.VOXEL_ORDER] = b"LPS"
        with writing(fileobj) as f:
            beginning = f.tell()
            f.write(header.tobytes())
            from ._trkwrite import write_records

            write_records(self.tractogram, header, f)
            end = f.tell()
            f.seek(beginning, os.SEEK_SET)
            f.write(header.tobytes())
            f.seek(end, os.SEEK_SET)

    def __str__(self) -> str:
        info = self.header.copy()
        for attr in dir(Field):
            if attr[0] in string.ascii_uppercase and getattr(Field, attr) in info:
                info[attr] = info[getattr(Field, attr)]
        n_scal = self.header[Field.NB_SCALARS_PER_POINT]
        info["scalar_names"] = "\n  ".join(
            s.decode("latin-1") for s in info["scalar_name"][:n_scal] if len(s) > 0)
        n_prop = self.header[Field.NB_PROPERTIES_PER_STREAMLINE]
        info["property_names"] = "\n  ".join(
            s.decode("latin-1") for s in info["property_name"][:n_prop] if len(s) > 0)
        info = {k: v.decode("latin-1") if hasattr(v, "decode") else v for k, v in info.items()}
        lines = [
            "MAGIC NUMBER: {MAGIC_NUMBER}", "v.{version}", "dim: {DIMENSIONS}",
            "voxel_sizes: {VOXEL_SIZES}", "origin: {ORIGIN}", "nb_scalars: {NB_SCALARS_PER_POINT}",
            "scalar_names:\n  {scalar_names}", "nb_properties: {NB_PROPERTIES_PER_STREAMLINE}",
            "property_names:\n  {property_names}", "vox_to_world:\n{VOXEL_TO_RASMM}",
            "voxel_order: {VOXEL_ORDER}", "image_orientation_patient: {image_orientation_patient}",
            "pad1: {pad1}", "pad2: {pad2}", "invert_x: {invert_x}", "invert_y: {invert_y}",
            "invert_z: {invert_z}", "swap_xy: {swap_xy}", "swap_yz: {swap_yz}", "swap_zx: {swap_zx}",
            "n_count: {NB_STREAMLINES}", "hdr_size: {hdr_size}",
        ]
        return "\n".join(lines).format(**info)


def _shrink(buffer: NDArray[Any], pts: NDArray[np.float32]) -> NDArray[np.float32]:
    """`pts` (at the front of `buffer`) in a buffer of just their size."""
    n_words = pts.size
    if buffer.size == n_words:
        return pts
    if buffer.flags.owndata:
        del pts
        try:
            buffer.resize(n_words, refcheck=False)
            return buffer.view(np.float32).reshape(-1, 3)
        except ValueError:
            pass
        return buffer[:n_words].view(np.float32).reshape(-1, 3)
    return buffer[:n_words].view(np.float32).reshape(-1, 3)

