"""Codec test setup: a fixture running a test once per installed gzip backend; the ``slow`` marker."""

import pytest

from nivox._codecs import backends
from nivox._codecs import gzip as nvgzip


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes tens of seconds (deselect with -m 'not slow')")


@pytest.fixture(params=backends.available_backends() + ["auto"])
def backend(request):
    """Each installed backend forced in turn, then automatic choice; a fresh index cache each time."""
    nvgzip.clear_index_cache()
    with backends.use_backend(request.param):
        yield request.param
    nvgzip.clear_index_cache()


@pytest.fixture(autouse=True)
def _fresh_index_cache():
    nvgzip.clear_index_cache()
    yield
    nvgzip.clear_index_cache()
