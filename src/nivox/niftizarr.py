"""NIfTI-Zarr (``.nii.zarr``): a NIfTI header inside an OME-Zarr multiscale image.

Implements the NIfTI-Zarr specification version 1.0.rc1 (neuroscales/nifti-zarr,
release candidate), writing Zarr v3 with OME-NGFF 0.5 metadata as the
reference converter does by default (Zarr v2 with OME-NGFF 0.4 on request),
and reading both. What is stored where:

- ``nifti``: the binary NIfTI-1 (348 bytes) or NIfTI-2 (540 bytes) header as
  a one-chunk uint8 array, followed by the extension flag and extensions when
  there are any; its attributes hold the JNIfTI JSON form (for people; the
  binary header prevails). The header's ``scl_slope``/``scl_inter`` scale the
  stored values, as in a ``.nii``.
- ``0``, ``1``, ...: the pyramid levels, full resolution first, each an array
  with axes ``[t, c,] z, y, x`` (C order; NIfTI's x, y, z, t, c reversed),
  chunked (64 voxels along space, 1 along time and channels by default) and
  compressed with Blosc (lz4, byte shuffle: the spec's example). Lower
  levels halve every spatial axis longer than one voxel: window means, or
  the most frequent value for label images (intent ``label``/``neuronames``).
- group attributes: OME ``multiscales`` (axes, units from ``xyzt_units``,
  per-level ``scale`` and ``translation`` from the voxel sizes, the repetition
  time as a global time scale).

:class:`NiftiZarrImage` is a :class:`~nivox.nifti1.Nifti1Image` whose
``dataobj`` is a :class:`NiftiZarrProxy`: slices read only the chunks they
touch. Stores are local directories or fsspec URLs (``memory://``,
``https://``, ``s3://``, ...). zarr-python 3 is needed: ``pip install
'nivox[zarr]'``.
"""

from __future__ import annotations

import io
import math
import os
import sys
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from . import _zarrstore as zs
from ._scaling import convert_in_parallel, converter, is_identity, scaling
from ._sliceplan import canonical_slicers, is_fancy
from .errors import (
    ArgumentTypeError,
    ImageDataError,
    ImageFileError,
    InvalidArgumentError,
    NivoxError,
)
from .fileholders import FileHolder, FileMap
from .nifti1 import Nifti1Header, Nifti1Image
from .nifti2 import Nifti2Header
from .validation import mode as validation_mode

__all__ = ["NiftiZarrImage", "NiftiZarrProxy"]

_NIFTI_AXES = "xyztc"
# intents whose values are labels: lower levels keep the most frequent value
_LABEL_INTENTS = (1002, 1003)
_SPATIAL_CHUNK = 64


def _zarr_shape(shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[str, ...], tuple[int, ...]]:
    """(Zarr shape, Zarr axis names, permutation from the F-ordered NIfTI array) for NIfTI ``shape``."""
    padded = tuple(shape) + (1,) * (3 - len(shape))
    axes = zs.AXES[len(padded)]
    perm = tuple(_NIFTI_AXES.index(name) for name in axes)
    return tuple(padded[i] for i in perm), axes, perm


