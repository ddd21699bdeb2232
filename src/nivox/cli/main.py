"""The ``nivox`` command: argument parsing and dispatch to one module per command.

Each command module provides ``add_parser(subparsers, parents)`` and
``run(args) -> int``. ``nivox`` alone, or followed by a file name
(``nivox brain.nii``), runs ``describe``; a first word that is neither a
command nor a file (``nivox lss``) is reported with the list of commands.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

__all__ = ["COMMANDS", "DEFAULT_COMMAND", "build_parser", "main"]

PROG = "nivox"
#: command name -> module implementing it; imported only when the parser is built
COMMANDS: dict[str, str] = {
    "describe": "nivox.cli.describe",
    "ls": "nivox.cli.ls",
    "header": "nivox.cli.header",
    "diff": "nivox.cli.diff",
    "stats": "nivox.cli.stats",
    "convert": "nivox.cli.convert",
    "conform": "nivox.cli.conform",
    "reorient": "nivox.cli.reorient",
    "view": "nivox.cli.view",
    "roi": "nivox.cli.roi",
}
DEFAULT_COMMAND = "describe"
_TOP_LEVEL_FLAGS = frozenset({"-h", "--help", "--version"})


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(COMMANDS[name])


def build_parser() -> argparse.ArgumentParser:
    """The parser for ``nivox`` and all its subcommands."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Inspect neuroimaging files with nivox. "
                    f"Without a command, runs '{DEFAULT_COMMAND}'.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true",
                        help="show the full traceback when something fails")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        _command_module(name).add_parser(subparsers, [common])
    return parser


def _with_default_command(argv: list[str]) -> list[str]:
    if not argv or (argv[0] not in COMMANDS and argv[0] not in _TOP_LEVEL_FLAGS):
        return [DEFAULT_COMMAND, *argv]
    return argv


def _mistyped_command(word: str) -> str | None:
    """The error for a first word that looks like a command but is none, else None.

    ``nivox FILE`` describes FILE, so only a word that is no existing path and
    has no file-name look (no dot, separator or glob) is taken as a mistyped command.
    """
    import glob
    import os

    if word in COMMANDS or word.startswith("-") or os.path.exists(word):
        return None
    if any(mark in word for mark in (".", os.sep, "/")) or glob.has_magic(word):
        return None
    import difflib

    close = difflib.get_close_matches(word, list(COMMANDS), n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return (f"{PROG}: error: '{word}' is not a command nor a file{hint}; "
            f"commands: {', '.join(COMMANDS)}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``nivox`` command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    mistyped = _mistyped_command(args_list[0]) if args_list else None
    if mistyped is not None:
        print(mistyped, file=sys.stderr)
        return 2
    parser = build_parser()
    try:
        args = parser.parse_args(_with_default_command(args_list))
    except SystemExit as exc:  # --help, --version, usage errors: argparse chose the status
        return exc.code if isinstance(exc.code, int) else 1
    try:
        return int(_command_module(args.command).run(args))
    except BrokenPipeError:
        # output piped into `head` and closed early: not an error worth a traceback
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        return 130


def _silence_stdout() -> None:
    """Point stdout at devnull, so flushing at exit does not raise again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (in-process use)
        pass


if __name__ == "__main__":
    sys.exit(main())
