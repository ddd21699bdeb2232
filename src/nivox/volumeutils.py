"""Helpers shared by the formats: code tables, byte order, reading and writing arrays."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

native_code: str = "<" if sys.byteorder == "little" else ">"
swapped_code: str = ">" if native_code == "<" else "<"


class Recoder:
    """Look up rows of a code table by any of their aliases.

    Each row is a tuple whose first element is the canonical code. ``fields``
    names the columns; ``rec.<field>[alias]`` gives that column's value for the
    row ``alias`` belongs to, and ``rec[alias]`` gives the code.

    >>> units = Recoder(((0, 'unknown'), (2, 'mm')), fields=('code', 'label'))
    >>> units.code['mm'], units.label[2], units['mm']
    (2, 'mm', 2)
    """

    def __init__(
        self,
        codes: Iterable[Sequence[Any]],
        fields: Sequence[str] = ("code",),
        map_maker: type = dict,
    ) -> None:
        self.fields = tuple(fields)
        self.field1: dict[Any, Any] = {}
        self._map_maker = map_maker
        for field in self.fields:
            setattr(self, field, map_maker())
        self.field1 = getattr(self, self.fields[0])
        self.add_codes(codes)

    def add_codes(self, code_syn_seqs: Iterable[Sequence[Any]]) -> None:
        """Add rows; every alias in a row maps to that row's values."""
        for row in code_syn_seqs:
            for alias in row:
                for field_no, field in enumerate(self.fields):
                    getattr(self, field)[alias] = row[field_no]

    def __getitem__(self, key: Any) -> Any:
        return self.field1[key]

    def __contains__(self, key: Any) -> bool:
        try:
            self.field1[key]
        except (KeyError, TypeError):
            return False
        return True

    def keys(self) -> Iterable[Any]:
        """Every alias known."""
        return self.field1.keys()

    def value_set(self, name: str | None = None) -> set[Any]:
        """The distinct values of column ``name`` (the first column by default)."""
        table = self.field1 if name is None else getattr(self, name)
        return set(table.values())


class DtypeMapper(dict):
    """A dict keyed by numpy dtypes that also finds keys given as dtype aliases.

    ``np.dtype('f4')`` and ``'f4'`` find the same entry. Byte order matters
    (``'<f4'`` and ``'>f4'`` are different keys) as it does for dtype equality.
    """

    def __getitem__(self, key: Any) -> Any:
        try:
            return super().__getitem__(key)
        except (KeyError, TypeError):
            pass
        if key is None:  # np.dtype(None) would silently mean float64
            raise KeyError(key)
        try:
            wanted = np.dtype(key)
        except TypeError:
            raise KeyError(key) from None
        for candidate, value in self.items():
            if isinstance(candidate, np.dtype) and candidate == wanted:
                return value
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True


endian_codes = Recoder(
    (
        ("<", "little", "l", "le", "L", "LE"),
        (">", "big", "BIG", "b", "be", "B", "BE"),
        (native_code, "native", "n", "N", "=", "|", "i", "I"),
        (swapped_code, "swapped", "s", "S", "!"),
    )
)


def pretty_mapping(
    mapping: Any, getterfunc: Any = None
) -> str:
    """Text with one ``key : value`` line per item, keys padded to one width."""
    if getterfunc is None:
        def getterfunc(obj: Any, key: Any) -> Any:
            return obj[key]
    keys = list(mapping.keys())
    width = max((len(str(k)) for k in keys), default=0)
    return "\n".join(f"{str(k).ljust(width)} : {getterfunc(mapping, k)}" for k in keys)


def rec2dict(rec: np.ndarray) -> dict[str, Any]:
    """A dict of the fields of a one-element structured array."""
    return {name: rec[name] if rec.ndim == 0 else rec[name][0] for name in rec.dtype.names}

