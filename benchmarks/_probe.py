"""Measurements that need a fresh interpreter; prints one JSON line.

Run by :mod:`benchmarks.timing` as a script (not imported), so nothing but
the library being measured is loaded::

    python _probe.py import LIB
    python _probe.py import-load LIB PATH
    python _probe.py memory LIB PATH MMAP
    python _probe.py volume LIB INDEX PATH [PATH ...]

``volume`` times the first read of one volume (``dataobj[..., INDEX]``) of
each just loaded image, in a process that has not seen the file before
(several different files share one process, to save start-up time).

``memory`` reports the peak resident memory added by reading the whole
image as float32 (``get_fdata(dtype=float32)``, or for SimpleITK
``ReadImage(path, sitkFloat32)`` plus an array view). The peak is the
kernel's high-water mark (VmHWM), reset just before the read by writing 5
to /proc/self/clear_refs; where that is not allowed, getrusage's maxrss is
used, which can only over-report (it includes the start-up peak).
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time

LIBS = {"nivox": "nivox", "nibabel": "nibabel", "sitk": "SimpleITK"}


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _import(lib: str) -> dict:
    start = time.perf_counter()
    __import__(LIBS[lib])
    return {"seconds": time.perf_counter() - start}


def _import_load(lib: str, path: str) -> dict:
    start = time.perf_counter()
    if lib == "sitk":
        import SimpleITK as sitk

        reader = sitk.ImageFileReader()
        reader.SetFileName(path)
        reader.ReadImageInformation()
        reader.GetSize()
    else:
        mod = __import__(LIBS[lib])
        mod.load(path).header
    return {"seconds": time.perf_counter() - start}


def _memory(lib: str, path: str, mmap: str) -> dict:
    import numpy as np

    if lib == "sitk":
        import SimpleITK as sitk

        def read():
            image = sitk.ReadImage(path, sitk.sitkFloat32)
            return image, sitk.GetArrayViewFromImage(image)
    else:
        mod = __import__(LIBS[lib])
        kwargs = {} if mmap == "default" else {"mmap": mmap == "True"}
        img = mod.load(path, **kwargs)
        img.header  # header parsed before the baseline

        def read():
            return img, img.get_fdata(dtype=np.float32)

    gc.collect()
    before = _status_kib("VmRSS")
    exact = _reset_peak()
    start = time.perf_counter()
    keep, arr = read()
    seconds = time.perf_counter() - start
    if exact:
        peak = _status_kib("VmHWM")
    else:  # ru_maxrss is in KiB on Linux
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"peak_bytes": (peak - before) * 1024, "out_bytes": int(arr.nbytes),
            "seconds": seconds, "exact_peak": exact, "dtype": str(arr.dtype)}


def _volume(lib: str, index: str, paths: list[str]) -> dict:
    mod = __import__(LIBS[lib])
    result = {}
    for path in paths:
        kwargs = {"mmap": False} if path.endswith(".nii") else {}
        img = mod.load(path, **kwargs)
        start = time.perf_counter()
        img.dataobj[..., int(index)]
        result[path] = time.perf_counter() - start
    return result


def main(argv: list[str]) -> None:
    cmd, lib, *rest = argv
    if cmd == "import":
        result = _import(lib)
    elif cmd == "import-load":
        result = _import_load(lib, rest[0])
    elif cmd == "memory":
        result = _memory(lib, rest[0], rest[1])
    elif cmd == "volume":
        result = _volume(lib, rest[0], rest[1:])
    else:
        raise SystemExit(f"unknown probe {cmd!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
