"""CaretMetaData: the name/value metadata shared by GIFTI and CIFTI-2 (``<MetaData><MD>...``)."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

from . import xmlutils as xml

__all__ = ["CaretMetaData"]


class CaretMetaData(xml.XmlSerializable, MutableMapping):
    """Metadata as a mutable mapping of names to values, written as ``<MetaData>``.

    Built like a ``dict``: ``CaretMetaData(key='val')``, ``CaretMetaData({'key': 'val'})``
    or from a sequence of pairs.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        args, kwargs = self._sanitize(args, kwargs)
        self._data: dict[Any, Any] = dict(*args, **kwargs)

    @staticmethod
    def _sanitize(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Hook for subclasses that still accept older calling conventions."""
        return args, kwargs

    def __getitem__(self, key: Any) -> Any:
        return self._data[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._data[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._data[key]

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._data)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._data!r}>"

    def _to_xml_element(self) -> xml.Element:
        metadata = xml.Element("MetaData")
        for name, value in self._data.items():
            entry = xml.SubElement(metadata, "MD")
            xml.SubElement(entry, "Name").text = str(name)
            xml.SubElement(entry, "Value").text = str(value)
        return metadata
