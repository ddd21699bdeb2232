"""Shared test setup: the reusable API suites are importable as ``suites``; corpus location."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The external corpus of real files (NIVOX_CORPUS); skips when it is not set."""
    location = os.environ.get("NIVOX_CORPUS")
    if not location:
        pytest.skip("NIVOX_CORPUS is not set: corpus tests need ../shared/corpus")
    path = Path(location)
    if not path.is_dir():
        pytest.skip(f"NIVOX_CORPUS={location} is not a folder")
    return path


@pytest.fixture
def inflated(monkeypatch) -> list:
    """Sizes of everything nivox's streaming gzip decoders put out during the test.

    Reading ahead (which decodes whole files in one call) is off, so every
    byte a read decompresses is counted here.
    """
    from nivox._codecs import backends
    from nivox._codecs import gzip as nvgzip

    produced: list = []
    real = backends.inflater

    class Counting:
        def __init__(self, decoder):
            self._decoder = decoder

        def decompress(self, data, limit=0):
            out = self._decoder.decompress(data, limit)
            produced.append(len(out))
            return out

        def __getattr__(self, name):
            return getattr(self._decoder, name)

    monkeypatch.setattr(backends, "inflater", lambda copyable=False: Counting(real(copyable)))
    monkeypatch.setattr(nvgzip, "READ_AHEAD", 0)
    return produced
