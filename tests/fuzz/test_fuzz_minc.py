"""Fuzz MINC1 and MINC2 files: damaged netCDF/HDF5 structures, attributes that contradict the data.

Every case loads and reads, or raises a NivoxError naming the file; never
another exception, a hang or a huge allocation (see fuzz.harness).
"""

from __future__ import annotations

import gzip
import io
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz.harness import check_files, fuzz_settings

h5py = pytest.importorskip("h5py")
pytest.importorskip("scipy")

from suites.minc_files import write_minc1, write_minc2  # noqa: E402

import nivox  # noqa: E402

# scipy's netCDF writer, making contradictory test files, says so
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")


@lru_cache(maxsize=None)
def minc_seeds() -> tuple[tuple[str, str, bytes], ...]:
    """(class name, file name, bytes) of small valid MINC files: MINC1 plain and gzipped, MINC2
    contiguous and chunked-compressed (written by nivox and by h5py alone)."""
    rng = np.random.default_rng(8)
    raw = rng.integers(0, 255, size=(4, 5, 6)).astype(np.uint8)
    found = []
    with tempfile.TemporaryDirectory() as folder:
        one = write_minc1(Path(folder) / "one.mnc", raw, valid_range=[0, 250], image_min=np.zeros(4),
                          image_max=np.arange(1, 5.0), scale_dims=("zspace",), steps=[2, 3, 4],
                          starts=[1, 2, 3])
        content = one.read_bytes()
        found += [("Minc1Image", "seed.mnc", content),
                  ("Minc1Image", "seed.mnc.gz", gzip.compress(content, mtime=0))]
        img = nivox.Nifti1Image(rng.normal(size=(6, 5, 4)).astype(np.float32), np.diag([2, 3, 4, 1.0]))
        img.set_data_dtype(np.int16)
        for level in (0, 4):
            target = Path(folder) / f"two{level}.mnc"
            nivox.save(img, target, compresslevel=level)
            found.append(("Minc2Image", "seed.mnc", target.read_bytes()))
        grid = write_minc2(Path(folder) / "grid.mnc", rng.normal(size=(3, 4, 5, 3)),
                           dims=("zspace", "yspace", "xspace", "vector_dimension"), chunks=(1, 2, 5, 3),
                           compression="gzip", valid_range=[0, 1], image_min=0.0, image_max=1.0)
        found.append(("Minc2Image", "seed.mnc", grid.read_bytes()))
    return tuple(found)


