"""ECAT 7 PET images (``.v``): nibabel's ``nibabel.ecat`` names, registered with ``nivox.load``.

Split by concern: ``structs`` (binary layouts, code tables), ``mlist`` (the
matrix list helpers), ``header`` (EcatHeader, EcatSubHeader), ``image``
(EcatImage and its proxy) and ``writing``.
"""

from .header import EcatHeader, EcatSubHeader
from .image import EcatImage, EcatImageArrayProxy, load
from .mlist import get_frame_order, get_series_framenumbers, read_mlist, read_subheaders
from .structs import (
                      BLOCK_SIZE,
                      data_type_codes,
                      file_type_codes,
                      hdr_dtype,
                      main_header_dtd,
                      patient_orient_codes,
                      patient_orient_neurological,
                      patient_orient_radiological,
                      subhdr_dtype,
                      subheader_dtd,
)

__all__ = [
    "BLOCK_SIZE", "EcatHeader", "EcatImage", "EcatImageArrayProxy", "EcatSubHeader", "data_type_codes",
    "file_type_codes", "get_frame_order", "get_series_framenumbers", "hdr_dtype", "load",
    "main_header_dtd", "patient_orient_codes", "patient_orient_neurological",
    "patient_orient_radiological", "read_mlist", "read_subheaders", "subhdr_dtype", "subheader_dtd",
]
