"""What MINC1 and MINC2 share: dimension attributes, index checks, and turning stored values into real ones.

A MINC dimension is described by attributes (``start``, ``step``,
``direction_cosines``, ``spacing``) of a variable named after it; absent
attributes take the MINC defaults (start 0, step 1, the cosines of the
dimension's own world axis, regular spacing).

Integer data map to real values through ``valid_range`` (the stored values
that are meaningful; others are clipped to it) and ``image-min``/``image-max``
(the real values the ends of the valid range stand for), which may vary over
the slowest dimensions (per slice, per volume). Float data are used as stored.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import MincError

__all__ = ["MincDim", "basic_box", "broadcast_index", "is_whole", "scaled_read", "scaling"]

DEFAULT_COSINES = {"xspace": (1.0, 0.0, 0.0), "yspace": (0.0, 1.0, 0.0), "zspace": (0.0, 0.0, 1.0)}
#: scaled reads of at least this many values convert on all cores
PARALLEL_SCALE_SIZE = 1 << 20
# positions of an irregular dimension this close to evenly spaced are taken as regular
_REGULAR_RTOL = 1e-6


def _number(value: Any, what: str, filename: str) -> float:
    try:
        array = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise MincError(f"{filename}: {what} is {value!r}, not a number") from None
    if array.size != 1 or not np.isfinite(array[0]):
        raise MincError(f"{filename}: {what} is {value!r}, not one finite number")
    return float(array[0])


@dataclass
class MincDim:
    """One MINC dimension: its name, length and where its voxels lie."""

    name: str
    length: int
    start: float = 0.0
    step: float = 1.0
    direction_cosines: tuple[float, ...] | None = None
    spacing: str = "regular__"
    coordinates: Callable[[], np.ndarray] | None = field(default=None, repr=False)

    @classmethod
    def from_attributes(cls, name: str, length: int, attrs: dict[str, Any],
                        coordinates: Callable[[], np.ndarray] | None, filename: str) -> MincDim:
        """The dimension ``name`` described by ``attrs`` (MINC defaults for what is missing)."""
        dim = cls(name, length, coordinates=coordinates)
        if "start" in attrs:
            dim.start = _number(attrs["start"], f"the start of dimension {name!r}", filename)
        if "step" in attrs:
            dim.step = _number(attrs["step"], f"the step of dimension {name!r}", filename)
        if "direction_cosines" in attrs:
            try:
                cosines = np.asarray(attrs["direction_cosines"], dtype=np.float64).reshape(-1)
            except (TypeError, ValueError):
                cosines = np.array([np.nan])
            if cosines.size != 3 or not np.all(np.isfinite(cosines)):
                raise MincError(f"{filename}: direction_cosines of dimension {name!r} are "
                                f"{attrs['direction_cosines']!r}, not three finite numbers")
            dim.direction_cosines = tuple(float(c) for c in cosines)
        spacing = attrs.get("spacing", "regular__")
        if not isinstance(spacing, str):
            spacing = str(spacing)
        if spacing not in ("regular__", "irregular"):
            # a warning by default (as nibabel's), an error in validation mode 'raise'
            from .validation import report_problem

            report_problem(f"{filename}: invalid spacing declaration {spacing!r} for dimension {name!r}",
                           error=MincError, fix_msg="assuming regular")
            spacing = "regular__"
        dim.spacing = spacing
        return dim

    def cosines(self, count: int) -> np.ndarray:
        """Direction cosines (the defaults of the named axis when the file gives none)."""
        if self.direction_cosines is not None:
            return np.array(self.direction_cosines[:count])
        return np.array(DEFAULT_COSINES.get(self.name, (0.0, 0.0, 0.0))[:count])

    def check_regular(self, filename: str) -> None:
        """Make an irregularly spaced dimension regular if its positions are evenly spaced; else refuse.

        An affine places voxels at equal steps, so a spatial dimension whose
        positions are not evenly spaced cannot be represented.
        """
        if self.spacing != "irregular":
            return
        positions = self.coordinates() if self.coordinates is not None else None
        if positions is None or positions.size != self.length or not np.all(np.isfinite(positions)):
            raise MincError(f"{filename}: dimension {self.name!r} is declared irregularly spaced but "
                            "its voxel positions are missing; nivox cannot place its voxels")
        if positions.size > 1:
            steps = np.diff(positions)
            if not np.allclose(steps, steps[0], rtol=_REGULAR_RTOL, atol=0) or steps[0] == 0:
                raise MincError(
                    f"{filename}: dimension {self.name!r} is irregularly spaced (voxel positions "
                    f"{_preview(positions)}); an affine cannot describe it, and nivox does not "
                    "support irregularly spaced spatial dimensions")
            self.step = float(steps.mean())
        self.start = float(positions[0])
        self.spacing = "regular__"


def _preview(values: np.ndarray) -> str:
    shown = ", ".join(f"{v:g}" for v in values[:5])
    return f"[{shown}{', ...' if values.size > 5 else ''}]"


def is_whole(sliceobj: Any) -> bool:
    """True for the empty index ``()``, which stands for the whole array."""
    return isinstance(sliceobj, tuple) and len(sliceobj) == 0


def broadcast_index(shape: tuple[int, ...], sliceobj: Any) -> Any:
    """Check ``sliceobj`` against ``shape`` as numpy would (IndexError/TypeError), reading nothing."""
    if is_whole(sliceobj):
        return ()
    np.broadcast_to(np.zeros((), np.bool_), shape)[sliceobj]
    return sliceobj


def basic_box(shape: tuple[int, ...], sliceobj: Any) -> tuple[tuple[slice, ...], tuple[Any, ...]] | None:
    """For a basic index: the box to read (positive-step slices) and the index that finishes the job.

    None for fancy indices (arrays, booleans), which read the whole array.
    """
    items = sliceobj if isinstance(sliceobj, tuple) else (sliceobj,)
    if any(not (item is None or item is Ellipsis or isinstance(item, (slice, int, np.integer)))
           or isinstance(item, (bool, np.bool_)) for item in items):
        return None
    real = sum(1 for item in items if item is not None and item is not Ellipsis)
    expanded: list[Any] = []
    for item in items:
        if item is Ellipsis:
            expanded.extend([slice(None)] * (len(shape) - real))
            real = len(shape)  # a second Ellipsis was refused by broadcast_index
        else:
            expanded.append(item)
    expanded.extend([slice(None)] * (len(shape) - sum(1 for i in expanded if i is not None)))
    box: list[slice] = []
    rest: list[Any] = []
    axis = 0
    for item in expanded:
        if item is None:
            rest.append(None)
            continue
        length = shape[axis]
        axis += 1
        if isinstance(item, slice):
            start, stop, step = item.indices(length)
            picked = range(start, stop, step)
            if len(picked) == 0:
                box.append(slice(0, 0))
                rest.append(slice(None))
            elif step > 0:
                box.append(slice(picked[0], picked[-1] + 1, step))
                rest.append(slice(None))
            else:
                box.append(slice(picked[-1], picked[0] + 1, -step))
                rest.append(slice(None, None, -1))
        else:
            index = int(item) + (length if int(item) < 0 else 0)
            box.append(slice(index, index + 1))
            rest.append(0)
    return tuple(box), tuple(rest)


def scaling(minc: Any) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Valid range, and slope and intercept arrays (broadcastable against the image) of ``minc``."""
    vmin, vmax = minc._get_valid_range()
    imin, imax = minc._scale_arrays()
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (imax - imin) / (vmax - vmin)
        inter = imin - vmin * slope
    return vmin, vmax, slope, inter


