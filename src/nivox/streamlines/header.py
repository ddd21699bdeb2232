"""Names of the header fields that the tractogram file formats share."""

from __future__ import annotations

from typing import ClassVar

__all__ = ["Field"]


class Field:
    """Keys of the header dictionaries of tractogram files.

    Each attribute is the dictionary key a format uses for that piece of
    information: the attribute's name in lower case (a TRK header also keeps
    its own fields under their TRK names).
    """

    # counts
    NB_STREAMLINES: ClassVar[str]
    NB_POINTS: ClassVar[str]
    NB_SCALARS_PER_POINT: ClassVar[str]
    NB_PROPERTIES_PER_STREAMLINE: ClassVar[str]
    # the space of the points
    DIMENSIONS: ClassVar[str]
    VOXEL_SIZES: ClassVar[str]
    VOXEL_TO_RASMM: ClassVar[str]
    VOXEL_ORDER: ClassVar[str]
    ORIGIN: ClassVar[str]
    # the file and how the streamlines were made
    MAGIC_NUMBER: ClassVar[str]
    ENDIANNESS: ClassVar[str]
    METHOD: ClassVar[str]
    STEP_SIZE: ClassVar[str]


for _attr in Field.__annotations__:
    setattr(Field, _attr, _attr.lower())
del _attr