class NiftiZarrProxy:
    """The data of one level of a NIfTI-Zarr store, read chunk by chunk when indexed.

    Parameters
    ----------
    file_like : str
        The array's location: a directory or fsspec URL (``x.nii.zarr/0``).
    spec : header or tuple
        A NIfTI header, or ``(shape, dtype[, offset[, slope[, inter]]])`` with
        the shape in NIfTI order (x, y, z, t, c).
    axes : sequence of str, optional
        The Zarr axis names (default: ``z, y, x`` with ``t`` and ``c`` in
        front for 4D and 5D).
    storage_options : dict, optional
        fsspec options for a URL.
    keep_file_open, mmap
        Accepted for the array-proxy protocol; a store has no file to keep.
    """

    def __init__(self, file_like: Any, spec: Any, *, axes: Any = None,
                 storage_options: dict[str, Any] | None = None, keep_file_open: Any = None,
                 mmap: Any = True) -> None:
        from .arrayproxy import _parse_spec

        self.file_like = os.fspath(file_like) if isinstance(file_like, os.PathLike) else file_like
        self._location = zs.StoreLocation.parse(self.file_like, storage_options)
        self._shape, self._dtype, _, slope, inter = _parse_spec(spec)
        self._slope = 1.0 if slope is None else slope
        self._inter = 0.0 if inter is None else inter
        _, default_axes, _ = _zarr_shape(self._shape)
        self._axes = tuple(axes) if axes is not None else default_axes
        self._array: Any = None

    shape = property(lambda self: self._shape)
    ndim = property(lambda self: len(self._shape))
    dtype = property(lambda self: self._dtype, doc="The stored dtype (before scaling).")
    slope = property(lambda self: self._slope)
    inter = property(lambda self: self._inter)
    offset = property(lambda self: 0, doc="Always 0: a store has no byte offset.")
    is_proxy = property(lambda self: True)
    is_compressed = property(lambda self: True)

    def __repr__(self) -> str:
        return f"<NiftiZarrProxy {self.file_like!r} shape={self._shape} dtype={self._dtype}>"

    def __reduce__(self) -> tuple[Any, ...]:
        # a reference to the store; the opened zarr array is not carried
        spec = (self._shape, self._dtype, 0, self._slope, self._inter)
        return (_rebuild_proxy, (self.file_like, spec, self._axes, self._location.storage_options))

    # ------------------------------------------------------------ reading

    def _zarr_array(self) -> Any:
        if self._array is None:
            zarr = zs.zarr_module()
            try:
                array = zarr.open_array(store=self._location.store(read_only=True), mode="r")
            except NivoxError:
                raise
            except Exception as err:
                raise ImageFileError(f"cannot open the NIfTI-Zarr array {self.file_like}: {err}") from err
            expected = tuple(self._zarr_size(name) for name in self._axes)
            if tuple(array.shape) != expected:
                raise ImageDataError(f"{self.file_like}: array shape {tuple(array.shape)} is not the "
                                     f"{expected} the header describes (store changed?)")
            self._array = array
        return self._array

    def _zarr_size(self, name: str) -> int:
        index = _NIFTI_AXES.index(name)
        return self._shape[index] if index < len(self._shape) else 1

    def _raw(self, slicer: Any) -> np.ndarray:
        """The stored (unscaled) values ``slicer`` selects, in NIfTI axis order."""
        if is_fancy(slicer if isinstance(slicer, tuple) else (slicer,)):
            bounded = self._one_array_index(slicer)
            if bounded is not None:
                return bounded
            return self._raw(Ellipsis)[slicer]  # numpy does the fancy part on the whole array
        canonical = canonical_slicers(slicer, self._shape)
        nifti_sel: list[Any] = []
        post: list[Any] = []
        for item, length in zip((c for c in canonical if c is not None), self._shape):
            if isinstance(item, slice):
                start, stop, step = item.indices(length)
                if step > 0:
                    nifti_sel.append(slice(start, stop, step))
                    post.append(slice(None))
                else:
                    count = len(range(start, stop, step))
                    low = start + (count - 1) * step if count else 0
                    nifti_sel.append(slice(low, low + (count - 1) * -step + 1 if count else 0, -step))
                    post.append(slice(None, None, -1))
            else:
                nifti_sel.append(int(item))
        index = []
        for name in self._axes:
            axis = _NIFTI_AXES.index(name)
            index.append(nifti_sel[axis] if axis < len(nifti_sel) else 0)
        self._check_size(nifti_sel)
        try:
            raw = np.asarray(self._zarr_array()[tuple(index)])
        except MemoryError:
            raise ImageDataError(f"{self.file_like}: not enough memory to read {self._shape} "
                                 f"{self._dtype} data (read it in slices)") from None
        except NivoxError:
            raise
        except Exception as err:
            raise ImageDataError(f"cannot read NIfTI-Zarr data from {self.file_like}: {err}") from err
        kept_zarr = [name for name, sel in zip(self._axes, index) if isinstance(sel, slice)]
        kept_nifti = [_NIFTI_AXES[a] for a, sel in enumerate(nifti_sel) if isinstance(sel, slice)]
        # zarr axes outside the NIfTI dimensions (padding of 1D/2D images) were indexed by 0
        present = [name for name in kept_nifti if name in kept_zarr]
        raw = raw.transpose([kept_zarr.index(name) for name in present])
        for position, name in enumerate(kept_nifti):
            if name not in present:
                raw = np.expand_dims(raw, position)
        final: list[Any] = []
        post_iter = iter(post)
        for item in canonical:
            if item is None:
                final.append(None)
            elif isinstance(item, slice):
                final.append(next(post_iter))
        return raw[tuple(final)] if final else raw

    def _one_array_index(self, slicer: Any) -> np.ndarray | None:
        """Slices plus one 1-D integer array (``[..., [0, 5]]``): read only the array's span.

        None for other fancy indices, which numpy applies to the whole array.
        """
        items = list(slicer) if isinstance(slicer, tuple) else [slicer]
        ellipses = [k for k, item in enumerate(items) if item is Ellipsis]
        if len(ellipses) > 1 or any(item is None for item in items):
            return None
        if ellipses:
            k = ellipses[0]
            items[k:k + 1] = [slice(None)] * (len(self._shape) - len(items) + 1)
        if len(items) > len(self._shape):
            return None
        items += [slice(None)] * (len(self._shape) - len(items))
        arrays = [k for k, item in enumerate(items) if not isinstance(item, slice)]
        if len(arrays) != 1:
            return None
        axis = arrays[0]
        picks = np.asarray(items[axis])
        length = self._shape[axis]
        if picks.dtype.kind not in "iu" or picks.ndim != 1 or not picks.size or \
                picks.min() < -length or picks.max() >= length:
            return None  # numpy says what is wrong, or handles it
        picks = np.where(picks < 0, picks + length, picks)
        low = int(picks.min())
        items[axis] = slice(low, int(picks.max()) + 1)
        return np.take(self._raw(tuple(items)), picks - low, axis=axis)

    def _check_size(self, selection: list[Any]) -> None:
        count = 1
        for item, length in zip(selection, self._shape):
            if isinstance(item, slice):
                count *= len(range(*item.indices(length)))
        if count * max(self._dtype.itemsize, 8) > sys.maxsize:
            raise ImageDataError(f"{self.file_like}: the {count} values asked for are more than "
                                 "this machine can address")

    def _scaled(self, dtype: Any, slicer: Any) -> np.ndarray:
        raw = self._raw(slicer)
        want = None if dtype is None else np.dtype(dtype)
        if is_identity(self._slope, self._inter):
            return raw if want is None or want == raw.dtype else raw.astype(want)
        compute, product, slope, inter = scaling(raw.dtype, self._slope, self._inter, want)
        want = compute if want is None else want
        out = np.empty(raw.shape, want)
        convert_in_parallel(np.ascontiguousarray(raw), out, converter(slope, inter, compute, product))
        return out

    def get_unscaled(self) -> np.ndarray:
        """All the data as stored, without scaling."""
        return self._raw(Ellipsis)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self._scaled(dtype, Ellipsis)

    def __getitem__(self, slicer: Any) -> np.ndarray:
        return self._scaled(None, slicer)

    def reshape(self, shape: Any) -> Any:
        """The data reshaped (F order, as NIfTI data are laid out); read now, as an array."""
        return np.reshape(np.asarray(self), shape, order="F")

    def storage_chunks(self) -> tuple[int, ...]:
        """The Zarr chunk shape in NIfTI axis order (``to_dask`` makes one task per chunk)."""
        array = self._zarr_array()
        sizes = dict(zip(self._axes, array.chunks))
        return tuple(sizes.get(_NIFTI_AXES[i], 1) for i in range(len(self._shape)))


