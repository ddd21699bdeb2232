import logging

import numpy as np
import pytest

from nivox import imageglobals
from nivox.analyze import AnalyzeHeader
from nivox.errors import HeaderDataError


def test_error_level_context_restores():
    before = imageglobals.error_level
    with imageglobals.ErrorLevel(10):
        assert imageglobals.error_level == 10
        with imageglobals.ErrorLevel(20):
            assert imageglobals.error_level == 20
        assert imageglobals.error_level == 10
    assert imageglobals.error_level == before


def _header_with_fixable_problem():
    hdr = AnalyzeHeader()
    hdr["sizeof_hdr"] = 350  # fixed (level 30) by check_fix
    return hdr


def test_error_level_read_at_call_time():
    hdr = _header_with_fixable_problem()
    with pytest.warns(Warning):
        hdr.check_fix()  # level 30 < 40: fixed, not raised
    assert hdr["sizeof_hdr"] == 348
    with imageglobals.ErrorLevel(30):
        with pytest.raises(HeaderDataError):
            _header_with_fixable_problem().check_fix()


def test_replaced_logger_receives_problems():
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    mine = logging.getLogger("nivox.test.imageglobals")
    mine.addHandler(Keep())
    saved = imageglobals.logger
    imageglobals.logger = mine
    try:
        with pytest.warns(Warning):
            _header_with_fixable_problem().check_fix()
    finally:
        imageglobals.logger = saved
    assert any("sizeof_hdr" in r for r in records)


def test_logging_output_suppressor():
    handler = logging.StreamHandler()
    imageglobals.logger.addHandler(handler)
    try:
        with imageglobals.LoggingOutputSuppressor():
            assert handler not in imageglobals.logger.handlers
        assert handler in imageglobals.logger.handlers
    finally:
        imageglobals.logger.removeHandler(handler)
    assert np.isscalar(imageglobals.error_level)
