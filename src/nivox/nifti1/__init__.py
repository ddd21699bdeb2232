"""NIfTI-1: header, image classes, code tables, extensions and transforms."""
