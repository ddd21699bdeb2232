"""Fuzzing harness: seed files of every format, and one call that loads and reads a (broken) copy.

The contract checked for every case: loading and reading either succeeds or
raises a NivoxError whose message names the file; never another exception,
never a hang (a timer interrupts a case), never a huge allocation (tracemalloc
sees numpy's allocations; a case may not ask for more than ``MAX_ALLOCATION``).

``OUTCOMES`` counts what happened, per test, for the summary the fuzz
conftest prints at the end of a run.
"""

from __future__ import annotations

import bz2
import collections
import contextlib
import gzip
import os
import signal
import tracemalloc
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, settings

import nivox
from nivox.errors import NivoxError
from nivox.nifti1 import Nifti1Extension

#: seconds one case may take before it counts as a hang
CASE_TIMEOUT = float(os.environ.get("NIVOX_FUZZ_TIMEOUT", "10"))
#: bytes one case may allocate at its peak (the seeds are a few kB)
MAX_ALLOCATION = 64 << 20

OUTCOMES: collections.Counter[tuple[str, str]] = collections.Counter()


def examples(ci_default: int) -> int:
    """Examples per fuzz test: the CI default, or ``NIVOX_FUZZ_EXAMPLES`` for long runs."""
    return int(os.environ.get("NIVOX_FUZZ_EXAMPLES", ci_default))


