"""FileBasedImage: an image with a header, extra metadata and the files it lives in.

``file_map`` maps each of a format's file types (``'image'``, ``'header'``) to
a :class:`~nivox.fileholders.FileHolder`, so single files, header/image pairs
and in-memory bytes all travel one code path.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import IO, Any, ClassVar, TypeVar

from ._atomic import replacing_files
from .deprecator import expired
from .errors import ArgumentTypeError, CorruptStreamError, ImageFileError, RemoteFileError
from .filename_parser import TypesFilenamesError, _stringify_path, splitext_addext, types_filenames
from .fileholders import FileHolder, FileMap
from .validation import mode as validation_mode

__all__ = ["FileBasedHeader", "FileBasedImage", "ImageFileError", "SerializableImage"]

FileSpec = str | os.PathLike[str]
ImgT = TypeVar("ImgT", bound="FileBasedImage")
HdrT = TypeVar("HdrT", bound="FileBasedHeader")


class FileBasedHeader:
    """The least a header does: copy itself, compare, read and write."""

    @classmethod
    def from_header(cls: type[HdrT], header: Any = None) -> HdrT:
        """A header of this class from ``header`` (None gives an empty one)."""
        if header is None:
            return cls()
        if type(header) is cls:
            return header.copy()
        raise NotImplementedError(f"Cannot make {cls.__name__} from {type(header).__name__}")

    @classmethod
    def from_fileobj(cls: type[HdrT], fileobj: IO[bytes]) -> HdrT:
        raise NotImplementedError

    def write_to(self, fileobj: IO[bytes]) -> None:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        raise NotImplementedError

    def copy(self: HdrT) -> HdrT:
        """An independent copy."""
        import copy

        return copy.deepcopy(self)


class FileBasedImage:
    """Base of every image class: header, extra, file_map and the file-name plumbing.

    Subclasses set ``header_class``, ``files_types`` (pairs of type name and
    extension), ``valid_exts`` and implement ``from_file_map``/``to_file_map``.
    """

    header_class: ClassVar[type] = FileBasedHeader
    _meta_sniff_len: ClassVar[int] = 0
    files_types: ClassVar[tuple[tuple[str, str | None], ...]] = (("image", None),)
    valid_exts: ClassVar[tuple[str, ...]] = ()
    _compressed_suffixes: ClassVar[tuple[str, ...]] = ()
    makeable: ClassVar[bool] = True
    rw: ClassVar[bool] = True

    def __init__(
        self,
        header: Any = None,
        extra: Mapping[str, Any] | None = None,
        file_map: FileMap | None = None,
    ) -> None:
        self._header = self.header_class.from_header(header)
        self.extra = dict(extra) if extra is not None else {}
        self.file_map = file_map if file_map is not None else self.make_file_map()

    @property
    def header(self) -> Any:
        return self._header

    def __getitem__(self, key: Any) -> None:
        # nibabel's exact wording: code and tests match on it
        raise ArgumentTypeError(
            "Cannot slice image objects; consider using `img.slicer[slice]` to generate a sliced "
            "image (see documentation for caveats) or slicing image array data with "
            "`img.dataobj[slice]` or `img.get_fdata()[slice]`"
        )

    get_header = expired("get_header()", "the img.header property")

    # ---- file names -------------------------------------------------------

    def get_filename(self) -> str | None:
        """The filename of the image's first file type, or None."""
        if not self.file_map:  # users may set file_map to None (nibabel's tests do)
            return None
        holder = self.file_map.get(self.files_types[0][0])
        return None if holder is None else holder.filename

    def set_filename(self, filename: FileSpec) -> None:
        """Point every file type at the files derived from ``filename``."""
        self.file_map = self.filespec_to_file_map(filename)

    @classmethod
    def filespec_to_file_map(cls, filespec: FileSpec) -> FileMap:
        """A file_map of FileHolders for the files ``filespec`` names."""
        try:
            names = types_filenames(
                filespec,
                cls.files_types,
                trailing_suffixes=cls._compressed_suffixes,
                enforce_extensions=True,
            )
        except TypesFilenamesError as err:
            raise ImageFileError(
                f"Filespec {_stringify_path(filespec)!r} does not look right for class {cls.__name__}: {err}"
            ) from None
        return {key: FileHolder(filename=name) for key, name in names.items()}

    @classmethod
    def make_file_map(cls, mapping: Mapping[str, Any] | None = None) -> FileMap:
        """An empty file_map, or one filled from ``mapping`` of filenames or file objects."""
        mapping = mapping or {}
        file_map = {}
        for key, _ in cls.files_types:
            value = mapping.get(key)
            if isinstance(value, (str, os.PathLike)):
                file_map[key] = FileHolder(filename=value)
            else:
                file_map[key] = FileHolder(fileobj=value)
        return file_map

    # ---- reading -----------------------------------------------------------

    @classmethod
    def from_filename(cls: type[ImgT], filename: FileSpec, *, validation: str | None = None) -> ImgT:
        """Load the image stored in ``filename`` (and its sibling files).

        ``validation`` ('ignore', 'warn', 'raise') sets how problems in the
        file are handled for this call (:mod:`nivox.validation`).
        """
        with validation_mode(validation):
            return cls.from_file_map(cls.filespec_to_file_map(filename))

    @classmethod
    def load(cls: type[ImgT], filename: FileSpec, **kwargs: Any) -> ImgT:
        """Same as :meth:`from_filename`."""
        return cls.from_filename(filename, **kwargs)

    @classmethod
    def from_file_map(cls: type[ImgT], file_map: FileMap) -> ImgT:
        raise NotImplementedError

    from_files = classmethod(expired("from_files()", "from_file_map()"))  # type: ignore[arg-type]
    filespec_to_files = classmethod(expired("filespec_to_files()", "filespec_to_file_map()"))  # type: ignore[arg-type]

    # ---- writing -----------------------------------------------------------

    def to_filename(self, filename: FileSpec, **kwargs: Any) -> None:
        """Write the image to ``filename`` (and siblings), replacing them only once all is written.

        ``compresslevel`` (keyword) sets the level of compressed files written.
        """
        from .openers import write_options

        file_map = self.filespec_to_file_map(filename)
        level = kwargs.pop("compresslevel", None)
        with replacing_files(file_map) as temp_map, write_options(compresslevel=level):
            self.to_file_map(temp_map, **kwargs)
        self.file_map = file_map
        self._files_replaced(file_map)

    def to_file_map(self, file_map: FileMap | None = None, **kwargs: Any) -> None:
        raise NotImplementedError

    def _files_replaced(self, file_map: FileMap) -> None:
        """Hook run after a save renamed new files over ``file_map``'s targets."""

    to_files = expired("to_files()", "to_file_map()")
    to_filespec = expired("to_filespec()", "to_filename()")

    @classmethod
    def instance_to_filename(cls, img: FileBasedImage, filename: FileSpec, **kwargs: Any) -> None:
        """Save ``img`` to ``filename`` as an image of this class."""
        cls.from_image(img).to_filename(filename, **kwargs)

    @classmethod
    def from_image(cls: type[ImgT], img: FileBasedImage) -> ImgT:
        raise NotImplementedError

    # ---- sniffing ----------------------------------------------------------

    @classmethod
    def _sniff_meta_for(
        cls, filename: FileSpec, sniff_nbytes: int, sniff: tuple[bytes, str] | None = None
    ) -> tuple[bytes, str] | None:
        """The first ``sniff_nbytes`` of the file holding the header, reusing ``sniff`` if it fits."""
        from .openers import ImageOpener

        meta_name = cls._meta_filename(filename)
        if sniff is not None and sniff[1] == meta_name and len(sniff[0]) >= sniff_nbytes:
            return sniff
        try:
            with ImageOpener(meta_name, "rb") as fobj:
                data = fobj.read(max(sniff_nbytes, 0))
        except CorruptStreamError:
            if _is_damaged_stream(meta_name):
                raise  # a broken compressed file: say so, rather than "not an image"
            return None
        except (OSError, EOFError, ValueError):
            return None
        return data, meta_name

    @classmethod
    def _meta_filename(cls, filename: FileSpec) -> str:
        keys = [key for key, _ in cls.files_types]
        names = types_filenames(
            filename, cls.files_types, trailing_suffixes=cls._compressed_suffixes, enforce_extensions=False
        )
        return names["header" if "header" in keys else keys[0]]

    @classmethod
    def path_maybe_image(
        cls, filename: FileSpec, sniff: tuple[bytes, str] | None = None, sniff_max: int = 1024
    ) -> tuple[bool, tuple[bytes, str] | None]:
        """Whether ``filename`` may be an image of this class, and the bytes read to decide.

        The returned sniff can be passed to the next class's call so the file
        is read once however many classes are asked.
        """
        _, ext, _ = splitext_addext(filename, cls._compressed_suffixes)
        if ext.lower() not in cls.valid_exts:
            return False, sniff
        if not cls._meta_sniff_len:
            return True, sniff
        sniff = cls._sniff_meta_for(filename, max(cls._meta_sniff_len, sniff_max), sniff)
        if sniff is None or len(sniff[0]) < cls._meta_sniff_len:
            return False, sniff
        return cls.header_class.may_contain_header(sniff[0]), sniff


