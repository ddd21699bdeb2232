"""``load`` and ``save``: pick the image class from the registry, sniffing file contents."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any, cast

from .deprecator import expired
from .errors import ArgumentTypeError, ImageFileError, ImageFileNotFoundError
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


def load(filename: FileSpec | IO[bytes] | Any, storage_options: dict[str, Any] | None = None,
         **kwargs: Any) -> SpatialImage:
    """Load the image in ``filename``; the data stay on disk (or remote) until used.

    Parameters
    ----------
    filename : str, PathLike, URL, fsspec OpenFile or binary file object
        A path; an fsspec URL (``https://``, ``s3://``, ``memory://``,
        ``file://``, chained ``simplecache::https://...``; needs the extra
        ``remote``) or ``OpenFile``, read by byte ranges; or a readable binary
        file object (``io.BytesIO``, an open file), read from its start. For
        URLs and file objects the format is sniffed from the first bytes
        (gzip/bz2/zstd by their magic) and the name's extension, if any; the
        single-file formats (NIfTI-1/-2, CIFTI-2, MGH) load this way.
    storage_options : dict, optional
        Passed to fsspec for a URL (credentials, headers, ...).
    **kwargs
        Passed to the class's ``from_filename``/``from_file_map`` (``mmap``,
        ``keep_file_open``, ``validation``).

    Raises
    ------
    ImageFileNotFoundError
        The file does not exist (also a FileNotFoundError).
    ImageFileError
        The file is empty or is not an image nivox reads.
    RemoteFileError
        A URL could not be read (unreachable, not found, no range support).
    """
    from . import _remote
    from ._zarrstore import is_zarr_name

    if is_zarr_name(filename):  # a directory or URL prefix, not a file
        from .niftizarr import NiftiZarrImage

        return NiftiZarrImage.from_filename(filename, storage_options=storage_options, **kwargs)
    if _remote.is_url(filename) or _remote.is_openfile(filename):
        remote = _remote.open_remote(filename, storage_options)
        return _load_stream(remote, remote.name, **kwargs)
    if storage_options is not None:
        raise ArgumentTypeError("storage_options applies only to URLs and fsspec OpenFiles")
    if _is_stream(filename):
        return _load_stream(filename, _stream_name(filename), **kwargs)
    path = cast(FileSpec, filename)  # neither a URL nor a stream: a path
    klass = guessed_image_type(path)
    return klass.from_filename(_stringify_path(path), **kwargs)


def _is_stream(obj: Any) -> bool:
    return hasattr(obj, "read") and not isinstance(obj, (str, bytes, os.PathLike))


def _stream_name(stream: Any) -> str | None:
    name = getattr(stream, "name", None)
    return os.fsdecode(name) if isinstance(name, (str, bytes)) else None


_SNIFF_BYTES = 1024


def _load_stream(stream: Any, name: str | None, **kwargs: Any) -> SpatialImage:
    """Load the single-file image in binary file object ``stream``, decompressing it if needed."""
    from . import _codecs, _remote

    label = name or f"<{type(stream).__name__}>"
    if not (getattr(stream, "seekable", lambda: False)()):
        stream = io.BytesIO(stream.read())  # a pipe or socket: the proxy needs to seek
    stream.seek(0)
    prefix = stream.read(16)
    stream.seek(0)
    if not prefix:
        raise ImageFileError(f"Empty file: '{label}'")
    codec = _codecs.sniff(prefix)
    members: Any = None
    if codec is not None and codec.name == "gzip" and isinstance(stream, _remote.RangeFile):
        from ._remotegz import RemoteMembers

        members = RemoteMembers.open(stream)  # nivox-written: member by member, by range
        if members is None:
            from ._remotestream import open_stream

            members = open_stream(stream)  # one deflate stream: through seek points kept per URL
    if members is not None:
        stream = members
    elif codec is not None:
        stream = codec.open_read(stream, keep_open=True)  # the caller's file stays open
    head = stream.read(_SNIFF_BYTES)
    stream.seek(0)
    klass = _stream_class(head, name, label)
    return klass.from_file_map(klass._filemap_from_iobase(stream), **kwargs)  # type: ignore[attr-defined]


def _stream_class(head: bytes, name: str | None, label: str) -> type:
    """The first single-file image class whose header fits ``head`` (those of ``name``'s extension first)."""
    from . import imageclasses
    from .filebasedimages import SerializableImage

    ext = _extension(name) if name else ""
    classes = classes_for_extension(ext) if ext else []
    if not classes:  # no name, or one no format claims: try every format
        classes = imageclasses.all_image_classes
    for klass in classes:
        if not issubclass(klass, SerializableImage) or len({k for k, _ in klass.files_types}) != 1:
            continue
        may_contain = getattr(getattr(klass, "header_class", None), "may_contain_header", None)
        if may_contain is None or len(head) < klass._meta_sniff_len:
            continue
        if may_contain(head):
            return klass
    names = "/".join(dict.fromkeys(k.__name__ for k in classes))
    raise ImageFileError(f'Cannot work out file type of "{label}": no header of a single-file '
                         f"format ({names}) found at its start")


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
    An fsspec URL (``s3://...``; ``storage_options=`` go to fsspec) is
    written locally, then uploaded in one piece (see :mod:`nivox._remotesave`).
    """
    from . import _remote
    from ._zarrstore import is_niftizarr_name

    if is_niftizarr_name(filename):  # a directory or URL prefix, not a file
        from .niftizarr import NiftiZarrImage

        converted = img if isinstance(img, NiftiZarrImage) else NiftiZarrImage.from_image(img)
        converted.to_filename(filename, **kwargs)
        return
    if _remote.is_url(filename) or _remote.is_openfile(filename):
        from ._remotesave import save_url

        save_url(img, filename, kwargs.pop("storage_options", None), **kwargs)
        return
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