@st.composite
def byte_damage(draw):
    klass, name, content = draw(st.sampled_from(minc_seeds()))
    data = bytearray(gzip.decompress(content) if name.endswith(".gz") else content)
    # mostly the structures at the start, sometimes anywhere
    limit = len(data) if draw(st.integers(0, 3)) == 0 else min(len(data), 2048)
    for _ in range(draw(st.integers(1, 8))):
        data[draw(st.integers(0, limit - 1))] = draw(st.integers(0, 255))
    if draw(st.integers(0, 4)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    out = gzip.compress(bytes(data), mtime=0) if name.endswith(".gz") else bytes(data)
    return klass, name, out


@fuzz_settings(80)
@given(byte_damage(), st.booleans())
def test_damaged_minc_bytes(case, mmap):
    klass, name, content = case
    check_files("minc bytes", {name: content}, name, klass, mmap=mmap)


_VALUES = st.sampled_from([
    np.float64(np.nan), np.float64(np.inf), np.float64(-1e308), np.float64(0), np.int32(-1),
    np.array([1.0, np.nan]), np.array([5.0, -5.0]), np.array([0.0, 1e30]), np.array([], np.float64),
    np.array([1.0, 2.0, 3.0, 4.0]), np.bytes_(b"irregular"), np.bytes_(b"regular__"),
    np.bytes_(b"zspace,yspace,xspace"), np.bytes_(b"xspace,xspace,xspace"), np.bytes_(b"time"),
    np.bytes_(b""), np.bytes_(b"zspace,yspace,xspace,time,extra"), np.bytes_(b"\xff\xfe"),
    np.uint32(2**31), np.array([[1.0, 0.0], [0.0, 1.0]]),
])
_ATTRIBUTES = st.sampled_from([
    ("minc-2.0/image/0/image", "valid_range"), ("minc-2.0/image/0/image", "dimorder"),
    ("minc-2.0/image/0/image-max", "dimorder"), ("minc-2.0/image/0/image-min", "dimorder"),
    ("minc-2.0/dimensions/xspace", "step"), ("minc-2.0/dimensions/yspace", "start"),
    ("minc-2.0/dimensions/zspace", "direction_cosines"), ("minc-2.0/dimensions/xspace", "spacing"),
    ("minc-2.0/dimensions/zspace", "length"),
])
_REMOVALS = st.sampled_from([
    None, "minc-2.0/image/0/image-max", "minc-2.0/image/0/image-min", "minc-2.0/dimensions",
    "minc-2.0/dimensions/yspace", "minc-2.0/image/0", "minc-2.0/info",
])


@st.composite
def contradictions(draw):
    """A MINC2 seed whose attributes say what its data do not (or whose parts are missing)."""
    seeds = [seed for seed in minc_seeds() if seed[0] == "Minc2Image"]
    klass, name, content = draw(st.sampled_from(seeds))
    edits = draw(st.lists(st.tuples(_ATTRIBUTES, _VALUES), min_size=0, max_size=3))
    removal = draw(_REMOVALS)
    replace_max = draw(st.sampled_from([None, np.zeros(7), np.zeros((2, 2)), np.float64(np.nan)]))
    buffer = io.BytesIO(content)
    with h5py.File(buffer, "r+") as handle:
        for (path, attr), value in edits:
            if path in handle:
                handle[path].attrs[attr] = value
        if replace_max is not None and "minc-2.0/image/0/image-max" in handle:
            del handle["minc-2.0/image/0/image-max"]
            handle["minc-2.0/image/0"].create_dataset("image-max", data=replace_max)
        if removal is not None and removal in handle:
            del handle[removal]
    return klass, name, buffer.getvalue()


@fuzz_settings(80)
@given(contradictions())
def test_minc2_attributes_contradicting_data(case):
    klass, name, content = case
    check_files("minc2 attributes", {name: content}, name, klass)


@st.composite
def minc1_contradictions(draw):
    """MINC1 files (written by scipy) whose scaling and dimensions disagree with the image."""
    shape = (3, 4, 5)
    raw = np.arange(60, dtype=np.int16).reshape(shape)
    scale_dims = draw(st.sampled_from([(), ("zspace",), ("yspace",), ("zspace", "yspace"), ("xspace",)]))
    # netCDF variables share the image's dimensions, so their lengths always agree
    scale_shape = tuple({"zspace": 3, "yspace": 4, "xspace": 5}[d] for d in scale_dims)
    valid = draw(st.sampled_from([None, [0, 59], [59, 0], [0, 0], [-40000, 5], [np.nan, 1]]))
    spacing = draw(st.sampled_from([None, {"zspace": "irregular"}]))
    coords = {"zspace": draw(st.sampled_from([[0.0, 1.0, 2.0], [0.0, 1.0, 9.0], [np.nan, 1.0, 2.0]]))}
    steps = draw(st.sampled_from([None, [1, 2, 3], [np.nan, 1, 1], [0, 0, 0], [1e308, 1e308, 1e308]]))
    with tempfile.TemporaryDirectory() as folder:
        path = write_minc1(Path(folder) / "c.mnc", raw, valid_range=valid, image_min=np.zeros(scale_shape),
                           image_max=np.ones(scale_shape), scale_dims=scale_dims, spacing=spacing,
                           coords=coords, steps=steps)
        return path.read_bytes()


@fuzz_settings(60)
@given(minc1_contradictions(), st.booleans())
def test_minc1_attributes_contradicting_data(content, mmap):
    check_files("minc1 attributes", {"seed.mnc": content}, "seed.mnc", "Minc1Image", mmap=mmap)


def test_seeds_read_cleanly():
    for klass, name, content in minc_seeds():
        assert check_files("minc seeds", {name: content}, name, klass) == "ok", (klass, name)
    assert os.environ.get("NIVOX_FUZZ_EXAMPLES", "") != "0"
