"""The benchmark cases: one function per group, each appending rows.

Both libraries are called exactly as user code calls them (``load``, then
``get_fdata``, ``dataobj[...]``, ``save``); nibabel runs in its fastest
configuration, with indexed_gzip installed (it then reads every ``.gz``
through indexed_gzip). Uncompressed files are opened with ``mmap=False``
by both, so every timing includes reading the bytes rather than mapping them.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import shutil
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from .data import ImageFiles, ImageSpec, affine_for
from .report import Row, Target, fmt_value, row_cells
from .timing import Settings, Timing, measure, measure_split, probe_median, run_probe

GROUPS = ("import", "header", "read", "volume", "iterate", "slice", "save", "memory", "mgz",
          "minc")

# the targets of issue 3, as nibabel/nivox ratios on a 2-core machine
T_READ_NIB_GZ = Target(min_ratio=2.5, beat_sitk=True)
T_READ_NIVOX_GZ = Target(min_ratio=4.0)
T_READ_NII = Target(min_ratio=3.0)
T_VOLUME_AGAIN = Target(min_ratio=10.0)
T_ITERATE = Target(min_ratio=10.0)
T_SAVE_EQUAL_SIZE = Target(min_ratio=6.0)
T_HEADER_GZ = Target(min_ratio=10.0)
T_IMPORT = Target(min_ratio=2.0)
T_MEMORY = Target(max_out_ratio=1.1)

# "equal size": nivox's file may be this much larger than nibabel's
SIZE_TOLERANCE = 0.01


@dataclass
class Context:
    """Everything the cases share: the libraries, settings, files, output rows."""

    settings: Settings
    scratch: Path
    log: Callable[[str], None]
    nib: Any
    nivox: Any
    sitk: Any | None
    rows: list[Row] = field(default_factory=list)
    nivox_level_kw: bool = False

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row


@dataclass(frozen=True)
class Subject:
    """One image with its three files: nibabel-written and nivox-written .nii.gz, .nii."""

    spec: ImageSpec
    ref: ImageFiles
    nivox_gz: Path

    @property
    def name(self) -> str:
        return self.spec.kind

    def files(self) -> list[tuple[str, Path]]:
        return [("nibabel .nii.gz", self.ref.nib_gz), ("nivox .nii.gz", self.nivox_gz),
                (".nii mmap=False", self.ref.nii)]


def _mmap_kw(path: Path) -> dict[str, Any]:
    return {"mmap": False} if path.suffix == ".nii" else {}


def _error(row: Row, attr: str, err: BaseException) -> None:
    row.error = (row.error + "; " if row.error else "") + f"{attr}: {type(err).__name__}: {err}"[:200]


def _try(row: Row, attr: str, fn: Callable[[], Timing]) -> None:
    """Measure into ``row.<attr>``; a failure is recorded, not fatal."""
    try:
        setattr(row, attr, fn())
    except Exception as err:  # report the failure in the table and carry on
        _error(row, attr, err)


def _fill(row: Row, results: dict[str, Any], part: int | None = None) -> None:
    """Put each library's result (or part of it) in the row, or its error."""
    for attr, result in results.items():
        if isinstance(result, Exception):
            _error(row, attr, result)
        else:
            setattr(row, attr, result if part is None else result[part])


def _libs(ctx: Context) -> list[tuple[str, Any]]:
    return [("nibabel", ctx.nib), ("nivox", ctx.nivox)]


# --- groups -----------------------------------------------------------------


def run_import(ctx: Context, subjects: list[Subject]) -> None:
    reps = ctx.settings.subprocess_repeats
    row = ctx.add(Row("import", "import (fresh process)", "-", "-", target=T_IMPORT))
    for attr, lib in (("nibabel", "nibabel"), ("nivox", "nivox"), ("sitk", "sitk")):
        if attr == "sitk" and ctx.sitk is None:
            continue
        _try(row, attr, functools.partial(probe_median, ["import", lib], "seconds", reps))
    ctx.log(_line(row))
    if subjects:
        s = subjects[0]
        row = ctx.add(Row("import", "import + load + header (fresh process)", s.name,
                          "nibabel .nii.gz"))
        for attr, lib in (("nibabel", "nibabel"), ("nivox", "nivox"), ("sitk", "sitk")):
            if attr == "sitk" and ctx.sitk is None:
                continue
            _try(row, attr, functools.partial(
                probe_median, ["import-load", lib, str(s.ref.nib_gz)], "seconds", reps))
        ctx.log(_line(row))


