"""Tests of the helpers the nivox commands share (nivox.cli._common): errors, files, saving."""

import os
import warnings

import numpy as np
import pytest

import nivox
from nivox.cli import _common
from nivox.cli._common import (
    FileFailure, about, axcodes_arg, coded_field, error_line, error_message, expand_files,
    jsonable, output_class, pick_volume, run_guarded, save_image, xyzt_units,
)
from nivox.cli.main import COMMANDS, main
from nivox.testing import data_path

EXAMPLE4D = os.path.join(data_path, "example4d.nii.gz")
ANATOMICAL = os.path.join(data_path, "anatomical.nii")
NEW_COMMANDS = ["ls", "header", "diff", "stats", "convert", "conform", "reorient", "view", "roi"]


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


@pytest.mark.parametrize("message, filename, expected", [
    # the library names the file: it is not named again in front
    ('Cannot work out file type of "x.nii": no header found', "x.nii",
     'nivox: error: Cannot work out file type of "x.nii": no header found'),
    ("cannot read /d/x.nii: truncated", "/d/x.nii", "nivox: error: cannot read /d/x.nii: truncated"),
    ('bad header in "x.nii".', "./x.nii", 'nivox: error: bad header in "x.nii".'),  # normalised
    ("x.nii: bad\n header", "x.nii", "nivox: error: x.nii: bad header"),
    # the problem does not name it: it goes in front
    ("bad header", "x.nii", "nivox: error: x.nii: bad header"),
    ("cannot read 'x.img': no such file", "x.hdr", "nivox: error: x.hdr: cannot read 'x.img': "
                                                    "no such file"),
    # longer names that contain the file name are other files
    ('no header in "data.nii"', "a.nii", 'nivox: error: a.nii: no header in "data.nii"'),
    ('no header in "a.nii.gz"', "a.nii", 'nivox: error: a.nii: no header in "a.nii.gz"'),
    ("no header in /other/a.nii", "a.nii", "nivox: error: a.nii: no header in /other/a.nii"),
    ("no header in a.nii-old", "a.nii", "nivox: error: a.nii: no header in a.nii-old"),
    # a bare base name is not enough: the folder would be lost
    ("a.nii has no header", "sub-1/a.nii", "nivox: error: sub-1/a.nii: a.nii has no header"),
])
def test_error_line_names_the_file_once(message, filename, expected):
    assert error_line(ValueError(message), filename) == expected


def test_error_line_knows_the_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    message = f"Cannot work out file type of {str(tmp_path / 'x.nii')!r}: no header"
    assert error_line(ValueError(message), "x.nii") == f"nivox: error: {message}"
    # an OSError about the same file, given by its absolute path, is a plain strerror
    missing = FileNotFoundError(2, "No such file or directory", str(tmp_path / "x.nii"))
    assert error_line(missing, "x.nii") == "nivox: error: x.nii: No such file or directory"


def test_commands_name_a_file_once_in_load_errors(capsys, tmp_path):
    fake = tmp_path / "text.nii"
    fake.write_text("just text, not a header" * 30)
    out = tmp_path / "out.nii"
    for argv in (["describe", fake], ["ls", fake], ["header", fake], ["stats", fake],
                 ["diff", fake, fake], ["convert", fake, out], ["reorient", fake, out],
                 ["roi", fake, out], ["conform", fake, out], ["view", fake, "-o", out]):
        assert main([str(a) for a in argv]) in (1, 2)
        err = capsys.readouterr().err
        # ls closes with a count of what it skipped, after the error line
        err = "".join(line for line in err.splitlines(True) if not line.startswith("nivox ls: "))
        assert err.startswith("nivox: error: ") and err.count("\n") == 1, (argv, err)
        assert err.count(str(fake)) == 1, (argv, err)
    assert not out.exists()


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


def test_coded_field_and_units_from_headers():
    img = nivox.load(EXAMPLE4D)
    assert coded_field(img.header, "qform_code") == {"code": 1, "label": "scanner"}
    assert coded_field(img.header, "no_such_field") is None
    assert coded_field(object(), "qform_code") is None  # a header without fields
    header = img.header.copy()
    header["sform_code"] = 99  # outside the code table: the header's own label for that
    assert coded_field(header, "sform_code") == {"code": 99, "label": "<unknown code 99>"}

    class NoTable(dict):
        def get_value_label(self, field):
            raise ValueError(f"{field} has no code table")

    assert coded_field(NoTable(sform_code=3), "sform_code") == {"code": 3, "label": "invalid"}
    assert xyzt_units(img.header) == {"space": "mm", "time": "sec"}
    header.set_xyzt_units("unknown", "unknown")
    assert xyzt_units(header) == {"space": None, "time": None}
    assert xyzt_units(object()) == {"space": None, "time": None}


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
