"""fileslice: numpy's indexing semantics, reading only the bytes an index needs."""

import io
import os
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nivox import fileslice as fs_module
from nivox.errors import CorruptStreamError, TruncatedDataError
from nivox.fileslice import (
    canonical_slicers,
    fileslice,
    is_fancy,
    merge_heuristic,
    predict_shape,
    read_array,
    strided_scalar,
)
from nivox.openers import Opener

OFFSET = 13


def _stored(arr, order, offset=OFFSET):
    return b"\xaa" * offset + arr.tobytes(order=order)


class CountingBytesIO(io.BytesIO):
    """Records the (position, size) of every read."""

    def __init__(self, data):
        super().__init__(data)
        self.reads = []

    def readinto(self, buffer):
        position = self.tell()
        count = super().readinto(buffer)
        self.reads.append((position, count))
        return count

    def read(self, size=-1):
        position = self.tell()
        data = super().read(size)
        self.reads.append((position, len(data)))
        return data

    @property
    def bytes_read(self):
        return sum(count for _, count in self.reads)


def _check(arr, index, order, heuristic=None):
    """fileslice agrees with numpy, errors included."""
    store = io.BytesIO(_stored(arr, order))
    try:
        expected = arr[index]
    except IndexError:
        with pytest.raises(IndexError):
            fileslice(store, index, arr.shape, arr.dtype, OFFSET, order, heuristic)
        return None
    _assert_same(fileslice(store, index, arr.shape, arr.dtype, OFFSET, order, heuristic), expected)
    return expected


def _assert_same(got, expected):
    assert type(got) is type(expected)
    assert np.shape(got) == np.shape(expected)
    assert np.asarray(got).dtype == np.asarray(expected).dtype
    assert np.array_equal(got, expected)


# ---------------------------------------------------------------- properties


def _index_item(length):
    ints = st.integers(-length - 1, length)
    return st.one_of(
        st.integers(-length, length - 1),
        st.builds(slice, st.none() | ints, st.none() | ints, st.none() | st.sampled_from([1, 2, 3, -1, -2, 5])),
        st.none(),
    )


