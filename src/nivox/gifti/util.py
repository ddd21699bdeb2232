"""GIFTI code tables: array ordering, data encodings and byte orders.

Each table accepts the spelling of the GIFTI 1.0 specification (``Base64Binary``,
``LittleEndian``) and the ``GIFTI_*`` constant names of the GIFTI C library,
which some writers put in files, as aliases of one code.
"""

from __future__ import annotations

from ..volumeutils import Recoder

__all__ = ["KIND2FMT", "array_index_order_codes", "gifti_encoding_codes", "gifti_endian_codes"]

# printf formats for ASCII data, by dtype kind
KIND2FMT = {"i": "%d", "u": "%d", "f": "%10.6f", "c": "%10.6f", "V": ""}

array_index_order_codes = Recoder(
    ((1, "RowMajorOrder", "C"), (2, "ColumnMajorOrder", "F")),
    fields=("code", "label", "npcode"),
)

gifti_encoding_codes = Recoder(
    (
        (0, "undef", "GIFTI_ENCODING_UNDEF", "undef"),
        (1, "ASCII", "GIFTI_ENCODING_ASCII", "ASCII"),
        (2, "B64BIN", "GIFTI_ENCODING_B64BIN", "Base64Binary"),
        (3, "B64GZ", "GIFTI_ENCODING_B64GZ", "GZipBase64Binary"),
        (4, "External", "GIFTI_ENCODING_EXTBIN", "ExternalFileBinary"),
    ),
    fields=("code", "label", "giistring", "specs"),
)

gifti_endian_codes = Recoder(
    (
        (0, "GIFTI_ENDIAN_UNDEF", "Undef", "undef"),
        (1, "GIFTI_ENDIAN_BIG", "BigEndian", "big"),
        (2, "GIFTI_ENDIAN_LITTLE", "LittleEndian", "little"),
    ),
    fields=("code", "giistring", "specs", "byteorder"),
)
