import io
import logging

import pytest

from nivox.batteryrunners import BatteryRunner, Report, report_problem


def _chk_positive(obj, fix=False):
    report = Report(ValueError)
    if obj["x"] > 0:
        return obj, report
    report.problem_level = 30
    report.problem_msg = "x should be positive"
    if fix:
        obj["x"] = 1
        report.fix_msg = "setting x to 1"
    return obj, report


def _chk_fatal(obj, fix=False):
    report = Report(KeyError)
    if "y" in obj:
        return obj, report
    report.problem_level = 50
    report.problem_msg = "y missing"
    return obj, report


def test_check_only_changes_nothing():
    obj = {"x": -1, "y": 0}
    reports = BatteryRunner([_chk_positive]).check_only(obj)
    assert obj["x"] == -1
    assert reports[0].problem_level == 30


def test_check_fix_repairs_and_reports():
    obj, reports = BatteryRunner([_chk_positive, _chk_fatal]).check_fix({"x": -1, "y": 0})
    assert obj["x"] == 1
    assert reports[0].message == "x should be positive; setting x to 1"
    assert reports[1].problem_level == 0


def test_log_raise_raises_at_error_level(caplog):
    _, report = _chk_fatal({}, fix=True)
    logger = logging.getLogger("test.battery")
    with pytest.raises(KeyError):
        report.log_raise(logger, error_level=40)
    _, report = _chk_positive({"x": -1}, fix=True)
    with caplog.at_level(logging.WARNING, logger="test.battery"):
        report.log_raise(logger, error_level=40)
    assert "setting x to 1" in caplog.text


def test_write_raise():
    stream = io.StringIO()
    _, report = _chk_positive({"x": -1})
    report.write_raise(stream, error_level=40, log_level=30)
    assert "Level 30" in stream.getvalue()
    with pytest.raises(ValueError):
        report.write_raise(stream, error_level=30)


def test_report_equality_and_len():
    assert Report(ValueError, 10, "a", "b") == Report(ValueError, 10, "a", "b")
    assert Report(ValueError, 10, "a") != Report(ValueError, 20, "a")
    assert len(BatteryRunner([_chk_positive, _chk_fatal])) == 2


def test_report_problem_sets_items_only_when_fixing():
    obj = {"x": -1}
    same, report = report_problem(obj, False, ValueError, 30, "x should be positive", "setting x to 1", {"x": 1})
    assert same is obj and obj == {"x": -1}
    assert report == Report(ValueError, 30, "x should be positive", "")
    _, report = report_problem(obj, True, ValueError, 30, "x should be positive", "setting x to 1", {"x": 1})
    assert obj == {"x": 1}
    assert report == Report(ValueError, 30, "x should be positive", "setting x to 1")


def test_report_text_as_nibabel_writes_it():
    import io

    from nivox.batteryrunners import Report

    assert str(Report()) != ""
    stream = io.StringIO()
    rep = Report(ValueError, 30, "msg", "fix")
    rep.write_raise(stream)
    assert stream.getvalue() == "Level 30: msg; fix\n"
    assert str(rep) == "msg; fix"
