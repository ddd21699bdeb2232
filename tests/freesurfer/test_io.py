"""FreeSurfer surfaces, morphometry, labels and annotations: nibabel both ways, volume info kept, bad files."""

from __future__ import annotations

import io
import struct
import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nivox.errors import ImageFileError, NivoxError
from nivox.freesurfer import io as fsio
from nivox.freesurfer import (
    read_annot,
    read_geometry,
    read_label,
    read_morph_data,
    write_annot,
    write_geometry,
    write_morph_data,
)

nib = pytest.importorskip("nibabel")
nibio = nib.freesurfer.io

VOLUME_INFO = OrderedDict([
    ("head", np.array([2, 0, 20], np.int32)), ("valid", "1  # volume info valid"),
    ("filename", "/subjects/bert/mri/filled-pretess255.mgz"), ("volume", np.array([256, 256, 256])),
    ("voxelsize", np.array([1.0, 1.0, 1.0])), ("xras", np.array([-1.0, 0.0, 0.0])),
    ("yras", np.array([0.0, 0.0, -1.0])), ("zras", np.array([0.0, 1.0, 0.0])),
    ("cras", np.array([5.3999, 18.0, 0.125])),
])


def _mesh(n_vertices, n_faces, seed):
    rng = np.random.default_rng(seed)
    coords = rng.uniform(-100, 100, (n_vertices, 3)).astype(np.float32).astype(np.float64)
    faces = rng.integers(0, n_vertices, (n_faces, 3)).astype(np.int32)
    return coords, faces


# ---- surfaces ---------------------------------------------------------------------------------

@settings(max_examples=20, deadline=None)
@given(n_vertices=st.integers(1, 50), n_faces=st.integers(0, 60), seed=st.integers(0, 1000),
       with_info=st.booleans())
def test_geometry_round_trips_with_nibabel(tmp_path_factory, n_vertices, n_faces, seed, with_info):
    folder = tmp_path_factory.mktemp("surf")
    coords, faces = _mesh(n_vertices, n_faces, seed)
    info = VOLUME_INFO if with_info else None
    write_geometry(folder / "ours", coords, faces, "created by test", info)
    nibio.write_geometry(str(folder / "theirs"), coords, faces, "created by test", info)
    # nivox writes the bytes nibabel writes, and each reads the other's file identically
    assert (folder / "ours").read_bytes() == (folder / "theirs").read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("ours", "theirs"):
            mine = read_geometry(folder / name, read_metadata=True, read_stamp=True)
            ref = nibio.read_geometry(str(folder / name), read_metadata=True, read_stamp=True)
            assert np.array_equal(mine[0], ref[0]) and mine[0].dtype == ref[0].dtype
            assert np.array_equal(mine[1], ref[1]) and mine[1].dtype == ref[1].dtype
            assert list(mine[2]) == list(ref[2])
            for key in mine[2]:
                assert np.array_equal(mine[2][key], ref[2][key])
            assert mine[3] == ref[3] == "created by test"


def test_volume_info_and_cras_survive_read_and_write(tmp_path):
    coords, faces = _mesh(10, 8, 1)
    write_geometry(tmp_path / "lh.white", coords, faces, "stamp", VOLUME_INFO)
    first = (tmp_path / "lh.white").read_bytes()
    c, f, info, stamp = read_geometry(tmp_path / "lh.white", read_metadata=True, read_stamp=True)
    write_geometry(tmp_path / "lh.white", c, f, stamp, info)
    assert (tmp_path / "lh.white").read_bytes() == first
    assert np.array_equal(info["cras"], VOLUME_INFO["cras"])


def test_tags_after_volume_info_survive(tmp_path):
    coords, faces = _mesh(6, 4, 5)
    tags = struct.pack(">iq", 3, 30) + b"mris_make_surfaces -whiteonly\x00"
    nibio.write_geometry(str(tmp_path / "fs"), coords, faces, "made by FreeSurfer", VOLUME_INFO)
    (tmp_path / "fs").write_bytes((tmp_path / "fs").read_bytes() + tags)  # as FreeSurfer 7 writes
    c, f, info, stamp = read_geometry(tmp_path / "fs", read_metadata=True, read_stamp=True)
    assert info.tags == tags and len(info) == 9
    write_geometry(tmp_path / "again", c, f, stamp, info)
    assert (tmp_path / "again").read_bytes() == (tmp_path / "fs").read_bytes()
    ref = nibio.read_geometry(str(tmp_path / "again"), read_metadata=True)
    assert np.array_equal(ref[0], coords) and np.array_equal(ref[2]["cras"], VOLUME_INFO["cras"])


