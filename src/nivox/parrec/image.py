"""PARRECImage: a Philips PAR/REC pair loaded as a read-only SpatialImage; exts2pars."""

from __future__ import annotations

import os
import warnings
from io import StringIO
from typing import Any, ClassVar

from ..dataobj_images import check_mmap
from ..errors import ImageFileNotFoundError, NivoxError, PARRECError
from ..filebasedimages import FileSpec
from ..fileholders import FileMap
from ..spatialimages import SpatialImage
from .header import PARRECHeader
from .parse import parse_PAR_header
from .proxy import PARRECArrayProxy

__all__ = ["PARRECImage", "exts2pars", "load"]

_SCALINGS = ("dv", "fp")


def _other_case(path: str) -> str:
    """``path``, or a sibling differing only in the case of its extension if only that exists.

    Exports copied between systems end up as ``x.PAR`` with ``x.rec``.
    """
    if os.path.exists(path):
        return path
    root, ext = os.path.splitext(path)
    for variant in (ext.upper(), ext.lower(), ext[:2].upper() + ext[2:].lower()):
        candidate = root + variant
        if candidate != path and os.path.exists(candidate):
            return candidate
    return path


def _rec_size(rec: Any) -> int | None:
    """Bytes in the REC file, when that is cheap to know (a plain file or an in-memory buffer)."""
    if isinstance(rec, (str, os.PathLike)):
        from ..openers import ImageOpener

        if ImageOpener.codec_for(rec) is not None:
            return None
        try:
            return os.path.getsize(rec)
        except OSError:
            return None
    getbuffer = getattr(rec, "getbuffer", None)
    return len(getbuffer()) if getbuffer is not None else None


def _fit_to_rec(header: PARRECHeader, rec: Any, name: str, info: dict[str, Any], image_defs: Any,
                strict_sort: bool) -> PARRECHeader:
    """With permit_truncated: a header for the images a short REC file really holds.

    An interrupted export leaves a REC shorter than its PAR describes; the
    image lines beyond its end are dropped (with a warning), and with them
    the volumes they would have completed.
    """
    size = _rec_size(rec)
    nx, ny, n_lines = header.get_rec_shape()
    frame_bytes = nx * ny * header.get_data_dtype().itemsize
    if size is None or frame_bytes == 0 or size >= n_lines * frame_bytes:
        return header
    held = size // frame_bytes
    warnings.warn(f"{_rec_name(rec)}: the REC file holds {held} of the {n_lines} images {name} describes; "
                  "reading the complete volumes among them", stacklevel=4)
    return PARRECHeader._named(name, info, image_defs[:held], True, strict_sort)


def _rec_name(rec: Any) -> str:
    return os.fsdecode(rec) if isinstance(rec, (str, os.PathLike)) else "REC file object"