def fuzz_settings(ci_default: int) -> settings:
    """Hypothesis settings of a fuzz test: ``examples(ci_default)`` cases, no deadline (the
    harness has its own timeout), no example database.

    The bounded CI run is derandomized (the same cases every time, so CI
    never fails on a case it did not try before); long runs explore anew.
    """
    long_run = "NIVOX_FUZZ_EXAMPLES" in os.environ
    return settings(max_examples=examples(ci_default), deadline=None, database=None,
                    derandomize=not long_run, print_blob=long_run,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@dataclass(frozen=True)
class Seed:
    """A valid image as the bytes of its files; ``main`` is the name to load."""

    name: str
    klass: str
    files: dict[str, bytes] = field(hash=False)
    main: str
    header_file: str
    header_size: int
    endian: str

    def data_offset(self) -> int:
        header = getattr(nivox, self.klass).header_class(
            uncompressed(self, self.header_file)[: self.header_size], check=False)
        return header.get_data_offset() if self.main == self.header_file else 0


def _compress(data: bytes, suffix: str) -> bytes:
    if suffix == ".gz":
        return gzip.compress(data, mtime=0)
    if suffix == ".bz2":
        return bz2.compress(data)
    if suffix == ".zst":
        import zstandard

        # with a content checksum, as nivox writes them (without one, damage can go unseen)
        return zstandard.ZstdCompressor(write_checksum=True).compress(data)
    return data


@lru_cache(maxsize=None)
def seeds() -> tuple[Seed, ...]:
    """One small valid image per format, layout and byte order, plain and compressed."""
    rng = np.random.default_rng(5)
    specs = [
        ("Nifti1Image", ".nii", (3, 4, 5), np.int16, "<", 1),
        ("Nifti1Image", ".nii", (4, 3, 2, 3), np.float32, ">", 0),
        ("Nifti1Pair", ".img", (3, 4, 5), np.uint8, "<", 1),
        ("Nifti2Image", ".nii", (3, 4, 5), np.float64, "<", 1),
        ("Nifti2Pair", ".img", (5, 4, 2), np.int32, ">", 0),
        ("AnalyzeImage", ".img", (3, 4, 5), np.int16, "<", 0),
        ("Spm99AnalyzeImage", ".img", (4, 4, 3), np.float32, "<", 0),
        ("Spm2AnalyzeImage", ".img", (3, 5, 2), np.int16, ">", 0),
    ]
    found = []
    for klass_name, ext, shape, dtype, endian, n_ext in specs:
        klass = getattr(nivox, klass_name)
        data = (rng.random(shape) * 100).astype(dtype)
        affine = np.diag([2.0, 2.5, 3.0, 1.0])
        affine[:3, 3] = [-10, 20, 5]
        img = klass(data, affine)
        if endian != img.header.endianness:
            img = klass(data, affine, img.header.as_byteswapped(endian))
        for index in range(n_ext):
            img.header.extensions.append(Nifti1Extension("comment", b"fuzz seed %d" % index))
        if np.dtype(dtype).kind == "f" and hasattr(img.header, "set_slope_inter") and \
                klass_name.startswith("Nifti"):
            img.set_data_dtype(np.int16)  # scaled on write
        for suffix in ("", ".gz", ".bz2", ".zst"):
            if suffix and klass_name.startswith("Spm"):
                continue  # one compressed pair format is enough
            buffer = {}
            stem = f"seed{ext}"
            with _temp_folder() as folder:
                img.to_filename(os.path.join(folder, stem))
                for fname in sorted(os.listdir(folder)):
                    buffer[fname] = Path(folder, fname).read_bytes()
            files = {name + suffix: _compress(content, suffix) for name, content in buffer.items()}
            header_name = "seed.nii" if ext == ".nii" else "seed.hdr"
            found.append(Seed(
                name=f"{klass_name}{suffix or ''}{endian}", klass=klass_name, files=files,
                main=f"seed{ext}{suffix}", header_file=header_name + suffix,
                header_size=klass.header_class.template_dtype.itemsize, endian=endian))
    return tuple(found)


@lru_cache(maxsize=None)
def seed_data(seed: Seed) -> np.ndarray:
    """The data of an undamaged seed, as the harness reads it."""
    folder = _fresh_folder()
    for fname, content in seed.files.items():
        Path(folder, fname).write_bytes(content)
    return np.asanyarray(nivox.load(os.path.join(folder, seed.main)).dataobj)


def uncompressed(seed: Seed, fname: str) -> bytes:
    """The content of ``fname`` of ``seed`` before compression."""
    content = seed.files[fname]
    for suffix in (".gz", ".bz2", ".zst"):
        if fname.endswith(suffix):
            if suffix == ".gz":
                return gzip.decompress(content)
            if suffix == ".bz2":
                return bz2.decompress(content)
            import zstandard

            return zstandard.ZstdDecompressor().decompressobj().decompress(content)
    return content


def recompressed(fname: str, content: bytes) -> bytes:
    """``content`` compressed as ``fname``'s suffix says."""
    for suffix in (".gz", ".bz2", ".zst"):
        if fname.endswith(suffix):
            return _compress(content, suffix)
    return content


@contextlib.contextmanager
def _temp_folder():
    import tempfile

    with tempfile.TemporaryDirectory(prefix="nivox-fuzz-") as folder:
        yield folder


class Hang(Exception):
    """A case ran longer than CASE_TIMEOUT."""


@contextlib.contextmanager
def _time_limit(seconds: float):
    def expired(signum, frame):
        raise Hang(f"case took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _exercise(path: str, klass_name: str, mmap: bool, validation: str, keep_file_open: bool,
              load_options: dict | None = None) -> np.ndarray:
    """Load ``path`` (sniffing, else with the seed's class) and read everything a user would.

    ``load_options`` replaces the usual keywords for formats with options of their own.
    """
    options = {"mmap": mmap, "validation": validation, "keep_file_open": keep_file_open}
    if load_options is not None:
        options = load_options
    try:
        img = nivox.load(path, **options)
    except NivoxError:
        # the sniffer may refuse a mangled header; the class itself must cope too
        img = getattr(nivox, klass_name).from_filename(path, **options)
    img.affine  # noqa: B018 - computing it is the point
    for getter in (img.header.get_zooms, img.header.get_data_shape):
        try:
            getter()
        except NotImplementedError:  # ECAT: the frames' subheaders hold shape and zooms
            pass
    proxy = img.dataobj
    if len(proxy.shape) and all(proxy.shape):  # indexing an empty axis is a user error
        proxy[(0,) * (len(proxy.shape) - 1)]
        proxy[..., -1:]
    img.get_fdata(dtype=np.float32)
    return np.asanyarray(proxy)


@lru_cache(maxsize=None)
def _work_folder(pid: int) -> str:
    """One folder per process for the cases' files (making and removing folders is slow)."""
    import atexit
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="nivox-fuzz-")
    atexit.register(shutil.rmtree, folder, True)
    return folder