def test_quad_and_old_quad_surfaces_match_nibabel(tmp_path):
    rng = np.random.default_rng(3)
    nvert, nquad = 9, 5
    quads = rng.integers(0, nvert, (nquad, 4))
    packed = b"".join(int(v).to_bytes(3, "big") for v in quads.reshape(-1))
    coords = rng.uniform(-50, 50, (nvert, 3)).astype(">f4")
    new = b"\xff\xff\xfd" + nvert.to_bytes(3, "big") + nquad.to_bytes(3, "big") + coords.tobytes() + packed
    old_coords = (coords * 100).astype(">i2")
    old = b"\xff\xff\xff" + nvert.to_bytes(3, "big") + nquad.to_bytes(3, "big") + old_coords.tobytes() + packed
    for name, blob in (("new", new), ("old", old)):
        (tmp_path / name).write_bytes(blob)
        mine = read_geometry(tmp_path / name)
        ref = nibio.read_geometry(str(tmp_path / name))
        assert np.array_equal(mine[0], ref[0])
        assert np.array_equal(mine[1], ref[1])


def test_geometry_from_file_object_and_bad_files(tmp_path):
    coords, faces = _mesh(5, 4, 2)
    buffer = io.BytesIO()
    write_geometry(buffer, coords, faces, "x")
    got = read_geometry(io.BytesIO(buffer.getvalue()))
    assert np.array_equal(got[0], coords) and np.array_equal(got[1], faces)
    blob = buffer.getvalue()
    path = tmp_path / "lh.bad"
    for broken in (b"", b"\x00\x01\x02abc", blob[:20], blob[:-1], blob[:3] + b"x\n\n" + struct.pack(">ii", 2**30, 1)):
        path.write_bytes(broken)
        with pytest.raises(NivoxError, match="lh.bad"):
            read_geometry(path)
    with pytest.raises(ValueError):
        write_geometry(path, coords[:, :2], faces)
    for bad in (faces + len(coords), faces - 5):
        with pytest.raises(ValueError, match="vertices"):
            write_geometry(path, coords, bad)


def test_missing_volume_info_warns_like_nibabel(tmp_path):
    coords, faces = _mesh(5, 4, 2)
    write_geometry(tmp_path / "s", coords, faces)
    with pytest.warns(UserWarning, match="volume information"):
        assert read_geometry(tmp_path / "s", read_metadata=True)[2] == OrderedDict()
    bad = dict(VOLUME_INFO, a=0)
    with pytest.raises(ValueError):
        write_geometry(tmp_path / "s", coords, faces, "x", bad)


# ---- morphometry ----------------------------------------------------------------------------

@settings(max_examples=15, deadline=None)
@given(values=st.lists(st.floats(-1e6, 1e6, width=32), min_size=0, max_size=40), fnum=st.integers(0, 2**31 - 1))
def test_morph_round_trips_with_nibabel(tmp_path_factory, values, fnum):
    folder = tmp_path_factory.mktemp("curv")
    values = np.array(values, np.float32)
    write_morph_data(folder / "ours", values, fnum)
    nibio.write_morph_data(str(folder / "theirs"), values, fnum)
    assert (folder / "ours").read_bytes() == (folder / "theirs").read_bytes()
    assert np.array_equal(read_morph_data(folder / "theirs"), nibio.read_morph_data(str(folder / "ours")))


def test_old_morph_layout_and_bad_shapes(tmp_path):
    values = np.array([1, -250, 3000], ">i2")
    (tmp_path / "old").write_bytes((3).to_bytes(3, "big") + (7).to_bytes(3, "big") + values.tobytes())
    assert np.array_equal(read_morph_data(tmp_path / "old"), nibio.read_morph_data(str(tmp_path / "old")))
    with pytest.raises(ValueError):
        write_morph_data(tmp_path / "x", np.zeros((2, 3)))
    with pytest.raises(ValueError):
        write_morph_data(tmp_path / "x", np.zeros(3), fnum=2**31)
    (tmp_path / "short").write_bytes(b"\xff\xff\xff" + struct.pack(">iii", 1000, 0, 1) + b"\x00" * 8)
    with pytest.raises(NivoxError, match="short"):
        read_morph_data(tmp_path / "short")


