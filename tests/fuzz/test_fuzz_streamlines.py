"""Fuzz tractogram files: damaged TRK, TCK and TRX files load and iterate, or raise a NivoxError naming the file.

Same contract as the image fuzzing (no other exception, no hang, no huge
allocation), for eager and lazy loading.
"""

from __future__ import annotations

import io
import os
import tracemalloc
import warnings
from functools import lru_cache

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import nivox.streamlines as nvs
from fuzz.harness import MAX_ALLOCATION, OUTCOMES, Hang, _fresh_folder, _time_limit, CASE_TIMEOUT, fuzz_settings
from nivox.errors import NivoxError


@lru_cache(maxsize=None)
def _seeds() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    lengths = [1, 4, 2, 7]
    streamlines = [rng.standard_normal((n, 3)).astype(np.float32) * 10 for n in lengths]
    dpp = {"fa": [rng.random((n, 1)).astype(np.float32) for n in lengths]}
    dps = {"w": rng.random((len(lengths), 2)).astype(np.float32)}
    out = {}
    for ext, data in ((".trk", (dps, dpp)), (".tck", (None, None)), (".trx", (dps, dpp))):
        buf = io.BytesIO()
        t = nvs.Tractogram(streamlines, data[0], data[1], affine_to_rasmm=np.eye(4))
        cls = {".trk": nvs.TrkFile, ".tck": nvs.TckFile, ".trx": nvs.TrxFile}[ext]
        cls(t).save(buf)
        out[ext] = buf.getvalue()
    # a big-endian TCK
    le = out[".tck"]
    head, body = le.split(b"END\n", 1)
    out["_be.tck"] = head.replace(b"Float32LE", b"Float32BE") + b"END\n" + \
        np.frombuffer(body, "<f4").astype(">f4").tobytes()
    return out


def _check(test: str, name: str, content: bytes, lazy: bool) -> str:
    folder = _fresh_folder()
    path = os.path.join(folder, "case" + name[-4:])
    with open(path, "wb") as f:
        f.write(content)
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    outcome = "ok"
    try:
        with _time_limit(CASE_TIMEOUT), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tf = nvs.load(path, lazy_load=lazy)
            for item in tf.tractogram:
                np.asarray(item.streamline)
            for s in tf.streamlines:
                np.asarray(s)
    except NivoxError as err:
        outcome = type(err).__name__
        assert "case" in str(err), f"message does not name the file: {err!r}"
    except ValueError as err:  # only "no format recognised" may be a plain ValueError
        assert "Unknown format" in str(err), repr(err)
        outcome = "unknown format"
    except Hang as err:
        raise AssertionError(f"{name}: {err}") from None
    peak = tracemalloc.get_traced_memory()[1] - baseline
    assert peak <= MAX_ALLOCATION, f"{name}: a case allocated {peak} bytes"
    OUTCOMES[(test, outcome)] += 1
    return outcome


@st.composite
def damaged(draw):
    name = draw(st.sampled_from(sorted(_seeds())))
    data = bytearray(_seeds()[name])
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data) - 1))
        return name, bytes(data[:cut])
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(data) - 1))
        if draw(st.booleans()):
            data[pos] ^= draw(st.integers(1, 255))
        else:  # a whole 32-bit word: counts, sizes, offsets
            word = draw(st.sampled_from([0, 1, -1, 2**31 - 1, 2**23, 7, 0x7FC00000, 0x7F800000]))
            pos -= pos % 4
            data[pos : pos + 4] = int(word).to_bytes(4, "little", signed=True)
    return name, bytes(data)


@fuzz_settings(150)
@given(damaged(), st.booleans())
def test_damaged_tractograms(case, lazy):
    name, content = case
    _check("damaged tractograms", name, content, lazy)


@fuzz_settings(40)
@given(st.sampled_from(sorted(_seeds())), st.integers(1, 2**31 - 1), st.booleans())
def test_trk_and_tck_counts_that_lie(name, count, lazy):
    data = _seeds()[name]
    if name.endswith(".trk"):
        data = data[:988] + count.to_bytes(4, "little") + data[992:]
    elif name.endswith(".tck"):
        data = data.replace(b"count: 0000000004", f"count: {count:010}".encode())
    else:
        data = data.replace(b'"NB_VERTICES": 14', f'"NB_VERTICES": {count}'.encode())
    outcome = _check("lying counts", name, data, lazy)
    if name.endswith(".trk") and count > 4:  # fewer than the file holds: the rest is ignored
        assert outcome == "DataError"
