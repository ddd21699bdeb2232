"""A save that fails half way (exception, full disk, interrupt, killed process) leaves the original files intact."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import nivox
from nivox import _atomic
from nivox._atomic import TEMP_PREFIX
from nivox.openers import Opener

OLD = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
NEW = (OLD * 3).astype(np.float32)
FORMATS = [
    ("Nifti1Image", "img.nii"),
    ("Nifti1Image", "img.nii.gz"),
    ("Nifti1Pair", "img.img"),
    ("Nifti2Image", "img.nii"),
    ("Spm99AnalyzeImage", "img.img"),
]


def _snapshot(folder):
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder))}


def _original(tmp_path, klass_name, name):
    path = tmp_path / name
    getattr(nivox, klass_name)(OLD, np.diag([2.0, 2.0, 2.0, 1.0])).to_filename(path)
    return path, _snapshot(tmp_path)


def _fail_writes_after(monkeypatch, nbytes, error):
    """Make writes to temporary files raise ``error`` once ``nbytes`` went through."""
    written = {"n": 0}
    real_write = Opener.write

    def write(self, data):
        if TEMP_PREFIX in str(self.name):
            written["n"] += len(memoryview(data).cast("B"))
            if written["n"] > nbytes:
                raise error
        return real_write(self, data)

    monkeypatch.setattr(Opener, "write", write)


@pytest.mark.parametrize(("klass_name", "name"), FORMATS)
@pytest.mark.parametrize("error", [
    RuntimeError("writer failed"),
    OSError(errno.ENOSPC, "No space left on device"),
    KeyboardInterrupt(),
], ids=["exception", "disk-full", "interrupt"])
@pytest.mark.parametrize("after", [0, 400])  # before anything / in the middle of the data
def test_failed_save_keeps_original_and_leaves_no_temporary(tmp_path, monkeypatch, klass_name, name,
                                                            error, after):
    path, before = _original(tmp_path, klass_name, name)
    img = nivox.load(path)
    replacement = getattr(nivox, klass_name)(NEW, img.affine)
    _fail_writes_after(monkeypatch, after, error)
    with pytest.raises(type(error)) as caught:
        nivox.save(replacement, path)
    if isinstance(error, OSError):
        assert caught.value.errno == errno.ENOSPC  # the cause is not masked
    monkeypatch.undo()
    assert _snapshot(tmp_path) == before  # same files, same bytes: nothing left behind
    np.testing.assert_array_equal(np.asanyarray(img.dataobj), OLD)  # the loaded image still reads
    np.testing.assert_array_equal(np.asanyarray(nivox.load(path).dataobj), OLD)


def test_full_disk_at_fsync_keeps_original(tmp_path, monkeypatch):
    # a full disk may only show when the data are flushed
    path, before = _original(tmp_path, "Nifti1Pair", "img.img")

    def fsync(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_atomic.os, "fsync", fsync)
    with pytest.raises(OSError, match="No space"):
        nivox.save(nivox.Nifti1Pair(NEW, np.eye(4)), path)
    monkeypatch.undo()
    assert _snapshot(tmp_path) == before


def test_failing_sidecar_keeps_all_three_files(tmp_path, monkeypatch):
    path, before = _original(tmp_path, "Spm2AnalyzeImage", "img.img")

    def write_mat(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(nivox.spm99analyze._matfile, "write_mat", write_mat)
    with pytest.raises(OSError):
        nivox.save(nivox.Spm2AnalyzeImage(NEW, np.eye(4)), path)
    assert _snapshot(tmp_path) == before


def test_failed_rename_leaves_no_temporary(tmp_path, monkeypatch):
    path, _ = _original(tmp_path, "Nifti1Pair", "img.img")
    real_replace = os.replace
    calls = []

    def replace(source, target):
        calls.append(target)
        if len(calls) == 2:
            raise OSError(errno.EIO, "Input/output error")
        real_replace(source, target)

    monkeypatch.setattr(_atomic.os, "replace", replace)
    with pytest.raises(OSError):
        nivox.save(nivox.Nifti1Pair(NEW, np.eye(4)), path)
    assert sorted(os.listdir(tmp_path)) == ["img.hdr", "img.img"]


def test_failed_save_over_itself_keeps_image_usable(tmp_path, monkeypatch):
    path, before = _original(tmp_path, "Nifti1Image", "img.nii")
    img = nivox.load(path)
    file_map = img.file_map
    _fail_writes_after(monkeypatch, 100, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(OSError):
        img.to_filename(path)
    monkeypatch.undo()
    assert img.file_map is file_map
    np.testing.assert_array_equal(img.get_fdata(), OLD)
    nivox.save(img, path)  # and saving again works
    assert _snapshot(tmp_path).keys() == before.keys()


# ---- a process killed while saving ----------------------------------------------------

CHILD = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    import nivox
    from nivox import _atomic
    from nivox.openers import Opener

    path, where = sys.argv[1], sys.argv[2]

    def stop_here():
        print("stopping", flush=True)
        time.sleep(60)

    if where == "data":  # half the data written to the temporary file
        real_write = Opener.write
        state = {"n": 0}
        def write(self, data):
            state["n"] += len(memoryview(data).cast("B"))
            if state["n"] > 4 << 20 and _atomic.TEMP_PREFIX in str(self.name):
                real_write(self, data)
                self.flush()
                stop_here()
            return real_write(self, data)
        Opener.write = write
    elif where == "rename":  # everything written and flushed, nothing renamed yet
        _atomic._rename_all = lambda temps: stop_here()
    shape = (128, 128, 128)
    data = np.random.default_rng(0).integers(0, 1000, size=shape).astype(np.float32)
    klass = nivox.Nifti1Pair if path.endswith(".img") else nivox.Nifti1Image
    print("saving", flush=True)
    nivox.save(klass(data, np.eye(4)), path)
    print("saved", flush=True)
""")


def _kill_child_while_saving(path, where):
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), where],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "saving"
        if where == "anytime":
            # kill as soon as the temporary file has data in it
            folder = os.path.dirname(path)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                temps = [f for f in os.listdir(folder) if f.startswith(TEMP_PREFIX)]
                if any(os.path.getsize(os.path.join(folder, f)) for f in temps if
                       os.path.exists(os.path.join(folder, f))) or child.poll() is not None:
                    break
                time.sleep(0.001)
        else:
            assert child.stdout.readline().strip() == "stopping"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(30)
        child.stdout.close()
    return child.returncode


@pytest.mark.parametrize(("name", "where"), [
    ("img.nii", "data"),
    ("img.nii.gz", "data"),
    ("img.img", "rename"),
    ("img.nii.gz", "anytime"),
])
def test_killed_save_leaves_original_readable(tmp_path, name, where):
    klass_name = "Nifti1Pair" if name.endswith(".img") else "Nifti1Image"
    path, before = _original(tmp_path, klass_name, name)
    returncode = _kill_child_while_saving(path, where)
    after = _snapshot(tmp_path)
    leftovers = [f for f in after if f.startswith(TEMP_PREFIX)]
    if returncode == -signal.SIGKILL and where != "anytime" or leftovers:
        # killed before the renames: originals untouched, one stray temporary per target at most
        assert {k: v for k, v in after.items() if k not in leftovers} == before
        assert len(leftovers) <= len(before)
        np.testing.assert_array_equal(np.asanyarray(nivox.load(path).dataobj), OLD)
    else:  # the child finished first: the new file is complete
        assert nivox.load(path).shape == (128, 128, 128)