def scaled_read(minc: Any, sliceobj: Any) -> np.ndarray:
    """Real values of ``minc``'s image at ``sliceobj``: clipped to the valid range, scaled per slice."""
    shape = minc.get_data_shape()
    index = broadcast_index(shape, sliceobj)
    raw = minc._read_raw(index)
    if minc.get_data_dtype().kind == "f":
        return raw
    vmin, vmax, slope, inter = minc._scaling()
    raw = np.asarray(raw)
    out = np.empty(raw.shape, dtype=np.float64)
    if is_whole(index):
        slope_at, inter_at = np.broadcast_to(slope, shape), np.broadcast_to(inter, shape)
    else:
        slope_at = np.broadcast_to(slope, shape)[index]
        inter_at = np.broadcast_to(inter, shape)[index]

    def convert(part: Any) -> None:
        # the same operations, in the same order, as one pass over the whole array
        block = out[part]
        block[...] = raw[part]
        np.clip(block, vmin, vmax, out=block)
        block *= slope_at[part]
        block += inter_at[part]

    if out.ndim == 0 or out.size < PARALLEL_SCALE_SIZE or out.shape[0] < 2:
        convert(Ellipsis)
        return out
    from ._threads import cpu_threads, run_parallel

    bounds = np.linspace(0, out.shape[0], min(cpu_threads(), out.shape[0]) + 1).astype(int)
    run_parallel([functools.partial(convert, slice(a, b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a],
                 cpu_threads())
    return out
