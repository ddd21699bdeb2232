"""CIFTI-2 metadata, labels, label tables and named maps (the maps of scalars and labels axes)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, MutableMapping
from typing import Any

from .. import xmlutils as xml
from ..caret import CaretMetaData
from ._common import Cifti2HeaderError, _float_01, _value_if_klass
from ..errors import InvalidArgumentError

__all__ = ["Cifti2Label", "Cifti2LabelTable", "Cifti2MetaData", "Cifti2NamedMap"]


class Cifti2MetaData(CaretMetaData):
    """CIFTI-2 metadata: a mutable mapping of names to values."""

    @staticmethod
    def _sanitize(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        if not args and list(kwargs) == ["metadata"] and not isinstance(kwargs["metadata"], str):
            warnings.warn("Cifti2MetaData now has a dict-like interface and will no longer accept "
                          "the ``metadata`` keyword argument in NiBabel 6.0.", FutureWarning, stacklevel=3)
            md = kwargs.pop("metadata")
            args = () if md is None else (md,)
        if args == (None,):
            warnings.warn("Cifti2MetaData now has a dict-like interface and will no longer accept "
                          "the positional argument ``None`` in NiBabel 6.0.", FutureWarning, stacklevel=3)
            args = ()
        return args, kwargs

    @property
    def data(self) -> dict[Any, Any]:
        """The underlying dict."""
        return self._data

    def difference_update(self, metadata: Any) -> None:
        """Remove every key of ``metadata`` (KeyError if one is missing)."""
        if metadata is None:
            raise InvalidArgumentError("The metadata parameter can't be None")
        for key in dict(metadata):
            del self._data[key]


class Cifti2Label(xml.XmlSerializable):
    """A label: integer key, name and RGBA colour (floats in [0, 1])."""

    def __init__(self, key: int = 0, label: str = "", red: float = 0.0, green: float = 0.0,
                 blue: float = 0.0, alpha: float = 0.0) -> None:
        self.key, self.label = int(key), str(label)
        self.red, self.green, self.blue, self.alpha = (_float_01(c) for c in (red, green, blue, alpha))

    @property
    def rgba(self) -> tuple[float, float, float, float]:
        """Red, green, blue and alpha."""
        return (self.red, self.green, self.blue, self.alpha)

    def __repr__(self) -> str:
        return f"<Cifti2Label {self.key}={self.label!r} rgba={self.rgba}>"

    def _to_xml_element(self) -> xml.Element:
        if self.label == "":
            raise Cifti2HeaderError("Label needs a name")
        try:
            int(self.key)
        except (TypeError, ValueError):
            raise Cifti2HeaderError(f"Label key must be an integer, not {self.key!r}") from None
        elem = xml.Element("Label", Key=str(self.key))
        elem.text = str(self.label)
        for name in ("red", "green", "blue", "alpha"):
            value = getattr(self, name)
            try:
                value = _float_01(value)
            except (TypeError, ValueError):
                raise Cifti2HeaderError(
                    f"Label {name} must be a float between 0 and 1, not {value!r}") from None
            elem.set(name.capitalize(), "0" if value == 0 else "1" if value == 1 else str(value))
        return elem


class Cifti2LabelTable(xml.XmlSerializable, MutableMapping):
    """Labels by key; values are :class:`Cifti2Label` or (name, r, g, b, a) tuples."""

    def __init__(self) -> None:
        self._labels: dict[int, Cifti2Label] = {}

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, key: int) -> Cifti2Label:
        return self._labels[key]

    def __iter__(self) -> Iterator[int]:
        return iter(self._labels)

    def __delitem__(self, key: int) -> None:
        del self._labels[key]

    def append(self, label: Cifti2Label) -> None:
        """Add ``label`` under its own key."""
        self[label.key] = label

    def __setitem__(self, key: int, value: Any) -> None:
        if isinstance(value, Cifti2Label):
            if key != value.key:
                raise InvalidArgumentError("The key and the label's key must agree")
            self._labels[key] = value
            return
        if len(value) != 5:
            raise InvalidArgumentError("Value should be length 5")
        try:
            self._labels[key] = Cifti2Label(key, *value)
        except (TypeError, ValueError):
            raise InvalidArgumentError("Key should be int, value should be sequence of str and 4 floats "
                             "between 0 and 1") from None

    def _to_xml_element(self) -> xml.Element:
        if not self._labels:
            raise Cifti2HeaderError("LabelTable element requires at least 1 label")
        table = xml.Element("LabelTable")
        for label in self._labels.values():
            table.append(label._to_xml_element())
        return table


class Cifti2NamedMap(xml.XmlSerializable):
    """One map of a scalars or labels dimension: its name, metadata and (labels) label table."""

    def __init__(self, map_name: str | None = None, metadata: Cifti2MetaData | None = None,
                 label_table: Cifti2LabelTable | None = None) -> None:
        self.map_name = map_name
        self.metadata, self.label_table = metadata, label_table  # both checked by their setters

    @property
    def metadata(self) -> Cifti2MetaData | None:
        return self._metadata

    @metadata.setter
    def metadata(self, metadata: Cifti2MetaData | None) -> None:
        self._metadata = _value_if_klass(metadata, Cifti2MetaData)

    @property
    def label_table(self) -> Cifti2LabelTable | None:
        return self._label_table

    @label_table.setter
    def label_table(self, label_table: Cifti2LabelTable | None) -> None:
        self._label_table = _value_if_klass(label_table, Cifti2LabelTable)

    def _to_xml_element(self) -> xml.Element:
        elem = xml.Element("NamedMap")
        if self.metadata:
            elem.append(self.metadata._to_xml_element())
        if self.label_table:
            elem.append(self.label_table._to_xml_element())
        xml.SubElement(elem, "MapName").text = self.map_name
        return elem