def _rebuild_proxy(file_like: str, spec: Any, axes: Any, storage_options: Any) -> NiftiZarrProxy:
    return NiftiZarrProxy(file_like, spec, axes=axes, storage_options=storage_options)


class NiftiZarrImage(Nifti1Image):
    """A NIfTI image stored as NIfTI-Zarr (``.nii.zarr``, spec 1.0.rc1); its header is NIfTI-1 or -2."""

    valid_exts: ClassVar[tuple[str, ...]] = (".nii.zarr",)
    files_types: ClassVar[tuple[tuple[str, str | None], ...]] = (("image", ".nii.zarr"),)
    _compressed_suffixes: ClassVar[tuple[str, ...]] = ()
    _meta_sniff_len: ClassVar[int] = 0

    def __init__(self, dataobj: Any, affine: Any, header: Any = None, extra: Any = None,
                 file_map: FileMap | None = None, dtype: Any = None) -> None:
        # a NIfTI-2 header stays NIfTI-2 (FileBasedImage reads self.header_class)
        if isinstance(header, Nifti2Header) or _needs_nifti2(getattr(dataobj, "shape", ())):
            self.header_class = Nifti2Header  # type: ignore[misc]
        super().__init__(dataobj, affine, header, extra, file_map, dtype)

    @classmethod
    def from_image(cls, img: Any) -> NiftiZarrImage:
        header = img.header
        klass = Nifti2Header if isinstance(header, Nifti2Header) or _needs_nifti2(img.shape) \
            else Nifti1Header
        out = cls(img.dataobj, img.affine, klass.from_header(header), extra=img.extra.copy())
        # scaling set on a NIfTI header by the user is written, as saving it as .nii would
        if isinstance(header, Nifti1Header):
            slope, inter = float(header["scl_slope"]), float(header["scl_inter"])
            if math.isfinite(slope) and slope != 0:
                out.header.set_slope_inter(slope, inter if math.isfinite(inter) else 0.0)
        return out

    @classmethod
    def filespec_to_file_map(cls, filespec: Any) -> FileMap:
        name = os.fspath(filespec) if isinstance(filespec, os.PathLike) else filespec
        if not zs.is_niftizarr_name(name):
            raise ImageFileError(f"{name!r} does not name a NIfTI-Zarr store (*.nii.zarr)")
        return {"image": FileHolder(filename=name)}

    @classmethod
    def path_maybe_image(cls, filename: Any, sniff: Any = None, sniff_max: int = 1024) -> tuple[bool, Any]:
        return zs.is_niftizarr_name(filename), sniff

    # ------------------------------------------------------------ reading

    @classmethod
    def from_filename(cls, filename: Any, *, storage_options: dict[str, Any] | None = None,
                      level: int = 0, validation: str | None = None, mmap: Any = True,
                      keep_file_open: Any = None) -> NiftiZarrImage:
        """Open the store at ``filename`` (path or URL); data are read when used.

        ``level`` picks a pyramid level (0: full resolution); its affine is the
        level-0 affine composed with the OME scale and translation of the level.
        """
        from .arrayproxy import _check_keep_file_open
        from .dataobj_images import check_mmap

        check_mmap(mmap)
        _check_keep_file_open(keep_file_open)
        location = zs.StoreLocation.parse(filename, storage_options)
        try:
            with validation_mode(validation):
                return _read_store(cls, location, level)
        except NivoxError as err:
            if location.name in str(err):
                raise
            raise type(err)(f"{location.name}: {err}") from err
        except MemoryError:
            raise
        except Exception as err:  # anything zarr or fsspec raise for a broken store
            raise ImageFileError(f"cannot read NIfTI-Zarr store {location.name}: "
                                 f"{type(err).__name__}: {err}") from err

    load = from_filename  # type: ignore[assignment]

    @classmethod
    def from_file_map(cls, file_map: FileMap, *, mmap: Any = True, keep_file_open: Any = None,
                      validation: str | None = None, **kwargs: Any) -> NiftiZarrImage:
        holder = file_map["image"]
        if holder.filename is None:
            raise ImageFileError("a NIfTI-Zarr store is a directory or URL, not a file object")
        return cls.from_filename(holder.filename, mmap=mmap, **kwargs)

    def _stored_header(self) -> Nifti1Header:
        """The binary header the store holds (level 0's, scaling included), read again."""
        name = self.get_filename()
        if name is None:
            raise ImageFileError("this NIfTI-Zarr image has no store yet")
        options = getattr(getattr(self.dataobj, "_location", None), "storage_options", None)
        location = zs.StoreLocation.parse(name, options)
        group = zs.zarr_module().open_group(store=location.store(read_only=True), mode="r")
        return _read_header(group, location.name)

    # ------------------------------------------------------------ writing

    def to_filename(self, filename: Any, *, levels: int = 1, chunks: Any = None,
                    storage_options: dict[str, Any] | None = None, dtype: Any = None,
                    progress: Callable[[int, int], None] | None = None, zarr_format: int = 3,
                    **kwargs: Any) -> None:
        """Write the image as a NIfTI-Zarr store at ``filename`` (a path or fsspec URL).

        Parameters
        ----------
        levels : int
            Pyramid levels to write, the full resolution included (1: none lower).
        chunks : int or sequence of int, optional
            Chunk lengths along x, y, z (one int: all three; default 64), then
            t and c (default 1).
        storage_options : dict, optional
            fsspec options for a URL.
        dtype : dtype, optional
            Store the data in this type (scaled into it as for ``.nii``).
        progress : callable, optional
            Called as ``progress(done, total)`` after each block written.
        zarr_format : {3, 2}
            Zarr v3 with OME-NGFF 0.5 (default), or Zarr v2 with OME-NGFF 0.4
            for tools that read only v2.

        A local store is written into a temporary sibling directory and
        swapped into place when complete; at a URL the OME metadata is
        written last (see the README for what that guarantees).
        """
        self.filespec_to_file_map(filename)  # refuses names other than *.nii.zarr
        kwargs.pop("compresslevel", None)
        if kwargs:
            raise ArgumentTypeError(f"unexpected keyword argument(s) {sorted(kwargs)}")
        if int(levels) < 1:
            raise InvalidArgumentError(f"levels must be at least 1, not {levels}")
        from ._niftizarr_write import write_store

        location = zs.StoreLocation.parse(filename, storage_options)
        if location.url is None:
            temp = zs.temporary_sibling(location.path)  # type: ignore[arg-type]
            try:
                write_store(self, location, temp, int(levels), chunks, dtype, progress, zarr_format)
                zs.commit_directory(temp, location.path)  # type: ignore[arg-type]
            except BaseException:
                import shutil

                shutil.rmtree(temp, ignore_errors=True)
                raise
        else:
            write_store(self, location, None, int(levels), chunks, dtype, progress, zarr_format)
        self.file_map = {"image": FileHolder(filename=os.fspath(filename) if isinstance(
            filename, os.PathLike) else filename)}

    def to_file_map(self, file_map: FileMap | None = None, dtype: Any = None, **kwargs: Any) -> None:
        file_map = self.file_map if file_map is None else file_map
        holder = file_map["image"]
        if holder.filename is None:
            raise ImageFileError("a NIfTI-Zarr store is written to a directory or URL, not a file object")
        self.to_filename(holder.filename, dtype=dtype, **kwargs)


