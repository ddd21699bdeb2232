"""A one-line progress bar on stderr for the ``nivox`` commands, drawn only on a terminal."""

from __future__ import annotations

import math
import shutil
import sys
import time
from typing import IO

__all__ = ["Progress"]


class Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal.

    It redraws at most every ``interval`` seconds and erases itself when
    closed, so output printed afterwards starts on a clean line. Use
    :meth:`clear` before printing anything else to the terminal.
    """

    def __init__(self, total: int, label: str = "", stream: IO[str] | None = None,
                 enabled: bool | None = None, interval: float = 0.1) -> None:
        self.stream = sys.stderr if stream is None else stream
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.total = max(int(total), 0)
        self.done = 0
        self.label = label
        self.interval = interval
        self._last_draw = -math.inf
        self._width = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def advance(self, steps: int = 1, label: str | None = None) -> None:
        """Count ``steps`` more done; optionally change the label."""
        self.done = min(self.done + steps, self.total)
        if label is not None:
            self.label = label
        self._draw(force=self.done == self.total)

    def set_label(self, label: str) -> None:
        """Show ``label`` in front of the bar (for a new phase, such as writing)."""
        self.label = label
        self._draw(force=True)

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        columns = shutil.get_terminal_size((80, 24)).columns - 1
        count = f" {self.done}/{self.total}"
        bar_width = max(10, min(30, columns // 3))
        filled = bar_width * self.done // self.total if self.total else bar_width
        bar = "[" + "#" * filled + "." * (bar_width - filled) + "]"
        room = max(columns - len(bar) - len(count) - 1, 0)
        label = self.label if len(self.label) <= room else "..." + self.label[-(room - 3):]
        text = f"{label[:room]} {bar}{count}" if room else f"{bar}{count}"
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)

    def clear(self) -> None:
        """Erase the bar from the terminal line (it is redrawn on the next step)."""
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0
            self._last_draw = -math.inf

    def close(self) -> None:
        """Erase the bar for good."""
        self.clear()
        self.enabled = False
