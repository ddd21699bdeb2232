"""Slice acquisition orders named by the NIfTI slice_code field."""

from __future__ import annotations

import numpy as np

from ..errors import HeaderDataError

__all__ = ["slice_acquisition_order"]


def _acquisition_sequence(label: str, n_slices: int) -> np.ndarray:
    """Slice indices in the order the scanner acquired them."""
    everything = np.arange(n_slices)
    if label == "sequential increasing":
        return everything
    if label == "sequential decreasing":
        return everything[::-1]
    if label == "alternating increasing":
        return np.concatenate([everything[0::2], everything[1::2]])
    if label == "alternating decreasing":
        top = everything[::-1]
        return np.concatenate([top[0::2], top[1::2]])
    if label == "alternating increasing 2":
        return np.concatenate([everything[1::2], everything[0::2]])
    if label == "alternating decreasing 2":
        top = everything[::-1]
        return np.concatenate([top[1::2], top[0::2]])
    raise HeaderDataError(f'Slice order "{label}" has no known acquisition scheme')


def slice_acquisition_order(label: str, n_slices: int) -> np.ndarray:
    """For each slice, its position (0 = first) in the acquisition named by ``label``."""
    sequence = _acquisition_sequence(label, n_slices)
    order = np.empty(n_slices, dtype=int)
    order[sequence] = np.arange(n_slices)
    return order
