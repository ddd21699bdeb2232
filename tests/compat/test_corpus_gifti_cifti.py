"""Every GIFTI and CIFTI-2 file of the corpus and of nibabel's wheel: nivox reads what nibabel reads.

Arrays, metadata, label tables, coordinate systems, CIFTI headers and axes and data
must be the same, and files written by either library must read the same in the other.
Files nibabel refuses must be refused with a NivoxError.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

import nivox
from nivox.errors import NivoxError

nib = pytest.importorskip("nibabel")

GIFTI_SUFFIXES = (".gii", ".gii.gz", ".gii.bz2")
CIFTI_INFIXES = (".dconn.", ".dtseries.", ".dscalar.", ".dlabel.", ".pconn.", ".ptseries.",
                 ".pscalar.", ".plabel.", ".pdconn.", ".dpconn.", ".pconnseries.", ".pconnscalar.")


def _files(root: Path, accept) -> list[Path]:
    found = []
    for dirpath, _, names in os.walk(root):
        found += [Path(dirpath) / n for n in names if accept(n.lower())]
    return sorted(found)


def _is_gifti(name: str) -> bool:
    return name.endswith(GIFTI_SUFFIXES)


def _is_cifti(name: str) -> bool:
    return name.endswith((".nii", ".nii.gz")) and any(i in name for i in CIFTI_INFIXES)


def _roots() -> list[Path]:
    roots = [Path(nib.__file__).parent / "tests" / "data", Path(nib.__file__).parent / "gifti" / "tests" / "data"]
    location = os.environ.get("NIVOX_CORPUS")
    if location and Path(location).is_dir():
        roots.insert(0, Path(location))
    return roots


def _all(accept) -> list[Path]:
    return [p for root in _roots() for p in _files(root, accept)]


def _id(path: Path) -> str:
    text = str(path)
    return text.split("corpus/")[-1] if "corpus/" in text else "nibabel-wheel/" + path.name


def _quiet(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args, **kwargs)


# ---- GIFTI -------------------------------------------------------------------------------

def assert_same_gifti(ours, theirs) -> None:
    assert type(ours).__name__ == "GiftiImage"
    assert ours.version == theirs.version
    assert dict(ours.meta) == dict(theirs.meta)
    assert [(lab.key, lab.label, lab.rgba) for lab in ours.labeltable.labels] == \
        [(lab.key, lab.label, lab.rgba) for lab in theirs.labeltable.labels]
    assert ours.numDA == theirs.numDA
    for a, b in zip(ours.darrays, theirs.darrays):
        for attr in ("intent", "datatype", "encoding", "endian", "ind_ord", "dims", "ext_fname",
                     "ext_offset"):
            assert getattr(a, attr) == getattr(b, attr), attr
        assert dict(a.meta) == dict(b.meta)
        if b.coordsys is None:
            assert a.coordsys is None
        else:
            assert (a.coordsys.dataspace, a.coordsys.xformspace) == (b.coordsys.dataspace, b.coordsys.xformspace)
            # nibabel keeps a matrix written on one line as 16 values; nivox always gives 4 x 4
            np.testing.assert_array_equal(a.coordsys.xform, np.reshape(b.coordsys.xform, (4, 4)))
        assert a.data.dtype == b.data.dtype
        np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize("path", _all(_is_gifti), ids=_id)
def test_gifti_file_matches_nibabel(path):
    try:
        theirs = _quiet(nib.load, path)
    except Exception:
        with pytest.raises(NivoxError):
            _quiet(nivox.load, path)
        return
    ours = _quiet(nivox.load, path)
    assert_same_gifti(ours, theirs)
    # both ways: each library reads what the other writes, to the same content
    mode = "force"
    from_ours = _quiet(nib.gifti.GiftiImage.from_bytes, ours.to_bytes(mode=mode))
    pairs = [(from_ours, theirs)]
    try:
        their_bytes = theirs.to_bytes(mode=mode)
    except NotImplementedError:  # nibabel cannot write ExternalFileBinary arrays; nivox inlines them
        assert any(da.ext_fname for da in theirs.darrays)
    else:
        pairs.append((_quiet(nivox.gifti.GiftiImage.from_bytes, their_bytes), from_ours))
    for a, b in pairs:
        assert [da.intent for da in a.darrays] == [da.intent for da in b.darrays]
        for x, y in zip(a.darrays, b.darrays):
            np.testing.assert_array_equal(x.data, y.data)
        assert dict(a.meta) == dict(b.meta)
        assert a.labeltable.get_labels_as_dict() == b.labeltable.get_labels_as_dict()


# ---- CIFTI-2 -----------------------------------------------------------------------------

def _axis_summary(axis) -> tuple:
    kind = type(axis).__name__
    if kind == "SeriesAxis":
        return kind, axis.start, axis.step, axis.size, axis.unit
    if kind == "BrainModelAxis":
        return (kind, axis.name.tolist(), axis.voxel.tolist(), axis.vertex.tolist(), axis.nvertices,
                None if axis.affine is None else axis.affine.tolist(), axis.volume_shape)
    if kind == "ParcelsAxis":
        return (kind, axis.name.tolist(), [v.tolist() for v in axis.voxels],
                [{k: list(v) for k, v in d.items()} for d in axis.vertices], axis.nvertices)
    if kind == "LabelAxis":
        return kind, axis.name.tolist(), [dict(t) for t in axis.label], [dict(m) for m in axis.meta]
    return kind, axis.name.tolist(), [dict(m) for m in axis.meta]


def assert_same_cifti(ours, theirs) -> None:
    assert type(ours).__name__ == "Cifti2Image"
    assert ours.shape == theirs.shape
    assert ours.header.to_xml() == theirs.header.to_xml()
    assert ours.header.version == theirs.header.version
    assert ours.nifti_header.binaryblock == theirs.nifti_header.binaryblock
    for dim in range(len(ours.shape)):
        assert _axis_summary(ours.header.get_axis(dim)) == _axis_summary(theirs.header.get_axis(dim))
    ours_data, theirs_data = np.asanyarray(ours.dataobj), np.asanyarray(theirs.dataobj)
    assert ours_data.dtype == theirs_data.dtype
    np.testing.assert_array_equal(ours_data, theirs_data)


@pytest.mark.parametrize("path", _all(_is_cifti), ids=_id)
def test_cifti_file_matches_nibabel(path, tmp_path):
    try:
        theirs = _quiet(nib.load, path)
        assert type(theirs).__name__ == "Cifti2Image"
    except Exception:
        with pytest.raises(NivoxError):
            _quiet(nivox.load, path)
        return
    ours = _quiet(nivox.load, path)
    assert_same_cifti(ours, theirs)
    # both ways, through files (the formats' own suffixes kept)
    ours_path, theirs_path = tmp_path / ("nivox" + path.name), tmp_path / ("nibabel" + path.name)
    _quiet(nivox.save, ours, ours_path)
    _quiet(nib.save, theirs, theirs_path)
    assert_same_cifti(_quiet(nivox.load, theirs_path), _quiet(nib.load, ours_path))
    again = _quiet(nivox.load, ours_path)
    np.testing.assert_array_equal(np.asanyarray(again.dataobj), np.asanyarray(theirs.dataobj))


def test_corpus_has_surface_files(corpus):
    assert _files(corpus, _is_gifti), f"no GIFTI files under {corpus}"
    assert _files(corpus, _is_cifti), f"no CIFTI-2 files under {corpus}"


def test_bytes_round_trip_through_nibabel_for_generated_cifti():
    from nivox.cifti2 import BrainModelAxis, Cifti2Image, ParcelsAxis, ScalarAxis, SeriesAxis

    mask = np.zeros((3, 4, 5), bool)
    mask[1, 1:3, 2:4] = True
    bm = BrainModelAxis.from_surface([0, 2, 5], 8, "CortexRight") + \
        BrainModelAxis.from_mask(mask, "brain_stem", np.diag([3.0, 3, 3, 1]))
    parcels = ParcelsAxis.from_brain_models([("p1", bm[:2]), ("p2", bm[2:])])
    for axes, shape in (((SeriesAxis(1.5, 2.0, 4, "HERTZ"), bm), (4, len(bm))),
                        ((ScalarAxis(["a", "b"]), parcels), (2, 2)),
                        ((parcels, bm), (2, len(bm)))):
        data = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
        raw = Cifti2Image(data, axes).to_bytes()
        theirs = nib.Cifti2Image.from_bytes(raw)
        for dim, axis in enumerate(axes):
            assert _axis_summary(theirs.header.get_axis(dim)) == _axis_summary(axis)
        np.testing.assert_array_equal(theirs.get_fdata(), data)
        back = nivox.cifti2.Cifti2Image.from_bytes(theirs.to_bytes())
        assert back.header.to_xml() == theirs.header.to_xml()
        assert isinstance(io.BytesIO(raw), io.BytesIO)