# ---- annotations -------------------------------------------------------------------------------

def _nilearn_file(name):
    nilearn = pytest.importorskip("nilearn")
    path = Path(nilearn.__file__).parent / "surface" / "tests" / "data" / name
    if not path.exists():
        pytest.skip(f"nilearn test file {name} not installed")
    return path


def test_real_annot_and_label_read_as_nibabel():
    annot = _nilearn_file("test.annot")
    for orig_ids in (False, True):
        mine = read_annot(annot, orig_ids=orig_ids)
        ref = nibio.read_annot(str(annot), orig_ids=orig_ids)
        assert np.array_equal(mine[0], ref[0]) and mine[0].dtype == ref[0].dtype
        assert np.array_equal(mine[1], ref[1]) and mine[1].dtype == ref[1].dtype
        assert mine[2] == ref[2]
    label = _nilearn_file("test.label")
    mine, scalars = read_label(label, read_scalars=True)
    ref, ref_scalars = nibio.read_label(str(label), read_scalars=True)
    assert np.array_equal(mine, ref) and np.array_equal(scalars, ref_scalars)


def _annotation(n_vertices, n_labels, seed):
    rng = np.random.default_rng(seed)
    colours = rng.choice(2**24 - 1, n_labels, replace=False) + 1  # distinct, not black
    rgbt = np.zeros((n_labels, 4), np.int32)
    rgbt[:, 0], rgbt[:, 1], rgbt[:, 2] = colours & 255, (colours >> 8) & 255, colours >> 16
    labels = rng.integers(-1, n_labels, n_vertices).astype(np.int32)
    names = [f"region{i}".encode() for i in range(n_labels)]
    return labels, rgbt, names


@settings(max_examples=20, deadline=None)
@given(n_vertices=st.integers(1, 60), n_labels=st.integers(1, 12), seed=st.integers(0, 1000))
def test_annot_round_trips_with_nibabel(tmp_path_factory, n_vertices, n_labels, seed):
    folder = tmp_path_factory.mktemp("annot")
    labels, rgbt, names = _annotation(n_vertices, n_labels, seed)
    write_annot(folder / "ours.annot", labels, rgbt, names)
    nibio.write_annot(str(folder / "theirs.annot"), labels, rgbt, names)
    assert (folder / "ours.annot").read_bytes() == (folder / "theirs.annot").read_bytes()
    for name in ("ours.annot", "theirs.annot"):
        mine = read_annot(folder / name)
        ref = nibio.read_annot(str(folder / name))
        assert np.array_equal(mine[0], labels) and np.array_equal(ref[0], labels)
        assert np.array_equal(mine[1], ref[1]) and mine[2] == ref[2] == names


def _freesurfer_reads(blob: bytes) -> dict[int, int]:
    """What FreeSurfer's binary colour-table reader (version 2) checks, as an independent parser.

    Returns the annotation value of each vertex that FreeSurfer finds a table entry for.
    """
    ints = lambda pos, n: struct.unpack_from(f">{n}i", blob, pos)
    (vnum,) = ints(0, 1)
    pairs = ints(4, 2 * vnum)
    pos = 4 + 8 * vnum
    flag, version, maxstruc = ints(pos, 3)
    assert flag == 1 and version == -2
    pos += 12
    (length,) = ints(pos, 1)
    assert blob[pos + 4 + length - 1] == 0  # strings end in NUL
    pos += 4 + length
    (count,) = ints(pos, 1)
    pos += 4
    table = {}
    for _ in range(count):
        index, length = ints(pos, 2)
        assert 0 <= index < maxstruc, "FreeSurfer refuses an entry outside the table"
        assert blob[pos + 8 + length - 1] == 0
        pos += 8 + length
        r, g, b, _t = ints(pos, 4)
        pos += 16
        table[r + g * 256 + b * 65536] = index
    assert pos == len(blob)
    return {pairs[2 * i]: table[pairs[2 * i + 1]] for i in range(vnum) if pairs[2 * i + 1] in table}


