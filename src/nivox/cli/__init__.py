"""The ``nivox`` command line: ``nivox.cli.main.main`` parses and dispatches to one module per command.

Commands: ``describe`` (:mod:`nivox.cli.describe`).
"""
