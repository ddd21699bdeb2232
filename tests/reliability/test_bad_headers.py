"""Every validated header field, in every mode: fixed with a warning, or refused with a NivoxError naming the file.

Where nibabel reads a file, nivox (in the default mode) reads it identically:
the extra checks only report, they never change what is read.
"""

from __future__ import annotations

import gzip
import tracemalloc
import warnings

import numpy as np
import pytest

import nivox
from nivox import validation
from nivox.errors import HeaderDataError, HeaderFixWarning, ImageFileError, NivoxError, TruncatedDataError

nib = pytest.importorskip("nibabel")

DATA = (np.arange(3 * 4 * 5, dtype=np.int16) - 20).reshape(3, 4, 5)
OK, WARN = "ok", "warn"  # loads silently / loads with a HeaderFixWarning


def _file(tmp_path, klass, fields, name="img", ext=".nii"):
    """Save DATA as ``klass``, then overwrite header ``fields`` (name -> value or (index, value))."""
    path = tmp_path / f"{name}{ext}"
    klass(DATA, np.diag([2.0, 3.0, 4.0, 1.0])).to_filename(path)
    header_path = path if ext == ".nii" else path.with_suffix(".hdr")
    raw = bytearray(header_path.read_bytes())
    size = klass.header_class.template_dtype.itemsize
    hdr = klass.header_class(bytes(raw[:size]), check=False)
    for key, value in fields.items():
        if isinstance(value, tuple):
            hdr[key][value[0]] = value[1]
        else:
            hdr[key] = value
    raw[:size] = hdr.binaryblock
    header_path.write_bytes(bytes(raw))
    return path


def _outcome(path, mode, klass=None):
    """'ok', 'warn', or the class name of the NivoxError that loading and reading raised.

    Messages must name the file (for a pair, the .hdr or the .img).
    """
    stem = str(path.with_suffix(""))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            img = klass.from_filename(path, validation=mode) if klass else nivox.load(path, validation=mode)
            img.affine  # noqa: B018
            np.asanyarray(img.dataobj)
        except NivoxError as err:
            assert stem in str(err), f"error does not name the file: {err}"
            return type(err).__name__
    ours = [w for w in caught if issubclass(w.category, HeaderFixWarning)]
    assert all(stem in str(w.message) for w in ours)
    return WARN if ours else OK


