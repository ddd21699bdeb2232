"""Image data as dask arrays: :func:`to_dask`.

A dask array made here holds no data: each chunk is a task that reads its
part of the file through the image's proxy, so only the bytes the chunk needs
are read (the members it touches, for a ``.nii.gz`` nivox wrote). What a task
carries is a small reference to the file (the proxy pickles as path, layout,
offsets), so the same graph computes on the threads of one process or on the
worker processes of a ``dask.distributed`` cluster, each worker opening the
file itself.

Single-stream ``.nii.gz`` files (as most other tools write them) can only be
entered at seek points; a worker that decodes one leaves its index in a folder
(``index_dir``) where other workers and later runs load it, so a cluster does
not decode the same stream from the start once per chunk. The same holds for
such a file at a URL: one worker fetches and decodes the stream once to build
its seek points and saves them in ``index_dir``; the others load them.

dask is an optional dependency: ``pip install nivox[dask]``.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import ImageMismatchError, InvalidArgumentError, MissingDependencyError

__all__ = ["DEFAULT_SLAB_BYTES", "ChunkReader", "to_dask"]

#: bytes a chunk of a 3D image holds at most by default (slabs of whole planes)
DEFAULT_SLAB_BYTES = 64 << 20


def _dask_array() -> Any:
    try:
        import dask.array as da
    except ImportError:
        raise MissingDependencyError(
            "nivox.to_dask needs dask: pip install 'nivox[dask]'") from None
    return da


class ChunkReader:
    """An array-like that dask slices: each slice is read from the file through the proxy.

    Parameters
    ----------
    dataobj : array proxy or array
        The image's ``dataobj``.
    dtype : numpy dtype
        The dtype of every slice returned: the proxy's scaled dtype, or the
        floating point type asked for.
    index_dir : str or None
        Where single-stream gzip indexes are shared between processes.
    """

    def __init__(self, dataobj: Any, dtype: Any, index_dir: str | None = None) -> None:
        self.dataobj = dataobj
        self.dtype = np.dtype(dtype)
        self.shape = tuple(int(n) for n in dataobj.shape)
        self.ndim = len(self.shape)
        self.index_dir = index_dir
        # only single files read through gzip have seek points worth sharing
        self._gzip = _gzip_path(dataobj) if index_dir is not None else None
        self._stream = _remote_gzip_stream(dataobj) if index_dir is not None else None

    def __getitem__(self, index: Any) -> np.ndarray:
        shared: _SharedIndex | _SharedRemoteIndex
        if self._gzip is not None:
            shared = _shared_index(self._gzip, self.index_dir)  # type: ignore[arg-type]
        elif self._stream is not None:
            shared = _shared_remote_index(self._stream, self.index_dir)  # type: ignore[arg-type]
        else:
            return np.asarray(self.dataobj[index], dtype=self.dtype)
        shared.before_read()
        values = np.asarray(self.dataobj[index], dtype=self.dtype)
        shared.after_read()
        return values

    def __reduce__(self) -> tuple[Any, ...]:
        return (ChunkReader, (self.dataobj, self.dtype, self.index_dir))


def _gzip_path(dataobj: Any) -> str | None:
    """The path of the gzip file a proxy reads, or None."""
    file_like = getattr(dataobj, "file_like", None)
    if not isinstance(file_like, (str, os.PathLike)):
        return None
    name = os.fsdecode(file_like)
    return name if name.lower().endswith(".gz") else None


def _remote_gzip_stream(dataobj: Any) -> Any:
    """The seekable reader of a remote single-stream gzip file a proxy reads, or None."""
    file_like = getattr(dataobj, "file_like", None)
    module = sys.modules.get("nivox._remotestream")  # loaded if any URL was opened
    if module is None or not isinstance(file_like, module.RemoteGzipStream):
        return None
    return file_like


class _SharedIndex:
    """One process's view of a gzip file's index kept in ``index_dir``."""

    def __init__(self, path: str, index_dir: str) -> None:
        status = os.stat(path)
        tag = f"{os.path.realpath(path)}\0{status.st_size}\0{status.st_mtime_ns}"
        name = hashlib.sha1(tag.encode(), usedforsecurity=False).hexdigest()
        self.path = path
        self.index_path = os.path.join(index_dir, f"{name}.nvidx")
        self.loaded = False
        self.saved = False
        self.lock = threading.Lock()

    def before_read(self) -> None:
        """Load the index another process left, once."""
        from ._codecs import gzip as gz

        with self.lock:
            if self.loaded or not os.path.exists(self.index_path):
                return
            try:
                gz.load_index(self.path, self.index_path)
            except (OSError, ValueError):
                return  # unreadable or stale: this process builds its own
            self.loaded = self.saved = True

    def after_read(self) -> None:
        """Leave this process's index for others, once, if the file is one stream."""
        from ._codecs import gzip as gz

        with self.lock:
            if self.saved:
                return
            self.saved = True
            if gz.member_starts(self.path) is not None:
                return  # members are their own seek points: nothing worth sharing
            os.makedirs(os.path.dirname(self.index_path), exist_ok=True)
            gz.build_index(self.path)
            gz.save_index(self.path, self.index_path)


