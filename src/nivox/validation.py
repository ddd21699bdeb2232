"""How nivox handles problems in the files it reads: one setting, three modes.

Every header read from a file goes through the check battery of its class
(:meth:`~nivox.wrapstruct.WrapStruct.check_fix`, the checks nibabel runs)
and, when an image is loaded, through the load checks of this module (data
layout, size against the file, offsets, non-finite values). Each problem
has a level from :mod:`logging`; the validation mode says what happens:

``'warn'`` (default)
    nibabel's behaviour. Fix what can be fixed, log every problem at its
    level on the ``nivox.global`` logger, issue a
    :class:`~nivox.errors.HeaderFixWarning` for problems at
    :data:`WARN_LEVEL` (30) or above, and raise those at
    :data:`ERROR_LEVEL` (40) or above, fixed or not.
``'raise'``
    Raise for any problem at :data:`WARN_LEVEL` (30) or above. Problems
    below that (INFO, such as a qfac of 0) are fixed and logged.
``'ignore'``
    Fix silently (log at DEBUG). Raise only for problems that remain after
    fixing at :data:`ERROR_LEVEL` or above, and for problems that make the
    data impossible to read (a negative dimension, a non-finite offset).

A mode changes what is reported and what raises, never what is fixed: an
image that loads in two modes loads the same. Errors are NivoxError
subclasses and every message starts with the name of the file.

Set the mode globally with :func:`set_mode`, for a block of code with the
:func:`mode` context manager, or for one call with ``validation=`` on
``nivox.load``, ``from_filename`` and ``from_file_map``. The context manager
is local to the thread (and asyncio task) that enters it; :func:`set_mode`
applies to every thread without an override.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import struct
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any

from . import imageglobals
from .batteryrunners import BatteryRunner, Report
from .errors import (
    HeaderDataError, HeaderFixWarning, InvalidArgumentError, NivoxError, TruncatedDataError,
)

__all__ = [
    "ERROR_LEVEL",
    "LOAD_ERRORS",
    "MODES",
    "WARN_LEVEL",
    "check_data_fits",
    "check_data_layout",
    "current_source",
    "get_mode",
    "handle_reports",
    "holder_name",
    "max_expansion",
    "mode",
    "named_load_error",
    "report_problem",
    "run_checks",
    "set_mode",
    "source",
]

#: the validation modes, from most to least forgiving
MODES: tuple[str, ...] = ("ignore", "warn", "raise")
#: problems at this level or above are warnings in 'warn' mode and errors in 'raise' mode
WARN_LEVEL = logging.WARNING
#: problems at this level or above are errors in 'warn' mode (and in 'ignore' when unfixed)
ERROR_LEVEL = logging.ERROR

# the logger is imageglobals', so replacing or silencing it there reaches every check
logger = imageglobals.logger

# The global default is a plain module attribute: assigning a str is atomic,
# and every read goes through get_mode(), so threads never see a torn value.
_global_mode = "warn"
_mode_override: ContextVar[str | None] = ContextVar("nivox_validation_mode", default=None)
_source: ContextVar[str | None] = ContextVar("nivox_validation_source", default=None)

# Largest size increase each codec can produce, rounded up generously: a
# header asking for more data than size * factor cannot be satisfied by the
# file. gzip's deflate tops out near 1032:1, zstd near 32768:1 (RLE blocks),
# bzip2 near 1.4e6:1 for long runs.
_EXPANSION = {"gzip": 1 << 11, "zstd": 1 << 16, "bz2": 1 << 23}
_EXPANSION_SLACK = 1 << 16

_NIVOX_DIR = os.path.dirname(os.path.abspath(__file__))


def _checked(value: str) -> str:
    if value not in MODES:
        raise InvalidArgumentError(f"validation mode should be one of {MODES}, not {value!r}")
    return value


def set_mode(value: str) -> None:
    """Set the validation mode for every thread that has no :func:`mode` override."""
    global _global_mode
    _global_mode = _checked(value)


def get_mode() -> str:
    """The validation mode in effect here: the innermost :func:`mode`, else the global one."""
    override = _mode_override.get()
    return _global_mode if override is None else override


@contextlib.contextmanager
def mode(value: str | None) -> Iterator[str]:
    """Use validation mode ``value`` inside the block (None keeps the current mode)."""
    if value is None:
        yield get_mode()
        return
    token = _mode_override.set(_checked(value))
    try:
        yield value
    finally:
        _mode_override.reset(token)


@contextlib.contextmanager
def source(name: Any) -> Iterator[str | None]:
    """Name the file being read inside the block, for every message and error raised there."""
    label = file_label(name)
    token = _source.set(label)
    try:
        yield label
    finally:
        _source.reset(token)


def current_source() -> str | None:
    """The name of the file being read, or None outside :func:`source`."""
    return _source.get()


def file_label(name: Any) -> str | None:
    if name is None:
        return None
    if isinstance(name, (str, os.PathLike, bytes)):
        return os.fsdecode(name)
    named = getattr(name, "name", None)  # open files
    if isinstance(named, (str, bytes)):
        return os.fsdecode(named)
    return f"<{type(name).__name__}>"


def named(message: str, name: str | None = None) -> str:
    """``message`` prefixed with the file name (given, else the current source) when not there yet."""
    name = current_source() if name is None else name
    if not name or message.startswith(name):
        return message
    return f"{name}: {message}"


def _warn(text: str) -> None:
    if sys.version_info >= (3, 12):
        # point at the user's code, not at nivox internals
        warnings.warn(text, HeaderFixWarning, skip_file_prefixes=(_NIVOX_DIR,))
    else:
        warnings.warn(text, HeaderFixWarning, stacklevel=4)


def handle_reports(
    reports: Iterable[Report],
    *,
    log: logging.Logger | None = None,
    error_level: int | None = None,
    remaining: Callable[[], Iterable[Report]] | None = None,
) -> None:
    """Log, warn about or raise each report's problem as the current mode says.

    Parameters
    ----------
    reports : iterable of Report
        What the checks found (and fixed).
    log : Logger, optional
        Where problems are logged; :data:`nivox.imageglobals.logger` by default.
    error_level : int, optional
        Raise problems at this level or above, replacing the mode's threshold
        (``check_fix(error_level=...)``); 'ignore' mode still raises nothing
        that was fixed.
    remaining : callable, optional
        Reports of checking the fixed object again; in 'ignore' mode the
        problems left at ``error_level`` (default
        :data:`nivox.imageglobals.error_level`, read at call time) raise.
    """
    if log is None:
        log = imageglobals.logger
    current = get_mode()
    for report in reports:
        if not report.problem_msg:
            continue
        level = report.problem_level
        text = named(report.message)
        if current == "ignore":
            log.debug(text)
            continue
        log.log(level, text)
        threshold = error_level if error_level is not None else (
            WARN_LEVEL if current == "raise" else imageglobals.error_level)
        if level and level >= threshold:
            raise report.error(named(report.problem_msg))
        if current == "warn" and level >= WARN_LEVEL:
            _warn(text)
    if current == "ignore" and remaining is not None:
        threshold = imageglobals.error_level if error_level is None else error_level
        for report in remaining():
            if report.problem_msg and report.problem_level >= threshold:
                raise report.error(named(report.problem_msg))


def report_problem(message: str, level: int = WARN_LEVEL, error: type[Exception] = HeaderDataError,
                   *, fatal: bool = False, fix_msg: str = "") -> None:
    """Report one problem found outside a check battery, as the current mode says.

    ``fatal`` problems make reading impossible and raise in every mode.
    """
    report = Report(error, level, message, fix_msg)
    if fatal:
        raise error(named(report.message))
    handle_reports([report], remaining=lambda: [report] if not fix_msg else [])


# ---- the load checks --------------------------------------------------------


def max_expansion(codec_name: str | None) -> int | None:
    """How many times its own size a stream of this codec can decompress to (1 when plain)."""
    if codec_name is None:
        return 1
    return _EXPANSION.get(codec_name)


def data_layout_problem(shape: tuple[int, ...], itemsize: int, offset: Any) -> str | None:
    """Why data of ``shape`` and ``itemsize`` at ``offset`` can never be read, or None."""
    negative = [i for i, n in enumerate(shape) if n < 0]
    if negative:
        return f"dim[{negative[0] + 1}] is {shape[negative[0]]}: dimensions cannot be negative"
    try:
        float_offset = float(offset)
    except (TypeError, ValueError, OverflowError):
        return f"data offset {offset!r} is not a number"
    if not math.isfinite(float_offset):
        return f"data offset (vox_offset) is {float_offset}"
    if float_offset < 0:
        return f"data offset (vox_offset) {float_offset:g} is negative"
    nbytes = math.prod(shape) * itemsize
    if nbytes > sys.maxsize:
        return (f"shape {shape} of {itemsize}-byte values needs {nbytes} bytes, "
                "more than this machine can address")
    return None


def available_bytes(holder: Any) -> tuple[int | None, str | None]:
    """(bytes stored for the file of ``holder``, codec name or None), or (None, None) if unknown."""
    fileobj = getattr(holder, "fileobj", None)
    if fileobj is not None:
        buffer = getattr(fileobj, "getbuffer", None)  # BytesIO: size known, never compressed
        if buffer is None:
            return None, None
        return buffer().nbytes - int(getattr(holder, "pos", 0) or 0), None
    filename = getattr(holder, "filename", None)
    if filename is None:
        return None, None
    try:
        size = os.path.getsize(filename)
    except OSError:
        return None, None
    from .openers import ImageOpener

    codec = ImageOpener.codec_for(filename)
    return size, None if codec is None else codec.name


def shortfall_message(nbytes: int, offset: int, stored: int, codec: str | None) -> str | None:
    """What is wrong when ``stored`` bytes (of ``codec``) cannot hold ``nbytes`` at ``offset``."""
    if nbytes == 0:
        return None
    factor = max_expansion(codec)
    if factor is None:
        return None
    if codec is None:
        if offset + nbytes <= stored:
            return None
        return (f"expected {nbytes} bytes of array data after offset {offset}, "
                f"but the file holds {max(0, stored - offset)}")
    bound = stored * factor + _EXPANSION_SLACK
    if offset + nbytes <= bound:
        return None
    return (f"expected {nbytes} bytes of array data after offset {offset}, but {stored} "
            f"{codec}-compressed bytes decompress to at most {bound}")


def check_data_layout(shape: tuple[int, ...], itemsize: int, offset: Any) -> None:
    """Raise HeaderDataError, in every mode, when the data a header describes can never be read.

    That is a negative dimension or offset, a non-finite offset, or a size
    beyond what this machine can address.
    """
    problem = data_layout_problem(shape, itemsize, offset)
    if problem is not None:
        report_problem(problem, ERROR_LEVEL, HeaderDataError, fatal=True)


def check_data_fits(shape: tuple[int, ...], itemsize: int, offset: int, holder: Any) -> str | None:
    """Check the size of the data a header describes against its file, before anything is read.

    A file too short for its data (its size, or at most its codec's largest
    expansion when compressed) raises TruncatedDataError in 'raise' mode;
    otherwise it is logged and the message returned, and reading the data
    raises it (as nibabel reports short files: on reading). Call
    :func:`check_data_layout` first.
    """
    stored, codec = available_bytes(holder)
    if stored is None:
        return None
    short = shortfall_message(math.prod(shape) * itemsize, int(offset), stored, codec)
    if short is None:
        return None
    text = named(short)
    current = get_mode()
    if current == "raise":
        raise TruncatedDataError(text)
    logger.log(WARN_LEVEL if current == "warn" else logging.DEBUG, text)
    return text


# what parsing a garbled header can raise besides NivoxError; load turns them into
# NivoxErrors naming the file (OS errors other than a missing file keep their type)
LOAD_ERRORS = (NivoxError, ValueError, OverflowError, IndexError, KeyError, ZeroDivisionError,
               EOFError, MemoryError, struct.error, FileNotFoundError)


def holder_name(holder: Any) -> str | None:
    """The name to put in messages about the file of FileHolder ``holder``."""
    if holder.filename is not None:
        return os.fsdecode(holder.filename)
    return file_label(holder.fileobj)


def named_load_error(err: BaseException, name: str | None) -> BaseException:
    """The NivoxError to raise, naming file ``name``, for ``err`` (one of LOAD_ERRORS)."""
    if isinstance(err, FileNotFoundError) and not isinstance(err, NivoxError):
        from .errors import ImageFileNotFoundError

        return ImageFileNotFoundError(named(f"no such file: {err.filename or err}", name))
    return as_named_error(err, name)


def as_named_error(err: BaseException, name: str | None) -> BaseException:
    """``err`` as a NivoxError whose message names file ``name``.

    NivoxErrors keep their class; errors that leak from parsing garbage
    (struct.error, IndexError, OverflowError, ...) become HeaderDataError.
    """
    from .errors import ImageDataError

    message = str(err) or type(err).__name__
    if isinstance(err, NivoxError):
        if name is None or name in message:
            return err
        try:
            return type(err)(named(message, name))
        except TypeError:  # a constructor that wants more than a message
            return err
    if isinstance(err, MemoryError):
        return ImageDataError(named(f"not enough memory: {message}", name))
    return HeaderDataError(named(f"{type(err).__name__}: {message}", name))


# ---- load checks of headers ----------------------------------------------------
#
# Battery checks, ``check(hdr, fix) -> (hdr, Report)``, run on headers read from
# files after nibabel's battery. They find what makes data or affine unusable
# and change nothing, so files nibabel reads load identically.


def run_checks(header: Any, checks: Iterable[Callable[..., tuple[Any, Report]]]) -> None:
    """Run ``checks`` on ``header``, reporting their problems as the mode says."""
    battery = BatteryRunner(checks)
    _, reports = battery.check_fix(header)
    handle_reports(reports, remaining=lambda: battery.check_only(header))


def _leave(report: Report, fix: bool) -> Report:
    if fix and report.problem_level:
        report.fix_msg = report.fix_msg or "leaving as is"
    return report


def chk_dims(hdr: Any, fix: bool = False) -> tuple[Any, Report]:
    """dim[0] must be 0 to 7; a dimension of 0 (no voxels) is worth a warning."""
    report = Report(HeaderDataError)
    dims = hdr["dim"]
    ndim = int(dims[0])
    if not 0 <= ndim <= 7:
        report.problem_level = ERROR_LEVEL
        report.problem_msg = f"dim[0] is {ndim}; it should be 0 to 7"
    elif ndim == 0 or not all(dims[1 : ndim + 1]):
        used = [int(d) for d in dims[1 : ndim + 1]]
        report.problem_level = WARN_LEVEL
        report.problem_msg = "the image holds no voxels: " + (
            "dim[0] is 0" if ndim == 0 else f"dim[1:{ndim + 1}] is {used}")
    return hdr, _leave(report, fix)


def chk_finite_pixdims(hdr: Any, fix: bool = False) -> tuple[Any, Report]:
    """Voxel sizes of the image's dimensions must be finite."""
    report = Report(HeaderDataError)
    ndim = min(max(int(hdr["dim"][0]), 0), 7)
    sizes = [float(v) for v in hdr["pixdim"][1 : ndim + 1]]
    bad = [i for i, value in enumerate(sizes, 1) if not math.isfinite(value)]
    if bad:
        report.problem_level = WARN_LEVEL
        report.problem_msg = (f"pixdim[{bad[0]}] is {sizes[bad[0] - 1]}; voxel sizes and the "
                              "affine made from them will not be finite")
    return hdr, _leave(report, fix)


