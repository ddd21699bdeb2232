"""The parts of a GIFTI file other than the image: metadata, label tables, coordinate systems.

:class:`GiftiMetaData` is a mapping of names to values; the list-of-pairs
interface of older nibabel versions (:class:`GiftiNVPairs`, ``.data``) still
works, with deprecation warnings, as it does in nibabel 5.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .. import xmlutils as xml
from ..caret import CaretMetaData
from ..deprecator import deprecate_with_version
from ..nifti1 import xform_codes
from ..errors import InvalidArgumentError

__all__ = ["GiftiCoordSystem", "GiftiLabel", "GiftiLabelTable", "GiftiMetaData", "GiftiNVPairs"]

_deprecated = deprecate_with_version


class GiftiNVPairs:
    """One name/value pair of GIFTI metadata (deprecated: use :class:`GiftiMetaData` as a dict).

    A pair taken from ``GiftiMetaData.data`` writes changes of its name or
    value through to that metadata.
    """

    @_deprecated("GiftiNVPairs objects are deprecated. Use the GiftiMetaData object as a dict, instead.",
                 "4.0", "6.0", warn_class=DeprecationWarning)
    def __init__(self, name: str = "", value: str = "") -> None:
        self._name = name
        self._value = value
        self._container: GiftiMetaData | None = None

    @classmethod
    def _bound(cls, name: Any, value: Any, container: GiftiMetaData) -> GiftiNVPairs:
        pair = cls.__new__(cls)
        pair._name, pair._value, pair._container = name, value, container
        return pair

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GiftiNVPairs):
            return NotImplemented
        return (self.name, self.value) == (other.name, other.value)

    __hash__ = None  # type: ignore[assignment]

    @property
    def name(self) -> Any:
        return self._name

    @name.setter
    def name(self, key: Any) -> None:
        if self._container is not None:
            self._container[key] = self._container.pop(self._name)
        self._name = key

    @property
    def value(self) -> Any:
        return self._value

    @value.setter
    def value(self, val: Any) -> None:
        if self._container is not None:
            self._container[self._name] = val
        self._value = val


class _PairList(list):
    """The pairs of a GiftiMetaData as a list whose changes reach the metadata."""

    def __init__(self, metadata: GiftiMetaData) -> None:
        self._md = metadata
        super().__init__(GiftiNVPairs._bound(k, v, metadata) for k, v in metadata.items())

    def _adopt(self, pair: GiftiNVPairs) -> GiftiNVPairs:
        self._md[pair.name] = pair.value
        pair._container = self._md
        return pair

    def append(self, pair: GiftiNVPairs) -> None:
        super().append(self._adopt(pair))

    def extend(self, pairs: Iterable[GiftiNVPairs]) -> None:
        for pair in pairs:
            self.append(pair)

    def insert(self, index: Any, pair: GiftiNVPairs) -> None:
        super().insert(index, self._adopt(pair))

    def clear(self) -> None:
        super().clear()
        self._md.clear()

    def pop(self, index: Any = -1) -> GiftiNVPairs:
        pair = super().pop(index)
        pair._container = None
        del self._md[pair.name]
        return pair

    def remove(self, pair: GiftiNVPairs) -> None:
        super().remove(pair)
        del self._md[pair.name]


class GiftiMetaData(CaretMetaData):
    """GIFTI metadata: a mutable mapping of names to values."""

    @staticmethod
    def _sanitize(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        old_style = (not kwargs and len(args) == 1 and isinstance(args[0], GiftiNVPairs)) or (
            not args and list(kwargs) == ["nvpair"])
        if not old_style:
            return args, kwargs
        warnings.warn(
            "GiftiMetaData now has a dict-like interface; passing GiftiNVPairs or the nvpair "
            "keyword will fail or behave unexpectedly in NiBabel 6.0.",
            FutureWarning, stacklevel=3)
        pair = args[0] if args else kwargs["nvpair"]
        return (), {pair.name: pair.value}

    @property
    @_deprecated("The data attribute is deprecated. Use GiftiMetaData object directly as a dict.",
                 "4.0", "6.0", warn_class=DeprecationWarning)
    def data(self) -> list[GiftiNVPairs]:
        return _PairList(self)

    @classmethod
    @_deprecated("from_dict class method deprecated. Use GiftiMetaData directly.", "4.0", "6.0",
                 warn_class=DeprecationWarning)
    def from_dict(cls, data_dict: Any) -> GiftiMetaData:
        return cls(data_dict)

    @property
    @_deprecated("metadata property deprecated. Use GiftiMetaData object as dict or pass to "
                 "dict() for a standard dictionary.", "4.0", "6.0", warn_class=DeprecationWarning)
    def metadata(self) -> dict[Any, Any]:
        return dict(self)

    def print_summary(self) -> None:
        print(dict(self))


class GiftiLabel(xml.XmlSerializable):
    """A label key with an optional RGBA colour (each component None or a float in [0, 1])."""

    def __init__(self, key: int = 0, red: float | None = None, green: float | None = None,
                 blue: float | None = None, alpha: float | None = None) -> None:
        self.key = key
        self.red, self.green, self.blue, self.alpha = red, green, blue, alpha
        self.label: str = ""

    def __repr__(self) -> str:
        parts = [min(max(float(c or 0), 0.0), 1.0) for c in self.rgba]
        r, g, b, a = (int(255 * c) for c in parts)
        return f'<GiftiLabel {self.key}="#{r:02x}{g:02x}{b:02x}{a:02x}">'

    @property
    def rgba(self) -> tuple[float | None, float | None, float | None, float | None]:
        """Red, green, blue and alpha as a tuple."""
        return (self.red, self.green, self.blue, self.alpha)

    @rgba.setter
    def rgba(self, rgba: Sequence[float | None]) -> None:
        if len(rgba) != 4:
            raise InvalidArgumentError("rgba must be length 4.")
        self.red, self.green, self.blue, self.alpha = rgba


class GiftiLabelTable(xml.XmlSerializable):
    """The keys and names of label values (one table per file, before the data arrays)."""

    def __init__(self) -> None:
        self.labels: list[GiftiLabel] = []

    def __repr__(self) -> str:
        return f"<GiftiLabelTable {self.labels!r}>"

    def get_labels_as_dict(self) -> dict[int, str]:
        """``{key: name}`` for every label."""
        self.labels_as_dict = {lab.key: lab.label for lab in self.labels}
        return self.labels_as_dict

    def _to_xml_element(self) -> xml.Element:
        table = xml.Element("LabelTable")
        for lab in self.labels:
            elem = xml.SubElement(table, "Label", Key=str(lab.key))
            elem.text = lab.label
            for attr in ("Red", "Green", "Blue", "Alpha"):
                value = getattr(lab, attr.lower(), None)
                if value is not None:
                    elem.set(attr, str(value))
        return table

    def print_summary(self) -> None:
        print(self.get_labels_as_dict())


def _matrix_text(matrix: Any) -> str:
    rows = np.atleast_2d(np.asarray(matrix, dtype=np.float64))
    return "\n".join(" ".join(f"{v:10.6f}" for v in row) for row in rows.tolist())


class GiftiCoordSystem(xml.XmlSerializable):
    """A transform from the space of a pointset's coordinates (``dataspace``) to another.

    Parameters
    ----------
    dataspace, xformspace : int or str
        NIfTI xform codes of the spaces before and after ``xform``.
    xform : (4, 4) array, optional
        The affine; identity when not given.
    """

    def __init__(self, dataspace: Any = 0, xformspace: Any = 0, xform: Any = None) -> None:
        self.dataspace = dataspace
        self.xformspace = xformspace
        self.xform = np.identity(4) if xform is None else xform

    def __repr__(self) -> str:
        spaces = "-to-".join(xform_codes.label[code] for code in (self.dataspace, self.xformspace))
        return f"<GiftiCoordSystem {spaces}>"

    def _to_xml_element(self) -> xml.Element:
        elem = xml.Element("CoordinateSystemTransformMatrix")
        if self.xform is not None:
            xml.SubElement(elem, "DataSpace").text = xform_codes.niistring[self.dataspace]
            xml.SubElement(elem, "TransformedSpace").text = xform_codes.niistring[self.xformspace]
            xml.SubElement(elem, "MatrixData").text = _matrix_text(self.xform)
        return elem

    def print_summary(self) -> None:
        for title, code in (("Dataspace", self.dataspace), ("XFormSpace", self.xformspace)):
            print(f"{title}: ", xform_codes.niistring[code])
        print("Affine Transformation Matrix:\n", self.xform)