@st.composite
def arrays_and_indices(draw, fancy=False):
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=0, max_size=4)))
    dtype = draw(st.sampled_from(["u1", "<i2", ">i2", "<f4", ">f8", "c8"]))
    arr = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape).astype(dtype)
    items = []
    for length in shape[: draw(st.integers(0, len(shape)))]:
        if fancy and draw(st.booleans()):
            items.append(
                draw(
                    st.one_of(
                        st.lists(st.integers(-length, length - 1), max_size=4),
                        st.lists(st.booleans(), min_size=length, max_size=length).map(np.array),
                    )
                )
            )
        else:
            items.append(draw(_index_item(length)))
    if items and draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), Ellipsis)
    index = tuple(items) if len(items) != 1 or draw(st.booleans()) else items[0]
    return arr, index, draw(st.sampled_from("CF"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrays_and_indices(), st.sampled_from([None, lambda gap, run: True, lambda gap, run: False]))
def test_matches_numpy(case, heuristic):
    arr, index, order = case
    expected = _check(arr, index, order, heuristic)
    if expected is not None:
        assert predict_shape(index, arr.shape) == np.shape(expected)


@settings(max_examples=200, deadline=None)
@given(arrays_and_indices(fancy=True))
def test_fancy_indices_match_numpy(case):
    arr, index, order = case
    expected = _check(arr, index, order)
    if expected is not None:
        assert predict_shape(index, arr.shape) == expected.shape


@settings(max_examples=150, deadline=None)
@given(arrays_and_indices(), st.integers(8, 200))
def test_reading_through_gaps_in_small_blocks(case, scratch):
    # a tiny scratch buffer forces block-wise reads of every merged axis
    arr, index, order = case
    old = fs_module._SCRATCH_BYTES
    fs_module._SCRATCH_BYTES = scratch
    try:
        _check(arr, index, order, lambda gap, run: True)
    finally:
        fs_module._SCRATCH_BYTES = old


@settings(max_examples=100, deadline=None)
@given(arrays_and_indices())
def test_canonical_slicers_select_the_same(case):
    arr, index, _ = case
    try:
        arr[index]
    except IndexError:
        return
    canonical = canonical_slicers(index, arr.shape)
    assert np.array_equal(arr[canonical], arr[index])
    assert canonical_slicers(canonical, arr.shape) == canonical
    assert sum(item is not None for item in canonical) == arr.ndim


# ---------------------------------------------------------------- examples


def test_canonical_slicers_examples():
    shape = (3, 4, 5)
    full = slice(None)
    assert canonical_slicers((), shape) == (full, full, full)
    assert canonical_slicers((-1, Ellipsis, None), shape) == (2, full, full, None)
    assert canonical_slicers(slice(0, 3), shape) == (full, full, full)
    # slices other than the whole axis are kept as given (nibabel's canonical form)
    assert canonical_slicers(slice(None, None, -1), shape) == (slice(None, None, -1), full, full)
    assert canonical_slicers((full, slice(1, 100, 2)), shape) == (full, slice(1, 100, 2), full)
    assert canonical_slicers((slice(4), slice(0, 4, 1)), shape) == (slice(4), full, full)
    assert canonical_slicers((full, slice(3, 0, -2)), shape) == (full, slice(3, 0, -2), full)
    assert canonical_slicers(np.int64(1), shape) == (1, full, full)
    assert canonical_slicers(5, shape, check_inds=False) == (5, full, full)


@pytest.mark.parametrize(
    ("index", "message"),
    [
        ((3,), "index 3 is out of bounds for axis 0 with size 3"),
        ((0, -5), "index -5 is out of bounds for axis 1 with size 4"),
        ((1, 1, 1, 1), "too many indices"),
        ((Ellipsis, Ellipsis), "single ellipsis"),
        ((1.0,), "only integers"),
        (("a",), "only integers"),
    ],
)
def test_index_errors_like_numpy(index, message):
    with pytest.raises(IndexError, match=message):
        canonical_slicers(index, (3, 4, 5))
    with pytest.raises(IndexError, match=message):
        fileslice(io.BytesIO(bytes(120)), index, (3, 4, 5), "u1")


@pytest.mark.parametrize(
    "index",
    [
        (Ellipsis, 3),
        (slice(None), slice(None), np.int64(-2)),
        (1, slice(1, 3)),
        slice(2, None, 2),
        np.uint8(1),
        (Ellipsis, 1, 2, 3),  # a 0-d array, not a scalar
        (),
    ],
)
@pytest.mark.parametrize("order", "CF")
def test_common_indices_take_the_short_way_and_match_numpy(index, order):
    arr = np.arange(3 * 4 * 5, dtype="<i2").reshape(3, 4, 5)
    arr = np.asarray(arr, order=order)
    items = index if isinstance(index, tuple) else (index,)
    assert fs_module.basic_selections(items, arr.shape) is not None
    got = fileslice(io.BytesIO(_stored(arr, order)), index, arr.shape, arr.dtype, OFFSET, order)
    _assert_same(got, arr[index])
    # a compact array in the stored order, as the general way gives
    assert got.flags["C_CONTIGUOUS" if order == "C" else "F_CONTIGUOUS"]


@pytest.mark.parametrize(
    "index",
    [
        (1, 2, 3),  # all integers: numpy gives a scalar
        (Ellipsis, 5),  # out of range: the general way raises numpy's error
        (slice(None, None, -1),),
        (None, 1),
        (True,),
        (np.bool_(False),),
        ([0, 1],),
        (Ellipsis, Ellipsis),
        (1, 1, 1, 1),
        (slice(0, 2, np.int64(2)),),  # numpy steps: left to slice.indices on the general way
    ],
)
def test_other_indices_take_the_general_way(index):
    assert fs_module.basic_selections(index, (3, 4, 5)) is None


def test_fancy_index_errors():
    store = io.BytesIO(bytes(60))
    with pytest.raises(IndexError, match="out of bounds"):
        fileslice(store, [0, 5], (3, 4, 5), "u1")
    with pytest.raises(IndexError, match="boolean index did not match"):
        fileslice(store, np.array([True, False]), (3, 4, 5), "u1")
    with pytest.raises(IndexError, match="integer"):
        fileslice(store, [0.5], (3, 4, 5), "u1")
    with pytest.raises(ValueError, match="fancy"):
        canonical_slicers([0, 1], (3,))


def test_is_fancy():
    assert not is_fancy((1, slice(None), Ellipsis, None, np.int16(3), np.array(2)))
    for index in ([1], (0, [1, 2]), np.array([1]), (np.array([True]),), True, (np.bool_(False),)):
        assert is_fancy(index)


def test_strided_scalar():
    arr = strided_scalar((100, 200), 3.5)
    assert arr.shape == (100, 200) and arr.strides == (0, 0) and np.all(arr == 3.5)
    assert not arr.flags.writeable and arr.dtype == np.float64
    assert strided_scalar((2,)).dtype == np.float64


def test_merge_heuristic():
    assert merge_heuristic(0, 10) and merge_heuristic(fs_module.SKIP_THRESH, 1)
    assert not merge_heuristic(fs_module.SKIP_THRESH + 1, 1)


def test_zero_size_selection_reads_nothing():
    store = CountingBytesIO(bytes(200))
    out = fileslice(store, (slice(2, 2), 0), (10, 20), "u1")
    assert out.shape == (0,) and store.reads == []


# ---------------------------------------------------------------- bytes read


@pytest.mark.parametrize("order", "CF")
def test_one_volume_reads_exactly_its_bytes(order):
    arr = np.arange(6 * 7 * 8 * 5, dtype="<i2").reshape((6, 7, 8, 5))
    store = CountingBytesIO(_stored(arr, order))
    index = (Ellipsis, 3) if order == "F" else (3,)
    got = fileslice(store, index, arr.shape, arr.dtype, OFFSET, order)
    _assert_same(got, arr[index])
    assert store.bytes_read == got.nbytes and len(store.reads) == 1


def test_large_gaps_are_skipped_and_runs_read_in_file_order():
    arr = np.arange(64 * 64 * 20, dtype="<f8").reshape((64, 64, 20), order="F")
    store = CountingBytesIO(_stored(arr, "F"))
    # the plain-file rule (a stream like this one would read through gaps under a member's size)
    got = fileslice(store, (slice(None), 5), arr.shape, arr.dtype, OFFSET, "F", merge_heuristic)
    _assert_same(got, arr[:, 5])
    # 64 * 8 bytes per run, 63 * 512 bytes skipped between runs
    assert store.bytes_read == got.nbytes and len(store.reads) == 20
    positions = [position for position, _ in store.reads]
    assert positions == sorted(positions)


def test_streams_read_through_gaps_smaller_than_a_member():
    # skipped bytes of a compressed stream are decompressed anyway: read them in big spans
    arr = np.arange(64 * 64 * 20, dtype="<f8").reshape((64, 64, 20), order="F")
    store = CountingBytesIO(_stored(arr, "F"))
    got = fileslice(store, (slice(None), 5), arr.shape, arr.dtype, OFFSET, "F")
    _assert_same(got, arr[:, 5])
    assert len(store.reads) == 1


def test_small_gaps_are_read_through_in_few_reads():
    arr = np.arange(40 * 50 * 6, dtype="u1").reshape((40, 50, 6), order="F")
    store = CountingBytesIO(_stored(arr, "F"))
    got = fileslice(store, (slice(None, None, 2), slice(None), 2), arr.shape, arr.dtype, OFFSET, "F")
    _assert_same(got, arr[::2, :, 2])
    assert len(store.reads) == 1 and store.bytes_read < 40 * 50
    never = CountingBytesIO(_stored(arr, "F"))
    fileslice(never, (slice(None, None, 2), slice(None), 2), arr.shape, arr.dtype, OFFSET, "F", lambda g, r: False)
    assert len(never.reads) == 20 * 50


def test_fancy_index_reads_only_the_bounding_box():
    arr = np.arange(100 * 30, dtype="<i4").reshape((100, 30))
    store = CountingBytesIO(_stored(arr, "C"))
    got = fileslice(store, ([40, 42, 41, 40],), arr.shape, arr.dtype, OFFSET, "C")
    _assert_same(got, arr[[40, 42, 41, 40]])
    assert store.bytes_read == 3 * 30 * 4


def test_memory_stays_bounded_when_reading_through_gaps(monkeypatch):
    monkeypatch.setattr(fs_module, "_SCRATCH_BYTES", 4096)
    arr = np.arange(4 * 50_000, dtype="u1").reshape((4, 50_000), order="F")
    store = CountingBytesIO(_stored(arr, "F"))
    got = fileslice(store, (1,), arr.shape, arr.dtype, OFFSET, "F")
    _assert_same(got, arr[1])
    assert max(count for _, count in store.reads) <= 4096 and len(store.reads) < 60


# ---------------------------------------------------------------- real files


def test_plain_files_are_read_without_seeking(tmp_path, monkeypatch):
    arr = np.arange(30 * 40, dtype=">f4").reshape((30, 40))
    path = tmp_path / "data.bin"
    path.write_bytes(_stored(arr, "C"))
    with open(path, "rb") as raw:
        raw.seek(7)
        got = fileslice(raw, (slice(None), slice(3, 9)), arr.shape, arr.dtype, OFFSET, "C")
        assert raw.tell() == 7  # positional reads leave the file position alone
    _assert_same(got, arr[:, 3:9])
    with Opener(path) as opener:
        _assert_same(fileslice(opener, (2,), arr.shape, arr.dtype, OFFSET, "C"), arr[2])


def test_threads_share_one_handle(tmp_path):
    arr = np.arange(50 * 60 * 16, dtype="<i2").reshape((50, 60, 16), order="F")
    path = tmp_path / "data.bin"
    path.write_bytes(_stored(arr, "F"))
    failures = []
    lock = threading.RLock()
    for name in ("plain", "gzip"):
        target = path if name == "plain" else tmp_path / "data.bin.gz"
        if name == "gzip":
            with Opener(target, "wb") as out:
                out.write(_stored(arr, "F"))
        with Opener(target) as shared:

            def work(volume):
                got = fileslice(shared, (Ellipsis, volume), arr.shape, arr.dtype, OFFSET, "F", lock=lock)
                if not np.array_equal(got, arr[..., volume]):
                    failures.append((name, volume))

            threads = [threading.Thread(target=work, args=(v % 16,)) for v in range(32)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert failures == []


def test_truncated_plain_file_names_file_and_counts(tmp_path):
    arr = np.arange(1000, dtype="<i2")
    path = tmp_path / "short.img"
    path.write_bytes(_stored(arr, "C")[:1000])
    with open(path, "rb") as raw:
        with pytest.raises(TruncatedDataError, match=r"short\.img.*expected 2000 bytes.*holds 987") as info:
            fileslice(raw, slice(0, 5), arr.shape, arr.dtype, OFFSET)
    assert isinstance(info.value, EOFError)


def test_truncated_stream_names_counts():
    arr = np.arange(100, dtype="u1")
    store = io.BytesIO(_stored(arr, "C")[:60])
    with pytest.raises(TruncatedDataError, match=r"expected 100 bytes.*holds 47"):
        fileslice(store, (), arr.shape, arr.dtype, OFFSET)


def test_truncated_gzip_is_corrupt_stream(tmp_path):
    arr = np.random.default_rng(0).integers(0, 255, 100_000).astype("u1")
    path = tmp_path / "cut.nii.gz"
    with Opener(path, "wb") as out:
        out.write(_stored(arr, "C"))
    path.write_bytes(path.read_bytes()[:-5000])
    with Opener(path) as stream:
        with pytest.raises(CorruptStreamError, match="cut.nii.gz"):
            fileslice(stream, slice(90_000, None), arr.shape, arr.dtype, OFFSET)


def test_read_array_into_given_memory(tmp_path):
    arr = np.arange(24, dtype=">i4").reshape((2, 3, 4))
    for order in "CF":
        store = io.BytesIO(_stored(arr, order))
        out = np.empty(arr.shape, arr.dtype, order=order)
        assert read_array(store, arr.shape, arr.dtype, OFFSET, order, out=out) is out
        assert np.array_equal(out, arr)
        _assert_same(read_array(io.BytesIO(_stored(arr, order)), arr.shape, arr.dtype, OFFSET, order), arr)
    with pytest.raises(ValueError, match="contiguous"):
        read_array(io.BytesIO(_stored(arr, "C")), arr.shape, arr.dtype, OFFSET, "C", out=np.empty((4, 3, 2), ">i4").T)
    with pytest.raises(ValueError, match="order"):
        read_array(io.BytesIO(), arr.shape, arr.dtype, 0, "K")


def test_agrees_with_nibabel():
    nib_fileslice = pytest.importorskip("nibabel.fileslice").fileslice
    arr = np.random.default_rng(1).normal(size=(9, 10, 11, 3)).astype("<f4")
    indices = [(), (Ellipsis, 1), (4,), (slice(None), 3), (slice(1, 8, 3), slice(None, None, -2), 5), (2, 3, 4, 1)]
    for order in "CF":
        data = _stored(arr, order)
        for index in indices:
            ours = fileslice(io.BytesIO(data), index, arr.shape, arr.dtype, OFFSET, order)
            theirs = nib_fileslice(io.BytesIO(data), index, arr.shape, arr.dtype, OFFSET, order)
            assert np.array_equal(ours, theirs) and np.shape(ours) == np.shape(theirs)


class _PositionalReader:
    """A reader like nivox's gzip reader: reads by position, may hand over a whole buffer."""

    def __init__(self, data, whole=False):
        self.data, self.whole, self.calls = data, whole, []

    def readinto_at(self, buffer, position):
        self.calls.append(position)
        chunk = self.data[position : position + min(len(buffer), 1000)]  # short reads are fine
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def decoded_buffer(self, position, nbytes):
        return memoryview(bytearray(self.data))[position : position + nbytes] if self.whole else None

    def seek(self, *args):
        raise AssertionError("positional readers are not seeked")

    read = readinto = seek


def test_positional_readers_are_read_by_position_without_lock():
    arr = np.arange(24 * 30, dtype="<i4").reshape(24, 30)
    reader = _PositionalReader(b"\0" * 16 + arr.tobytes())

    class NoLock:
        def __enter__(self):
            raise AssertionError("no lock is needed")

        __exit__ = __enter__

    got = fileslice(reader, (slice(2, 20, 3), slice(None, None, -2)), arr.shape, "<i4", 16, "C", lock=NoLock())
    assert np.array_equal(got, arr[2:20:3, ::-2]) and reader.calls
    assert np.array_equal(read_array(reader, arr.shape, "<i4", 16, lock=NoLock()), arr)
    whole = _PositionalReader(b"\0" * 16 + arr.tobytes(), whole=True)
    handed = read_array(whole, arr.shape, "<i4", 16)
    assert np.array_equal(handed, arr) and not whole.calls and handed.flags.writeable


@pytest.mark.parametrize(
    "index",
    [(Ellipsis, [], [1]), ([], slice(None), [7]), (Ellipsis, [[]], [1]), (Ellipsis, np.zeros((0, 3), int), [1, 2, 3])],
)
def test_index_arrays_that_select_nothing_are_not_bounds_checked(index):
    # numpy checks no bounds when the index arrays broadcast to nothing
    arr = np.arange(2, dtype="u1").reshape((1, 2, 1))
    got = fileslice(io.BytesIO(_stored(arr, "C")), index, arr.shape, arr.dtype, OFFSET, "C")
    assert got.shape == arr[index].shape


def test_integers_next_to_empty_index_arrays_are_still_checked():
    arr = np.arange(2, dtype="u1").reshape((1, 2, 1))
    with pytest.raises(IndexError):
        fileslice(io.BytesIO(_stored(arr, "C")), (Ellipsis, [], 5), arr.shape, arr.dtype, OFFSET, "C")


def test_a_file_cut_while_read_is_truncated_data_error(tmp_path):
    path = tmp_path / "cut.img"
    path.write_bytes(b"\1" * 1000)
    fd = os.open(path, os.O_RDONLY)
    try:
        array = np.zeros(500, np.int16)  # 1000 bytes from byte 100: 100 too many
        with pytest.raises(TruncatedDataError, match=r"cut\.img: the file ended at byte 1000"):
            fs_module.pread_into(fd, array, 100, path)
        assert (array.view(np.uint8)[:900] == 1).all()
    finally:
        os.close(fd)


# ---------------------------------------------------------------- nibabel's planning steps


def test_canonical_slicers_errors_are_index_and_value_errors():
    from nivox.errors import SlicerError

    for bad in ((10,), (1, 10), (Ellipsis, 1, Ellipsis)):
        with pytest.raises(SlicerError) as info:
            canonical_slicers(bad, (10, 10))
        assert isinstance(info.value, IndexError) and isinstance(info.value, ValueError)


def test_slice_lengths_and_fills_match_python():
    from nivox.fileslice import fill_slicer, slice2len, slice2outax

    for sl in (slice(None), slice(11), slice(1, 11, 3), slice(None, None, -1), slice(None, 0, -3),
               slice(None, -4, -1), slice(-4, -2), slice(3, 2), slice(2, 3, -1)):
        assert slice2len(sl, 10) == len(range(10)[sl])
        assert list(range(10)[sl]) == list(range(10)[fill_slicer(sl, 10)])
    assert fill_slicer(slice(None, None, -2), 10) == slice(9, None, -2)
    assert slice2outax(3, (slice(None), None, slice(None), None, slice(None))) == (0, 2, 4)
    assert slice2outax(2, (None, 1, None, 2)) == (None, None)


def test_threshold_heuristic_and_optimize_slicer():
    from nivox.fileslice import optimize_slicer, threshold_heuristic

    assert threshold_heuristic(1, 9, 2, skip_thresh=16) == "full"
    assert threshold_heuristic(1, 9, 2, skip_thresh=15) is None
    assert threshold_heuristic(slice(2, 9, 1), 9, 2, skip_thresh=3) == "contiguous"
    assert threshold_heuristic(slice(0, 9, 2), 9, 2, skip_thresh=3) is None

    def always(slicer, dim_len, stride):
        return "full"

    def partial(slicer, dim_len, stride):
        return "contiguous"

    assert optimize_slicer(slice(9), 10, True, False, 4, always) == (slice(None), slice(0, 9, 1))
    assert optimize_slicer(slice(9), 10, True, True, 4, always) == (slice(0, 9, 1), slice(None))
    assert optimize_slicer(slice(10, None, -2), 10, True, False, 4, always) == (
        slice(None), slice(9, None, -2))
    assert optimize_slicer(slice(2, 8, 2), 10, True, False, 4, partial) == (
        slice(2, 8, 1), slice(None, None, 2))
    assert optimize_slicer(-1, 10, True, False, 4, lambda *a: None) == (
        9, "dropped")
    with pytest.raises(ValueError):
        optimize_slicer(0, 10, True, False, 4, partial)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize(
    "index", [(1, slice(0, 15, 2), slice(None)), (slice(None), -1, None), (slice(None, None, -3), 2, 5),
              (None, slice(2, 9), Ellipsis)])
def test_calc_slicedefs_reads_what_numpy_selects(order, index):
    from nivox.fileslice import calc_slicedefs, read_segments, threshold_heuristic

    shape = (15, 16, 17)
    arr = np.arange(np.prod(shape), dtype=np.int16).reshape(shape)
    stream = io.BytesIO(b"\0" * 20 + arr.tobytes(order=order))
    for heuristic in (threshold_heuristic, lambda *a: None):
        segments, read_shape, post = calc_slicedefs(index, shape, 2, 20, order, heuristic)
        n_bytes = int(np.prod(read_shape)) * 2
        data = read_segments(stream, segments, n_bytes)
        got = np.ndarray(read_shape, np.int16, buffer=data, order=order)[post]
        np.testing.assert_array_equal(got, arr[index])


def test_read_segments_checks_sizes_and_uses_the_lock():
    import threading

    from nivox.fileslice import read_segments

    stream = io.BytesIO(bytes(range(200)))
    assert bytes(read_segments(stream, [(10, 5), (100, 3)], 8)) == bytes([10, 11, 12, 13, 14, 100, 101, 102])
    assert read_segments(stream, [], 0) == b""
    with pytest.raises(ValueError):
        read_segments(stream, [], 1)
    with pytest.raises(ValueError):
        read_segments(stream, [(0, 200)], 199)
    entered = []

    class Recording:
        def __enter__(self):
            entered.append(threading.get_ident())

        def __exit__(self, *args):
            return None

    read_segments(stream, [(0, 2), (5, 2)], 4, Recording())
    assert len(entered) == 2


def test_fileslice_accepts_nibabel_heuristics():
    from nivox.fileslice import threshold_heuristic
    from nivox.fileslice import _simple_fileslice

    shape = (15, 16, 17)
    arr = np.arange(np.prod(shape)).reshape(shape)
    stream = io.BytesIO(arr.tobytes())
    index = (1, slice(0, 15, 2), slice(None))
    for heuristic in (threshold_heuristic, lambda slicer, dim_len, stride: "full"):
        np.testing.assert_array_equal(fileslice(stream, index, shape, arr.dtype, 0, "C", heuristic), arr[index])
    np.testing.assert_array_equal(_simple_fileslice(stream, index, shape, arr.dtype), arr[index])