def _needs_nifti2(shape: Any) -> bool:
    return any(int(n) > 32767 for n in shape)


# ---------------------------------------------------------------- reading a store

def _read_store(cls: type[NiftiZarrImage], location: zs.StoreLocation, level: int) -> NiftiZarrImage:
    zarr = zs.zarr_module()
    name = location.name
    try:
        group = zarr.open_group(store=location.store(read_only=True), mode="r")
    except (FileNotFoundError, KeyError) as err:
        from .errors import ImageFileNotFoundError

        raise ImageFileNotFoundError(f"No NIfTI-Zarr store at '{name}' ({err})") from None
    entry = zs.read_multiscales(group.attrs.asdict(), name)
    datasets = entry["datasets"]
    if not -len(datasets) <= level < len(datasets):
        raise InvalidArgumentError(f"{name} has {len(datasets)} levels; there is no level {level}")
    level %= len(datasets)
    axes = tuple(str(a["name"]) for a in entry["axes"])
    array = _level_array(group, datasets[level]["path"], axes, name)
    if "nifti" in group:
        header = _read_header(group, name)
    else:  # a plain OME-Zarr image: a header from the OME metadata
        level0 = array if level == 0 else _level_array(group, datasets[0]["path"], axes, name)
        header = _header_from_ome(entry, level0, axes, name)
    nifti_shape = _nifti_shape(array.shape, axes, len(header.get_data_shape()), name)
    if level == 0 and tuple(header.get_data_shape()) != nifti_shape:
        raise ImageFileError(f"{name}: the NIfTI header's shape {header.get_data_shape()} is not "
                             f"the data's {nifti_shape}")
    stored = np.dtype(array.dtype)
    if header.get_data_dtype().newbyteorder("=") != stored.newbyteorder("="):
        try:
            header.set_data_dtype(stored)
        except NivoxError:
            raise ImageFileError(f"{name}: data type {stored} has no NIfTI code") from None
    affine = header.get_best_affine()
    if level:
        if _needs_nifti2(nifti_shape) and not isinstance(header, Nifti2Header):
            header = Nifti2Header.from_header(header)
        header.set_data_shape(nifti_shape)
        step = np.linalg.inv(zs.level_transform(entry, 0, name)) @ zs.level_transform(entry, level, name)
        zooms = list(header.get_zooms())
        for axis in range(min(3, len(zooms))):
            zooms[axis] *= step[axis, axis]
        header.set_zooms(zooms)
        affine = affine @ step
        for setter, code in ((header.set_sform, header["sform_code"]),
                             (header.set_qform, header["qform_code"])):
            setter(affine, int(code))
    slope, inter = header.get_slope_inter()
    spec = (nifti_shape, stored, 0, slope, inter)
    proxy = NiftiZarrProxy(f"{name}/{datasets[level]['path']}", spec, axes=axes,
                           storage_options=location.storage_options)
    proxy._array = array
    img = cls(proxy, None, header, file_map={"image": FileHolder(filename=name)})
    img._affine = affine
    img._header.set_slope_inter(None, None)  # scaling lives on the proxy, as for .nii
    img._load_cache = {"header": img._header.copy(), "affine": affine.copy(),  # type: ignore[attr-defined]
                       "file_map": {"image": FileHolder(filename=name)}}
    return img


