"""``load`` and ``save``: pick the image class from the registry, sniffing file contents."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .deprecator import expired
from .errors import ImageFileError, ImageFileNotFoundError
from .filename_parser import _stringify_path, splitext_addext
from .imageclasses import classes_for_extension

if TYPE_CHECKING:
    from .spatialimages import SpatialImage

__all__ = ["guessed_image_type", "load", "load_as", "save", "save_as"]

_COMPRESSED = (".gz", ".bz2", ".zst")
FileSpec = str | os.PathLike[str]


def _extension(filename: str) -> str:
    return splitext_addext(filename, _COMPRESSED)[1].lower()


def _checked_path(filename: FileSpec) -> str:
    path = _stringify_path(filename)
    try:
        stat = os.stat(path)
    except OSError:
        raise ImageFileNotFoundError(f"No such file or no access: '{path}'") from None
    if stat.st_size <= 0:
        raise ImageFileError(f"Empty file: '{path}'")
    return path


def _first_fitting(classes: Sequence[type], path: str) -> type | None:
    """The first class whose extension and sniffed header fit ``path`` (the file is read once)."""
    sniff = None
    for klass in classes:
        is_valid, sniff = klass.path_maybe_image(path, sniff)
        if is_valid:
            return klass
    return None


def guessed_image_type(filename: FileSpec) -> type:
    """The image class that would load ``filename``."""
    path = _checked_path(filename)
    classes = classes_for_extension(_extension(path))
    klass = _first_fitting(classes, path)
    if klass is not None:
        return klass
    raise ImageFileError(f'Cannot work out file type of "{path}": {_why_not_an_image(path, classes)}')


def _formats_read() -> str:
    """The extensions of the registered formats, for errors about an unknown one."""
    from . import _codecs
    from .imageclasses import FORMATS

    exts = list(dict.fromkeys(ext for entry in FORMATS for ext in entry.extensions))
    compressions = sorted({ext for codec in _codecs.CODECS for ext in codec.extensions})
    return (f"nivox reads {', '.join(exts)} (also compressed as {', '.join(compressions)})"
            if compressions else f"nivox reads {', '.join(exts)}")


def _why_not_an_image(path: str, classes: list[type]) -> str:
    """A short reason for the load error: wrong extension, not really compressed, no header."""
    from . import _codecs

    if not classes:
        return f"no image format uses the extension {_extension(path)!r}; {_formats_read()}"
    with open(path, "rb") as raw:
        prefix = raw.read(16)
    named = _codecs.for_path(path)
    if named is not None and not named.matches(prefix):
        # "is not a gzip file": the wording nibabel (and gzip itself) use
        return (f"it is named {named.extensions[0]} but is not a {named.name} file "
                f"(starts {prefix[:8]!r})")
    names = "/".join(dict.fromkeys(k.__name__ for k in classes))
    return f"no header of {names} found at the start of the file"


def load(filename: FileSpec, **kwargs: Any) -> SpatialImage:
    """Load the image in ``filename``; the data stay on disk until used.

    Parameters
    ----------
    filename : str or PathLike
    **kwargs
        Passed to the class's ``from_filename`` (``mmap``, ``keep_file_open``).

    Raises
    ------
    ImageFileNotFoundError
        The file does not exist (also a FileNotFoundError).
    ImageFileError
        The file is empty or is not an image nivox reads.
    """
    klass = guessed_image_type(filename)
    return klass.from_filename(_stringify_path(filename), **kwargs)


# A NIfTI image saved with the other NIfTI extension becomes its single/pair sibling.
_SIBLINGS = {
    ("Nifti1Image", ".img"): "Nifti1Pair",
    ("Nifti1Image", ".hdr"): "Nifti1Pair",
    ("Nifti2Image", ".img"): "Nifti2Pair",
    ("Nifti2Image", ".hdr"): "Nifti2Pair",
    ("Nifti1Pair", ".nii"): "Nifti1Image",
    ("Nifti2Pair", ".nii"): "Nifti2Image",
}


def save(img: Any, filename: FileSpec, **kwargs: Any) -> None:
    """Save ``img`` to ``filename``, converting to the format the extension names.

    The image's own class is used when it can write that extension;
    otherwise the first registered class for the extension that can take
    the image. Files are replaced only once everything was written.
    """
    path = _stringify_path(filename)
    ext = _extension(path)
    if ext in type(img).valid_exts:
        img.to_filename(path, **kwargs)
        return
    sibling = _SIBLINGS.get((type(img).__name__, ext))
    candidates = [c for c in classes_for_extension(ext) if c.__name__ == sibling] if sibling else []
    # a class may write converted images without nibabel's rw flag (AFNI: 3-D reads back 4-D)
    candidates += [c for c in classes_for_extension(ext)
                   if (c.rw or getattr(c, "_converts_on_save", False)) and c not in candidates]
    if not candidates:
        raise ImageFileError(f'Cannot work out file type of "{path}": no image format nivox '
                             f'writes uses the extension {ext!r}; {_formats_read()}')
    failures = []
    for klass in candidates:
        try:
            converted = klass.from_image(img)
        except Exception as err:  # this class cannot hold the image; try the next
            failures.append(f"{klass.__name__}: {err}")
            continue
        converted.to_filename(path, **kwargs)
        return
    raise ImageFileError(f'Cannot save image as "{path}": ' + "; ".join(failures))


def load_as(classes: Sequence[type], filename: FileSpec, **kwargs: Any) -> Any:
    """Load ``filename`` with the first of ``classes`` whose extension and header fit."""
    path = _checked_path(filename)
    klass = _first_fitting(classes, path)
    if klass is not None:
        return klass.from_filename(path, **kwargs)
    names = ", ".join(k.__name__ for k in classes)
    raise ImageFileError(f'"{path}" is not an image of type {names}')


def save_as(classes: Sequence[type], img: Any, filename: FileSpec, **kwargs: Any) -> None:
    """Save ``img`` as the first of ``classes`` whose extensions fit ``filename``."""
    path = _stringify_path(filename)
    ext = _extension(path)
    for klass in classes:
        if ext in klass.valid_exts:
            klass.instance_to_filename(img, path, **kwargs)
            return
    names = ", ".join(k.__name__ for k in classes)
    raise ImageFileError(f'Cannot save "{path}" as {names}: extension {ext!r} not valid')


read_img_data = expired("read_img_data()", "numpy.asanyarray(img.dataobj) or img.dataobj.get_unscaled()",
                        since="3.2", until="5.0")

__all__ += ["read_img_data"]


def _signature_matches_extension(filename: FileSpec) -> tuple[bool, str]:
    """Whether a compressed file's first bytes are those its extension promises.

    Returns ``(True, '')`` for names without a compression extension, and for
    files starting with their codec's magic bytes (from the codec registry);
    else ``(False, message)`` naming the file.
    """
    from . import _codecs

    path = _stringify_path(filename)
    codec = _codecs.for_extension(splitext_addext(path, _COMPRESSED)[2])
    if codec is None:
        return True, ""
    try:
        with open(path, "rb") as fobj:
            head = fobj.read(len(codec.magic))
    except OSError as err:
        return False, f"Could not read file: {path} ({err.strerror or err})"
    if codec.matches(head):
        return True, ""
    return False, f"File {path} is not a {codec.name} file"
