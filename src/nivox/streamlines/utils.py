"""Small helpers shared by the tractogram formats."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any, TypeVar

from numpy.typing import NDArray
from ..errors import InvalidArgumentError

__all__ = ["get_affine_from_reference", "peek_next"]

T = TypeVar("T")


def get_affine_from_reference(ref: Any) -> NDArray[Any]:
    """Voxel-to-RAS+mm affine of a reference space.

    Parameters
    ----------
    ref : str, os.PathLike, image or (4, 4) array
        A file name (loaded with :func:`nivox.load`), anything with an
        ``affine`` attribute, or the affine itself.

    Returns
    -------
    affine : (4, 4) ndarray
    """
    if hasattr(ref, "affine"):
        affine: NDArray[Any] = ref.affine
        return affine
    if hasattr(ref, "shape"):
        if ref.shape != (4, 4):
            raise InvalidArgumentError(f"a reference array must be a (4, 4) affine, got shape {ref.shape}")
        return ref
    from ..loadsave import load  # only when a file name is given

    loaded: NDArray[Any] = load(ref).affine  # type: ignore[assignment]
    return loaded


def peek_next(iterable: Iterator[T]) -> tuple[T, Iterator[T]]:
    """First item of `iterable`, and an iterator that still yields it.

    Raises
    ------
    StopIteration
        When `iterable` is empty.
    """
    first = next(iterable)
    return first, itertools.chain([first], iterable)