def run_header(ctx: Context, s: Subject) -> None:
    for label, path in s.files():
        gz = path.suffix == ".gz"
        row = ctx.add(Row("header", "header-only load", s.name, label if gz else ".nii",
                          target=T_HEADER_GZ if gz else None, note="load(path).header"))
        fns: dict[str, Callable[[], Any]] = {
            attr: functools.partial(_header, lib, path) for attr, lib in _libs(ctx)}
        if ctx.sitk is not None:
            fns["sitk"] = lambda: _sitk_info(ctx.sitk, path)
        _fill(row, measure(fns, ctx.settings))
        ctx.log(_line(row))


def _header(lib: Any, path: Path) -> Any:
    return lib.load(str(path)).header


def _index(img: Any, key: tuple[Any, ...]) -> Any:
    return img.dataobj[key]


def _sitk_info(sitk: Any, path: Path) -> Any:
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    reader.ReadImageInformation()
    return reader.GetSize()


def run_read(ctx: Context, s: Subject) -> None:
    sitk = ctx.sitk
    ops: list[tuple[str, Callable[[Any, Path], Any], Any]] = [
        ("get_fdata()", lambda lib, p: lib.load(str(p), **_mmap_kw(p)).get_fdata(), None),
        ("get_fdata(float32)",
         lambda lib, p: lib.load(str(p), **_mmap_kw(p)).get_fdata(dtype=np.float32),
         None if sitk is None else sitk.sitkFloat32),
        ("np.asanyarray(dataobj)",
         lambda lib, p: np.asanyarray(lib.load(str(p), **_mmap_kw(p)).dataobj),
         None if sitk is None else sitk.sitkUnknown),
    ]
    for label, path in s.files():
        target = {"nibabel .nii.gz": T_READ_NIB_GZ, "nivox .nii.gz": T_READ_NIVOX_GZ}.get(label, T_READ_NII)
        for op_name, op, sitk_type in ops:
            row = ctx.add(Row("read", f"full read: {op_name}", s.name, label, target=target,
                              note=f"{path.stat().st_size / 1e6:.1f} MB on disk"))
            fns: dict[str, Callable[[], Any]] = {
                attr: functools.partial(op, lib, path) for attr, lib in _libs(ctx)}
            if sitk_type is not None and label != "nivox .nii.gz":  # SimpleITK: reference files only
                fns["sitk"] = lambda: _sitk_read(sitk, path, sitk_type)
            _fill(row, measure(fns, ctx.settings))
            ctx.log(_line(row))


def _sitk_read(sitk: Any, path: Path, pixel_type: Any) -> Any:
    image = sitk.ReadImage(str(path), pixel_type)
    return image, sitk.GetArrayViewFromImage(image)


def run_volume(ctx: Context, s: Subject) -> None:
    if not s.spec.is_4d:
        return
    k = s.spec.shape[3] // 2
    files = s.files()
    cold_runs: dict[str, list[dict[str, float]] | str] = {}
    for attr, _ in _libs(ctx):
        try:
            cold_runs[attr] = run_probe(["volume", attr, str(k), *(str(p) for _, p in files)],
                                        ctx.settings.subprocess_repeats)
        except Exception as err:  # reported in the table
            cold_runs[attr] = f"{type(err).__name__}: {err}"[:200]
    for label, path in files:
        gz = path.suffix == ".gz"
        cold = ctx.add(Row("volume", f"one volume [..., {k}], first access, fresh process",
                           s.name, label, note="load, then time the read"))
        fresh = ctx.add(Row("volume", f"one volume [..., {k}], repeated access, fresh image",
                            s.name, label, target=T_VOLUME_AGAIN if gz else None,
                            note="load + read, again and again, same process"))
        same = ctx.add(Row("volume", f"one volume [..., {k}], again on the same image",
                           s.name, label, note="mean of 4 reads after the first"))
        for attr, runs in cold_runs.items():
            if isinstance(runs, str):
                cold.error = f"{attr}: {runs}"
            else:
                values = [float(r[str(path)]) for r in runs]
                setattr(cold, attr, Timing(statistics.median(values), values))
        results = measure_split(_loaders(ctx, path), lambda img: img.dataobj[..., k],
                                lambda img: img.dataobj[..., k], ctx.settings)
        _fill(fresh, results, 0)
        _fill(same, results, 1)
        for row in (cold, fresh, same):
            ctx.log(_line(row))


