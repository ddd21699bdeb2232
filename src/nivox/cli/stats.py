"""``nivox stats``: value statistics of images, optionally inside a mask, one volume at a time.

Minimum, maximum, mean and standard deviation come from one pass over the
volumes, merged with Chan's pairwise update so no pass holds more than one
volume. Percentiles are exact without holding all values either: each value
maps to an unsigned integer key that sorts as the value does (the IEEE bits
with the sign folded in, or the integer offset by its minimum), and the keys
of the ranks the percentiles need are found 16 bits at a time from counts
(a radix selection): one more pass per 16 bits in which the smallest and
largest keys differ, so one for 16-bit data, at most two for float32, four
for float64. Percentiles interpolate linearly between ranks, as numpy's
default method does.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ._common import (
    about, expand_files, fmt, image_volumes, load_image, n_volumes, number, run_per_file,
    set_usage, usage_error,
)
from ._progress import Progress
from ..errors import ImageDataError

__all__ = ["add_parser", "image_stats", "mask_from_image", "run", "select_ranks", "stream_stats"]

NAME = "stats"
DEFAULT_PERCENTILES = (5.0, 25.0, 50.0, 75.0, 95.0)
_DIGIT = 16


def _percentile_list(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.replace(",", " ").split()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if any(not 0 <= q <= 100 for q in values):
        raise argparse.ArgumentTypeError(f"percentiles must lie in 0..100, got {text!r}")
    return values


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register the ``stats`` subcommand."""
    parser = subparsers.add_parser(
        NAME, parents=parents, help="value statistics, optionally inside a mask",
        description="Print minimum, maximum, mean, standard deviation (over the values, "
                    "ddof 0), percentiles and the NaN/infinity counts of image data. "
                    "Statistics use the finite values; NaN and infinities are only counted. "
                    "4D files are read one volume at a time (percentiles take a few passes). "
                    "With --mask, only voxels where the mask is non-zero count, and the "
                    "mask's size is printed in voxels and mm^3.",
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="image files (globs allowed)")
    parser.add_argument("-m", "--mask", metavar="MASKFILE",
                        help="mask image on the same voxel grid; non-zero voxels are inside")
    parser.add_argument("-p", "--percentiles", type=_percentile_list,
                        default=list(DEFAULT_PERCENTILES), metavar="Q,Q,...",
                        help="percentiles to report, 0..100 (default "
                             f"{','.join(f'{q:g}' for q in DEFAULT_PERCENTILES)}; '' for none)")
    parser.add_argument("--json", action="store_true", help="print a JSON list, one object per file")
    set_usage(parser)
    return parser


# ---- masks ------------------------------------------------------------------------------


def mask_from_image(mask_img: Any, shape: Sequence[int], affine: Any) -> np.ndarray:
    """The boolean 3D mask (non-zero, non-NaN voxels) of ``mask_img``, checked against a grid."""
    mask_shape = tuple(int(n) for n in mask_img.shape)
    while len(mask_shape) > 3 and mask_shape[-1] == 1:
        mask_shape = mask_shape[:-1]
    if mask_shape != tuple(shape[:3]):
        raise ImageDataError(f"mask shape {mask_shape} does not match the image's spatial "
                         f"shape {tuple(shape[:3])}")
    if affine is not None and mask_img.affine is not None and not np.allclose(
            mask_img.affine, affine, rtol=0, atol=1e-3):
        raise ImageDataError("mask affine differs from the image's: the voxel grids do not match")
    data = np.asanyarray(mask_img.dataobj).reshape(mask_shape)
    if data.dtype.kind == "c":
        raise ImageDataError("complex mask data")
    return (data != 0) & ~np.isnan(data) if data.dtype.kind == "f" else data != 0


def _mask_size(mask: np.ndarray, affine: Any) -> dict[str, Any]:
    voxels = int(np.count_nonzero(mask))
    voxel_mm3 = abs(float(np.linalg.det(np.asarray(affine)[:3, :3]))) if affine is not None else 1.0
    return {"voxels": voxels, "volume_mm3": voxels * voxel_mm3}


# ---- statistics ---------------------------------------------------------------------------


def _finite(volume: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, int, int]:
    """The finite values of ``volume`` inside ``mask``, and the NaN and infinity counts."""
    if volume.dtype.kind not in "biuf":
        raise ImageDataError(f"no statistics for {volume.dtype} data")
    # order "K": no copy for Fortran-ordered data (NIfTI's); order does not matter here
    values = volume[mask] if mask is not None else volume.ravel(order="K")
    if values.dtype.kind == "b":
        values = values.view(np.uint8)
    if values.dtype.kind != "f":
        return values, 0, 0
    nan, inf = np.isnan(values), np.isinf(values)
    n_nan, n_inf = int(np.count_nonzero(nan)), int(np.count_nonzero(inf))
    if n_nan or n_inf:
        values = values[~(nan | inf)]
    return values, n_nan, n_inf


