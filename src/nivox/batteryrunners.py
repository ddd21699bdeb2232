"""Running a battery of checks over an object, reporting problems and optionally fixing them.

A check is a function ``check(obj, fix=False) -> (obj, Report)``. With
``fix=True`` it repairs what it can and says so in the report's ``fix_msg``.
Problem levels follow :mod:`logging` (10 debug ... 50 critical).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any

__all__ = ["BatteryRunner", "Report"]

Check = Callable[..., tuple[Any, "Report"]]


class BatteryRunner:
    """Run a sequence of checks, to report (``check_only``) or to repair (``check_fix``)."""

    def __init__(self, checks: Iterable[Check]) -> None:
        self._checks = tuple(checks)

    def check_only(self, obj: Any) -> list[Report]:
        """The report of every check, changing nothing."""
        return [check(obj, fix=False)[1] for check in self._checks]

    def check_fix(self, obj: Any) -> tuple[Any, list[Report]]:
        """Run every check with fixing on; return the (possibly new) object and reports."""
        reports = []
        for check in self._checks:
            obj, report = check(obj, fix=True)
            reports.append(report)
        return obj, reports

    def __len__(self) -> int:
        return len(self._checks)

    def __iter__(self) -> Iterator[Check]:
        return iter(self._checks)


class Report:
    """What one check found: the error type, a level, a message and what was fixed."""

    def __init__(
        self,
        error: type[Exception] = Exception,
        problem_level: int = 0,
        problem_msg: str = "",
        fix_msg: str = "",
    ) -> None:
        self.error = error
        self.problem_level = problem_level
        self.problem_msg = problem_msg
        self.fix_msg = fix_msg

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.error, self.problem_level, self.problem_msg, self.fix_msg)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Report):
            return NotImplemented
        return self.__getstate__() == other.__getstate__()

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        # the message; a report of no problem describes itself rather than print as ''
        return self.message or repr(self)

    def __repr__(self) -> str:
        return f"Report({self.error.__name__}, {self.problem_level}, {self.problem_msg!r}, {self.fix_msg!r})"

    @property
    def message(self) -> str:
        """Problem and fix in one line, empty when there was no problem."""
        if self.fix_msg:
            return f"{self.problem_msg}; {self.fix_msg}"
        return self.problem_msg

    def log_raise(self, logger: logging.Logger, error_level: int = 40) -> None:
        """Log the problem at its level, and raise it if that level reaches ``error_level``."""
        if not self.problem_msg:
            return
        logger.log(self.problem_level, self.message)
        if self.problem_level and self.problem_level >= error_level:
            raise self.error(self.problem_msg)

    def write_raise(self, stream: IO[str], error_level: int = 40, log_level: int = 30) -> None:
        """Write the problem to ``stream`` if at ``log_level`` or above; raise at ``error_level``."""
        if self.problem_level >= log_level and self.problem_msg:
            stream.write(f"Level {self.problem_level}: {self.message}\n")
        if self.problem_level and self.problem_level >= error_level and self.error:
            raise self.error(self.problem_msg)


def report_problem(
    obj: Any,
    fix: bool,
    error: type[Exception],
    level: int,
    problem_msg: str,
    fix_msg: str = "",
    set_items: Mapping[str, Any] | None = None,
) -> tuple[Any, Report]:
    """``(obj, report)`` for a problem a check found in `obj`.

    With `fix`, ``obj[key] = value`` is done for each of `set_items` and the
    report records `fix_msg`; without it `obj` is untouched and ``fix_msg`` empty.
    """
    if fix:
        for key, value in (set_items or {}).items():
            obj[key] = value
    return obj, Report(error, level, problem_msg, fix_msg if fix else "")
