"""XML for the XML-based formats (GIFTI, CIFTI-2): serialising with ElementTree, parsing with expat.

Parsing uses the standard library's expat parser, hardened the way
``defusedxml`` hardens it: a document may carry a ``<!DOCTYPE>`` line naming
an external DTD (every GIFTI file written by Caret, Workbench or nibabel has
one; it is never fetched), but any entity declaration, internal or external,
is refused before it can be expanded. That stops "billion laughs" expansion
bombs and external entity reads. Parse errors become :class:`XmlParseError`
(a :class:`~nivox.errors.NivoxError`, ``ValueError`` and ``ExpatError``)
naming the file.
"""

from __future__ import annotations

import os

from io import BytesIO
from typing import IO, Any
from xml.etree.ElementTree import Element, SubElement, indent, tostring
from xml.parsers.expat import ExpatError, ParserCreate

from .errors import InvalidArgumentError, NivoxError, XmlParseError
from .filebasedimages import FileBasedHeader

__all__ = ["Element", "SubElement", "XmlBasedHeader", "XmlParseError", "XmlParser",
           "XmlSerializable", "tostring"]


class XmlSerializable:
    """Something that turns itself into an XML element (``_to_xml_element``) and bytes."""

    def _to_xml_element(self) -> Element:
        raise NotImplementedError

    def to_xml(self, enc: str = "utf-8", **kwargs: Any) -> bytes:
        """The element as bytes in encoding ``enc`` (kwargs go to ElementTree's ``tostring``)."""
        return tostring(self._to_xml_element(), enc, **kwargs)


class XmlBasedHeader(FileBasedHeader, XmlSerializable):
    """A header that is an XML document."""


def pretty(element: Element) -> Element:
    """Indent ``element``'s children one per line (text of leaf elements is left as is)."""
    indent(element, space=" ")
    return element


def _refuse(what: str, error_class: type[XmlParseError]) -> Any:
    def handler(*args: Any) -> None:
        raise error_class(f"XML {what} refused: entity declarations can expand without bound")

    return handler


class XmlParser:
    """An expat-driven parser: subclasses give the element and character handlers.

    Parameters
    ----------
    encoding : str or None
        Overrides the document's own encoding declaration.
    buffer_size : int or None
        Size of expat's text buffer (None: expat's default).
    verbose : int
        Prints elements as they are seen when above 0.
    """

    error_class: type[XmlParseError] = XmlParseError
    HANDLER_NAMES = ["StartElementHandler", "EndElementHandler", "CharacterDataHandler"]

    def __init__(self, encoding: str | None = "utf-8", buffer_size: int | None = 35000000,
                 verbose: int = 0) -> None:
        self.encoding = encoding
        self.buffer_size = buffer_size
        self.verbose = verbose
        self.fname: str | None = None

    def _create_parser(self) -> Any:
        parser = ParserCreate(encoding=self.encoding)
        parser.buffer_text = True
        if self.buffer_size is not None:
            parser.buffer_size = self.buffer_size
        parser.EntityDeclHandler = _refuse("entity declaration", self.error_class)
        parser.UnparsedEntityDeclHandler = _refuse("unparsed entity declaration", self.error_class)
        parser.ExternalEntityRefHandler = _refuse("external entity reference", self.error_class)
        return parser

    def parse(self, string: bytes | None = None, fname: str | None = None,
              fptr: IO[bytes] | None = None) -> None:
        """Parse one of ``string`` (bytes), ``fname`` (a path) or ``fptr`` (a binary file)."""
        if (string is not None) + (fptr is not None) + (fname is not None) != 1:
            raise InvalidArgumentError("Exactly one of fptr, fname, string must be specified.")
        if fname is not None:
            with open(fname, "rb") as fobj:
                self.fname = fname
                self._run(fobj)
            return
        if string is not None:
            fptr = BytesIO(string)
        if self.fname is None:
            self.fname = getattr(fptr, "name", None)
        self._run(fptr)

    def _run(self, fptr: Any) -> None:
        parser = self._create_parser()
        for name in self.HANDLER_NAMES:
            setattr(parser, name, getattr(self, name))
        try:
            parser.ParseFile(fptr)
        except XmlParseError as err:
            raise self._named(err) from None
        except NivoxError as err:
            if self.fname is not None and os.fsdecode(self.fname) in str(err):
                raise  # already says which file
            # a lookup in one of nivox's tables (an unknown code) failed: name the file
            raise self._named(self.error_class(f"invalid content: {type(err).__name__}: {err}")) from None
        except ExpatError as err:
            raise self._named(self.error_class(str(err))) from None
        except (KeyError, ValueError, TypeError, IndexError, AttributeError, OverflowError,
                AssertionError, LookupError) as err:  # LookupError: an unknown declared encoding
            # a handler met a value it cannot use (an unknown code, a non-number)
            raise self._named(self.error_class(f"invalid content: {type(err).__name__}: {err}")) from None

    def _named(self, err: XmlParseError) -> XmlParseError:
        where = self.fname if isinstance(self.fname, str) else "<XML bytes>"
        msg = str(err)
        klass = type(err) if isinstance(err, self.error_class) else self.error_class
        if where not in msg or klass is not type(err):
            err = klass(msg if where in msg else f"{where}: {msg}")
        return err

    def StartElementHandler(self, name: str, attrs: dict[str, str]) -> None:  # noqa: N802
        raise NotImplementedError

    def EndElementHandler(self, name: str) -> None:  # noqa: N802
        raise NotImplementedError

    def CharacterDataHandler(self, data: str) -> None:  # noqa: N802
        raise NotImplementedError