def stream_stats(volumes: Callable[[], Iterator[np.ndarray]], mask: np.ndarray | None = None,
                 percentiles: Sequence[float] = (), progress: Callable[[int], Any] | None = None,
                 ) -> dict[str, Any]:
    """Statistics of the finite values in ``volumes()``, which may be iterated several times.

    Parameters
    ----------
    volumes : callable
        Returns a fresh iterator of arrays (volumes) each time it is called.
    mask : bool array, optional
        Only these voxels of each volume count.
    percentiles : sequence of float
        Percentiles (0..100) to compute exactly.
    progress : callable, optional
        Called with the pass number before each pass over the volumes.
    """
    n = 0
    mean = m2 = 0.0
    low = high = None
    n_nan = n_inf = 0
    dtype: np.dtype | None = None
    if progress:
        progress(1)
    for volume in volumes():
        values, here_nan, here_inf = _finite(volume, mask)
        n_nan += here_nan
        n_inf += here_inf
        dtype = values.dtype if dtype is None else np.result_type(dtype, values.dtype)
        if not values.size:
            continue
        here = values.astype(np.float64, copy=False)
        here_mean = float(here.mean())
        here_m2 = float(np.square(here - here_mean).sum())
        count = n + values.size
        delta = here_mean - mean
        mean += delta * values.size / count
        m2 += here_m2 + delta * delta * n * values.size / count
        n = count
        vmin, vmax = values.min(), values.max()
        low = vmin if low is None or vmin < low else low
        high = vmax if high is None or vmax > high else high
    result: dict[str, Any] = {
        "count": n, "nan": n_nan, "inf": n_inf,
        "min": number(low) if n else None, "max": number(high) if n else None,
        "mean": mean if n else None, "std": math.sqrt(m2 / n) if n else None,
    }
    if percentiles:
        result["percentiles"] = _percentiles(volumes, mask, percentiles, n, dtype,
                                             (low, high), progress)
    return result


def _percentiles(volumes: Callable[[], Iterator[np.ndarray]], mask: np.ndarray | None,
                 qs: Sequence[float], n: int, dtype: np.dtype | None, bounds: tuple[Any, Any],
                 progress: Callable[[int], Any] | None) -> dict[str, float | None]:
    if not n or dtype is None:
        return {f"{q:g}": None for q in qs}
    positions = [(n - 1) * q / 100.0 for q in qs]
    ranks = sorted({r for h in positions for r in (math.floor(h), min(math.floor(h) + 1, n - 1))})

    def values() -> Iterator[np.ndarray]:
        for volume in volumes():
            yield _finite(volume, mask)[0]

    chosen = dict(zip(ranks, select_ranks(values, ranks, dtype, bounds, progress)))
    out: dict[str, float | None] = {}
    for q, h in zip(qs, positions):
        below = math.floor(h)
        a, b = chosen[below], chosen[min(below + 1, n - 1)]
        t = h - below
        # numpy's linear interpolation, which stays exact at both ends
        value = a + (b - a) * t if t < 0.5 else b - (b - a) * (1 - t)
        out[f"{q:g}"] = number(value)
    return out


# ---- exact selection by sortable keys ---------------------------------------------------------


def _key_dtype(dtype: np.dtype) -> np.dtype:
    return np.dtype(f"u{dtype.itemsize}")