def _header_from_ome(entry: dict[str, Any], level0: Any, axes: tuple[str, ...], name: str) -> Nifti1Header:
    """A NIfTI header for a plain OME-Zarr image: shape, dtype, voxel sizes and placement from OME."""
    sizes = dict(zip(axes, (int(n) for n in level0.shape)))
    ndim = max(3, max(_NIFTI_AXES.index(a) for a in axes) + 1)
    shape = tuple(sizes.get(_NIFTI_AXES[i], 1) for i in range(ndim))
    header = (Nifti2Header if _needs_nifti2(shape) else Nifti1Header)()
    header.set_data_shape(shape)
    try:
        header.set_data_dtype(np.dtype(level0.dtype))
    except NivoxError:
        raise ImageFileError(f"{name}: data type {level0.dtype} has no NIfTI code") from None
    units = {str(a.get("name")): a.get("unit") for a in entry["axes"]}
    space = next((units[a] for a in "xyz" if units.get(a)), None)
    space_code = {"meter": "meter", "millimeter": "mm", "micrometer": "micron"}.get(str(space), "mm")
    time_code = {"second": "sec", "millisecond": "msec", "microsecond": "usec"}.get(
        str(units.get("t")), "sec")
    header.set_xyzt_units(space_code, time_code)
    affine = zs.level_transform(entry, 0, name)
    zooms = [abs(float(affine[i, i])) or 1.0 for i in range(3)] + [1.0] * (ndim - 3)
    header.set_zooms(zooms)
    header.set_sform(affine, code="aligned")
    header.set_qform(affine, code="aligned")
    return header