def _loaders(ctx: Context, path: Path) -> dict[str, Callable[[], Any]]:
    return {attr: functools.partial(lib.load, str(path), **_mmap_kw(path)) for attr, lib in _libs(ctx)}


def _iterate(img: Any) -> None:
    for i in range(img.shape[3]):
        img.dataobj[..., i]


def run_iterate(ctx: Context, s: Subject) -> None:
    if not s.spec.is_4d:
        return
    n = s.spec.shape[3]
    for label, path in s.files():
        gz = path.suffix == ".gz"
        row = ctx.add(Row("iterate", f"iterate all {n} volumes", s.name, label,
                          target=T_ITERATE if gz else None,
                          note="for i in range(n): img.dataobj[..., i]"))
        _fill(row, measure_split(_loaders(ctx, path), _iterate, None, ctx.settings), 0)
        if gz and row.nibabel is not None:
            _note_pass_floor(ctx, row, path)
        ctx.log(_line(row))


def _note_pass_floor(ctx: Context, row: Row, path: Path) -> None:
    """Add nivox's own full read of the file to the note: no pass over all volumes costs less."""
    full = measure({"nivox": lambda: np.asanyarray(ctx.nivox.load(str(path)).dataobj)}, ctx.settings)["nivox"]
    if isinstance(full, Timing) and row.target is not None and row.target.min_ratio:
        needed = row.nibabel.median / row.target.min_ratio if row.nibabel else float("nan")
        row.note += (f"; nivox full read {fmt_value(full.median, 's')}, "
                     f"the target needs a pass in {fmt_value(needed, 's')}")


def run_slice(ctx: Context, s: Subject) -> None:
    shape = s.spec.shape
    for label, path in s.files():
        for axis in range(3):
            index: list[Any] = [slice(None)] * len(shape)
            index[axis] = shape[axis] // 2
            key = tuple(index)
            text = ", ".join(":" if isinstance(i, slice) else str(i) for i in key)
            row = ctx.add(Row("slice", f"slice axis {axis} [{text}]", s.name, label))
            results = measure_split(_loaders(ctx, path), functools.partial(_index, key=key),
                                    None, ctx.settings)
            _fill(row, results, 0)
            ctx.log(_line(row))


@contextlib.contextmanager
def _opener_level(module: Any, level: int | None) -> Iterator[None]:
    """Set a library's default gzip level for the duration (both read it at call time)."""
    if level is None:
        yield
        return
    opener = module.openers.Opener
    old = opener.default_compresslevel
    opener.default_compresslevel = level
    try:
        yield
    finally:
        opener.default_compresslevel = old


@contextlib.contextmanager
def _durability(nivox: Any, mode: str) -> Iterator[None]:
    """Set nivox's save durability for the duration (skipped for a nivox without the setting)."""
    try:
        atomic = importlib.import_module(f"{nivox.__name__}._atomic")
    except ImportError:
        atomic = None
    if atomic is None or not hasattr(atomic, "DURABILITY"):
        yield
        return
    old = atomic.DURABILITY
    atomic.DURABILITY = mode
    try:
        yield
    finally:
        atomic.DURABILITY = old


def nivox_supports_level_kw(nivox: Any, scratch: Path) -> bool:
    """Whether ``nivox.save(..., compresslevel=)`` is accepted (issue 3 adds it)."""
    img = nivox.Nifti1Image(np.zeros((2, 2, 2), np.int16), np.eye(4))
    path = scratch / "probe" / "probe.nii.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        nivox.save(img, str(path), compresslevel=1)
    except TypeError:
        return False
    return True


def _nivox_save(ctx: Context, img: Any, path: Path, level: int | None) -> None:
    if level is not None and ctx.nivox_level_kw:
        ctx.nivox.save(img, str(path), compresslevel=level)
        return
    with _opener_level(ctx.nivox, level):
        ctx.nivox.save(img, str(path))


