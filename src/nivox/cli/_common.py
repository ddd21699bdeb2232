"""What every ``nivox`` command shares: one-line errors, file lists, saving, JSON.

Failures are reported as ``nivox: error: <file>: <problem>``: command code
wraps each step that touches a file in :func:`about`, so the line names the
file that failed (the input or the output), and :func:`run_guarded` (one
file) or :func:`run_per_file` (a record per file) turns the failure into that
line and an exit status. When the problem already names the file, as nivox's
load errors do, the line is just ``nivox: error: <problem>``. Library warnings
become one-line ``nivox: warning: ...`` messages instead of Python's two-line
format.
"""

from __future__ import annotations

import argparse
import glob
import math
import os
import re
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from ..errors import (
    ImageFileExistsError, ImageFileNotFoundError, ImageIsADirectoryError, InvalidArgumentError,
)

if TYPE_CHECKING:
    from ._progress import Progress

__all__ = [
    "PROG", "FileFailure", "about", "add_io_arguments", "axcodes_arg", "coded_field",
    "coded_label", "error_line", "error_message", "expand_files", "fmt", "image_volumes",
    "jsonable", "load_image", "n_volumes", "number", "one_line_warnings", "output_class",
    "pick_volume", "print_json", "read_raw_header", "report_failure", "run_guarded",
    "run_per_file", "run_transform", "save_image", "set_usage", "usage_error", "value_text",
    "xyzt_units",
]

PROG = "nivox"
_COMPRESSIONS = (".gz", ".bz2", ".zst")


# ---- errors --------------------------------------------------------------------------


class FileFailure(Exception):
    """A failure while working on ``filename``; the original exception is ``cause``."""

    def __init__(self, filename: str, cause: BaseException) -> None:
        super().__init__(filename, cause)
        self.filename = filename
        self.cause = cause


@contextmanager
def about(filename: str | os.PathLike[str]) -> Iterator[None]:
    """Attribute any failure inside the block to ``filename``."""
    try:
        yield
    except FileFailure:
        raise  # already attributed, to a more specific file
    except Exception as exc:
        raise FileFailure(os.fspath(filename), exc) from exc