def _is_damaged_stream(filename: str) -> bool:
    """Whether ``filename`` starts as its codec's streams do (so failing to decode it is damage)."""
    from .openers import ImageOpener

    codec = ImageOpener.codec_for(filename)
    if codec is None:
        return False
    try:
        with open(filename, "rb") as raw:
            return bool(codec.matches(raw.read(16)))
    except OSError:
        return False


class SerializableImage(FileBasedImage):
    """An image whose one file can be made from, and turned into, bytes."""

    @classmethod
    def _filemap_from_iobase(cls, stream: io.IOBase) -> FileMap:
        keys = {key for key, _ in cls.files_types}
        if len(keys) != 1 and not all(ext == cls.files_types[0][1] for _, ext in cls.files_types):
            raise NotImplementedError(f"{cls.__name__} needs more than one file; it cannot be bytes")
        return cls.make_file_map({key: stream for key in keys})

    @classmethod
    def from_stream(cls: type[ImgT], io_obj: io.IOBase, *, validation: str | None = None) -> ImgT:
        """Load an image from a readable binary stream (``validation`` as for from_filename)."""
        with validation_mode(validation):
            return cls.from_file_map(cls._filemap_from_iobase(io_obj))  # type: ignore[attr-defined]

    def to_stream(self, io_obj: io.IOBase, **kwargs: Any) -> None:
        """Write the image to a writable binary stream."""
        self.to_file_map(self._filemap_from_iobase(io_obj), **kwargs)

    @classmethod
    def from_bytes(cls: type[ImgT], bytestring: bytes, *, validation: str | None = None) -> ImgT:
        """Load an image from the bytes of its file (``validation`` as for from_filename)."""
        return cls.from_stream(io.BytesIO(bytestring), validation=validation)  # type: ignore[attr-defined]

    def to_bytes(self, **kwargs: Any) -> bytes:
        """The bytes of the image's file."""
        stream = io.BytesIO()
        self.to_stream(stream, **kwargs)
        return stream.getvalue()

    @classmethod
    def from_url(cls: type[ImgT], url: str, timeout: float = 5) -> ImgT:
        """Load an image from a URL (read whole into memory)."""
        from urllib import error, request

        try:
            with request.urlopen(url, timeout=timeout) as response:
                content = response.read()
        except (error.URLError, OSError) as err:  # HTTPError and timeouts included
            reason = getattr(err, "reason", None) or err
            raise RemoteFileError(f"{url}: cannot fetch it: {reason}") from err
        return cls.from_bytes(content)  # type: ignore[attr-defined]