def _read_header(group: Any, name: str) -> Nifti1Header:
    array = group["nifti"]
    nbytes = math.prod(array.shape) * np.dtype(array.dtype).itemsize
    if array.ndim != 1 or not 348 <= nbytes <= zs.MAX_HEADER_BYTES:
        raise ImageFileError(f"{name}: the 'nifti' array ({array.shape}, {array.dtype}) is no NIfTI header")
    raw = np.asarray(array[...]).tobytes()
    sizes = {int(np.frombuffer(raw[:4], order + "i4")[0]) for order in "<>"}
    klass = Nifti2Header if 540 in sizes else Nifti1Header if 348 in sizes else None
    if klass is None or len(raw) < klass.sizeof_hdr:
        raise ImageFileError(f"{name}: the 'nifti' array does not start with a NIfTI-1 or -2 header")
    if len(raw) == klass.sizeof_hdr:
        raw += b"\0" * 4  # the extension flag may be left out when there are no extensions
    try:
        header = klass.from_fileobj(io.BytesIO(raw))
    except NivoxError as err:
        raise ImageFileError(f"{name}: bad NIfTI header: {err}") from err
    return header


def _level_array(group: Any, path: str, axes: tuple[str, ...], name: str) -> Any:
    zarr = zs.zarr_module()
    try:
        array = group[path]
    except KeyError:
        raise ImageFileError(f"{name}: OME dataset {path!r} is missing") from None
    if not isinstance(array, zarr.Array):
        raise ImageFileError(f"{name}: OME dataset {path!r} is not an array")
    if array.ndim != len(axes):
        raise ImageFileError(f"{name}: array {path!r} has {array.ndim} axes, the OME metadata {len(axes)}")
    chunk_bytes = math.prod(array.chunks) * max(np.dtype(array.dtype).itemsize, 1)
    if chunk_bytes > zs.MAX_CHUNK_BYTES:
        raise ImageFileError(f"{name}: array {path!r} has chunks of {chunk_bytes} bytes, "
                             f"more than the {zs.MAX_CHUNK_BYTES} nivox reads")
    return array


def _nifti_shape(zshape: tuple[int, ...], axes: tuple[str, ...], ndim: int, name: str) -> tuple[int, ...]:
    sizes = dict(zip(axes, (int(n) for n in zshape)))
    ndim = max(ndim, max(_NIFTI_AXES.index(a) for a in axes if sizes[a] != 1) + 1
               if any(sizes[a] != 1 for a in axes) else ndim)
    extra = [a for a in axes if _NIFTI_AXES.index(a) >= ndim and sizes[a] != 1]
    if extra:
        raise ImageFileError(f"{name}: axes {extra} have no place in the NIfTI header's dimensions")
    return tuple(sizes.get(_NIFTI_AXES[i], 1) for i in range(ndim))