def test_written_annot_is_what_freesurfer_reads(tmp_path):
    labels, rgbt, names = _annotation(30, 6, 7)
    write_annot(tmp_path / "x.annot", labels, rgbt, [n.decode() for n in names])
    found = _freesurfer_reads((tmp_path / "x.annot").read_bytes())
    assert found == {v: int(lab) for v, lab in enumerate(labels) if lab >= 0}


def test_write_annot_refuses_what_freesurfer_cannot_read(tmp_path):
    labels, rgbt, names = _annotation(10, 3, 1)
    target = tmp_path / "x.annot"
    for bad_labels in (np.array([0, 3]), np.array([-2, 0])):
        with pytest.raises(ValueError, match="colour table"):
            write_annot(target, bad_labels, rgbt, names)
    with pytest.raises(ValueError, match="names"):
        write_annot(target, labels, rgbt, names[:2])
    assert not target.exists()
    same = rgbt.copy()
    same[1] = same[0]
    with pytest.warns(UserWarning, match="share an annotation value"):
        write_annot(target, np.array([0, 1]), same, names)
    black = rgbt.copy()
    black[0, :3] = 0
    with pytest.warns(UserWarning, match="black"):
        write_annot(target, np.array([0, 1]), black, names)


def test_old_format_annot_matches_nibabel(tmp_path):
    def string(s):
        return struct.pack(">i", len(s) + 1) + s + b"\x00"

    blob = struct.pack(">i", 3) + struct.pack(">6i", 0, 255, 1, 256, 2, 0)
    blob += struct.pack(">ii", 1, 2) + string(b"table.txt")
    blob += string(b"red") + struct.pack(">4i", 255, 0, 0, 0) + string(b"green") + struct.pack(">4i", 0, 1, 0, 0)
    (tmp_path / "old.annot").write_bytes(blob)
    mine = read_annot(tmp_path / "old.annot")
    ref = nibio.read_annot(str(tmp_path / "old.annot"))
    assert np.array_equal(mine[0], ref[0]) and np.array_equal(mine[1], ref[1]) and mine[2] == ref[2]


def test_damaged_annot_raises_named_error(tmp_path):
    labels, rgbt, names = _annotation(10, 3, 1)
    write_annot(tmp_path / "ok.annot", labels, rgbt, names)
    blob = (tmp_path / "ok.annot").read_bytes()
    path = tmp_path / "broken.annot"
    for cut in range(0, len(blob), 7):
        path.write_bytes(blob[:cut])
        with pytest.raises(NivoxError, match="broken.annot"):
            read_annot(path)
    for pos in (0, 4 * 21 + 8, len(blob) - 40):
        damaged = bytearray(blob)
        damaged[pos:pos + 4] = b"\x7f\xff\xff\xff"
        path.write_bytes(bytes(damaged))
        try:
            read_annot(path)
        except NivoxError as err:
            assert "broken.annot" in str(err)


def test_missing_files_raise_file_not_found(tmp_path):
    for reader in (read_geometry, read_morph_data, read_annot, read_label):
        with pytest.raises(FileNotFoundError, match="nope"):
            reader(tmp_path / "nope")
        with pytest.raises(NivoxError):
            reader(tmp_path / "nope")


def test_label_errors_name_file(tmp_path):
    (tmp_path / "x.label").write_text("#!ascii\n2\n1 0 0 0 0.5\nnot numbers here\n")
    with pytest.raises(ImageFileError, match="x.label"):
        read_label(tmp_path / "x.label")


def test_private_helpers_behave_as_nibabel():
    rgb = np.array([[1, 2, 3], [255, 255, 255]])
    assert np.array_equal(fsio._pack_rgb(rgb), nibio._pack_rgb(rgb))
    raw = bytes([1, 2, 3, 255, 0, 1])
    assert fsio._fread3(io.BytesIO(raw)) == (1 << 16) + (2 << 8) + 3
    assert np.array_equal(fsio._fread3_many(io.BytesIO(raw), 2), [(1 << 16) + (2 << 8) + 3, (255 << 16) + 1])
    assert fsio._serialize_volume_info(VOLUME_INFO) == nibio._serialize_volume_info(VOLUME_INFO)
