"""Settings shared by every header check: the logger and the level at which problems raise.

``error_level`` is the problem level (see :mod:`nivox.batteryrunners`) from
which ``check_fix`` raises instead of fixing; it is read at call time, so
assigning ``imageglobals.error_level = 30`` (or using :class:`ErrorLevel`)
takes effect at once. ``logger`` is where fixed problems are logged; set its
``level`` to choose what is shown. Both can be replaced, as in nibabel.
"""

from __future__ import annotations

import logging
from types import TracebackType

__all__ = ["ErrorLevel", "LoggingOutputSuppressor", "error_level", "logger"]

#: problems at this level or above raise (when the validation mode does not say otherwise)
error_level: int = logging.ERROR

#: the logger header checks report to; nivox reports problems as warnings too,
#: so it gets no printing handler of its own (Python's last-resort handler
#: would otherwise print every problem a second time)
logger: logging.Logger = logging.getLogger("nivox.global")
logger.addHandler(logging.NullHandler())


class ErrorLevel:
    """Context manager: use ``level`` as :data:`error_level` inside the block.

    Parameters
    ----------
    level : int
        Problem level from which checks raise.
    """

    def __init__(self, level: int) -> None:
        self.level = level
        self._saved: int | None = None

    def __enter__(self) -> None:
        global error_level
        self._saved = error_level
        error_level = self.level

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        global error_level
        if self._saved is not None:
            error_level = self._saved


class LoggingOutputSuppressor:
    """Context manager: :data:`logger` has no handlers inside the block, so prints nothing."""

    def __init__(self) -> None:
        self.orig_handlers: list[logging.Handler] = []

    def __enter__(self) -> None:
        self.orig_handlers = list(logger.handlers)
        for handler in self.orig_handlers:
            logger.removeHandler(handler)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for handler in self.orig_handlers:
            logger.addHandler(handler)
