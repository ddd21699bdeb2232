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
