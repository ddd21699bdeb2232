"""Tests of the helpers the nivox commands share (nivox.cli._common): errors, files, saving, progress."""

import io
import os
import pty
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest

import nivox
from nivox.cli import _common
from nivox.cli._common import (
    FileFailure, Progress, about, axcodes_arg, error_message, expand_files, jsonable,
    output_class, pick_volume, run_guarded, save_image,
)
from nivox.cli.main import COMMANDS, main
from nivox.testing import data_path

EXAMPLE4D = os.path.join(data_path, "example4d.nii.gz")
ANATOMICAL = os.path.join(data_path, "anatomical.nii")
NEW_COMMANDS = ["ls", "header", "diff", "stats", "convert", "conform", "reorient", "view", "roi"]


class FakeTTY(io.StringIO):
    """A text stream that claims to be a terminal."""

    def isatty(self):
        return True


class Args:
    debug = False


# ---- registration -------------------------------------------------------------------


def test_all_commands_registered_and_documented(capsys):
    assert set(NEW_COMMANDS) <= set(COMMANDS)
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in NEW_COMMANDS:
        assert name in out
    for name in NEW_COMMANDS:
        assert main([name, "--help"]) == 0
        assert "--debug" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["header", "diff", "stats", "convert", "conform", "reorient",
                                  "view", "roi"])
