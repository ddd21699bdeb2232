"""nivox: volumetric neuroimaging images with nibabel's API, faster and safer.

``import nivox as nib`` gives the names nibabel users know. Everything is
imported lazily (PEP 562) so that ``import nivox`` costs almost nothing: a
name is resolved from the table below the first time it is used.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that is its real home
_LAZY_NAMES: dict[str, str] = {
    "load": "loadsave",
    "save": "loadsave",
    "Nifti1Header": "nifti1",
    "Nifti1Image": "nifti1",
    "Nifti1Pair": "nifti1",
    "Nifti2Header": "nifti2",
    "Nifti2Image": "nifti2",
    "Nifti2Pair": "nifti2",
    "AnalyzeHeader": "analyze",
    "AnalyzeImage": "analyze",
    "Spm99AnalyzeHeader": "spm99analyze",
    "Spm99AnalyzeImage": "spm99analyze",
    "Spm2AnalyzeHeader": "spm2analyze",
    "Spm2AnalyzeImage": "spm2analyze",
    "MGHImage": "freesurfer.mghformat",
    "Minc1Image": "minc1",
    "Minc2Image": "minc2",
    "PARRECImage": "parrec",
    "EcatImage": "ecat",
    "AFNIImage": "brikhead",
    "is_proxy": "arrayproxy",
    "ArrayProxy": "arrayproxy",
    "FileHolder": "fileholders",
    "ImageFileError": "errors",
    "NivoxError": "errors",
    "squeeze_image": "funcs",
    "concat_images": "funcs",
    "four_to_three": "funcs",
    "as_closest_canonical": "funcs",
    "io_orientation": "orientations",
    "flip_axis": "orientations",
    "apply_orientation": "orientations",
    "aff2axcodes": "orientations",
    "OrthoSlicer3D": "viewers",
    "all_image_classes": "imageclasses",
    "install_as_nibabel": "nibabel_alias",
    "to_dask": "daskarrays",
    "ImageWriter": "imagewriter",
    "OrientationError": "orientations",
    "get_info": "pkg_info",
    "GiftiImage": "gifti",
    "Cifti2Header": "cifti2",
    "Cifti2Image": "cifti2",
    "NiftiZarrImage": "niftizarr",
}

# submodules reachable as attributes, like ``nib.nifti1``
_SUBMODULES = {
    "affines", "analyze", "arrayproxy", "arraywriters", "brikhead", "casting", "daskarrays",
    "dataobj_images", "deprecator", "ecat", "errors", "eulerangles", "filebasedimages",
    "fileholders", "fileslice", "freesurfer", "funcs", "imageclasses", "imagewriter", "loadsave",
    "minc1", "minc2", "nibabel_alias", "nifti1", "nifti2", "openers", "optpkg", "orientations",
    "parrec", "processing", "quaternions", "spatialimages", "spm2analyze",
    "spm99analyze", "testing", "tmpdirs", "viewers", "volumeutils", "wrapstruct",
    "_compression", "batteryrunners", "filename_parser", "imageglobals", "onetime",
    "pkg_info", "spaces", "tripwire",
    "gifti", "cifti2", "caret", "xmlutils",
    "streamlines",
    "niftizarr",
}



def _present(module: str) -> bool:
    """True when submodule ``module`` ('freesurfer.mghformat') exists, checked without importing.

    A branch or build may lack a format module; ``from nivox import *`` and
    ``hasattr(nivox, name)`` must then skip its names, not fail.
    """
    path = os.path.join(os.path.dirname(__file__), *module.split("."))
    return os.path.isfile(path + ".py") or os.path.isfile(os.path.join(path, "__init__.py"))


__all__ = sorted(
    {name for name, module in _LAZY_NAMES.items() if _present(module)}
    | {name for name in _SUBMODULES if _present(name) and not name.startswith("_")}
    | {"__version__"}
)


def __getattr__(name: str) -> Any:
    if name in _LAZY_NAMES:
        target = _LAZY_NAMES[name]
    elif name in _SUBMODULES:
        target = name
    else:
        raise AttributeError(f"module 'nivox' has no attribute {name!r}")
    try:
        module = importlib.import_module(f"{__name__}.{target}")
    except ModuleNotFoundError as exc:
        # only this module's own absence becomes "no such attribute"; a
        # missing dependency inside it still surfaces as the real error
        full = f"{__name__}.{target}"
        if exc.name is not None and (full == exc.name or full.startswith(exc.name + ".")):
            raise AttributeError(
                f"module 'nivox' has no attribute {name!r}: nivox.{target} is not available"
            ) from exc
        raise
    value = getattr(module, name) if name in _LAZY_NAMES else module
    globals()[name] = value  # resolve once; later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # give type checkers the real names without importing at run time
    from .analyze import AnalyzeHeader, AnalyzeImage
    from .arrayproxy import ArrayProxy, is_proxy
    from .errors import ImageFileError, NivoxError
    from .fileholders import FileHolder
    from .loadsave import load, save
    from .nifti1 import Nifti1Header, Nifti1Image, Nifti1Pair
    from .nifti2 import Nifti2Header, Nifti2Image, Nifti2Pair
    from .spm2analyze import Spm2AnalyzeHeader, Spm2AnalyzeImage
    from .spm99analyze import Spm99AnalyzeHeader, Spm99AnalyzeImage
