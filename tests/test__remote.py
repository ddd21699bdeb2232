"""nivox.load on fsspec URLs: byte-range reads against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import gzip
import http.server
import os
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nivox as nib
from nivox import _remote
from nivox._codecs.gztable import TAIL_PROBE
from nivox.errors import CorruptStreamError, NivoxError, RemoteFileError

pytest.importorskip("fsspec")
pytest.importorskip("aiohttp")


class _Server:
    """A stdlib HTTP server serving a directory, logging every request and the body bytes sent."""

    def __init__(self, root: Path, honour_range: bool) -> None:
        self.root, self.honour_range = root, honour_range
        self.log: list[tuple[str, str, str | None, int]] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _serve(self, body: bool) -> None:
                path = owner.root / self.path.lstrip("/").split("?")[0]
                if not path.is_file():
                    owner.log.append((self.command, self.path, None, 0))
                    self.send_error(404)
                    return
                if path.name.startswith("secret"):
                    owner.log.append((self.command, self.path, None, 0))
                    self.send_error(403)
                    return
                with open(path, "rb") as handle:  # only the bytes asked for: big files serve fast
                    status = os.fstat(handle.fileno())
                    size = status.st_size
                    etag = f'"{status.st_mtime_ns:x}-{size:x}"'
                    if path.name.startswith("weak"):
                        etag = "W/" + etag  # never matches If-Match: strong comparison (RFC 9110)
                    if self.headers.get("If-Match") not in (None, etag) or (
                            etag.startswith("W/") and self.headers.get("If-Match")):
                        owner.log.append((self.command, self.path, None, 0))
                        self.send_error(412)
                        return
                    wanted = self.headers.get("Range")
                    match = re.fullmatch(r"bytes=(\d+)-(\d*)", wanted or "")
                    if match and owner.honour_range:
                        start = int(match[1])
                        stop = min(int(match[2]) + 1 if match[2] else size, size)
                        if start >= size:
                            self.send_response(416)
                            self.send_header("Content-Range", f"bytes */{size}")
                            self.send_header("Content-Length", "0")
                            owner.log.append((self.command, self.path, wanted, 0))
                            self.end_headers()
                            return
                        self.send_response(206)
                        self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{size}")
                    else:
                        start, stop = 0, size
                        self.send_response(200)
                    self.send_header("Content-Length", str(stop - start))
                    self.send_header("Accept-Ranges", "bytes" if owner.honour_range else "none")
                    self.send_header("ETag", etag)
                    # logged before sending, so the client never sees data the log lacks
                    owner.log.append((self.command, self.path, wanted, stop - start if body else 0))
                    self.end_headers()
                    if body:
                        handle.seek(start)
                        left = stop - start
                        while left:
                            chunk = handle.read(min(left, 1 << 20))
                            if not chunk:
                                break
                            self.wfile.write(chunk)
                            left -= len(chunk)

            def do_GET(self) -> None:
                self._serve(True)

            def do_HEAD(self) -> None:
                self._serve(False)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    @property
    def bytes_sent(self) -> int:
        return sum(entry[3] for entry in self.log)

    @property
    def gets(self) -> int:
        return sum(entry[0] == "GET" for entry in self.log)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


SHAPE = (64, 64, 16, 6)  # 4-D int16: 128 KiB a volume, more than the read-ahead


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("served")
    rng = np.random.default_rng(15)
    data = rng.integers(-3000, 3000, SHAPE, dtype=np.int16)
    affine = np.diag([2.0, 2.0, 3.0, 1.0])
    nib.save(nib.Nifti1Image(data, affine), root / "fmri.nii")
    nib.save(nib.Nifti1Image(data, affine), root / "fmri.nii.gz")
    nib.save(nib.Nifti2Image(data[..., 0], affine), root / "anat2.nii")
    # one deflate stream stating no sizes, as most tools write: read as a stream
    (root / "plain.nii.gz").write_bytes(gzip.compress((root / "fmri.nii").read_bytes()))
    return root


@pytest.fixture
def server(files: Path) -> Iterator[_Server]:
    srv = _Server(files, honour_range=True)
    yield srv
    srv.close()


@pytest.fixture
def no_range_server(files: Path) -> Iterator[_Server]:
    srv = _Server(files, honour_range=False)
    yield srv
    srv.close()


def test_header_only_load_is_one_small_request(server: _Server, files: Path) -> None:
    img = nib.load(server.url("fmri.nii"))
    local = nib.load(files / "fmri.nii")
    assert img.shape == SHAPE
    assert img.header == local.header
    np.testing.assert_array_equal(img.affine, local.affine)
    assert server.gets == 1
    # the read-ahead block, far less than the 768 KiB of data
    assert server.bytes_sent <= _remote.READ_AHEAD
    assert (files / "fmri.nii").stat().st_size > 3 * _remote.READ_AHEAD


def test_one_volume_costs_about_its_bytes(server: _Server, files: Path) -> None:
    img = nib.load(server.url("fmri.nii"))
    before_bytes, before_gets = server.bytes_sent, server.gets
    volume = img.dataobj[..., 4]
    local = nib.load(files / "fmri.nii")
    np.testing.assert_array_equal(volume, local.dataobj[..., 4])
    volume_bytes = int(np.prod(SHAPE[:3])) * 2
    assert server.gets - before_gets == 1
    assert server.bytes_sent - before_bytes == volume_bytes
    # a slab of one slice: far less than a volume
    before = server.bytes_sent
    np.testing.assert_array_equal(img.dataobj[:, :, 3, 2], local.dataobj[:, :, 3, 2])
    assert server.bytes_sent - before <= max(64 * 64 * 2, _remote.READ_AHEAD)


def test_whole_reads_equal_local(server: _Server, files: Path) -> None:
    for name in ("fmri.nii", "fmri.nii.gz", "anat2.nii"):
        remote, local = nib.load(server.url(name)), nib.load(files / name)
        assert type(remote) is type(local)
        assert remote.header == local.header
        np.testing.assert_array_equal(remote.get_fdata(), local.get_fdata())
        np.testing.assert_array_equal(remote.dataobj[..., -1], local.dataobj[..., -1])


def test_gz_streams_by_range_never_more_than_the_file(server: _Server, files: Path) -> None:
    img = nib.load(server.url("fmri.nii.gz"))
    np.testing.assert_array_equal(img.dataobj[..., 1], nib.load(files / "fmri.nii").dataobj[..., 1])
    # the sniffing block, the member table at the end (a few bytes after the one member), the member
    assert server.bytes_sent <= (files / "fmri.nii.gz").stat().st_size + _remote.READ_AHEAD + TAIL_PROBE


def test_chained_simplecache_url(server: _Server, files: Path, tmp_path: Path) -> None:
    url = "simplecache::" + server.url("fmri.nii")
    img = nib.load(url, storage_options={"simplecache": {"cache_storage": str(tmp_path)}})
    np.testing.assert_array_equal(img.get_fdata(), nib.load(files / "fmri.nii").get_fdata())


def test_fsspec_openfile_and_file_url(server: _Server, files: Path) -> None:
    import fsspec

    local = nib.load(files / "fmri.nii.gz")
    for target in (fsspec.open(server.url("fmri.nii.gz")), (files / "fmri.nii.gz").as_uri()):
        img = nib.load(target)
        np.testing.assert_array_equal(img.get_fdata(), local.get_fdata())


def test_memory_url() -> None:
    import fsspec

    img = nib.Nifti2Image(np.arange(24, dtype=np.float32).reshape(2, 3, 4), np.eye(4))
    fsspec.filesystem("memory").pipe("/issue15/x.nii.gz", gzip.compress(img.to_bytes()))
    loaded = nib.load("memory://issue15/x.nii.gz")
    assert isinstance(loaded, nib.Nifti2Image)
    np.testing.assert_array_equal(loaded.get_fdata(), img.get_fdata())


def test_server_ignoring_range_is_reported(no_range_server: _Server) -> None:
    url = no_range_server.url("fmri.nii")
    with pytest.raises(RemoteFileError, match="ignored the byte range") as info:
        nib.load(url)
    assert url in str(info.value)
    assert isinstance(info.value, NivoxError) and isinstance(info.value, OSError)


def test_server_ignoring_range_via_simplecache_reads_whole(no_range_server: _Server, files: Path,
                                                          tmp_path: Path) -> None:
    url = "simplecache::" + no_range_server.url("fmri.nii")
    img = nib.load(url, storage_options={"simplecache": {"cache_storage": str(tmp_path)}})
    np.testing.assert_array_equal(img.get_fdata(), nib.load(files / "fmri.nii").get_fdata())


def test_not_found_names_url(server: _Server) -> None:
    url = server.url("missing.nii")
    with pytest.raises(RemoteFileError, match="not found") as info:
        nib.load(url)
    assert url in str(info.value)


def test_unreachable_host_names_url() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x.nii"
    with pytest.raises(RemoteFileError) as info:
        nib.load(url)
    assert url in str(info.value)


@pytest.mark.parametrize("name", ["fmri.nii", "plain.nii.gz"])
def test_error_during_data_read_names_url(files: Path, name: str) -> None:
    srv = _Server(files, honour_range=True)
    try:
        img = nib.load(srv.url(name))
    finally:
        srv.close()
    url = srv.url(name)
    # the server is gone: a RemoteFileError naming the URL, not "corrupt compressed stream"
    with pytest.raises(RemoteFileError, match="ConnectionRefused") as info:
        img.dataobj[..., 5]
    assert url in str(info.value)


def test_missing_fsspec_names_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from nivox.errors import MissingDependencyError

    real_import = builtins.__import__

    def no_fsspec(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "fsspec" or name.startswith("fsspec."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_fsspec)
    with pytest.raises(MissingDependencyError, match=r"nivox\[remote\]"):
        nib.load("https://example.invalid/x.nii")


@pytest.fixture(params=[True, False], ids=["with-table", "no-table"])
def members_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: Any) -> tuple[Path, np.ndarray]:
    """A nivox-written .nii.gz of 64 KiB members (the default is 1 MiB), and its data.

    With the member table at its end, or without (as older nivox and bgzip write).
    """
    import nivox._codecs.gzip as nvgzip

    monkeypatch.setattr(nvgzip, "MEMBER_SIZE", 64 * 1024)
    monkeypatch.setattr(nvgzip, "MEMBER_TABLE", request.param)
    data = np.random.default_rng(7).integers(-3000, 3000, (64, 64, 16, 8), dtype=np.int16)
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "members.nii.gz")
    return tmp_path, data


def test_nivox_gz_read_member_by_member(members_file: tuple[Path, np.ndarray]) -> None:
    from nivox._codecs.gzformat import HEADER_PROBE
    from nivox._codecs.gztable import read_table

    root, data = members_file
    compressed = (root / "members.nii.gz").stat().st_size
    srv = _Server(root, honour_range=True)
    try:
        img = nib.load(srv.url("members.nii.gz"))
        header_bytes = srv.bytes_sent
        # sniff block + the first member (64 KiB of data): far from the whole file
        assert header_bytes <= _remote.READ_AHEAD + 80 * 1024 < compressed
        before_bytes, before_requests = srv.bytes_sent, len(srv.log)
        np.testing.assert_array_equal(img.dataobj[..., 7], data[..., 7])
        walked = len(srv.log) - before_requests
        # the last volume (128 KiB of data = 2 members): their compressed bytes plus header probes
        volume_cost = srv.bytes_sent - before_bytes
        assert volume_cost <= 2 * 66 * 1024 + walked * HEADER_PROBE
        assert volume_cost < compressed / 3
        if read_table(lambda at, n: (root / "members.nii.gz").read_bytes()[at:at + n], compressed):
            # the table (read at load) gave every member: one request per member, no header walk
            assert walked <= 3 and volume_cost <= 3 * 66 * 1024
        # a second read of an earlier volume walks no more headers
        before_requests = len(srv.log)
        np.testing.assert_array_equal(img.dataobj[..., 2], data[..., 2])
        assert len(srv.log) - before_requests <= 3  # its members only
        np.testing.assert_array_equal(img.get_fdata(), data)
    finally:
        srv.close()


def test_nivox_gz_failure_after_load_names_url(members_file: tuple[Path, np.ndarray]) -> None:
    root, _ = members_file
    srv = _Server(root, honour_range=True)
    try:
        img = nib.load(srv.url("members.nii.gz"))
    finally:
        srv.close()
    with pytest.raises(RemoteFileError, match="ConnectionRefused") as info:
        img.dataobj[..., 7]
    assert srv.url("members.nii.gz") in str(info.value)


@pytest.mark.parametrize("kept", [5, 20, 60, -10, -1], ids=lambda k: f"kept{k}")
def test_nivox_gz_cut_inside_member_table_is_reported_like_local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 kept: int) -> None:
    """Data intact, the member table at the end cut short: CorruptStreamError naming the URL, as locally."""
    import nivox._codecs.gzip as nvgzip
    from nivox._codecs.gztable import read_table

    monkeypatch.setattr(nvgzip, "MEMBER_SIZE", 64 * 1024)
    monkeypatch.setattr(nvgzip, "MEMBER_TABLE", True)
    data = np.random.default_rng(8).integers(-3000, 3000, (32, 32, 16, 6), dtype=np.int16)
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "whole.nii.gz")
    blob = (tmp_path / "whole.nii.gz").read_bytes()
    table = read_table(lambda at, n: blob[at:at + n], len(blob))
    assert table is not None
    start = table[-1][0]  # where the table member begins: every data byte is before it
    cut = start + kept if kept > 0 else len(blob) + kept
    (tmp_path / "cut.nii.gz").write_bytes(blob[:cut])
    with pytest.raises(CorruptStreamError, match="truncated"):
        nib.load(tmp_path / "cut.nii.gz").get_fdata()
    srv = _Server(tmp_path, honour_range=True)
    try:
        url = srv.url("cut.nii.gz")
        for read in (lambda img: img.get_fdata(), lambda img: img.dataobj[..., -1]):
            with pytest.raises(CorruptStreamError, match="truncated") as info:
                read(nib.load(url))
            assert url in str(info.value)
        # the intact file still reads whole
        np.testing.assert_array_equal(nib.load(srv.url("whole.nii.gz")).get_fdata(), data)
    finally:
        srv.close()


def test_single_stream_gz_still_streams(server: _Server, files: Path) -> None:
    img = nib.load(server.url("plain.nii.gz"))
    np.testing.assert_array_equal(img.dataobj[..., 3], nib.load(files / "fmri.nii").dataobj[..., 3])


@pytest.mark.parametrize("shape", [(8, 8, 8, 3), (40, 40, 20, 3)], ids=["within-first-block", "larger"])
def test_server_ignoring_range_never_gives_wrong_data(tmp_path: Path, shape: tuple[int, ...]) -> None:
    data = np.random.default_rng(3).integers(-100, 100, shape, dtype=np.int16)
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "x.nii")
    (tmp_path / "x.nii.gz").write_bytes(gzip.compress((tmp_path / "x.nii").read_bytes()))
    srv = _Server(tmp_path, honour_range=False)
    try:
        for name in ("x.nii", "x.nii.gz"):
            try:
                img = nib.load(srv.url(name))
                got = [np.asarray(img.dataobj[..., 2]), img.get_fdata()]
            except RemoteFileError as err:
                assert "ignored the byte range" in str(err) and srv.url(name) in str(err)
                continue
            # the whole file came in the first request: what was read is the file's
            np.testing.assert_array_equal(got[0], data[..., 2])
            np.testing.assert_array_equal(got[1], data)
    finally:
        srv.close()


def test_to_dask_on_url_reads_only_the_chunk(server: _Server, files: Path) -> None:
    pytest.importorskip("dask")
    arr = nib.to_dask(server.url("fmri.nii"))
    local = nib.load(files / "fmri.nii")
    assert arr.shape == SHAPE
    before = server.bytes_sent
    np.testing.assert_array_equal(arr[..., 5].compute(scheduler="threads"), local.dataobj[..., 5])
    assert server.bytes_sent - before == int(np.prod(SHAPE[:3])) * 2
    np.testing.assert_array_equal(arr.compute(scheduler="threads"), local.get_fdata().astype(np.int16))


def test_forbidden_names_url(server: _Server, files: Path) -> None:
    (files / "secret.nii").write_bytes(b"")
    url = server.url("secret.nii")
    with pytest.raises(RemoteFileError, match="access denied") as info:
        nib.load(url)
    assert url in str(info.value)


@pytest.mark.parametrize("name", ["fmri.nii", "plain.nii.gz"])
def test_file_replaced_while_read_is_reported(tmp_path: Path, files: Path, name: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from nivox import _remotestream

    # seek points close together: the first volume does not fetch (and keep) the whole small file
    monkeypatch.setattr(_remotestream, "SPACING", 64 << 10)
    (tmp_path / name).write_bytes((files / name).read_bytes())
    srv = _Server(tmp_path, honour_range=True)
    try:
        img = nib.load(srv.url(name))
        np.testing.assert_array_equal(img.dataobj[..., 0], nib.load(files / name).dataobj[..., 0])
        # the same size, other bytes: only the ETag tells
        blob = bytearray((tmp_path / name).read_bytes())
        blob[-100] ^= 0xFF
        (tmp_path / name).write_bytes(bytes(blob))
        with pytest.raises(RemoteFileError, match="changed on the server") as info:
            img.dataobj[..., 5]
        assert srv.url(name) in str(info.value)
    finally:
        srv.close()


def test_file_shrunk_while_read_is_reported(tmp_path: Path, files: Path) -> None:
    (tmp_path / "x.nii").write_bytes((files / "fmri.nii").read_bytes())
    srv = _Server(tmp_path, honour_range=True)
    try:
        img = nib.load(srv.url("x.nii"))
        (tmp_path / "x.nii").write_bytes((files / "fmri.nii").read_bytes()[:200_000])
        with pytest.raises(RemoteFileError) as info:
            img.dataobj[..., 5]
        assert srv.url("x.nii") in str(info.value)
    finally:
        srv.close()


def test_save_to_memory_and_file_urls(tmp_path: Path) -> None:
    import fsspec

    data = np.random.default_rng(4).integers(-50, 50, (6, 5, 4, 3), dtype=np.int16)
    img = nib.Nifti1Image(data, np.diag([2.0, 2.0, 2.0, 1.0]))
    nib.save(img, tmp_path / "ref.nii.gz")
    nib.save(img, "memory://issue15-save/sub/x.nii.gz")
    assert fsspec.filesystem("memory").cat_file("/issue15-save/sub/x.nii.gz") == (tmp_path / "ref.nii.gz").read_bytes()
    np.testing.assert_array_equal(nib.load("memory://issue15-save/sub/x.nii.gz").get_fdata(), data)
    nib.save(img, (tmp_path / "via-url.nii.gz").as_uri())  # file:// is saved in place, atomically
    assert (tmp_path / "via-url.nii.gz").read_bytes() == (tmp_path / "ref.nii.gz").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ref.nii.gz", "via-url.nii.gz"]


def test_save_to_url_without_file_name_is_refused() -> None:
    img = nib.Nifti1Image(np.zeros((2, 2, 2), np.int16), np.eye(4))
    with pytest.raises(RemoteFileError, match="file name") as info:
        nib.save(img, "memory://issue15-save/folder/")
    assert "memory://issue15-save/folder/" in str(info.value)


def test_weak_etag_is_not_sent_as_if_match(server: _Server, files: Path) -> None:
    (files / "weak.nii").write_bytes((files / "fmri.nii").read_bytes())
    img = nib.load(server.url("weak.nii"))
    np.testing.assert_array_equal(img.dataobj[..., 2], nib.load(files / "fmri.nii").dataobj[..., 2])


def test_version_check_can_be_turned_off(tmp_path: Path, files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_remote, "CHECK_VERSION", False)
    (tmp_path / "x.nii").write_bytes((files / "fmri.nii").read_bytes())
    srv = _Server(tmp_path, honour_range=True)
    try:
        img = nib.load(srv.url("x.nii"))
        blob = bytearray((tmp_path / "x.nii").read_bytes())
        (tmp_path / "x.nii").write_bytes(bytes(blob))  # a new mtime: a new ETag (checked, a 412)
        np.testing.assert_array_equal(img.dataobj[..., 5], nib.load(files / "fmri.nii").dataobj[..., 5])
    finally:
        srv.close()


def test_kept_blocks_are_not_fetched_twice(server: _Server, files: Path) -> None:
    raw = _remote.open_remote(server.url("fmri.nii"))
    raw.keep_blocks(4 * _remote.READ_AHEAD)
    blob = (files / "fmri.nii").read_bytes()
    assert raw.pread(100_000, 100_000) == blob[100_000:200_000]
    gets = server.gets
    assert raw.pread(150_000, 60_000) == blob[150_000:210_000]  # inside the blocks fetched
    assert server.gets == gets
    assert raw.pread(190_000, 100_000) == blob[190_000:290_000]  # only the blocks missing
    assert server.gets == gets + 1 and server.log[-1][2] == f"bytes={256 * 1024}-{320 * 1024 - 1}"
    raw.fetch_min = 8 * _remote.READ_AHEAD  # a long read: the missing run grows to fetch_min
    assert raw.pread(400_000, 10) == blob[400_000:400_010]
    assert server.log[-1][3] == min(8 * _remote.READ_AHEAD, len(blob) - 6 * _remote.READ_AHEAD)