def run_save(ctx: Context, s: Subject) -> None:
    nib, nivox, sitk = ctx.nib, ctx.nivox, ctx.sitk
    data = np.asanyarray(nib.load(str(s.ref.nii), mmap=False).dataobj)
    affine = affine_for(s.spec)
    images = {"nibabel": nib.Nifti1Image(data, affine), "nivox": nivox.Nifti1Image(data, affine)}
    sitk_image = None
    if sitk is not None:
        sitk_image = sitk.GetImageFromArray(data.T)  # data is Fortran-ordered: .T is C-ordered
    out = {lib: ctx.scratch / "save" / lib for lib in ("nibabel", "nivox", "sitk")}
    for folder in out.values():
        folder.mkdir(parents=True, exist_ok=True)

    def save_nib(ext: str, level: int | None = None) -> Callable[[], None]:
        def run() -> None:
            with _opener_level(nib, level):
                nib.save(images["nibabel"], str(out["nibabel"] / f"img{ext}"))
        return run

    def save_nivox(ext: str, level: int | None = None) -> Callable[[], None]:
        return lambda: _nivox_save(ctx, images["nivox"], out["nivox"] / f"img{ext}", level)

    def save_sitk(ext: str, level: int | None) -> Callable[[], None]:
        assert sitk is not None
        path = str(out["sitk"] / f"img{ext}")
        return lambda: sitk.WriteImage(sitk_image, path, level is not None, -1 if level is None else level)

    def size(lib: str, ext: str) -> int:
        return (out[lib] / f"img{ext}").stat().st_size

    nib_level = nib.openers.Opener.default_compresslevel
    # 1. equal level (nibabel's default)
    row = level_row = ctx.add(Row("save", f"save .nii.gz, level {nib_level} (equal level)", s.name, "-"))
    fns = {"nibabel": save_nib(".nii.gz", nib_level), "nivox": save_nivox(".nii.gz", nib_level)}
    if sitk_image is not None:
        fns["sitk"] = save_sitk(".nii.gz", nib_level)
    _fill(row, measure(fns, ctx.settings))
    sizes = {lib: size(lib, ".nii.gz") for lib in out if (out[lib] / "img.nii.gz").exists()}
    row.note = "size " + " / ".join(f"{lib} {sizes[lib] / 1e6:.1f} MB" for lib in sizes)
    ctx.log(_line(row))
    # 2. equal size: the first nivox level whose file is no bigger than nibabel's (+1%)
    if "nibabel" in sizes:
        row = ctx.add(Row("save", "save .nii.gz, equal size", s.name, "-", target=T_SAVE_EQUAL_SIZE))
        try:
            level = _equal_size_level(row, save_nivox, size, sizes["nibabel"])
        except Exception as err:  # reported in the table
            _error(row, "nivox", err)
        else:
            if level == nib_level:
                row.nibabel, row.nivox = level_row.nibabel, level_row.nivox
            else:
                _fill(row, measure({"nibabel": save_nib(".nii.gz", nib_level),
                                    "nivox": save_nivox(".nii.gz", level)}, ctx.settings))
        ctx.log(_line(row))
    # 3. nivox's default level, as users get it
    row = ctx.add(Row("save", "save .nii.gz, each library's default", s.name, "-"))
    _fill(row, measure({"nibabel": save_nib(".nii.gz"), "nivox": save_nivox(".nii.gz")}, ctx.settings))
    if not row.error:
        row.note = f"size nibabel {size('nibabel', '.nii.gz') / 1e6:.1f} MB / nivox {size('nivox', '.nii.gz') / 1e6:.1f} MB"
    ctx.log(_line(row))
    # 4. uncompressed: nivox's default flushes a file it replaces to disk before the rename
    # (nibabel writes in place, unflushed); the second row shows nivox without the flush
    row = ctx.add(Row("save", "save .nii", s.name, "-",
                      note="over the last save: nivox fsyncs before replacing (NIVOX_FSYNC=replace)"))
    fns = {"nibabel": save_nib(".nii"), "nivox": save_nivox(".nii")}
    if sitk_image is not None:
        fns["sitk"] = save_sitk(".nii", None)
    _fill(row, measure(fns, ctx.settings))
    ctx.log(_line(row))
    row = ctx.add(Row("save", "save .nii, nivox with NIVOX_FSYNC=never", s.name, "-",
                      note="atomic for other processes, not against a power loss"))
    with _durability(ctx.nivox, "never"):
        _fill(row, measure({"nibabel": save_nib(".nii"), "nivox": save_nivox(".nii")}, ctx.settings))
    ctx.log(_line(row))
    del images, sitk_image, data
    shutil.rmtree(ctx.scratch / "save", ignore_errors=True)