def chk_single_offset(hdr: Any, fix: bool = False) -> tuple[Any, Report]:
    """NIfTI single file: nibabel's battery passes vox_offset 0, and the header is read as data."""
    report = Report(HeaderDataError)
    if hdr["magic"].item() == hdr.single_magic and float(hdr["vox_offset"]) == 0:
        report.problem_level = WARN_LEVEL
        report.problem_msg = (f"vox_offset is 0 in a single-file {hdr._format_name}: "
                              "the data are read from the start of the header")
    return hdr, _leave(report, fix)


def chk_scaling(hdr: Any, fix: bool = False) -> tuple[Any, Report]:
    """NIfTI scl_slope/scl_inter: an infinite slope means unscaled; a valid slope needs a finite intercept."""
    report = Report(HeaderDataError)
    slope, inter = float(hdr["scl_slope"]), float(hdr["scl_inter"])
    if math.isinf(slope):
        report.problem_level = WARN_LEVEL
        report.problem_msg = f"scl_slope is {slope}"
        report.fix_msg = "reading the data unscaled" if fix else ""
    elif slope != 0 and math.isfinite(slope) and not math.isfinite(inter):
        report.problem_level = ERROR_LEVEL
        report.problem_msg = f"scl_inter is {inter} while scl_slope is {slope:g}: the data cannot be scaled"
    return hdr, report


