"""FreeSurfer surface meshes, morphometry ("curv") files and labels; annotations in :mod:`._annot`.

Formats (FreeSurfer's file format notes; binary values big-endian):

- triangle surface: magic ``ff ff fe``, a creation line ending in two
  newlines, vertex and face counts (int32), coordinates (float32 x, y, z),
  faces (int32 triples), then optionally the geometry of the volume the
  surface was made from (``head`` code, then ``key = value`` lines: valid,
  filename, volume, voxelsize, xras, yras, zras, cras);
- quad surface: magic ``ff ff ff`` (coordinates int16 / 100) or ``ff ff fd``
  (float32), 3-byte vertex and quad counts, quads of 3-byte indices; each
  quad is split into two triangles as FreeSurfer does;
- morphometry: magic ``ff ff ff``, vertex count, face count, values per
  vertex (int32), float32 values; or the old layout: a 3-byte vertex count,
  a 3-byte face count and int16 values / 100;
- label: a comment line, a count line, then ``vertex x y z value`` rows.

Beyond nibabel: readers accept file objects and compressed files, check
every count against the file (a NivoxError naming the file, never a reshape
error or a huge allocation), and writers replace files atomically. The
volume geometry (with ``cras``, the offset between surface and scanner
coordinates) reads with ``read_metadata=True`` and writes back with the same
values, so surfaces stay aligned with their volume in FreeSurfer's viewers.
"""

from __future__ import annotations

import getpass
import time
import warnings
from collections import OrderedDict
from typing import Any

import numpy as np

from ..errors import ImageFileError
from ._annot import _ANNOT_DT, _pack_rgb, read_annot, write_annot  # noqa: F401 (nibabel names)
from ._binio import Reader, file_name, read_all, writing

__all__ = ["read_annot", "read_geometry", "read_label", "read_morph_data", "write_annot",
           "write_geometry", "write_morph_data"]

TRIANGLE_MAGIC = 0xFFFFFE
QUAD_MAGIC = 0xFFFFFF
NEW_QUAD_MAGIC = 0xFFFFFD
NEW_CURV_MAGIC = 0xFFFFFF

_VOLUME_KEYS = ("valid", "filename", "volume", "voxelsize", "xras", "yras", "zras", "cras")
_KNOWN_HEADS = ([20], [2, 0, 20])


def _fread3(fobj: Any) -> int:
    """A 3-byte big-endian unsigned integer read from ``fobj``."""
    raw = fobj.read(3)
    if len(raw) < 3:
        raise ImageFileError(f"{file_name(fobj)}: file ends inside a 3-byte integer")
    return (raw[0] << 16) | (raw[1] << 8) | raw[2]


def _fread3_many(fobj: Any, n: int) -> np.ndarray:
    """``n`` 3-byte big-endian unsigned integers read from ``fobj``."""
    reader = Reader(fobj.read(3 * n), file_name(fobj))
    return reader.uint24_many(n, "3-byte integers")


# ---- volume geometry after a triangle surface -----------------------------------


class VolumeInfo(OrderedDict):
    """The volume geometry of a surface (an OrderedDict, as nibabel returns), and what follows it.

    ``tags`` holds the bytes after the geometry (FreeSurfer's tagged blocks:
    the command lines that made the surface, ...); :func:`write_geometry`
    writes them back, so a surface read and written keeps them.
    """

    tags: bytes = b""


def _parse_volume_info(reader: Reader) -> OrderedDict:
    volume_info = VolumeInfo()
    if reader.left < 4:
        return volume_info
    head = reader.array(">i4", 1, "volume info code")
    if not np.array_equal(head, [20]):
        if reader.left < 8:
            warnings.warn("Unknown extension code.", stacklevel=3)
            return volume_info
        head = np.concatenate([head, reader.array(">i4", 2, "volume info code")])
        if not np.array_equal(head, [2, 0, 20]):
            warnings.warn("Unknown extension code.", stacklevel=3)
            return volume_info
    volume_info["head"] = head
    for key in _VOLUME_KEYS:
        text = reader.line().decode("utf-8", "replace")
        name, sep, value = text.partition("=")
        if name.strip() != key or not sep or "=" in value:
            raise ImageFileError(f"{reader.name}: Error parsing volume info: expected {key!r}, "
                                 f"found {text.strip()!r}")
        try:
            if key in ("valid", "filename"):
                volume_info[key] = value.strip()
            elif key == "volume":
                volume_info[key] = np.array(value.split(), int)
            else:
                volume_info[key] = np.array(value.split(), float)
        except ValueError:
            raise ImageFileError(f"{reader.name}: Error parsing volume info: bad {key} "
                                 f"value {value.strip()!r}") from None
    volume_info.tags = reader.rest()
    return volume_info


