"""Images saved as gzip members read identically in nibabel, SimpleITK and nivox; levels and layouts."""

import gzip

import numpy as np
import pytest

import nivox
from nivox import openers
from nivox._codecs import backends, gzformat
from nivox._codecs import gzip as nvgzip

_rng = np.random.default_rng(11)
DATA = np.zeros((40, 48, 36, 5), np.int16)
DATA[5:35, 6:42, 4:32] = _rng.normal(500, 20, (30, 36, 28, 5))  # noise inside, zeros around
AFFINE = np.diag([2.0, 2.0, 2.5, 1.0])


@pytest.fixture
def saved(tmp_path, monkeypatch):
    monkeypatch.setattr(nvgzip, "MEMBER_SIZE", 64 << 10)  # many members in a small image
    path = tmp_path / "img.nii.gz"
    nivox.save(nivox.Nifti1Image(DATA, AFFINE), path)
    return path


def test_saved_file_is_several_sized_members(saved):
    blob = saved.read_bytes()
    points, complete = gzformat.scan_members(lambda at, n: blob[at : at + n], len(blob))
    assert complete and len(points) > 10


def test_nibabel_reads_it(saved):
    nibabel = pytest.importorskip("nibabel")
    for keep in (False, True):  # True: through indexed_gzip when installed
        img = nibabel.load(saved, keep_file_open=keep)
        assert np.array_equal(np.asanyarray(img.dataobj), DATA)
        assert np.array_equal(img.dataobj[..., 3], DATA[..., 3])
    assert gzip.decompress(saved.read_bytes()) == nibabel.load(saved).to_bytes()


def test_simpleitk_reads_it(saved):
    sitk = pytest.importorskip("SimpleITK")
    array = sitk.GetArrayFromImage(sitk.ReadImage(str(saved)))  # axes reversed
    assert np.array_equal(array.T, DATA)


def test_nivox_reads_volumes_and_whole(saved, backend):
    img = nivox.load(saved)
    for index in (4, 0, 2):
        assert np.array_equal(img.dataobj[..., index], DATA[..., index])
    assert np.array_equal(img.get_fdata(dtype=np.float32), DATA.astype(np.float32))


def test_nivox_reads_single_stream_files_of_other_writers(tmp_path, backend):
    nibabel = pytest.importorskip("nibabel")
    path = tmp_path / "nib.nii.gz"
    nibabel.save(nibabel.Nifti1Image(DATA, AFFINE), path)
    img = nivox.load(path)
    for index in range(DATA.shape[-1]):
        assert np.array_equal(img.dataobj[..., index], DATA[..., index])
    whole = np.asarray(img.dataobj)
    assert np.array_equal(whole, DATA) and whole.flags.writeable


@pytest.mark.parametrize("scaled", [False, True])
def test_single_stream_files_inflate_in_parts_into_the_output(tmp_path, monkeypatch, scaled):
    # a file as gzip.open writes it (one stream), big enough to be read in two parts
    from nivox._codecs import deflate_split, libdeflate

    if not libdeflate.available():
        pytest.skip("needs libdeflate (the fast extra)")
    monkeypatch.setattr(deflate_split, "MIN_PART", 1 << 20)
    monkeypatch.setattr(nvgzip, "THREADS", 2)
    rng = np.random.default_rng(5)
    data = (800 + rng.normal(0, 30, (64, 64, 30, 20))).astype(np.int16)  # 4.9 MB
    blob = bytearray(nivox.Nifti1Image(data, AFFINE).to_bytes())
    if scaled:
        blob[112:120] = np.array([0.5, 10], "<f4").tobytes()  # scl_slope, scl_inter
    path = tmp_path / "one-stream.nii.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(blob)
    results = []
    split = deflate_split.inflate_into
    monkeypatch.setattr(deflate_split, "inflate_into", lambda *a: results.append(split(*a)) or results[-1])
    expected = data * 0.5 + 10 if scaled else data
    loaded = nivox.load(path)
    assert np.array_equal(np.asanyarray(loaded.dataobj), expected)
    assert np.array_equal(loaded.get_fdata(), expected)
    assert np.array_equal(loaded.get_fdata(dtype=np.float32), expected.astype(np.float32))
    assert results and all(results)  # every whole read went through the parts


