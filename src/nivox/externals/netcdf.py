"""netCDF-3 files: scipy's reader and writer, under the name nibabel's ``externals.netcdf`` has.

MINC1 images are netCDF-3 files; :mod:`nivox.minc1` reads them through
this. Needs scipy (extra ``minc``).
"""

from __future__ import annotations

from typing import Any

from ..errors import MissingDependencyError

__all__ = ["netcdf_file", "netcdf_variable"]


def _scipy_netcdf() -> Any:
    try:
        from scipy.io import _netcdf  # type: ignore[import-untyped]
    except ImportError as err:
        raise MissingDependencyError("netCDF files need scipy: pip install 'nivox[minc]'") from err
    return _netcdf


def __getattr__(name: str) -> Any:
    # scipy is imported when a name is used, not when this module is
    if name in __all__:
        return getattr(_scipy_netcdf(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
