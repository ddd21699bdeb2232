"""``nivox convert``: copy an image to another format (chosen by the output's extension) or dtype.

Tractograms (``.trk``, ``.tck``, ``.trx``) convert into one another through
:mod:`nivox.cli._tractograms` (``--reference IMAGE`` gives TRK its voxel grid).

The data are read one volume at a time (with a progress bar on a terminal)
while their range is checked against the output dtype: a value the output
cannot hold is refused, unless the output format stores a scale factor that
maps the values onto the dtype (the writer picks slope and intercept then).
Refused: NaN or infinity into an integer type, a range beyond a float type's,
integers a float type cannot hold exactly, complex into real, and values that
do not fit an integer type (or are not whole) in a format without scaling.
"""

from __future__ import annotations

import argparse
import math
import warnings
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError, NivoxWarning, WriterError
from ._common import (
    about,
    add_io_arguments,
    image_volumes,
    load_image,
    n_volumes,
    output_class,
    run_guarded,
    save_image,
    set_usage,
    usage_error,
)
from . import _parrec
from ._progress import Progress

__all__ = ["add_parser", "check_representable", "convert", "read_volumes", "run"]

NAME = "convert"


def _dtype(text: str) -> np.dtype:
    try:
        return np.dtype(text)
    except TypeError:
        raise argparse.ArgumentTypeError(f"not a numpy dtype: {text!r}") from None