def _to_keys(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Unsigned keys, as wide as ``dtype``, that sort as ``values`` (cast to ``dtype``) do."""
    values = np.ascontiguousarray(values, dtype=dtype)
    udtype = _key_dtype(dtype)
    if dtype.kind == "u":
        return values
    sign = udtype.type(1 << (8 * dtype.itemsize - 1))
    bits = values.view(udtype)
    if dtype.kind == "i":
        return bits ^ sign  # offset binary: the most negative number becomes 0
    # negative floats: every bit flipped (larger magnitude sorts first); others: sign set
    negative = (values.view(f"i{dtype.itemsize}") >> (8 * dtype.itemsize - 1)).view(udtype)
    return bits ^ (negative | sign)


def _from_key(key: int, dtype: np.dtype) -> int | float:
    width = 8 * dtype.itemsize
    sign = 1 << (width - 1)
    if dtype.kind == "u":
        return key
    if dtype.kind == "i":
        return key - sign
    bits = key ^ sign if key & sign else ~key & ((1 << width) - 1)
    return float(np.array(bits, dtype=_key_dtype(dtype)).view(dtype))


def select_ranks(values: Callable[[], Iterator[np.ndarray]], ranks: Sequence[int],
                 dtype: np.dtype, bounds: tuple[Any, Any] | None = None,
                 progress: Callable[[int], Any] | None = None) -> list[int | float]:
    """The values at ``ranks`` (0-based, ascending order) among all arrays ``values()`` yields.

    Arrays must hold no NaN. ``bounds`` (minimum, maximum), when known,
    spare the passes over the bits those two share. When ``values()`` gives
    a single array, its keys are kept between passes instead of recomputed.
    """
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        dtype = np.dtype(np.uint8)
    udtype = _key_dtype(dtype)
    width = 8 * dtype.itemsize
    known = 0
    start = 0
    if bounds is not None and bounds[0] is not None:
        low, high = bounds
        if dtype.kind == "f":
            # min() and max() cannot tell -0.0 from 0.0, whose keys differ: cover both
            low, high = (-0.0 if low == 0 else low), (0.0 if high == 0 else high)
        kmin, kmax = (int(_to_keys(np.array([b]), dtype)[0]) for b in (low, high))
        known = width - (kmin ^ kmax).bit_length()
        start = kmin >> (width - known) if known else 0
    # per rank: the known leading bits of its key, and its rank among keys with them
    state = {rank: [start, rank] for rank in ranks}
    cache: list[np.ndarray] = []
    single = False

    def key_arrays() -> Iterator[np.ndarray]:
        nonlocal single
        if single:
            yield cache[0]
            return
        count = 0
        for array in values():
            keys = _to_keys(array, dtype)
            count += 1
            cache[:] = [keys] if count == 1 else []
            yield keys
        single = count == 1

    passes = 1
    while known < width:
        digit = min(_DIGIT, width - known)
        passes += 1
        if progress:
            progress(passes)
        prefixes = sorted({prefix for prefix, _ in state.values()})
        counts = {p: np.zeros(1 << digit, dtype=np.int64) for p in prefixes}
        shift = udtype.type(width - known - digit)
        low_bits = udtype.type((1 << digit) - 1)
        for keys in key_arrays():
            top = keys >> udtype.type(width - known) if known else None
            for prefix in prefixes:
                selected = keys if top is None else keys[top == udtype.type(prefix)]
                digits = (selected >> shift) & low_bits
                counts[prefix] += np.bincount(digits.astype(np.intp), minlength=1 << digit)
        for entry in state.values():
            cumulative = np.cumsum(counts[entry[0]])
            chosen = int(np.searchsorted(cumulative, entry[1], side="right"))
            if chosen:
                entry[1] -= int(cumulative[chosen - 1])
            entry[0] = (entry[0] << digit) | chosen
        known += digit
    return [_from_key(state[rank][0], dtype) for rank in ranks]


def image_stats(img: Any, mask: np.ndarray | None = None, percentiles: Sequence[float] = (),
                progress_label: str | None = None) -> dict[str, Any]:
    """:func:`stream_stats` over the volumes of ``img``, with a progress bar for 4D data."""
    shape = tuple(int(n) for n in img.shape)
    count = n_volumes(shape)
    bar: list[Progress] = []
    # a single volume is read once, not once per pass
    source = (np.asanyarray(img.dataobj),) if count == 1 else None

    def volumes() -> Iterator[np.ndarray]:
        for volume in source or image_volumes(img.dataobj, shape):
            yield volume
            if bar:
                bar[0].advance()

    def on_pass(pass_number: int) -> None:
        if bar:
            bar.pop().close()
        if count > 1 and progress_label is not None:
            bar.append(Progress(count, f"{progress_label} (pass {pass_number})"))

    try:
        return stream_stats(volumes, mask, percentiles, on_pass)
    finally:
        if bar:
            bar[0].close()


# ---- command ----------------------------------------------------------------------------


def file_stats(filename: str, mask_file: str | None = None,
               percentiles: Sequence[float] = ()) -> dict[str, Any]:
    """The JSON-ready statistics record of one file."""
    with about(filename):
        img = load_image(filename)
        shape = tuple(int(n) for n in img.shape)
    record: dict[str, Any] = {"file": filename, "shape": list(shape), "volumes": n_volumes(shape)}
    mask = None
    if mask_file is not None:
        with about(mask_file):
            mask_img = load_image(mask_file)
            mask = mask_from_image(mask_img, shape, img.affine)
            record["mask"] = {"file": mask_file, **_mask_size(mask, mask_img.affine)}
    with about(filename):
        record.update(image_stats(img, mask, percentiles, progress_label=filename))
    return record


def run(args: argparse.Namespace) -> int:
    """Print statistics of ``args.files``; exit status 1 if any file failed."""
    if not args.files:
        return usage_error(args, "give at least one FILE")
    return run_per_file(args, expand_files(args.files),
                        lambda filename: file_stats(filename, args.mask, args.percentiles),
                        format_text)


def format_text(record: dict[str, Any]) -> str:
    """The text form of one file's statistics."""
    shape = " x ".join(str(n) for n in record["shape"])
    rows = [("shape", shape + (f" ({record['volumes']} volumes)" if record["volumes"] > 1 else ""))]
    mask = record.get("mask")
    if mask is not None:
        rows.append(("mask", f"{mask['voxels']} voxels, {fmt(float(mask['volume_mm3']))} mm^3 "
                             f"({os.path.basename(mask['file'])})"))
    rows.append(("values", f"{record['count']} finite, {record['nan']} NaN, {record['inf']} inf"))
    for key in ("min", "max", "mean", "std"):
        rows.append((key, fmt(record[key])))
    for q, value in record.get("percentiles", {}).items():
        rows.append((f"p{q}", fmt(value)))
    width = max(len(label) for label, _ in rows)
    return record["file"] + "\n" + "".join(f"  {label.ljust(width)}  {text}\n"
                                           for label, text in rows)