def _read_volume_info(fobj: Any) -> OrderedDict:
    """The volume geometry at the current position of ``fobj`` (empty if there is none)."""
    return _parse_volume_info(Reader(fobj.read(), file_name(fobj)))


def _serialize_volume_info(volume_info: Any) -> bytes:
    """The bytes of volume geometry ``volume_info`` as FreeSurfer writes it after a surface."""
    unknown = set(volume_info).difference(("head",) + _VOLUME_KEYS)
    if unknown:
        raise ImageFileError(f"Invalid volume info: {min(unknown)}.")
    parts = []
    for key in ("head",) + _VOLUME_KEYS:
        value = volume_info[key]
        if key == "head":
            if not any(np.array_equal(value, known) for known in _KNOWN_HEADS):
                warnings.warn("Unknown extension code.", stacklevel=3)
            parts.append(np.array(value, dtype=">i4").tobytes())
        elif key in ("valid", "filename"):
            parts.append(f"{key} = {value}\n".encode())
        elif key == "volume":
            parts.append(f"{key} = {value[0]} {value[1]} {value[2]}\n".encode())
        else:
            parts.append(f"{key:6s} = {value[0]:.10g} {value[1]:.10g} {value[2]:.10g}\n".encode())
    return b"".join(parts)


# ---- surfaces ---------------------------------------------------------------------


def _split_quads(quads: np.ndarray) -> np.ndarray:
    """Two triangles per quad, split along the diagonal FreeSurfer uses (by the first index's parity)."""
    faces = np.empty((2 * len(quads), 3), dtype=int)
    even = quads[:, 0] % 2 == 0
    first = np.where(even[:, None], quads[:, [0, 1, 3]], quads[:, [0, 1, 2]])
    second = np.where(even[:, None], quads[:, [2, 3, 1]], quads[:, [0, 2, 3]])
    faces[0::2] = first
    faces[1::2] = second
    return faces


def read_geometry(filepath: Any, read_metadata: bool = False, read_stamp: bool = False) -> tuple:
    """Read a FreeSurfer surface mesh (triangle or quad file).

    Parameters
    ----------
    filepath : str, PathLike or file object
    read_metadata : bool
        Also return the volume geometry stored after the mesh (an OrderedDict
        with 'head', 'valid', 'filename', 'volume', 'voxelsize', 'xras',
        'yras', 'zras', 'cras'; empty, with a warning, when there is none),
        with the tagged blocks after it as its ``tags`` attribute.
    read_stamp : bool
        Also return the creation line of a triangle file.

    Returns
    -------
    coords : ndarray (n_vertices, 3) float64
    faces : ndarray (n_faces, 3) int
    volume_info : OrderedDict, if ``read_metadata``
    create_stamp : str, if ``read_stamp``
    """
    name = file_name(filepath)
    reader = Reader(read_all(filepath), name)
    volume_info: OrderedDict = VolumeInfo()
    create_stamp = None
    magic = reader.uint24("magic number") if reader.left >= 3 else -1
    if magic in (QUAD_MAGIC, NEW_QUAD_MAGIC):
        nvert = reader.uint24("vertex count")
        nquad = reader.uint24("quad count")
        fmt, div = (">i2", 100.0) if magic == QUAD_MAGIC else (">f4", 1.0)
        coords = (reader.array(fmt, nvert * 3, "vertex coordinates").astype(np.float64) / div).reshape(-1, 3)
        quads = reader.uint24_many(nquad * 4, "quads").reshape(nquad, 4)
        faces = _split_quads(quads)
    elif magic == TRIANGLE_MAGIC:
        create_stamp = reader.line().rstrip(b"\n").decode("utf-8", "replace")
        reader.line()
        vnum = reader.int32("vertex count")
        fnum = reader.int32("face count")
        coords = reader.array(">f4", vnum * 3, "vertex coordinates").reshape(vnum, 3)
        faces = reader.array(">i4", fnum * 3, "faces").reshape(fnum, 3)
        if read_metadata:
            volume_info = _parse_volume_info(reader)
    else:
        raise ImageFileError(f"{name}: File does not appear to be a Freesurfer surface")
    result: tuple = (coords.astype(np.float64), faces)
    if read_metadata:
        if not volume_info:
            warnings.warn("No volume information contained in the file", stacklevel=2)
        result += (volume_info,)
    if read_stamp:
        result += (create_stamp,)
    return result