def _level(text: str) -> int:
    try:
        level = int(text)
    except ValueError:
        level = -1
    if level < 0:
        raise argparse.ArgumentTypeError(f"compression level must be an integer >= 0, got {text!r}")
    return level


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register the ``convert`` subcommand."""
    from ..imageclasses import FORMATS

    parser = subparsers.add_parser(
        NAME, parents=parents, help="convert an image to another format or dtype",
        description="Write INPUT to OUTPUT in the format OUTPUT's extension names (.nii, "
                    ".nii.gz, .hdr/.img, optionally compressed with .gz, .bz2 or .zst). "
                    "Values the output dtype cannot hold are refused unless the format "
                    "stores a scale factor that maps them onto it. Tractograms (.trk, .tck, "
                    ".trx) convert into one another.",
    )
    add_io_arguments(parser)
    parser.add_argument("--dtype", type=_dtype, metavar="DTYPE",
                        help="on-disk data type of OUTPUT, such as int16, uint8 or float32 "
                             "(default: INPUT's)")
    parser.add_argument("--format", choices=[entry.name for entry in FORMATS], metavar="NAME",
                        help="the format to write when the extension allows several "
                             f"({', '.join(entry.name for entry in FORMATS)})")
    parser.add_argument("--compresslevel", type=_level, metavar="N",
                        help="compression level for compressed OUTPUT (gzip/bz2 1-9, zstd 1-22)")
    parser.add_argument("--levels", type=int, default=1, metavar="N",
                        help="NIfTI-Zarr OUTPUT (.nii.zarr): pyramid levels to write, full "
                             "resolution included (default 1)")
    parser.add_argument("--keep-scaling", action="store_true",
                        help="store the data with INPUT's slope and intercept instead of ones "
                             "chosen for the data (when the output format stores scaling)")
    _parrec.add_arguments(parser)
    parser.add_argument("--reference", metavar="IMAGE",
                        help="tractograms: the image whose voxel grid a .trk OUTPUT refers to "
                             "(needed from .tck; a .trk or .trx INPUT carries its own)")
    set_usage(parser)
    return parser


# ---- reading and checking ---------------------------------------------------------------


class _Range:
    """What the data hold, gathered volume by volume."""

    def __init__(self) -> None:
        self.low: int | float = math.inf
        self.high: int | float = -math.inf
        self.nonfinite = 0
        self.fractional = False
        self.complex = False
        self.integer = True  # every volume had an integer (or bool) type

    def add(self, volume: np.ndarray) -> None:
        kind = volume.dtype.kind
        self.integer = self.integer and kind in "iub"
        if kind == "c":
            self.complex = True
            return
        if kind == "f":
            finite = np.isfinite(volume)
            count = volume.size - int(np.count_nonzero(finite))
            if count:
                self.nonfinite += count
                volume = volume[finite]
            if volume.size and not self.fractional:
                self.fractional = not np.array_equal(volume, np.round(volume))
        if volume.size:
            # .item() keeps integers exact (int64 beyond 2**53 included)
            self.low = min(self.low, volume.min().item())
            self.high = max(self.high, volume.max().item())


def read_volumes(img: Any, label: str = "reading") -> tuple[np.ndarray, _Range]:
    """The (scaled) data of ``img``, read one volume at a time, and their range."""
    shape = tuple(int(n) for n in img.shape)
    found = _Range()
    count = n_volumes(shape)
    if count == 1:
        data = np.asanyarray(img.dataobj)
        found.add(data)
        return data, found
    out: np.ndarray | None = None
    spatial = (slice(None),) * 3
    with Progress(count, label) as bar:
        volumes = image_volumes(img.dataobj, shape)
        for index, volume in zip(np.ndindex(*shape[3:]), volumes):
            if out is None:
                # Fortran order, as NIfTI and Analyze store data: the writer need not transpose
                out = np.empty(shape, dtype=volume.dtype, order="F")
            out[spatial + index] = volume
            found.add(volume)
            bar.advance()
    assert out is not None
    return out, found


def check_representable(found: _Range, dtype: np.dtype, can_scale: bool) -> None:
    """Raise ValueError when the values in ``found`` cannot be stored as ``dtype``."""
    if found.complex and dtype.kind != "c":
        raise WriterError(f"complex data cannot be stored as {dtype.name}")
    if dtype.kind == "c" or found.complex:
        return
    span = f"[{found.low:.6g}, {found.high:.6g}]"
    empty = found.low > found.high
    if dtype.kind in "iub":
        if found.nonfinite:
            raise WriterError(f"{found.nonfinite} NaN or infinite values cannot be stored "
                             f"as {dtype.name}")
        if can_scale or empty:
            return
        info = np.iinfo(dtype) if dtype.kind != "b" else np.iinfo(np.uint8)
        if found.low < info.min or found.high > info.max:
            raise WriterError(f"values in {span} do not fit {dtype.name} [{info.min}, {info.max}] "
                             "and the output format stores no scale factor")
        if found.fractional:
            raise WriterError(f"values in {span} are not all whole numbers, so {dtype.name} "
                             "cannot hold them, and the output format stores no scale factor")
        return
    if dtype.kind == "f" and not empty:
        finfo = np.finfo(dtype)
        if found.low < -float(finfo.max) or found.high > float(finfo.max):
            raise WriterError(f"values in {span} exceed the range of {dtype.name} "
                             f"(+-{float(finfo.max):.6g})")
        exact = 2.0 ** (finfo.nmant + 1)
        if found.integer and max(abs(found.low), abs(found.high)) > exact:
            raise WriterError(f"whole values in {span} cannot all be stored exactly as "
                             f"{dtype.name} (exact up to {exact:.0f})")


def convert(input_file: str, output_file: str, dtype: np.dtype | None = None,
            force: bool = False, compresslevel: int | None = None,
            format_name: str | None = None, keep_scaling: bool = False, levels: int = 1) -> Any:
    """Convert ``input_file`` to ``output_file``; return the image written.

    Integer output whose scale factors differ from the input's is reported
    (a ``NivoxWarning``: old and new slope and intercept, the largest change in
    a value); ``keep_scaling`` stores the data with the input's factors instead.
    A NIfTI-Zarr output (``.nii.zarr``) keeping the input's dtype is written
    block by block from the input's stored values and scaling (``levels``:
    pyramid levels), with a progress bar on a terminal.
    """
    from .._zarrstore import is_niftizarr_name

    if is_niftizarr_name(output_file) and dtype is None and format_name in (None, "nifti-zarr"):
        return _to_niftizarr(input_file, output_file, force, levels)
    with about(input_file):
        img = load_image(input_file)
        data, found = read_volumes(img, f"reading {input_file}")
    with about(output_file):
        klass = output_class(img, output_file, format_name)
        header = klass.header_class
        target = _stored_dtype(klass, dtype, np.dtype(img.get_data_dtype()))
        can_scale = getattr(header, "has_data_slope", False) or getattr(header, "scales_per_slice", False)
        if not keep_scaling:  # with the input's factors, the stored values are checked instead
            check_representable(found, target, bool(can_scale))
        out = img.__class__(data, img.affine, img.header, extra=img.extra)
        for note in _not_kept(img, klass):
            warnings.warn(f"{output_file}: {note}", NivoxWarning, stacklevel=2)
        if type(out) is not klass:
            out = klass.from_image(out)
        out.set_data_dtype(target)
        source_scaling = _proxy_scaling(img.dataobj)
        if keep_scaling:
            out = _with_source_scaling(out, img, source_scaling, target)
        # one step, but a big compressed file takes a while: say what is happening
        with Progress(1, enabled=None if data.size > 2**22 else False) as bar:
            bar.set_label(f"writing {output_file}")
            written = save_image(out, output_file, force, compresslevel, format_name)
        if target.kind in "iu":
            _report_rescaling(output_file, data, source_scaling, keep_scaling)
        return written


def _to_niftizarr(input_file: str, output_file: str, force: bool, levels: int) -> Any:
    """Copy the input's stored values and scaling into a NIfTI-Zarr store, slab by slab."""
    from ..niftizarr import NiftiZarrImage
    from ._common import _check_free

    with about(input_file):
        img = load_image(input_file)
    with about(output_file):
        _check_free(NiftiZarrImage, output_file, force)
        out = NiftiZarrImage.from_image(img)
        big = math.prod(img.shape) > 2**22
        with Progress(1, label=f"writing {output_file}", enabled=None if big else False) as bar:
            def report(done: int, total: int) -> None:
                bar.total = total
                bar.advance(done - bar.done)

            out.to_filename(output_file, levels=levels, progress=report)
    return out


