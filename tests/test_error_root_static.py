"""No module of nivox raises a bare builtin exception for a failure a user can cause.

Every ``raise SomeBuiltinError(...)`` in src/nivox is found by parsing the
sources; each must raise a NivoxError subclass instead (they also subclass the
builtin, so ``except ValueError`` keeps working). Exempt are the builtins that
are protocols rather than failures (AttributeError for missing attributes,
StopIteration, NotImplementedError of abstract methods), and a line marked
``# internal error`` for invariants no input can break.
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "nivox"
EXEMPT = {"AttributeError", "StopIteration", "NotImplementedError", "AssertionError",
          "KeyboardInterrupt", "SystemExit", "GeneratorExit", "MemoryError"}
BUILTIN_ERRORS = {name for name, obj in vars(builtins).items()
                  if isinstance(obj, type) and issubclass(obj, BaseException)} - EXEMPT


def bare_raises() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        source = path.read_text()
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id in BUILTIN_ERRORS:
                if "# internal error" in lines[node.lineno - 1]:
                    continue
                found.append(f"{path.relative_to(SRC)}:{node.lineno}: raise {target.id}")
    return found


def test_every_raise_uses_the_error_root():
    assert bare_raises() == []
