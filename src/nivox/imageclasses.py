"""THE format registry: one table, in priority order, of every image class nivox reads or writes.

Each row is data (module, class name, extensions, the extra a class needs),
so nothing is imported until a file with a matching extension is loaded or
saved. Adding a format is one module and one row here.

Order matters where extensions are shared: for ``.hdr``/``.img`` the classes
that recognise a stricter header (NIfTI magic, SPM fields) come before plain
Analyze, which accepts any 348-byte header.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

__all__ = ["FORMATS", "FormatEntry", "all_image_classes", "classes_for_extension",
           "spatial_axes_first"]


@dataclass(frozen=True)
class FormatEntry:
    """One image format: where its class lives and which file extensions it claims."""

    name: str
    module: str
    class_name: str
    extensions: tuple[str, ...]
    extra: str | None = None  # pip extra the format needs, if any
    # False for a store that is a directory or URL prefix, not files a FileHolder can hold
    # (NIfTI-Zarr): such a class is loaded by name but is not one of nibabel's file-based
    # ``all_image_classes``, whose users write every class to file objects
    file_based: bool = True

    def load_class(self) -> type:
        """Import and return the image class."""
        module = importlib.import_module(f"nivox.{self.module}")
        return getattr(module, self.class_name)


FORMATS: tuple[FormatEntry, ...] = (
    FormatEntry("nifti1-pair", "nifti1", "Nifti1Pair", (".hdr", ".img")),
    FormatEntry("nifti1", "nifti1", "Nifti1Image", (".nii",)),
    FormatEntry("nifti2-pair", "nifti2", "Nifti2Pair", (".hdr", ".img")),
    FormatEntry("cifti2", "cifti2", "Cifti2Image", (".nii",)),
    FormatEntry("nifti2", "nifti2", "Nifti2Image", (".nii",)),
    FormatEntry("spm2-analyze", "spm2analyze", "Spm2AnalyzeImage", (".hdr", ".img")),
    FormatEntry("spm99-analyze", "spm99analyze", "Spm99AnalyzeImage", (".hdr", ".img")),
    FormatEntry("analyze", "analyze", "AnalyzeImage", (".hdr", ".img")),
    FormatEntry("mgh", "freesurfer", "MGHImage", (".mgh", ".mgz")),
    FormatEntry("afni", "brikhead", "AFNIImage", (".brik", ".head")),
    FormatEntry("ecat", "ecat", "EcatImage", (".v",)),
    FormatEntry("minc1", "minc1", "Minc1Image", (".mnc",), "minc"),
    FormatEntry("minc2", "minc2", "Minc2Image", (".mnc",), "minc"),
    FormatEntry("parrec", "parrec", "PARRECImage", (".par", ".rec")),
    FormatEntry("gifti", "gifti", "GiftiImage", (".gii",)),
    FormatEntry("nifti-zarr", "niftizarr", "NiftiZarrImage", (".nii.zarr",), "zarr", file_based=False),
)


def _available(entries: tuple[FormatEntry, ...]) -> list[type]:
    classes = []
    for entry in entries:
        try:
            classes.append(entry.load_class())
        except ModuleNotFoundError as err:
            if err.name != f"nivox.{entry.module}":
                raise
            continue  # a format module not present in this build
    return classes


def classes_for_extension(ext: str) -> list[type]:
    """Image classes claiming extension ``ext`` (like '.nii', compression stripped), in priority order."""
    ext = ext.lower()
    return _available(tuple(entry for entry in FORMATS if ext in entry.extensions))


def spatial_axes_first(img: Any) -> bool:
    """True when the first three axes of ``img``'s data are the spatial ones."""
    return len(img.shape) < 4 or getattr(img, "_spatial_dims_first", True)


def __getattr__(name: str) -> Any:
    # all_image_classes imports every format, so it is built only when asked for
    if name == "all_image_classes":
        return _available(tuple(entry for entry in FORMATS if entry.file_based))
    raise AttributeError(f"module 'nivox.imageclasses' has no attribute {name!r}")