_SHARED: dict[tuple[str, str], _SharedIndex] = {}
_SHARED_LOCK = threading.Lock()


def _shared_index(path: str, index_dir: str) -> _SharedIndex:
    with _SHARED_LOCK:
        shared = _SHARED.get((path, index_dir))
        if shared is None:
            shared = _SHARED[(path, index_dir)] = _SharedIndex(path, index_dir)
        return shared


#: seconds after which another process's claim to build an index is deemed abandoned
CLAIM_STALE = 600.0


class _SharedRemoteIndex:
    """One process's view of a remote single-stream gzip file's index kept in ``index_dir``.

    The index file has the name ``load`` looks for in the cache folder, so
    with the default ``index_dir`` a later ``load`` of the URL uses it too.
    One process builds it (decoding the stream once); a claim file keeps
    the others from fetching the whole file as well: they read their chunks
    with their own seek points meanwhile and take the index once it appears.
    """

    def __init__(self, stream: Any, index_dir: str) -> None:
        from ._remotestream import default_index_path

        self.stream = stream
        self.index_path = os.path.join(index_dir, os.path.basename(default_index_path(stream.name)))
        self.claim_path = f"{self.index_path}.building"
        self.done = False  # loaded or saved: nothing more to share
        self.refused: int | None = None  # modification time of an index made for another version
        self.reads = 0
        self.lock = threading.Lock()

    def before_read(self) -> None:
        """Take the index another process left, or build it (before reading, so the read uses it).

        Not for a process's first read: a graph that reads one chunk fetches
        only what that chunk needs, never the whole stream.
        """
        with self.lock:
            if self.done or self._take():
                return
            self.reads += 1
            if self.reads > 1:
                self._build()  # decoding on from where the first read left off

    def after_read(self) -> None:
        """Nothing: the index was taken or built before the read."""

    def _take(self) -> bool:
        from .errors import ImageFileError

        try:
            stamp = os.stat(self.index_path).st_mtime_ns
        except OSError:
            return False
        if stamp == self.refused:
            return False
        try:
            self.stream.load_index(self.index_path)
        except (ImageFileError, OSError):
            self.refused = stamp  # made for another version of the file: rebuilt
            return False
        self.done = True
        return True

    def _build(self) -> None:
        os.makedirs(os.path.dirname(self.index_path), exist_ok=True)
        try:
            claim = os.open(self.claim_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                if time.time() - os.path.getmtime(self.claim_path) < CLAIM_STALE:
                    return  # another process builds it: this read uses this process's own points
            except OSError:
                return
            claim = os.open(self.claim_path, os.O_CREAT | os.O_WRONLY)  # abandoned: take it over
        try:
            self.stream.build_index()
            self.stream.save_index(self.index_path)
            self.done = True
        finally:
            os.close(claim)
            try:
                os.unlink(self.claim_path)
            except OSError:
                pass


def _shared_remote_index(stream: Any, index_dir: str) -> _SharedRemoteIndex:
    # kept on the reader of the file version the process shares (and drops with it)
    entry = stream._entry
    with _SHARED_LOCK:
        per_folder = entry.__dict__.setdefault("shared_indexes", {})
        shared = per_folder.get(index_dir)
        if shared is None:
            shared = per_folder[index_dir] = _SharedRemoteIndex(stream, index_dir)
        return shared


def _default_index_dir() -> str:
    return os.environ.get("NIVOX_INDEX_DIR") or os.path.join(tempfile.gettempdir(),
                                                            "nivox-gzip-indexes")


def _values_dtype(dataobj: Any) -> np.dtype:
    """The dtype ``np.asanyarray(dataobj)`` gives, found without reading the data."""
    if isinstance(dataobj, np.ndarray):
        return dataobj.dtype
    from .arrayproxy import scaled_dtype

    slope = getattr(dataobj, "slope", 1.0)
    inter = getattr(dataobj, "inter", 0.0)
    return np.dtype(scaled_dtype(np.dtype(dataobj.dtype), slope, inter))


def _default_chunks(img: Any, dataobj: Any, dtype: np.dtype) -> tuple[tuple[int, ...], ...]:
    """One volume per chunk for 4D/5D data; for 3D, slabs of planes at gzip member starts."""
    storage_chunks = getattr(dataobj, "storage_chunks", None)
    if callable(storage_chunks):  # a chunked store (NIfTI-Zarr): one task per stored chunk
        return storage_chunks()
    shape = tuple(int(n) for n in dataobj.shape)
    if len(shape) >= 4:
        return tuple((n,) for n in shape[:3]) + tuple((1,) * n for n in shape[3:])
    if len(shape) < 3 or shape[2] == 0:
        return tuple((n,) for n in shape)
    nx, ny, nz = shape
    plane = nx * ny * np.dtype(getattr(dataobj, "dtype", dtype)).itemsize
    slab_planes = max(1, DEFAULT_SLAB_BYTES // max(1, nx * ny * dtype.itemsize))
    starts = _member_plane_starts(dataobj, plane, nz)
    cuts = [0]
    if starts is not None:
        # cut at the last member start that keeps the slab within its size, so that
        # no member is decoded for two chunks (a member longer than a slab: cut at it)
        previous = 0
        for start in [*starts, nz]:
            if start - cuts[-1] > slab_planes:
                cuts.append(previous if previous > cuts[-1] else start)
            previous = start
    else:
        cuts = list(range(0, nz, slab_planes))
    cuts = sorted(set(cuts) - {nz})
    sizes = tuple(b - a for a, b in zip(cuts, [*cuts[1:], nz]))
    return ((nx,), (ny,), sizes)


def _member_plane_starts(dataobj: Any, plane: int, nz: int) -> list[int] | None:
    """The first whole plane of each gzip member (Fortran order data), or None."""
    path = _gzip_path(dataobj)
    if path is None or getattr(dataobj, "order", "F") != "F":
        return None
    from ._codecs import gzip as gz

    try:
        starts = gz.member_starts(path)
    except (OSError, ValueError):
        return None
    if starts is None:
        return None
    offset = int(getattr(dataobj, "offset", 0))
    planes = {min(nz, max(0, -(-(start - offset) // plane))) for start in starts}
    return sorted(planes)


def _as_image(item: Any, load_kwargs: dict[str, Any]) -> Any:
    if isinstance(item, (str, os.PathLike)):
        from .loadsave import load

        return load(item, **load_kwargs)
    if not hasattr(item, "dataobj"):
        raise InvalidArgumentError(
            f"to_dask takes images or file names, not {type(item).__name__}")
    return item


def to_dask(images: Any, chunks: Any = None, dtype: Any = None,
            index_dir: str | os.PathLike[str] | None = None, **load_kwargs: Any) -> Any:
    """The data of an image (or of several, stacked) as a lazy ``dask.array.Array``.

    Parameters
    ----------
    images : image, file name, or a sequence of them
        One image gives its data as ``np.asanyarray(img.dataobj)`` would (scaling
        applied, in that dtype). A list or tuple stacks images of the same grid
        along a new last axis; their shapes and affines are checked now.
    chunks : None, 'auto', or anything dask takes
        None (default): one volume per chunk for 4D and 5D images; for 3D,
        slabs of whole planes of at most :data:`DEFAULT_SLAB_BYTES`, cut at
        gzip member starts in a ``.nii.gz`` nivox wrote.
    dtype : floating point dtype, optional
        Give the data as ``img.get_fdata(dtype=dtype)`` would.
    index_dir : path, optional
        Where workers share the seek points of single-stream ``.nii.gz`` files,
        local or at a URL (default ``$NIVOX_INDEX_DIR``, else a folder in the temporary folder).
    **load_kwargs
        Passed to :func:`nivox.load` for file names (``mmap``, ``keep_file_open``).

    Returns
    -------
    dask.array.Array
        A graph of read tasks; no data are read until it is computed.
    """
    da = _dask_array()
    folder = os.fsdecode(index_dir) if index_dir is not None else _default_index_dir()
    if isinstance(images, (list, tuple)):
        return _stacked(da, [_as_image(item, load_kwargs) for item in images], chunks, dtype,
                        folder)
    img = _as_image(images, load_kwargs)
    return _one(da, img, chunks, dtype, folder)


def _one(da: Any, img: Any, chunks: Any, dtype: Any, index_dir: str) -> Any:
    dataobj = img.dataobj
    if dtype is not None:
        out_dtype = np.dtype(dtype)
        if not issubclass(out_dtype.type, np.inexact):
            raise InvalidArgumentError(f"dtype {out_dtype} should be a floating point type")
    else:
        out_dtype = _values_dtype(dataobj)
    if chunks is None:
        chunks = _default_chunks(img, dataobj, out_dtype)
    reader = ChunkReader(dataobj, out_dtype, index_dir)
    name = f"nivox-{_token(img, out_dtype)}"
    return da.from_array(reader, chunks=chunks, name=name, asarray=False, lock=False,
                         fancy=False, meta=np.empty((0,) * reader.ndim, out_dtype))


def _token(img: Any, dtype: np.dtype) -> str:
    """A name for the graph: the same file and dtype give the same tasks."""
    filename = img.get_filename() if hasattr(img, "get_filename") else None
    if filename and os.path.exists(filename):  # not for URLs (a NIfTI-Zarr store at one)
        status = os.stat(filename)
        tag = f"{os.path.realpath(filename)}:{status.st_size}:{status.st_mtime_ns}:{dtype}"
    else:
        tag = f"{id(img.dataobj)}:{dtype}:{os.getpid()}"
    return hashlib.sha1(tag.encode(), usedforsecurity=False).hexdigest()[:16]


def _stacked(da: Any, images: Sequence[Any], chunks: Any, dtype: Any, index_dir: str) -> Any:
    if not images:
        raise InvalidArgumentError("to_dask needs at least one image to stack")
    first = images[0]
    for number, img in enumerate(images[1:], start=1):
        where = img.get_filename() or f"image {number}"
        if tuple(img.shape) != tuple(first.shape):
            raise ImageMismatchError(
                f"{where}: shape {tuple(img.shape)} differs from the first image's "
                f"{tuple(first.shape)}")
        if first.affine is not None and (img.affine is None
                                         or not np.allclose(img.affine, first.affine)):
            raise ImageMismatchError(f"{where}: affine differs from the first image's")
    arrays = [_one(da, img, chunks, dtype, index_dir) for img in images]
    common = np.result_type(*(a.dtype for a in arrays))
    return da.stack([a.astype(common) for a in arrays], axis=-1)