def test_conversions_read_compressed_bytes_into_the_outputs_spare_memory(tmp_path, monkeypatch):
    # int16 -> float32: the output has room for the compressed bytes before the raw data
    from nivox._codecs import gzwhole, libdeflate

    if not libdeflate.available():
        pytest.skip("needs libdeflate (the fast extra)")
    path = tmp_path / "one-stream.nii.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(nivox.Nifti1Image(DATA, AFFINE).to_bytes())
    calls = []
    real = gzwhole._inflate_read
    monkeypatch.setattr(gzwhole, "_inflate_read", lambda *a: calls.append(len(a[2])) or real(*a))
    assert np.array_equal(nivox.load(path).get_fdata(dtype=np.float32), DATA.astype(np.float32))
    assert calls  # the spare memory held the compressed bytes
    calls.clear()
    assert np.array_equal(np.asanyarray(nivox.load(path).dataobj), DATA)
    assert not calls  # no spare memory when the output is the raw data


def test_compresslevel_keyword_and_defaults(tmp_path, monkeypatch):
    img = nivox.Nifti1Image(DATA, AFFINE)
    sizes = {}
    for level in (0, 1, 9):
        path = tmp_path / f"l{level}.nii.gz"
        nivox.save(img, path, compresslevel=level)
        sizes[level] = path.stat().st_size
        assert gzformat.parse_header(path.read_bytes()[:64]).length == gzformat.NV_HEADER_SIZE
    assert sizes[0] > max(sizes[1], sizes[9])  # level 0 stores; 1 and 9 compress (9 not always smaller)
    assert [(tmp_path / f"l{level}.nii.gz").read_bytes()[8] for level in (1, 9)] == [4, 2]  # XFL
    img.to_filename(tmp_path / "t9.nii.gz", compresslevel=9)
    assert (tmp_path / "t9.nii.gz").read_bytes() == (tmp_path / "l9.nii.gz").read_bytes()
    # the module default, read at call time, and the class default under it
    monkeypatch.setattr(openers, "default_compresslevel", 9)
    nivox.save(img, tmp_path / "m9.nii.gz")
    assert (tmp_path / "m9.nii.gz").read_bytes() == (tmp_path / "l9.nii.gz").read_bytes()
    monkeypatch.setattr(openers, "default_compresslevel", None)
    monkeypatch.setattr(openers.Opener, "default_compresslevel", 0)
    nivox.save(img, tmp_path / "c0.nii.gz")
    assert (tmp_path / "c0.nii.gz").read_bytes() == (tmp_path / "l0.nii.gz").read_bytes()
    with pytest.raises(TypeError):
        nivox.save(img, tmp_path / "bad.nii.gz", compresslevel="high")


def test_same_bytes_with_any_thread_count(tmp_path, monkeypatch):
    img = nivox.Nifti1Image(DATA, AFFINE)
    monkeypatch.setattr(nvgzip, "MEMBER_SIZE", 32 << 10)
    blobs = []
    for threads in (1, 2, 3):
        monkeypatch.setattr(nvgzip, "THREADS", threads)
        path = tmp_path / f"t{threads}.nii.gz"
        nivox.save(img, path, compresslevel=6)
        blobs.append(path.read_bytes())
    assert blobs[0] == blobs[1] == blobs[2]


def test_single_layout_still_available(tmp_path, monkeypatch):
    monkeypatch.setattr(nvgzip, "LAYOUT", "single")
    path = tmp_path / "s.nii.gz"
    nivox.save(nivox.Nifti1Image(DATA, AFFINE), path, compresslevel=1)
    assert gzformat.parse_header(path.read_bytes()[:64]).member_size is None
    with backends.use_backend("stdlib"):
        assert np.array_equal(nivox.load(path).get_fdata(), DATA)
