"""Headers backed by one numpy structured array (a fixed binary block on disk).

``WrapStruct`` gives dict-like access to the fields of a binary header whose
layout is ``template_dtype``, in either byte order, plus the check/fix battery
run when a header is read. ``LabeledWrapStruct`` adds human labels for coded
fields (``hdr.get_value_label('datatype')``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import IO, Any, ClassVar, TypeVar

import numpy as np

from .batteryrunners import BatteryRunner
from .errors import InvalidArgumentError, NivoxError
from . import imageglobals
from .validation import handle_reports, named
from .volumeutils import Recoder, endian_codes, native_code, pretty_mapping, swapped_code

__all__ = ["LabeledWrapStruct", "WrapStruct", "WrapStructError"]

WrapT = TypeVar("WrapT", bound="WrapStruct")

logger = logging.getLogger("nivox.global")


class WrapStructError(NivoxError, ValueError):
    """A binary block that does not fit the structure."""


def _byteorder_of(dtype: np.dtype) -> str:
    """Byte order of a structured dtype: that of its first multi-byte field."""
    for name in dtype.names or ():
        order = dtype.fields[name][0].base.byteorder
        if order in "<>":
            return order
        if order == "=":
            return native_code
    return native_code


class WrapStruct:
    """A binary header: named fields of ``template_dtype`` over a block of bytes."""

    template_dtype: ClassVar[np.dtype] = np.dtype([("integer", "i2")])

    def __init__(
        self,
        binaryblock: bytes | None = None,
        endianness: str | None = None,
        check: bool = True,
    ) -> None:
        if binaryblock is None:
            self._structarr = self.__class__.default_structarr(endianness)
            return
        size = self.template_dtype.itemsize
        if len(binaryblock) != size:
            raise WrapStructError(named(f"Binary block is {len(binaryblock)} bytes, should be {size}"))
        # copy: the header must not alias (or keep alive) the caller's buffer
        block = bytes(binaryblock[:size])
        order = self.guessed_endian(np.ndarray((), self.template_dtype, block)) if endianness is None \
            else endian_codes[endianness]
        dtype = self.template_dtype.newbyteorder(order)
        self._structarr = np.ndarray((), dtype=dtype, buffer=bytearray(block))
        if check:
            self.check_fix()

    @classmethod
    def from_fileobj(cls: type[WrapT], fileobj: IO[bytes], endianness: str | None = None,
                     check: bool = True) -> WrapT:
        """Read a header from the current position of ``fileobj``."""
        raw = fileobj.read(cls.template_dtype.itemsize)
        return cls(raw, endianness, check)

    @property
    def binaryblock(self) -> bytes:
        """The header as the bytes written to disk."""
        return self._structarr.tobytes()

    def write_to(self, fileobj: IO[bytes]) -> None:
        """Write the binary block at the current position of ``fileobj``."""
        fileobj.write(self.binaryblock)

    @property
    def endianness(self) -> str:
        """'<' or '>': the byte order of the header on disk."""
        return _byteorder_of(self._structarr.dtype)

    def copy(self: WrapT) -> WrapT:
        """An independent copy with the same byte order (not checked again)."""
        return self.__class__(self.binaryblock, self.endianness, check=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WrapStruct):
            return NotImplemented
        if self._structarr.dtype.newbyteorder("=") != other._structarr.dtype.newbyteorder("="):
            return False
        if self.endianness != other.endianness:
            other = other.as_byteswapped(self.endianness)
        return self.binaryblock == other.binaryblock

    __hash__ = None  # type: ignore[assignment]

    def __getitem__(self, item: str) -> Any:
        return self._structarr[item]

    def __setitem__(self, item: str, value: Any) -> None:
        self._structarr[item] = value

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def keys(self) -> list[str]:
        return list(self.template_dtype.names)

    def values(self) -> list[Any]:
        return [self._structarr[key] for key in self.keys()]

    def items(self) -> Iterator[tuple[str, Any]]:
        return zip(self.keys(), self.values())

    def get(self, key: str, default: Any = None) -> Any:
        return self._structarr[key] if key in self.keys() else default

    @property
    def structarr(self) -> np.ndarray:
        """The structured array behind the header (shared, not a copy)."""
        return self._structarr

    def __str__(self) -> str:
        summary = f"{self.__class__} object, endian='{self.endianness}'"
        return f"{summary}\n{pretty_mapping(self)}"

    def as_byteswapped(self: WrapT, endianness: str | None = None) -> WrapT:
        """A copy in byte order ``endianness`` (the other order by default)."""
        current = self.endianness
        if endianness is None:
            target = swapped_code if current == native_code else native_code
        else:
            target = endian_codes[endianness]
        if target == current:
            return self.copy()
        swapped = self._structarr.astype(self._structarr.dtype.newbyteorder(target))
        return self.__class__(swapped.tobytes(), target, check=False)

    @classmethod
    def default_structarr(cls, endianness: str | None = None) -> np.ndarray:
        """A zeroed header in ``endianness`` (native by default)."""
        dtype = cls.template_dtype
        if endianness is not None:
            dtype = dtype.newbyteorder(endian_codes[endianness])
        return np.zeros((), dtype=dtype)

    @classmethod
    def guessed_endian(cls, mapping: Mapping[str, Any] | np.ndarray) -> str:
        """The byte order the header's bytes were written in (native unless told otherwise)."""
        return native_code

    # ---- checks ------------------------------------------------------------

    @classmethod
    def _get_checks(cls) -> tuple[Any, ...]:
        """The check functions, each ``check(hdr, fix) -> (hdr, Report)``."""
        return ()

    def check_fix(self, logger: logging.Logger | None = None,
                  error_level: int | None = None) -> None:
        """Fix what the checks can fix; log, warn about or raise the problems found.

        What is reported and what raises follows the validation mode
        (:mod:`nivox.validation`; by default nibabel's: log, warn from level
        30, raise from level 40). ``error_level`` replaces the mode's raising
        threshold. Messages name the file being read, when there is one.
        ``logger`` defaults to :data:`nivox.imageglobals.logger`, read at call time.
        """
        if logger is None:
            logger = imageglobals.logger
        battery = BatteryRunner(self.__class__._get_checks())
        fixed, reports = battery.check_fix(self)
        self._structarr = fixed._structarr
        handle_reports(reports, log=logger, error_level=error_level,
                       remaining=lambda: battery.check_only(self))

    @classmethod
    def diagnose_binaryblock(cls, binaryblock: bytes, endianness: str | None = None) -> str:
        """Text describing every problem the checks find in ``binaryblock`` (empty if none)."""
        header = cls(binaryblock, endianness=endianness, check=False)
        reports = BatteryRunner(cls._get_checks()).check_only(header)
        return "\n".join(r.problem_msg for r in reports if r.problem_level > 0)


class LabeledWrapStruct(WrapStruct):
    """A WrapStruct whose coded fields have labels through ``_field_recoders``."""

    _field_recoders: ClassVar[dict[str, Recoder]] = {}

    def get_value_label(self, fieldname: str) -> str:
        """The label of the code stored in ``fieldname`` ('<unknown code N>' if not in the table)."""
        if fieldname not in self._field_recoders:
            raise InvalidArgumentError(f"{fieldname} is not a coded field")
        code = self[fieldname].item()
        try:
            return self._field_recoders[fieldname].label[code]
        except KeyError:
            return f"<unknown code {code}>"

    def __str__(self) -> str:
        summary = f"{self.__class__} object, endian='{self.endianness}'"

        def value_of(obj: Any, key: str) -> Any:
            if key in self._field_recoders:
                return self.get_value_label(key)
            return obj[key]

        return f"{summary}\n{pretty_mapping(self, value_of)}"
