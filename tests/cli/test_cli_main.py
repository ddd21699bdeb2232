"""Tests of the ``nivox`` command's parsing and dispatch (nivox.cli.main)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import nivox
from nivox.cli import main as cli_main
from nivox.cli.main import COMMANDS, DEFAULT_COMMAND, build_parser, main


def run_module(*args, **kwargs):
    """Run ``python -m nivox.cli.main ARGS`` in a fresh interpreter."""
    return subprocess.run([sys.executable, "-m", "nivox.cli.main", *args],
                          capture_output=True, text=True, timeout=120, **kwargs)


def test_every_command_has_a_module_with_the_protocol():
    parser = build_parser()
    assert DEFAULT_COMMAND in COMMANDS
    for name, module_name in COMMANDS.items():
        module = __import__(module_name, fromlist=["run"])
        assert callable(module.add_parser) and callable(module.run)
        # the subcommand parses its own --help-free minimal command line
        args = parser.parse_args([name])
        assert args.command == name and args.debug is False


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"nivox {nivox.__version__}"


def test_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "describe" in out and "usage: nivox" in out


def test_subcommand_help(capsys):
    assert main(["describe", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--stats" in out and "--json" in out and "--debug" in out


def test_usage_error_exits_2(capsys):
    assert main(["describe", "--no-such-option"]) == 2
    assert "unrecognized arguments" in capsys.readouterr().err


@pytest.mark.parametrize("argv, expected", [
    ([], ["describe"]),
    (["brain.nii"], ["describe", "brain.nii"]),
    (["--json"], ["describe", "--json"]),
    (["--debug", "x.nii"], ["describe", "--debug", "x.nii"]),
    (["describe", "x.nii"], ["describe", "x.nii"]),
    (["--help"], ["--help"]),
    (["--version"], ["--version"]),
])
def test_default_command_is_inserted(argv, expected):
    assert cli_main._with_default_command(argv) == expected


def test_no_arguments_describes_bundled_example(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith("example4d.nii.gz")
    assert "shape" in out


def test_broken_pipe_is_quiet():
    # `nivox | head -1` must not print a traceback when head exits early
    code = (
        "import subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-m', 'nivox.cli.main', '--stats'],"
        " stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
        "p.stdout.close()\n"
        "err = p.stderr.read().decode()\n"
        "print(p.wait()); print(repr(err))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout.splitlines()
    assert out[0] == "0"
    assert "Traceback" not in out[1]


def test_module_entry_point_runs():
    proc = run_module("describe")
    assert proc.returncode == 0, proc.stderr
    assert "example4d.nii.gz" in proc.stdout
    assert proc.stderr == ""


def test_console_script_installed():
    script = Path(sys.executable).with_name("nivox")
    if not script.exists():
        pytest.skip(f"no console script next to {sys.executable}: nivox not pip-installed here")
    proc = subprocess.run([str(script)], capture_output=True, text=True, timeout=120,
                          cwd=os.path.dirname(script))
    assert proc.returncode == 0, proc.stderr
    assert "example4d.nii.gz" in proc.stdout


def test_every_command_documented_in_package_docstring_and_readme():
    import nivox.cli

    readme = Path(__file__).parents[2] / "README.md"
    if not readme.exists():
        pytest.skip("README.md is not beside the tests (installed package)")
    text = readme.read_text(encoding="utf-8")
    section = text[text.index("## Command line"):]
    section = section[: section.index("\n## ", 1)]
    for name in COMMANDS:
        assert f"- ``{name}``: " in nivox.cli.__doc__, name
        assert f"| `{name}`" in section, name
        assert f"nivox {name} " in section or name == DEFAULT_COMMAND, name
    assert "diff" in section and "exits 0 when the files" in section


@pytest.mark.parametrize(("word", "hint"), [("lss", "ls"), ("stat", "stats"), ("xyzzy", None)])
def test_mistyped_command_is_not_taken_for_a_file(capsys, word, hint):
    assert main([word, "some_file.nii"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"nivox: error: '{word}' is not a command nor a file")
    assert ("did you mean" in err) == (hint is not None)
    if hint:
        assert f"'{hint}'" in err
    assert "describe, ls, header" in err


def test_a_missing_file_name_is_still_described_as_missing(capsys, tmp_path):
    assert main([str(tmp_path / "brain.nii")]) == 1
    assert "No such file" in capsys.readouterr().err