def _equal_size_level(row: Row, save_nivox: Callable[..., Callable[[], None]],
                      size: Callable[[str, str], int], nib_size: int) -> int:
    """The lowest nivox level whose file is within the tolerance of nibabel's (else the smallest)."""
    limit = nib_size * (1 + SIZE_TOLERANCE)
    tried = {}
    for level in range(1, 10):
        save_nivox(".nii.gz", level)()
        tried[level] = size("nivox", ".nii.gz")
        if tried[level] <= limit:
            break
    level = min(tried, key=lambda lv: (tried[lv] > limit, lv if tried[lv] <= limit else tried[lv]))
    met = "" if tried[level] <= limit else f", smallest; none within +{SIZE_TOLERANCE:.0%}"
    row.note = (f"nivox level {level}: {tried[level] / 1e6:.1f} MB vs nibabel "
                f"{nib_size / 1e6:.1f} MB{met}")
    return level


def run_memory(ctx: Context, s: Subject) -> None:
    for label, path in s.files():
        libs = ["nibabel", "nivox"]
        if ctx.sitk is not None and label != "nivox .nii.gz":
            libs.append("sitk")
        mmap = "False" if path.suffix == ".nii" else "default"
        row = ctx.add(Row("memory", "peak memory, get_fdata(float32)", s.name, label,
                          unit="B", target=T_MEMORY))
        for lib in libs:
            def probe(lib: str = lib) -> Timing:
                result = run_probe(["memory", lib, str(path), mmap])[0]
                row.out_bytes = result["out_bytes"]
                return Timing(float(result["peak_bytes"]), [float(result["peak_bytes"])])
            _try(row, lib, probe)
        if row.nivox is not None and row.out_bytes:
            row.note = (f"output {row.out_bytes / 1e6:.0f} MB; nivox peak = "
                        f"{row.nivox.median / row.out_bytes:.2f}x output")
        ctx.log(_line(row))


def run_mgz(ctx: Context, s: Subject) -> None:
    """FreeSurfer .mgz: full read, one frame, and save, on a file nibabel wrote (as FreeSurfer does,
    one gzip stream) and on one nivox wrote."""
    nib, nivox = ctx.nib, ctx.nivox
    data = np.asanyarray(nib.load(str(s.ref.nii), mmap=False).dataobj)
    affine = affine_for(s.spec)
    folder = ctx.scratch / "mgz" / s.spec.key
    folder.mkdir(parents=True, exist_ok=True)
    files = {"nibabel .mgz": folder / "nib.mgz", "nivox .mgz": folder / "nivox.mgz"}
    nib.save(nib.MGHImage(data, affine), str(files["nibabel .mgz"]))
    nivox.save(nivox.MGHImage(data, affine), str(files["nivox .mgz"]))
    for label, path in files.items():
        row = ctx.add(Row("mgz", "full read: get_fdata(float32)", s.name, label,
                          note=f"{path.stat().st_size / 1e6:.1f} MB on disk"))
        _fill(row, measure({attr: functools.partial(
            lambda lib, p: lib.load(str(p)).get_fdata(dtype=np.float32), lib, path)
            for attr, lib in _libs(ctx)}, ctx.settings))
        ctx.log(_line(row))
        if s.spec.is_4d:
            k = s.spec.shape[3] // 2
            row = ctx.add(Row("mgz", f"one frame [..., {k}]: load + read", s.name, label))
            _fill(row, measure({attr: functools.partial(
                lambda lib, p, k=k: lib.load(str(p)).dataobj[..., k], lib, path)
                for attr, lib in _libs(ctx)}, ctx.settings))
            ctx.log(_line(row))
    images = {"nibabel": nib.MGHImage(data, affine), "nivox": nivox.MGHImage(data, affine)}
    row = ctx.add(Row("mgz", "save .mgz, each library's default", s.name, "-"))
    _fill(row, measure({lib: functools.partial(
        lambda mod, img, p: mod.save(img, str(p)), mod, images[lib], folder / f"out-{lib}.mgz")
        for lib, mod in _libs(ctx)}, ctx.settings))
    sizes = {lib: (folder / f"out-{lib}.mgz").stat().st_size / 1e6 for lib in images}
    row.note = f"size nibabel {sizes['nibabel']:.1f} MB / nivox {sizes['nivox']:.1f} MB"
    ctx.log(_line(row))


RUNNERS: dict[str, Callable[[Context, Subject], None]] = {
    "header": run_header, "read": run_read, "volume": run_volume, "iterate": run_iterate,
    "slice": run_slice, "save": run_save, "memory": run_memory, "mgz": run_mgz,
}


def _run_minc(ctx: Context, s: Subject) -> None:
    from .minc import run_minc

    run_minc(ctx, s)


RUNNERS["minc"] = _run_minc


def _line(row: Row) -> str:
    cells = row_cells(row)
    return "  " + " | ".join(c for c in cells if c)
