"""Tests of the commands' progress bar (nivox.cli._progress): drawn on a terminal, never on a pipe."""

import io
import os
import pty
import re
import subprocess
import sys

from nivox.cli._progress import Progress
from nivox.cli.main import main
from nivox.testing import data_path


class FakeTTY(io.StringIO):
    """A text stream that claims to be a terminal."""

    def isatty(self):
        return True


# ---- progress bar -------------------------------------------------------------------------


def test_progress_silent_when_not_a_terminal():
    stream = io.StringIO()
    with Progress(3, "work", stream=stream) as bar:
        for _ in range(3):
            bar.advance()
        bar.set_label("writing")
        bar.clear()
    assert stream.getvalue() == ""


def test_progress_draws_and_erases_on_a_terminal():
    stream = FakeTTY()
    with Progress(4, "reading", stream=stream, interval=0) as bar:
        for _ in range(4):
            bar.advance()
    text = stream.getvalue()
    frames = text.split("\r")
    assert any(f.startswith("reading [") and f.rstrip().endswith("1/4") for f in frames)
    assert any(re.search(r"\[#{10,}\] 4/4$", f.rstrip()) for f in frames)  # full bar
    # the last thing written blanks the line and returns to its start
    assert text.endswith("\r") and frames[-2].strip() == ""


def test_progress_throttles_redraws():
    stream = FakeTTY()
    bar = Progress(1000, "x", stream=stream, interval=3600)
    for _ in range(999):
        bar.advance()
    assert stream.getvalue().count("\r") == 1  # only the first step drew
    bar.advance()  # the last step always draws
    assert stream.getvalue().rstrip().endswith("1000/1000")
    bar.close()


def test_ls_progress_only_on_a_terminal(capsys, monkeypatch):
    files = [os.path.join(data_path, f) for f in ("anatomical.nii", "example4d.nii.gz",
                                                   "float32.nii.gz")]
    assert main(["ls", *files]) == 0
    assert capsys.readouterr().err == ""
    fake = FakeTTY()
    monkeypatch.setattr(sys, "stderr", fake)
    assert main(["ls", *files, os.path.join(data_path, "missing.nii")]) == 1
    err = fake.getvalue()
    assert "reading headers" in err or "anatomical.nii [" in err
    assert "4/4" in err
    # the error line starts on a clean line: the bar was erased first
    error_line = "nivox: error: " + os.path.join(data_path, "missing.nii")
    before = err[: err.index(error_line)]
    assert before.endswith("\r") or before == ""
    assert len(capsys.readouterr().out.splitlines()) == 4  # heading and three rows


def _run_on_pty(args):
    """Run ``python -m nivox.cli.main ARGS`` with stderr on a pseudo-terminal."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "nivox.cli.main", *args],
                            stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closes when the process exits
            break
        if not chunk:
            break
        chunks.append(chunk)
    out = proc.stdout.read()
    proc.wait(timeout=120)
    os.close(master)
    return proc.returncode, out.decode(), b"".join(chunks).decode()


def test_progress_bar_on_a_real_terminal_not_on_a_pipe():
    files = [os.path.join(data_path, f) for f in ("anatomical.nii", "example4d.nii.gz",
                                                   "float32.nii.gz", "example_nifti2.nii.gz")]
    status, out, tty_err = _run_on_pty(["ls", *files])
    assert status == 0
    assert "\r" in tty_err and "4/4" in tty_err and "[" in tty_err
    assert "\r" not in out and len(out.splitlines()) == 5
    piped = subprocess.run([sys.executable, "-m", "nivox.cli.main", "ls", *files],
                           capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0 and piped.stderr == ""
    assert piped.stdout == out
