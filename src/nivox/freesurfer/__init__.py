"""FreeSurfer files: MGH/MGZ volumes (:mod:`.mghformat`) and surfaces, morphometry, labels
and annotations (:mod:`.io`)."""

from .io import (
    read_annot,
    read_geometry,
    read_label,
    read_morph_data,
    write_annot,
    write_geometry,
    write_morph_data,
)
from .mghformat import MGHImage, load, save

__all__ = ["MGHImage", "load", "read_annot", "read_geometry", "read_label", "read_morph_data",
           "save", "write_annot", "write_geometry", "write_morph_data"]