def _fresh_folder() -> str:
    folder = _work_folder(os.getpid())
    for name in os.listdir(folder):
        os.unlink(os.path.join(folder, name))
    return folder


def check_files(test: str, files: dict[str, bytes], main: str, klass_name: str, *,
                mmap: bool = True, validation: str = "warn", keep_file_open: bool = False,
                expected: np.ndarray | None = None, load_options: dict | None = None,
                exercise=None) -> str:
    """Write ``files``, load ``main`` and read it; return the outcome, fail on a broken contract.

    With ``expected``, a read that succeeds with other data counts as
    "wrong data" (damage nothing detected), reported in the summary.
    ``exercise(path, klass_name, mmap, validation, keep_file_open)`` replaces
    the reading of spatial images (surface formats read differently).
    """
    folder = _fresh_folder()
    for fname, content in files.items():
        Path(folder, fname).write_bytes(content)
    path = os.path.join(folder, main)
    outcome = "ok"
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]  # grows over a long run (hypothesis' own state)
    try:
        with _time_limit(CASE_TIMEOUT), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if exercise is not None:
                data = exercise(path, klass_name, mmap, validation, keep_file_open)
            else:
                data = _exercise(path, klass_name, mmap, validation, keep_file_open, load_options)
        if expected is not None and not np.array_equal(data, expected, equal_nan=True):
            outcome = "wrong data"
    except NivoxError as err:
        outcome = type(err).__name__
        names = {main, *files}
        assert any(name in str(err) for name in names), f"message does not name the file: {err!r}"
        assert not isinstance(err.__cause__ or err.__context__, MemoryError), \
            f"{main}: an allocation failed (and was reported as {outcome})"
    except Hang as err:
        raise AssertionError(f"{main}: {err}") from None
    peak = tracemalloc.get_traced_memory()[1] - baseline
    assert peak <= MAX_ALLOCATION, f"{main}: a case allocated {peak} bytes"
    OUTCOMES[(test, outcome)] += 1
    return outcome


@contextlib.contextmanager
def tracing():
    """tracemalloc on for the duration (numpy reports its array allocations to it)."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start(1)
    try:
        yield
    finally:
        if not was_tracing:
            tracemalloc.stop()


def header_bytes(seed: Seed) -> bytes:
    return uncompressed(seed, seed.header_file)


def summary() -> list[str]:
    """Lines: per test, cases run and how many were clean rejections (by error class)."""
    lines = []
    tests = sorted({test for test, _ in OUTCOMES})
    for test in tests:
        counts = {outcome: n for (t, outcome), n in OUTCOMES.items() if t == test}
        total = sum(counts.values())
        wrong = counts.get("wrong data", 0)
        rejected = total - counts.get("ok", 0) - wrong
        detail = ", ".join(f"{name} {n}" for name, n in sorted(counts.items())
                           if name not in ("ok", "wrong data"))
        lines.append(f"{test}: {total} cases, {counts.get('ok', 0)} read, {rejected} clean rejections"
                     + (f" ({detail})" if detail else "")
                     + (f", {wrong} read wrong data without an error" if wrong else ""))
    return lines


__all__ = ["CASE_TIMEOUT", "MAX_ALLOCATION", "OUTCOMES", "Seed", "check_files", "examples", "fuzz_settings", "header_bytes",
           "recompressed", "seed_data", "seeds", "summary", "tracing", "uncompressed"]