def test_missing_arguments_are_usage_errors(capsys, name):
    assert main([name]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: nivox " + name)
    assert f"nivox {name}: error: " in err and "Traceback" not in err


# ---- errors -----------------------------------------------------------------------------


def test_about_attributes_failures_to_the_innermost_file():
    with pytest.raises(FileFailure) as info:
        with about("outer.nii"):
            with about("inner.nii"):
                raise ValueError("bad")
    assert info.value.filename == "inner.nii"
    assert isinstance(info.value.cause, ValueError)


def test_error_message_is_one_line_without_repeating_the_file():
    assert error_message(ValueError("x.nii: bad\n  header"), "x.nii") == "bad header"
    missing = FileNotFoundError(2, "No such file or directory", "x.nii")
    assert error_message(missing, "x.nii") == "No such file or directory"
    other = FileNotFoundError(2, "No such file or directory", "x.img")
    assert error_message(other, "x.hdr") == "No such file or directory: 'x.img'"
    assert error_message(KeyError(), "f") == "KeyError"


def test_run_guarded_reports_one_line(capsys):
    def body():
        with about("in.nii"):
            raise ValueError("broken\nheader")

    assert run_guarded(Args(), body, "main.nii") == 1
    assert capsys.readouterr().err == "nivox: error: in.nii: broken header\n"
    # failures outside `about` go to the main file; the status is the caller's
    assert run_guarded(Args(), lambda: 1 / 0, "main.nii", error_status=2) == 2
    assert capsys.readouterr().err == "nivox: error: main.nii: division by zero\n"


def test_run_guarded_debug_prints_traceback(capsys):
    args = Args()
    args.debug = True
    assert run_guarded(args, lambda: 1 / 0, "main.nii") == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "ZeroDivisionError" in err
    assert err.splitlines()[-1] == "nivox: error: main.nii: division by zero"


def test_warnings_become_one_line(capsys):
    def body():
        warnings.warn("odd header\nfixed", UserWarning)
        return 0

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert run_guarded(Args(), body, "f.nii") == 0
    assert capsys.readouterr().err == "nivox: warning: odd header fixed\n"


# ---- files ------------------------------------------------------------------------------


def test_expand_files_globs_sorted_and_literals_kept(tmp_path):
    for name in ("b.nii", "a.nii", "c.txt"):
        (tmp_path / name).write_bytes(b"x")
    found = expand_files([str(tmp_path / "*.nii"), str(tmp_path / "none*.nii"), "plain.nii"])
    assert found == [str(tmp_path / "a.nii"), str(tmp_path / "b.nii"),
                     str(tmp_path / "none*.nii"), "plain.nii"]


def test_expand_folders_lists_images_and_pairs_once(tmp_path):
    for name in ("x.hdr", "x.img", "y.nii.gz", "z.img", "notes.txt", "w.NII"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.nii").write_bytes(b"x")
    found = [os.path.basename(f) for f in expand_files([str(tmp_path)], folders=True)]
    assert found == ["w.NII", "x.hdr", "y.nii.gz", "z.img"]
    # without folders=True a folder stays a name (to be reported as a folder)
    assert expand_files([str(tmp_path)]) == [str(tmp_path)]


def test_jsonable_values():
    assert jsonable(np.float32(0.1)) == 0.1  # shortest float32 text, not 0.10000000149
    assert jsonable(np.array([1.0, 2.5])) == [1, 2.5]
    assert jsonable(np.bytes_(b"abc")) == "abc"
    assert jsonable(np.array(b"n+1\0", dtype="S4")) == "n+1"
    assert jsonable({"a": (np.int16(3), np.bool_(True))}) == {"a": [3, True]}
    nan = jsonable(np.float64("nan"))
    assert isinstance(nan, float) and np.isnan(nan)  # kept for text; print_json writes null


def test_print_json_writes_null_for_non_finite(capsys):
    _common.print_json({"a": [float("nan"), float("inf"), 1.5]})
    assert capsys.readouterr().out.split() == ["{", '"a":', "[", "null,", "null,", "1.5", "]", "}"]


def test_axcodes_arg():
    assert axcodes_arg("lps") == "LPS"
    assert axcodes_arg("AIR") == "AIR"
    for bad in ("RRS", "RA", "RASX", "XYZ"):
        with pytest.raises(Exception, match="three letters"):
            axcodes_arg(bad)


def test_pick_volume():
    img = nivox.load(EXAMPLE4D)
    vol = pick_volume(img, 2)
    np.testing.assert_array_equal(vol.get_fdata(), img.get_fdata()[..., 2])
    with pytest.raises(ValueError, match="--volume"):
        pick_volume(img, None)
    with pytest.raises(ValueError, match="out of range"):
        pick_volume(img, 3)
    three_d = nivox.load(ANATOMICAL)
    assert pick_volume(three_d, None) is three_d and pick_volume(three_d, 0) is three_d
    with pytest.raises(ValueError, match="only volume is 0"):
        pick_volume(three_d, 1)


# ---- saving -----------------------------------------------------------------------------


@pytest.mark.parametrize("fname, expected", [
    ("out.nii", "Nifti1Image"), ("out.nii.gz", "Nifti1Image"), ("out.img", "Nifti1Pair"),
    ("out.hdr.gz", "Nifti1Pair"),
])
def test_output_class_keeps_the_family(fname, expected):
    assert output_class(nivox.load(ANATOMICAL), fname).__name__ == expected


def test_output_class_of_nifti2_and_explicit_formats():
    nifti2 = nivox.load(os.path.join(data_path, "example_nifti2.nii.gz"))
    assert output_class(nifti2, "o.img").__name__ == "Nifti2Pair"
    assert output_class(nifti2, "o.nii", "nifti1").__name__ == "Nifti1Image"
    assert output_class(nifti2, "o.hdr", "analyze").__name__ == "AnalyzeImage"
    with pytest.raises(ValueError, match="writes .nii files, not .img"):
        output_class(nifti2, "o.img", "nifti1")
    with pytest.raises(ValueError, match="unknown format"):
        output_class(nifti2, "o.nii", "dicom")
    with pytest.raises(ValueError, match="extension '.png'"):
        output_class(nifti2, "o.png")


def test_save_image_refuses_to_overwrite_either_file_of_a_pair(tmp_path):
    img = nivox.load(ANATOMICAL)
    (tmp_path / "o.img").write_bytes(b"keep")
    with pytest.raises(FileExistsError) as info:
        save_image(img, str(tmp_path / "o.hdr"))
    assert info.value.filename == str(tmp_path / "o.img")
    assert (tmp_path / "o.img").read_bytes() == b"keep"
    assert not (tmp_path / "o.hdr").exists()
    save_image(img, str(tmp_path / "o.hdr"), force=True)
    np.testing.assert_array_equal(nivox.load(tmp_path / "o.hdr").get_fdata(), img.get_fdata())


def test_save_image_passes_compresslevel_when_save_accepts_it(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(_common, "_save_accepts", lambda klass, keyword: True)
    monkeypatch.setattr(nivox, "save", lambda img, fname, **kw: calls.append(kw))
    save_image(nivox.load(ANATOMICAL), str(tmp_path / "o.nii.gz"), compresslevel=7)
    assert calls == [{"compresslevel": 7}]


def test_save_image_falls_back_to_opener_default_level(tmp_path, monkeypatch):
    from nivox.openers import Opener

    seen = []
    before = Opener.default_compresslevel
    monkeypatch.setattr(_common, "_save_accepts", lambda klass, keyword: False)
    monkeypatch.setattr(nivox, "save",
                        lambda img, fname, **kw: seen.append((kw, Opener.default_compresslevel)))
    save_image(nivox.load(ANATOMICAL), str(tmp_path / "o.nii.gz"), compresslevel=8)
    assert seen == [({}, 8)]
    assert Opener.default_compresslevel == before


def test_save_image_level_reaches_the_compressor(tmp_path):
    img = nivox.Nifti1Image(np.tile(np.arange(64, dtype=np.int16), (64, 64, 8)), np.eye(4))
    streams = {}
    for level in (1, 9):
        out = tmp_path / f"l{level}.nii.gz"
        save_image(img, str(out), compresslevel=level)
        streams[level] = out.read_bytes()
        np.testing.assert_array_equal(nivox.load(out).get_fdata(), img.get_fdata())
    # which level compresses better depends on the backend (ISA-L has its own
    # levels), but different levels must give different streams
    assert streams[1] != streams[9]


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