def _same_as_nibabel(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = nib.load(path)
        their_data = np.asanyarray(theirs.dataobj)
        ours = nivox.load(path)
        our_data = np.asanyarray(ours.dataobj)
    assert ours.header.binaryblock == theirs.header.binaryblock
    np.testing.assert_array_equal(ours.affine, theirs.affine)  # NaN equals NaN here
    assert our_data.dtype == their_data.dtype
    np.testing.assert_array_equal(our_data, their_data)


N1 = nivox.Nifti1Image
NAN, INF = float("nan"), float("inf")

# (id, image class, header fields, outcome in 'ignore', 'warn', 'raise', nibabel reads it)
CASES = [
    ("valid", N1, {}, (OK, OK, OK), True),
    ("negative dim", N1, {"dim": (2, -4)}, ("HeaderDataError",) * 3, False),
    ("zero dim", N1, {"dim": (3, 0)}, (OK, WARN, "HeaderDataError"), True),
    ("no dims", N1, {"dim": (0, 0)}, (OK, WARN, "HeaderDataError"), True),
    ("dim0 beyond 7", nivox.AnalyzeImage, {"dim": (0, 9)}, ("HeaderDataError",) * 3, False),
    ("size overflows", N1, {"dim": [7] + [32767] * 7}, ("HeaderDataError",) * 3, False),
    ("more data than the file", N1, {"dim": (1, 300)},
     ("TruncatedDataError", "TruncatedDataError", "TruncatedDataError"), False),
    ("unknown datatype", N1, {"datatype": 3}, ("HeaderDataError",) * 3, False),
    ("datatype none", N1, {"datatype": 0}, ("HeaderDataError",) * 3, False),
    ("bitpix mismatch", N1, {"bitpix": 7}, (OK, OK, OK), True),  # level 10: fixed quietly
    ("sizeof_hdr", N1, {"sizeof_hdr": 100}, (OK, WARN, "HeaderDataError"), True),
    ("offset inside header", N1, {"vox_offset": 100}, (OK, "HeaderDataError", "HeaderDataError"), False),
    ("offset zero", N1, {"vox_offset": 0}, (OK, WARN, "HeaderDataError"), True),
    ("offset nan", N1, {"vox_offset": NAN}, ("HeaderDataError",) * 3, False),
    ("offset inf", N1, {"vox_offset": INF}, ("HeaderDataError",) * 3, False),
    ("offset beyond file", N1, {"vox_offset": 1e9}, ("TruncatedDataError",) * 3, False),
    ("pixdim nan", N1, {"pixdim": (2, NAN)}, (OK, WARN, "HeaderDataError"), True),
    ("pixdim inf", N1, {"pixdim": (1, -INF)}, (OK, WARN, "HeaderDataError"), True),
    ("pixdim zero", N1, {"pixdim": (3, 0.0)}, (OK, WARN, "HeaderDataError"), True),
    ("pixdim negative", N1, {"pixdim": (1, -2.0)}, (OK, WARN, "HeaderDataError"), True),
    ("qfac", N1, {"pixdim": (0, 0.5)}, (OK, OK, OK), True),  # level 20: fixed, logged
    ("slope inf", N1, {"scl_slope": INF}, (OK, WARN, "HeaderDataError"), True),
    ("slope nan", N1, {"scl_slope": NAN}, (OK, OK, OK), True),  # NaN: unscaled, as the standard says
    ("intercept inf", N1, {"scl_slope": 2.0, "scl_inter": INF}, ("HeaderDataError",) * 3, False),
    ("quaternion not a rotation, qform used", N1,
     {"qform_code": 1, "sform_code": 0, "quatern_b": 0.9, "quatern_c": 0.9},
     ("HeaderDataError",) * 3, False),
    ("quaternion not a rotation, sform used", N1,
     {"qform_code": 1, "sform_code": 1, "quatern_b": 0.9, "quatern_c": 0.9},
     (OK, WARN, "HeaderDataError"), True),
    ("quaternion nan", N1, {"qform_code": 1, "sform_code": 0, "quatern_d": NAN},
     (OK, WARN, "HeaderDataError"), True),
    ("sform inf", N1, {"sform_code": 2, "srow_y": (3, INF)}, (OK, WARN, "HeaderDataError"), True),
    ("qform code", N1, {"qform_code": 9}, (OK, WARN, "HeaderDataError"), True),
    ("nifti2 negative dim", nivox.Nifti2Image, {"dim": (1, -3)}, ("HeaderDataError",) * 3, False),
    ("nifti2 huge dims", nivox.Nifti2Image, {"dim": (1, 2**62)}, ("HeaderDataError",) * 3, False),
    ("nifti2 eol check", nivox.Nifti2Image, {"eol_check": (0, 7)}, (OK, "HeaderDataError", "HeaderDataError"),
     False),
    ("spm scale inf", nivox.Spm99AnalyzeImage, {"scl_slope": INF}, (OK, WARN, "HeaderDataError"), True),
    ("analyze pixdim nan", nivox.AnalyzeImage, {"pixdim": (3, NAN)}, (OK, WARN, "HeaderDataError"), True),
]


@pytest.mark.parametrize(("klass", "fields", "expected", "nibabel_reads"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_field(tmp_path, klass, fields, expected, nibabel_reads):
    ext = ".nii" if klass in (N1, nivox.Nifti2Image) else ".img"
    path = _file(tmp_path, klass, fields, ext=ext)
    got = tuple(_outcome(path, mode, klass) for mode in validation.MODES)
    assert got == expected
    if nibabel_reads:
        _same_as_nibabel(path)
    else:
        with pytest.raises(Exception), warnings.catch_warnings():  # noqa: B017 - any refusal
            warnings.simplefilter("ignore")
            np.asanyarray(nib.load(path).dataobj)


@pytest.mark.parametrize("offset", [-16.0, NAN, -1e10])
def test_pair_offset_that_cannot_be_read(tmp_path, offset):
    # a pair has no minimum offset, so nibabel's battery lets these through to the reader
    path = _file(tmp_path, nivox.Nifti1Pair, {"vox_offset": offset}, ext=".img")
    with pytest.raises(HeaderDataError, match=f"{tmp_path / 'img.hdr'}: data offset"):
        nivox.load(path, validation="ignore")


def test_sniffing_follows_nibabel_on_sizeof_hdr(tmp_path):
    path = _file(tmp_path, N1, {"sizeof_hdr": 0})
    assert type(nivox.load(path, validation="ignore")).__name__ == type(nib.load(path)).__name__


def test_bad_magic_is_not_sniffed_and_refused_by_the_class(tmp_path):
    path = _file(tmp_path, N1, {"magic": b"xy1"})
    with pytest.raises(ImageFileError, match=str(path)):
        nivox.load(path)
    for mode in validation.MODES:  # level 45, not fixable
        with pytest.raises(HeaderDataError, match=f"{path}: magic string"):
            N1.from_filename(path, validation=mode)


@pytest.mark.parametrize("esize", [-16, 4, 24, 1 << 30])
def test_garbled_extension_sizes(tmp_path, esize):
    path = tmp_path / "ext.nii"
    img = N1(DATA, np.eye(4))
    img.header.extensions.append(nivox.nifti1.Nifti1Extension("comment", b"x" * 20))
    img.to_filename(path)
    raw = bytearray(path.read_bytes())
    raw[352:356] = np.int32(esize).tobytes()
    path.write_bytes(bytes(raw))
    assert _outcome(path, "warn") == WARN  # the extension is dropped or read as given, with a warning
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nib.load(path)
    except Exception:  # noqa: BLE001 - nibabel refuses; nivox reads the image without it
        with pytest.warns(HeaderFixWarning, match=str(path)):  # from the extension reader
            assert len(nivox.load(path).header.extensions) == 0
    else:
        _same_as_nibabel(path)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_absurd_size_is_refused_before_allocating(tmp_path, suffix):
    path = _file(tmp_path, N1, {"dim": [4, 4000, 4000, 4000, 16, 1, 1, 1]})  # 2 TB of int16
    if suffix:
        gz = path.with_name(path.name + suffix)
        gz.write_bytes(gzip.compress(path.read_bytes()))
        path = gz
    img = nivox.load(path, validation="ignore")
    for mmap in (True, False):
        img = nivox.load(path, mmap=mmap)
        tracemalloc.start()
        try:
            for read in (lambda: np.asanyarray(img.dataobj), lambda: img.dataobj[0],
                         lambda: img.get_fdata(), lambda: img.dataobj.get_unscaled()):
                with pytest.raises(TruncatedDataError, match=f"{path}: expected .* bytes"):
                    read()
            assert tracemalloc.get_traced_memory()[1] < 1 << 20
        finally:
            tracemalloc.stop()
    with pytest.raises(TruncatedDataError):
        nivox.load(path, validation="raise")


def test_truncation_found_at_load_is_logged_not_warned_in_warn_mode(tmp_path, caplog):
    path = _file(tmp_path, N1, {"dim": (1, 300)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", HeaderFixWarning)
        with caplog.at_level("WARNING", logger="nivox.global"):
            img = nivox.load(path)
    assert img.shape == (300, 4, 5)  # the header is still there to look at
    assert [r.getMessage() for r in caplog.records] == [
        f"{path}: expected 12000 bytes of array data after offset 352, but the file holds 120"]