def error_message(exc: BaseException, filename: str) -> str:
    """``exc`` as one line, without repeating ``filename`` in front of it."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror and not exc.filename2:
        same = exc.filename is None or _same_path(os.fspath(exc.filename), filename)
        message = exc.strerror if same else f"{exc.strerror}: {os.fspath(exc.filename)!r}"
    message = message.removeprefix(f"{filename}: ")
    return " ".join(message.split())


def _same_path(a: str, b: str) -> bool:
    return a == b or os.path.abspath(a) == os.path.abspath(b)


def _names_file(message: str, filename: str) -> bool:
    """Whether ``message`` names ``filename`` whole: as given, normalised or absolute.

    A bare base name does not count (``ls */T1w.nii`` would lose the folder),
    nor does a longer name that contains it (``a.nii`` in ``data.nii`` or
    ``a.nii.gz``, ``x.hdr``'s partner ``x.img``).
    """
    for name in {filename, os.path.normpath(filename), os.path.abspath(filename)}:
        if re.search(rf"(?<![\w./\\~+-]){re.escape(name)}(?![\w/\\~+-]|\.\w)", message):
            return True
    return False


def error_line(exc: BaseException, filename: str) -> str:
    """The one-line report of ``exc``, raised while working on ``filename``.

    ``nivox: error: <file>: <problem>``, or ``nivox: error: <problem>`` when
    the problem already names the file.
    """
    message = error_message(exc, filename)
    if _names_file(message, filename):
        return f"{PROG}: error: {message}"
    return f"{PROG}: error: {filename}: {message}"


def report_failure(failure: FileFailure, debug: bool, progress: Progress | None = None) -> None:
    """Print the one-line error for ``failure`` (after its traceback when ``debug``)."""
    if progress is not None:
        progress.clear()
    if debug:
        traceback.print_exception(failure.cause)
    print(error_line(failure.cause, failure.filename), file=sys.stderr, flush=True)


def _show_warning(message: Any, category: Any, filename: str, lineno: int,
                  file: IO[str] | None = None, line: str | None = None) -> None:
    text = " ".join(str(message).split())
    print(f"{PROG}: warning: {text}", file=sys.stderr if file is None else file)


@contextmanager
def one_line_warnings() -> Iterator[None]:
    """Inside the block, warnings print as ``nivox: warning: <message>``, one line each."""
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        yield


def set_usage(parser: argparse.ArgumentParser) -> None:
    """Keep ``parser``'s usage line on the namespace, for :func:`usage_error`."""
    parser.set_defaults(usage=parser.format_usage())


def usage_error(args: argparse.Namespace, message: str) -> int:
    """Print a usage error as argparse does, and return its exit status, 2.

    Arguments every command needs are still optional to argparse, so that
    ``nivox COMMAND`` alone parses (tests check every command does); they are
    checked here instead.
    """
    usage = getattr(args, "usage", "")
    print(f"{usage}{PROG} {args.command}: error: {message}", file=sys.stderr)
    return 2


def run_guarded(args: argparse.Namespace, body: Callable[[], int], main_file: str,
                error_status: int = 1) -> int:
    """Run ``body``; report a failure as one line and return ``error_status``.

    Failures not attributed with :func:`about` are put on ``main_file``.
    """
    with one_line_warnings():
        try:
            return body()
        except FileFailure as failure:
            report_failure(failure, args.debug)
        except BrokenPipeError:
            raise  # main() silences it
        except Exception as exc:
            report_failure(FileFailure(main_file, exc), args.debug)
    return error_status


def run_per_file(args: argparse.Namespace, files: Sequence[str],
                 record_of: Callable[[str], dict[str, Any]],
                 format_text: Callable[[dict[str, Any]], str]) -> int:
    """Print ``record_of(file)`` for each file as text, or all as one JSON list (``args.json``).

    A file that fails is reported in one line and skipped, so the others are
    still printed; the exit status is 1 if any failed, else 0.
    """
    status = 0
    records = []
    with one_line_warnings():
        for filename in files:
            try:
                with about(filename):
                    record = record_of(filename)
            except FileFailure as failure:
                report_failure(failure, args.debug)
                status = 1
                continue
            if args.json:
                records.append(record)
            else:
                sys.stdout.write(format_text(record))
                sys.stdout.flush()
    if args.json:
        print_json(records)
    return status


def run_transform(args: argparse.Namespace, transform: Callable[[Any], Any]) -> int:
    """Load ``args.input``, write ``transform(image)`` to ``args.output``; the exit status."""
    if args.input is None or args.output is None:
        return usage_error(args, "give the INPUT and OUTPUT files")

    def body() -> int:
        with about(args.input):
            result = transform(load_image(args.input))
        with about(args.output):
            save_image(result, args.output, args.force)
        return 0

    return run_guarded(args, body, args.input)


# ---- files -------------------------------------------------------------------------


def _image_suffixes() -> tuple[str, ...]:
    from ..imageclasses import FORMATS

    exts = {ext for entry in FORMATS for ext in entry.extensions}
    return tuple(ext + comp for ext in sorted(exts) for comp in ("", *_COMPRESSIONS))


def _images_in(folder: str, recursive: bool = False,
               ignored: list[str] | None = None) -> list[str]:
    suffixes = _image_suffixes()
    entries = sorted(os.listdir(folder))
    names = [name for name in entries if name.lower().endswith(suffixes)]
    if ignored is not None:
        ignored.extend(os.path.join(folder, name) for name in entries
                       if name not in names and not os.path.isdir(os.path.join(folder, name)))
    found = []
    for name in names:
        root, ext, comp = _split(name)
        # a pair is one image: list its header, not also its data file
        if ext == ".img" and any(f"{root}{hdr}{comp}" in names for hdr in (".hdr", ".HDR")):
            continue
        found.append(os.path.join(folder, name))
    if recursive:
        for name in entries:
            path = os.path.join(folder, name)
            if os.path.isdir(path) and not os.path.islink(path) and name not in names:
                found.extend(_images_in(path, recursive, ignored))
    return found


def _split(path: str) -> tuple[str, str, str]:
    from ..filename_parser import splitext_addext

    root, ext, comp = splitext_addext(path, _COMPRESSIONS)
    return root, ext.lower(), comp


def expand_files(patterns: Sequence[str], folders: bool = False, recursive: bool = False,
                 ignored: list[str] | None = None) -> list[str]:
    """File names from ``patterns``: globs expanded (sorted), other names kept as given.

    A glob matching nothing is kept, so that the caller reports it as missing.
    With ``folders``, a folder stands for the image files directly inside it
    (and in its subfolders with ``recursive``); the other files found in
    folders are appended to ``ignored`` when given.
    """
    from .._zarrstore import is_zarr_name

    files: list[str] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else []
        for name in matches or [pattern]:
            if folders and os.path.isdir(name) and not is_zarr_name(name):  # a store is one image
                files.extend(_images_in(name, recursive, ignored))
            else:
                files.append(name)
    return files


def load_image(filename: str) -> Any:
    """The image in ``filename``, with plain messages for missing files and folders."""
    import nivox
    from .._zarrstore import is_zarr_name

    if is_zarr_name(filename):  # a store is a directory (or a URL)
        return nivox.load(filename)
    if not os.path.exists(filename):
        raise ImageFileNotFoundError(2, "No such file or directory", filename)
    if os.path.isdir(filename):
        raise ImageIsADirectoryError(21, "Is a directory, not an image file", filename)
    return nivox.load(filename)


def read_raw_header(img: Any) -> Any:
    """The header of ``img`` as stored in its file.

    A loaded image's own header has scaling and data offset reset (they live
    on the data proxy); commands showing "the header" show what the file holds.
    """
    if type(img).__name__ == "GiftiImage":
        raise InvalidArgumentError("a GIFTI file is XML with no binary header; `nivox describe` lists its "
                         "arrays and metadata")
    stored_header = getattr(img, "_stored_header", None)
    if stored_header is not None:  # a NIfTI-Zarr store: the header array, not a file
        return stored_header()
    # a CIFTI-2 file's header fields are those of its NIfTI-2 container
    klass = type(img.nifti_header) if hasattr(img, "nifti_header") else img.header_class
    holder = img.file_map.get("header") or img.file_map["image"]
    with holder.get_prepare_fileobj("rb") as fileobj:
        return klass.from_fileobj(fileobj)


def image_volumes(dataobj: Any, shape: Sequence[int]) -> Iterator[np.ndarray]:
    """The data one 3D volume at a time (the whole array when it has at most 3 axes)."""
    if len(shape) <= 3:
        yield np.asanyarray(dataobj)
        return
    spatial = (slice(None),) * 3
    for index in np.ndindex(*shape[3:]):
        yield np.asanyarray(dataobj[spatial + index])


def n_volumes(shape: Sequence[int]) -> int:
    """How many volumes :func:`image_volumes` yields."""
    return int(np.prod(shape[3:], dtype=np.int64)) if len(shape) > 3 else 1


def pick_volume(img: Any, volume: int | None) -> Any:
    """The 3D image to work on: ``img`` itself, or its volume ``volume`` (from 0).

    Axes beyond the third that are 1 long are dropped; longer ones need
    ``volume``, counted over them in C order. Only that volume is read.
    """
    shape = tuple(img.shape)
    extra = shape[3:]
    if volume is None:
        if all(n == 1 for n in extra):
            return img.slicer[(slice(None),) * 3 + (0,) * len(extra)] if extra else img
        raise InvalidArgumentError(f"the image has {len(shape)} axes (shape {shape}); pick one volume "
                         "with --volume")
    if not extra:
        if volume == 0:
            return img
        raise InvalidArgumentError(f"volume {volume} out of range: the image is 3D (shape {shape}), "
                         "its only volume is 0")
    count = n_volumes(shape)
    if not 0 <= volume < count:
        raise InvalidArgumentError(f"volume {volume} out of range: the image has {count} volumes")
    index = tuple(int(i) for i in np.unravel_index(volume, extra))
    return img.slicer[(slice(None),) * 3 + index]


# ---- writing -----------------------------------------------------------------------


def add_io_arguments(parser: argparse.ArgumentParser) -> None:
    """Input and output files and ``--force``, shared by commands that write an image."""
    parser.add_argument("input", nargs="?", metavar="INPUT", help="image file to read")
    parser.add_argument("output", nargs="?", metavar="OUTPUT",
                        help="image file to write; its extension chooses the format")
    parser.add_argument("-f", "--force", action="store_true",
                        help="replace OUTPUT if it exists")


def output_class(img: Any, filename: str, format_name: str | None = None) -> Any:
    """The image class that writes ``img`` to ``filename``.

    ``format_name`` is a name from :data:`nivox.imageclasses.FORMATS` (such as
    'nifti2' or 'analyze'); without it the extension decides, keeping the
    image's own class, or its single-file/pair sibling, when that fits.
    """
    from .._zarrstore import is_niftizarr_name
    from ..errors import ImageFileError
    from ..imageclasses import FORMATS, classes_for_extension

    if is_niftizarr_name(filename) and format_name in (None, "nifti-zarr"):
        from ..niftizarr import NiftiZarrImage

        return NiftiZarrImage
    ext = _split(filename)[1]
    if format_name is not None:
        entry = next((e for e in FORMATS if e.name == format_name), None)
        if entry is None:
            known = ", ".join(e.name for e in FORMATS)
            raise ImageFileError(f"unknown format {format_name!r}; known formats: {known}")
        if ext not in entry.extensions:
            raise ImageFileError(f"format {format_name} writes {'/'.join(entry.extensions)} "
                                 f"files, not {ext or 'files without extension'}")
        return entry.load_class()
    if ext in type(img).valid_exts:
        return type(img)
    candidates = [c for c in classes_for_extension(ext)
                  if getattr(c, "rw", True) or getattr(c, "_converts_on_save", False)]
    if not candidates:
        exts = sorted({e for entry in FORMATS for e in entry.extensions})
        raise ImageFileError(f"cannot tell the format from extension {ext or '(none)'!r}; "
                             f"use one of {', '.join(exts)} (optionally + .gz, .bz2, .zst)")
    name = type(img).__name__
    sibling = name[:-5] + "Pair" if name.endswith("Image") else name[:-4] + "Image"
    return next((c for c in candidates if c.__name__ == sibling), candidates[0])


def axcodes_arg(text: str) -> str:
    """argparse type: three axis codes, one of L/R, one of P/A, one of I/S, such as 'LPS'."""
    codes = text.strip().upper()
    pairs = ("LR", "PA", "IS")
    axes = sorted(next((i for i, pair in enumerate(pairs) if c in pair), -1) for c in codes)
    if len(codes) != 3 or axes != [0, 1, 2]:
        raise argparse.ArgumentTypeError(
            f"orientation must be three letters, one each of L/R, P/A and I/S (like RAS "
            f"or LPS), got {text!r}")
    return codes


def _check_free(klass: Any, filename: str, force: bool) -> None:
    for holder in klass.filespec_to_file_map(filename).values():
        target = holder.filename
        if target and os.path.exists(target) and not force:
            raise ImageFileExistsError(17, "File exists; use --force to replace it", target)


def _save_accepts(klass: Any, keyword: str) -> bool:
    import inspect

    try:
        params = inspect.signature(klass.to_file_map).parameters
    except (TypeError, ValueError):
        return False
    return keyword in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def save_image(img: Any, filename: str, force: bool = False, compresslevel: int | None = None,
               format_name: str | None = None) -> Any:
    """Write ``img`` to ``filename`` in the class :func:`output_class` picks; return that image.

    ``compresslevel`` goes to ``nivox.save`` when this nivox accepts it, else
    it is set as the openers' default level (gzip and bz2 only), else a
    warning says it was not applied.
    """
    import nivox
    from ..openers import Opener

    klass = output_class(img, filename, format_name)
    _check_free(klass, filename, force)
    out = img if type(img) is klass else klass.from_image(img)
    if compresslevel is None or not _split(filename)[2]:
        nivox.save(out, filename)
        return out
    if _save_accepts(klass, "compresslevel"):
        try:
            nivox.save(out, filename, compresslevel=compresslevel)
            return out
        except TypeError as err:
            if "compresslevel" not in str(err):
                raise
    if _split(filename)[2] in (".gz", ".bz2"):
        previous = Opener.default_compresslevel
        Opener.default_compresslevel = compresslevel
        try:
            nivox.save(out, filename)
        finally:
            Opener.default_compresslevel = previous
        return out
    warnings.warn(f"{filename}: this nivox cannot set the compression level of "
                  f"{_split(filename)[2]} files; the default level was used", stacklevel=2)
    nivox.save(out, filename)
    return out


# ---- values -------------------------------------------------------------------------


def number(value: Any) -> int | float | None:
    """A JSON-safe number: integral values as int, NaN and infinities as None."""
    result = _plain_number(value)
    return result if isinstance(result, int) or math.isfinite(result) else None


def _plain_number(value: Any) -> int | float:
    if isinstance(value, (int, np.integer, bool, np.bool_)):
        return int(value)
    # the shortest decimal that reads back as the same float32 (not its float64 expansion)
    result = float(str(value)) if isinstance(value, (np.float16, np.float32)) else float(value)
    return int(result) if result.is_integer() and abs(result) < 2**53 else result


def jsonable(value: Any) -> Any:
    """``value`` (numpy scalars, arrays, bytes, nested lists) as plain Python.

    Non-finite floats stay floats, so text output can show them;
    :func:`print_json` writes them as null.
    """
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return jsonable(value[()])
        return [jsonable(v) for v in value]
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).rstrip(b"\0").decode("latin-1")
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return _plain_number(value)
    if isinstance(value, (np.complexfloating, complex)):
        return [_plain_number(value.real), _plain_number(value.imag)]
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def value_text(value: Any) -> str:
    """A header value as text: numbers in numpy's shortest form for their type, strings quoted."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return value_text(value[()])
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if isinstance(value, (bytes, np.bytes_)):
        return repr(bytes(value).rstrip(b"\0").decode("latin-1"))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    return str(value)


def coded_label(header: Any, field: str) -> str | None:
    """The label of coded ``field``'s value; None when the field has no code table."""
    try:
        return str(header.get_value_label(field))
    except (ValueError, KeyError, AttributeError):
        return None


def coded_field(header: Any, field: str) -> dict[str, Any] | None:
    """``{"code": ..., "label": ...}`` of a coded field; None when the format has no such field.

    A code outside the field's table is labelled 'invalid'.
    """
    try:
        code = int(header[field])
    except (KeyError, ValueError, TypeError, IndexError):
        return None
    label = coded_label(header, field)
    return {"code": code, "label": "invalid" if label is None else label}


def xyzt_units(header: Any) -> dict[str, str | None]:
    """Space and time units of ``header``; None where unknown or the format has none."""
    get_units = getattr(header, "get_xyzt_units", None)
    if get_units is None:
        return {"space": None, "time": None}
    space, time = get_units()
    return {"space": None if space == "unknown" else space,
            "time": None if time == "unknown" else time}


def fmt(value: Any) -> str:
    """A compact text form of a number, list or string for tables."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return "[" + " ".join(fmt(v) for v in value) + "]"
    return str(value)


def print_json(obj: Any) -> None:
    """Write ``obj`` as indented JSON to stdout; NaN and infinities become null."""
    import json

    json.dump(_json_safe(obj), sys.stdout, indent=2)
    sys.stdout.write("\n")
    sys.stdout.flush()

