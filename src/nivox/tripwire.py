"""A placeholder object that raises on use, standing in for a module that could not be imported.

See :func:`nivox.optpkg.optional_package`. ``TripWireError`` is a
:class:`~nivox.errors.NivoxError` and an ``AttributeError``, so
``hasattr(tripwire, name)`` is False and ``except AttributeError`` catches it.
"""

from __future__ import annotations

from typing import Any, NoReturn

from .errors import NivoxError

__all__ = ["TripWire", "TripWireError", "is_tripwire"]


class TripWireError(NivoxError, AttributeError):
    """An optional package was needed but could not be imported (or was too old)."""


class TripWire:
    """Stand-in for a missing module: any attribute access raises :class:`TripWireError`.

    Parameters
    ----------
    msg : str
        Message of the error raised on access.
    cause : BaseException, optional
        The original import problem, chained to the raised error.
    """

    def __init__(self, msg: str, cause: BaseException | None = None) -> None:
        self._msg = msg
        self._cause = cause

    def __getattr__(self, name: str) -> NoReturn:
        # read through __dict__: copy/pickle probe attributes before __init__ has run
        state = self.__dict__
        raise TripWireError(state.get("_msg", "missing optional package")) from state.get("_cause")

    def __repr__(self) -> str:
        return f"<TripWire: {self._msg}>"


def is_tripwire(obj: Any) -> bool:
    """True when using ``obj`` trips a :class:`TripWireError`, as a :class:`TripWire` does."""
    try:
        obj.any_attribute  # noqa: B018 - the access is the test
    except TripWireError:
        return True
    except Exception:  # noqa: BLE001, S110 - any other failure means "not a tripwire"
        pass
    return False
