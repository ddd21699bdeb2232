"""GIFTI: surface meshes and data on surface vertices (``.gii``).

``gifti`` holds the image and data-array classes, ``elements`` metadata,
label tables and coordinate systems, ``parse_gifti_fast`` the reader,
``_datablock`` the four data encodings and ``util`` the code tables.
"""

from .elements import GiftiCoordSystem, GiftiLabel, GiftiLabelTable, GiftiMetaData, GiftiNVPairs
from .gifti import GiftiDataArray, GiftiImage

__all__ = ["GiftiCoordSystem", "GiftiDataArray", "GiftiImage", "GiftiLabel", "GiftiLabelTable",
           "GiftiMetaData", "GiftiNVPairs"]
