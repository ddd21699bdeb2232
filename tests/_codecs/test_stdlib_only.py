"""The codec tests once more with the standard library alone (no ISA-L, zlib-ng, libdeflate or indexed_gzip)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).parent


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("NIVOX_GZIP_BACKEND") == "stdlib", reason="already running with the stdlib only")
def test_codec_tests_pass_with_the_stdlib_only():
    env = dict(os.environ, NIVOX_GZIP_BACKEND="stdlib")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", str(_HERE)],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
