"""Names of the header fields that the tractogram file formats share."""

from __future__ import annotations

__all__ = ["Field"]


class Field:
    """Keys of the header dictionaries of tractogram files.

    Each attribute is the dictionary key a format uses for that piece of
    information (a TRK header also keeps its own fields under their TRK names).
    """

    NB_STREAMLINES = "nb_streamlines"
    STEP_SIZE = "step_size"
    METHOD = "method"
    NB_SCALARS_PER_POINT = "nb_scalars_per_point"
    NB_PROPERTIES_PER_STREAMLINE = "nb_properties_per_streamline"
    NB_POINTS = "nb_points"
    VOXEL_SIZES = "voxel_sizes"
    DIMENSIONS = "dimensions"
    MAGIC_NUMBER = "magic_number"
    ORIGIN = "origin"
    VOXEL_TO_RASMM = "voxel_to_rasmm"
    VOXEL_ORDER = "voxel_order"
    ENDIANNESS = "endianness"