def chk_scale_factor(hdr: Any, fix: bool = False) -> tuple[Any, Report]:
    """SPM scale factor (scl_slope): infinite means the data are read unscaled."""
    report = Report(HeaderDataError)
    slope = float(hdr["scl_slope"])
    if math.isinf(slope):
        report.problem_level = WARN_LEVEL
        report.problem_msg = f"scale factor (scl_slope) is {slope}"
        report.fix_msg = "reading the data unscaled" if fix else ""
    return hdr, report


def chk_quaternion(hdr: Any, fix: bool = False) -> tuple[Any, Report]:
    """A qform in use needs finite values and a quaternion that is a rotation."""
    report = Report(HeaderDataError)
    if int(hdr["qform_code"]) == 0:
        return hdr, report
    names = ("quatern_b", "quatern_c", "quatern_d", "qoffset_x", "qoffset_y", "qoffset_z")
    values = [float(hdr[name]) for name in names]
    if not all(math.isfinite(v) for v in values):
        report.problem_level = WARN_LEVEL
        report.problem_msg = "qform quaternion or offset is not finite; so is the qform affine"
    elif not _is_rotation(values[:3], hdr.quaternion_threshold):
        used = int(hdr["sform_code"]) == 0  # then the qform is the image's affine
        report.problem_level = ERROR_LEVEL if used else WARN_LEVEL
        report.problem_msg = (f"qform quaternion {values[:3]} has squared length above 1; "
                              f"it is not a rotation{' and the qform is the affine' if used else ''}")
    return hdr, _leave(report, fix)


def chk_sform(hdr: Any, fix: bool = False) -> tuple[Any, Report]:
    """An sform in use needs finite values."""
    report = Report(HeaderDataError)
    if int(hdr["sform_code"]) != 0:
        rows = [float(v) for row in ("srow_x", "srow_y", "srow_z") for v in hdr[row]]
        if not all(math.isfinite(v) for v in rows):
            report.problem_level = WARN_LEVEL
            report.problem_msg = "sform (srow_x/y/z) is not finite; so is the affine"
    return hdr, _leave(report, fix)


def _is_rotation(bcd: list[float], threshold: float) -> bool:
    """Whether quaternion vector part ``bcd`` belongs to a rotation, judged as get_qform judges it."""
    import numpy as np

    from .affines import AffineError
    from .quaternions import fillpositive

    try:
        fillpositive(np.array(bcd, dtype=np.float64), threshold)
    except AffineError:
        return False
    return True