def _proxy_scaling(dataobj: Any) -> tuple[float, float]:
    """The slope and intercept a proxy applies; (1, 0) for arrays and unscaled data."""
    slope = getattr(dataobj, "slope", None)
    inter = getattr(dataobj, "inter", None)
    if np.ndim(slope) or np.ndim(inter):  # per-slice or per-frame scaling: no one pair
        return (float("nan"), float("nan"))
    slope = 1.0 if slope is None or not np.isfinite(slope) else float(slope)
    inter = 0.0 if inter is None or not np.isfinite(inter) else float(inter)
    return slope, inter


def _with_source_scaling(out: Any, img: Any, scaling: tuple[float, float],
                         target: np.dtype) -> Any:
    """``out`` holding the input's stored values, to be written with the input's scale factors.

    A header's slope and intercept are written as given (as nibabel does), with
    the data cast, not divided: so the stored values go in, not the scaled ones.
    """
    header = out.header
    if not getattr(header, "has_data_slope", False) or not np.isfinite(scaling[0]):
        raise WriterError("--keep-scaling: the output format stores no single slope and intercept"
                          if np.isfinite(scaling[0]) else
                          "--keep-scaling: the input has no single slope and intercept to keep")
    slope, inter = scaling
    if not getattr(header, "has_data_intercept", False) and inter != 0:
        raise WriterError(f"--keep-scaling: the output format stores no intercept ({inter:g})")
    unscaled = getattr(img.dataobj, "get_unscaled", None)
    stored = np.asanyarray(unscaled() if unscaled is not None else img.dataobj)
    found = _Range()
    found.add(stored)
    check_representable(found, target, can_scale=False)
    kept = type(out)(stored, out.affine, header, extra=out.extra)
    kept.set_data_dtype(target)
    if getattr(header, "has_data_intercept", False):
        kept.header.set_slope_inter(slope, inter)
    else:
        kept.header.set_slope_inter(slope)
    return kept


def _report_rescaling(output_file: str, data: np.ndarray, before: tuple[float, float],
                      kept: bool) -> None:
    """Say when the stored integers of ``output_file`` have other scale factors than the input's."""
    from ..loadsave import load

    written = load(output_file)
    after = _proxy_scaling(written.dataobj)
    if before == after or not np.isfinite(after[0]):
        return
    change = 0.0
    for volume, index in zip(image_volumes(written.dataobj, written.shape),
                             np.ndindex(*data.shape[3:]) if data.ndim > 3 else [()]):
        original = data[(slice(None),) * 3 + index] if data.ndim > 3 else data
        difference = np.abs(np.asarray(volume, np.float64) - original)
        if difference.size:
            change = max(change, float(np.nanmax(difference)))
    hint = "" if kept else "; --keep-scaling keeps the input's"
    warnings.warn(
        f"{output_file}: data rescaled to fit {written.get_data_dtype()}: slope {before[0]:.6g} -> "
        f"{after[0]:.6g}, intercept {before[1]:.6g} -> {after[1]:.6g}; largest change in a "
        f"value {change:.6g}{hint}", NivoxWarning, stacklevel=3)


def _stored_dtype(klass: Any, requested: np.dtype | None, source: np.dtype) -> np.dtype:
    """The dtype ``klass`` writes: the one asked for, else the input's, else the nearest it stores.

    A dtype asked for that the format cannot store is refused; the input's
    is replaced by the nearest one the format stores, with a warning.
    """
    nearest = getattr(klass, "_nearest_dtype", None)
    wanted = np.dtype(requested) if requested is not None else source
    if nearest is None:
        return wanted
    stored = np.dtype(nearest(wanted))
    if stored == wanted.newbyteorder("="):
        return wanted
    if requested is not None:
        raise InvalidArgumentError(f"{klass.__name__} cannot store {wanted.name} data (nearest: {stored.name})")
    warnings.warn(f"{klass.__name__} stores no {wanted.name} data: writing {stored.name}",
                  NivoxWarning, stacklevel=3)
    return stored


def _not_kept(img: Any, klass: Any) -> list[str]:
    """What of ``img``'s header the output class ``klass`` has no place for (nonempty fields only)."""
    describe = getattr(klass, "_fields_not_kept", None)
    return [] if describe is None else list(describe(img))


def run(args: argparse.Namespace) -> int:
    """Convert ``args.input`` to ``args.output``; exit status 1 on failure."""
    if args.input is None or args.output is None:
        return usage_error(args, "give the INPUT and OUTPUT files")

    from ._tractograms import convert_tractogram, is_tractogram

    def body() -> int:
        if is_tractogram(args.input) or is_tractogram(args.output):
            convert_tractogram(args.input, args.output, args.reference, args.force)
            return 0
        if _parrec.is_parrec(args.input):
            _parrec.convert_parrec(
                args.input, args.output, dtype=args.dtype, force=args.force, compresslevel=args.compresslevel,
                format_name=args.format, scaling=args.scaling, strict_sort=args.strict_sort,
                permit_truncated=args.permit_truncated, origin=args.origin, keep_trace=args.keep_trace,
                store_header=args.store_header)
            return 0
        convert(args.input, args.output, args.dtype, args.force, args.compresslevel, args.format,
                keep_scaling=args.keep_scaling, levels=args.levels)
        return 0

    return run_guarded(args, body, args.input)