class PARRECImage(SpatialImage):
    """A PAR/REC image: read-only, data read lazily from the REC file.

    Load with ``nivox.load('scan.PAR')`` (or the ``.REC`` name, in either
    case); keyword arguments ``permit_truncated``, ``scaling`` and
    ``strict_sort`` are passed through (see :meth:`from_file_map`).
    """

    header_class: ClassVar[type] = PARRECHeader
    header: PARRECHeader
    valid_exts: ClassVar[tuple[str, ...]] = (".rec", ".par")
    files_types: ClassVar[tuple[tuple[str, str | None], ...]] = (("image", ".rec"), ("header", ".par"))
    _meta_sniff_len: ClassVar[int] = 1
    makeable: ClassVar[bool] = False
    rw: ClassVar[bool] = False

    ImageArrayProxy: ClassVar[type] = PARRECArrayProxy

    @classmethod
    def filespec_to_file_map(cls, filespec: FileSpec) -> FileMap:
        file_map = super().filespec_to_file_map(filespec)
        for holder in file_map.values():
            if holder.filename is not None:
                holder.filename = _other_case(holder.filename)
        return file_map

    @classmethod
    def _meta_filename(cls, filename: FileSpec) -> str:
        return _other_case(super()._meta_filename(filename))

    @classmethod
    def from_file_map(  # type: ignore[override]
        cls,
        file_map: FileMap,
        *,
        mmap: bool | str = True,
        permit_truncated: bool = False,
        scaling: str = "dv",
        strict_sort: bool = False,
    ) -> PARRECImage:
        """Read the PAR header now; the REC data stay on disk behind a proxy.

        Parameters
        ----------
        file_map : dict
            FileHolders for ``'header'`` (PAR) and ``'image'`` (REC).
        mmap : {True, False, 'c', 'r'}, optional, keyword only
            Checked for nibabel compatibility; PAR/REC data are always read
            (see :class:`PARRECArrayProxy`).
        permit_truncated : bool, optional, keyword only
            Warn, instead of raising :class:`PARRECError`, when the header
            shows fewer slices or volumes than announced (an interrupted
            scan); incomplete volumes are dropped. A REC file shorter than
            the PAR describes is read too: the images past its end are
            dropped with a warning (nibabel fails when reading the data).
        scaling : {'dv', 'fp'}, optional, keyword only
            'dv' (default, as nibabel): values as shown on the scanner
            console. 'fp': Philips' floating-point values, which divide out
            the scale slope and are comparable between scans (see
            ``PARRECHeader.get_data_scaling``).
        strict_sort : bool, optional, keyword only
            Order volumes by the image table's labels (type, dynamic, label
            type, b-value, gradient, phase, echo) rather than by file order.
        """
        check_mmap(mmap)
        if scaling not in _SCALINGS:
            raise PARRECError(f"Unknown scaling method '{scaling}'.")
        holder = file_map["header"]
        name = holder.filename or "PAR file object"
        try:
            with holder.get_prepare_fileobj(mode="rb") as fobj:
                info, image_defs = parse_PAR_header(fobj)
        except FileNotFoundError as err:
            raise ImageFileNotFoundError(f"No such file or no access: '{name}'") from err
        except PARRECError:
            raise
        except (OSError, ValueError) as err:
            if isinstance(err, NivoxError):
                raise
            raise PARRECError(f"{name}: cannot read the PAR header: {err}") from err
        header = PARRECHeader._named(name, info, image_defs, permit_truncated, strict_sort)
        rec_holder = file_map["image"]
        rec = rec_holder.fileobj if rec_holder.fileobj is not None else rec_holder.filename
        if rec is None:
            raise PARRECError(f"{name}: no REC file given")
        if permit_truncated:
            header = _fit_to_rec(header, rec, name, info, image_defs, strict_sort)
        data = cls.ImageArrayProxy(rec, header, mmap=mmap, scaling=scaling)
        return cls(data, header.get_affine(), header=header, extra=None, file_map=file_map)

    @classmethod
    def from_filename(  # type: ignore[override]
        cls,
        filename: FileSpec,
        *,
        mmap: bool | str = True,
        permit_truncated: bool = False,
        scaling: str = "dv",
        strict_sort: bool = False,
    ) -> PARRECImage:
        """Load the PAR/REC pair ``filename`` names (either file, either case); options as :meth:`from_file_map`."""
        check_mmap(mmap)
        file_map = cls.filespec_to_file_map(filename)
        return cls.from_file_map(file_map, mmap=mmap, permit_truncated=permit_truncated,
                                 scaling=scaling, strict_sort=strict_sort)

    load = from_filename  # type: ignore[assignment]

    def to_file_map(self, file_map: FileMap | None = None, **kwargs: Any) -> None:
        raise NotImplementedError("PAR/REC images cannot be written; save as NIfTI (nivox.save(img, 'x.nii'))")


load = PARRECImage.from_filename


def exts2pars(exts_source: Any) -> list[PARRECHeader]:
    """PAR headers kept in NIfTI extensions (as ``parrec2nii --store-header`` writes them).

    Parameters
    ----------
    exts_source : image, header or sequence of extensions
        A NIfTI image or header, or its extensions.

    Returns
    -------
    list of PARRECHeader
        One per extension whose content is a PAR header.
    """
    source = exts_source.header if hasattr(exts_source, "header") else exts_source
    source = source.extensions if hasattr(source, "extensions") else source
    headers = []
    for extension in source:
        content = extension.get_content()
        if isinstance(content, bytes):
            content = content.decode("latin-1")
        if not content.startswith("# === DATA DESCRIPTION FILE ==="):
            continue
        info, image_defs = parse_PAR_header(StringIO(content))
        headers.append(PARRECHeader(info, image_defs))
    return headers