def write_geometry(filepath: Any, coords: Any, faces: Any, create_stamp: str | None = None,
                   volume_info: Any = None) -> None:
    """Write a triangle surface mesh (replacing a named file only once it is complete).

    Parameters
    ----------
    filepath : str, PathLike or file object
    coords : array (n_vertices, 3)
    faces : array (n_faces, 3) of vertex indices
    create_stamp : str, optional
        The creation line (default "created by <user> on <date>").
    volume_info : mapping, optional
        Volume geometry to store after the mesh, as ``read_geometry``
        returns it (keys 'head', 'valid', 'filename', 'volume', 'voxelsize',
        'xras', 'yras', 'zras', 'cras'); the tagged blocks read after it
        (its ``tags`` attribute) are written after it.
    """
    coords = np.asarray(coords)
    faces = np.asarray(faces)
    if coords.ndim != 2 or coords.shape[1] != 3:
        raise ImageFileError(f"coords must have shape (n_vertices, 3), not {coords.shape}")
    if faces.ndim != 2 or faces.shape[1] != 3:
        raise ImageFileError(f"faces must have shape (n_faces, 3), not {faces.shape}")
    if faces.size and (faces.min() < 0 or faces.max() >= len(coords)):
        # FreeSurfer would read such a mesh and then index past its vertices
        raise ImageFileError(f"{file_name(filepath)}: faces refer to vertices {faces.min()} to "
                         f"{faces.max()}, but there are {len(coords)} vertices")
    if create_stamp is None:
        create_stamp = f"created by {getpass.getuser()} on {time.ctime()}"
    footer = b""
    if volume_info is not None and len(volume_info):
        footer = _serialize_volume_info(volume_info) + bytes(getattr(volume_info, "tags", b""))
    with writing(filepath) as fobj:
        fobj.write(b"\xff\xff\xfe")
        fobj.write(f"{create_stamp}\n\n".encode())
        fobj.write(np.array([coords.shape[0], faces.shape[0]], dtype=">i4").tobytes())
        fobj.write(coords.astype(">f4").tobytes(order="C"))
        fobj.write(faces.astype(">i4").tobytes(order="C"))
        fobj.write(footer)


# ---- morphometry --------------------------------------------------------------------


def read_morph_data(filepath: Any) -> np.ndarray:
    """Read a FreeSurfer morphometry file (``?h.curv``, ``?h.thickness``, ...): one value per vertex."""
    name = file_name(filepath)
    reader = Reader(read_all(filepath), name)
    if reader.left < 3:
        raise ImageFileError(f"{name}: too short for a FreeSurfer morphometry file")
    magic = reader.uint24("magic number")
    if magic == NEW_CURV_MAGIC:
        vnum = reader.int32("vertex count")
        reader.int32("face count")
        reader.int32("values per vertex")
        return reader.array(">f4", vnum, "values")
    reader.uint24("face count")
    return reader.array(">i2", magic, "values") / 100


def write_morph_data(file_like: Any, values: Any, fnum: int = 0) -> None:
    """Write morphometry ``values`` (a vector) to ``file_like`` in FreeSurfer's float layout.

    ``fnum`` is the face count of the surface the values belong to.
    """
    vector = np.asarray(values)
    vnum = int(np.prod(vector.shape))
    if vector.shape not in ((vnum,), (vnum, 1), (1, vnum), (vnum, 1, 1)):
        raise ImageFileError("Invalid shape: argument values must be a vector")
    limits = np.iinfo(np.int32)
    if vnum > limits.max:
        raise ImageFileError("Too many values for morphometry file")
    if not limits.min <= fnum <= limits.max:
        raise ImageFileError(f"Argument fnum must be between {limits.min} and {limits.max}")
    with writing(file_like) as fobj:
        fobj.write(b"\xff\xff\xff")
        fobj.write(np.array([vnum, fnum, 1], dtype=">i4").tobytes())
        fobj.write(vector.astype(">f4").tobytes())


# ---- labels ------------------------------------------------------------------------


def read_label(filepath: Any, read_scalars: bool = False) -> Any:
    """Read a FreeSurfer ``.label`` file: the vertex numbers (and, with ``read_scalars``, the values)."""
    import io

    name = file_name(filepath)
    text = read_all(filepath)
    try:
        rows = np.loadtxt(io.BytesIO(text), skiprows=2, ndmin=2)
    except ValueError as err:
        raise ImageFileError(f"{name}: not a FreeSurfer label file: {err}") from None
    if rows.shape[0] and rows.shape[1] < 2:
        raise ImageFileError(f"{name}: label rows need a vertex number and values")
    if rows.shape[0] == 0:
        rows = rows.reshape(0, 5)
    if not np.all(np.isfinite(rows[:, 0])) or np.any(rows[:, 0] != np.round(rows[:, 0])):
        raise ImageFileError(f"{name}: vertex numbers must be whole numbers")
    labels = rows[:, 0].astype(int)
    if read_scalars:
        return labels, rows[:, -1]
    return labels

