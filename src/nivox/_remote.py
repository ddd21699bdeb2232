"""Files at fsspec URLs read by byte range, as seekable binary file objects.

Loading an image from a URL must not download it whole: :class:`RangeFile`
turns every ``read`` at a position into one ranged request through fsspec
(``cat_file(path, start, end)``), with a small read-ahead block so the many
little header reads of a load cost one request. fsspec (and aiohttp for
HTTP) are the optional extra ``remote``, imported only here.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from typing import Any

from .errors import InvalidArgumentError, MissingDependencyError, RemoteFileError

__all__ = ["PositionedReader", "RangeFile", "filesystem_for", "is_openfile", "is_url", "open_remote"]

#: reads smaller than this fetch this much, so a header load is one request
READ_AHEAD = 64 * 1024
#: every range request asks the server to answer only if the file is still the version
#: loaded (HTTP If-Match / If-Unmodified-Since, S3 IfMatch); False for servers whose
#: validators are not stable (a CDN giving each edge its own ETag)
CHECK_VERSION = True

_EXTRA_HINT = "install the optional extra with `pip install 'nivox[remote]'`"


def is_url(obj: Any) -> bool:
    """Whether ``obj`` is a string naming an fsspec URL (``proto://...`` or chained ``a::b``)."""
    return isinstance(obj, str) and ("://" in obj or "::" in obj)


def is_openfile(obj: Any) -> bool:
    """Whether ``obj`` is an fsspec ``OpenFile`` (duck-typed: it has ``fs`` and ``path``)."""
    return hasattr(obj, "fs") and isinstance(getattr(obj, "path", None), str) and hasattr(obj, "open")


def _fsspec() -> Any:
    try:
        import fsspec  # type: ignore[import-untyped]
    except ImportError as err:
        raise MissingDependencyError(f"reading URLs needs fsspec; {_EXTRA_HINT}") from err
    return fsspec


def open_remote(target: Any, storage_options: dict[str, Any] | None = None) -> RangeFile:
    """A :class:`RangeFile` on URL ``target`` or on fsspec OpenFile ``target``.

    Raises
    ------
    MissingDependencyError
        fsspec, or the package its protocol needs (aiohttp for HTTP), is missing.
    RemoteFileError
        The URL cannot be understood.
    """
    if is_openfile(target):
        fs, path = target.fs, target.path
        label = fs.unstrip_protocol(path) if hasattr(fs, "unstrip_protocol") else path
        return RangeFile(fs, path, label)
    url = str(target)
    fs, path = filesystem_for(url, storage_options)
    return RangeFile(fs, path, url)


def filesystem_for(url: str, storage_options: dict[str, Any] | None = None) -> tuple[Any, str]:
    """The fsspec filesystem and path of ``url``.

    Raises
    ------
    MissingDependencyError
        fsspec, or the package its protocol needs, is missing.
    RemoteFileError
        The URL cannot be understood.
    """
    fsspec = _fsspec()
    try:
        return fsspec.core.url_to_fs(url, **(storage_options or {}))  # type: ignore[no-any-return]
    except ImportError as err:
        raise MissingDependencyError(f"{url} needs {err.name or err}; {_EXTRA_HINT}") from err
    except (ValueError, TypeError, KeyError) as err:
        raise RemoteFileError(f"{url}: cannot open it: {err}") from err


def _status(err: BaseException) -> int | None:
    """The HTTP status an fsspec/aiohttp/botocore error carries, if any."""
    for obj in (err, err.__cause__, err.__context__):
        status = getattr(obj, "status", None) or getattr(obj, "code", None)
        if isinstance(status, int):
            return status
        response = getattr(obj, "response", None)  # botocore ClientError
        if isinstance(response, dict):
            code = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if isinstance(code, int):
                return code
    return None


def _error(url: str, action: str, err: BaseException) -> RemoteFileError:
    """A RemoteFileError naming ``url``, saying what happened, with the root cause of ``err``.

    fsspec reports an unreachable HTTP host as FileNotFoundError; the
    innermost cause (connection refused, ...) says what happened.
    """
    root = err
    while root.__cause__ is not None and root.__cause__ is not root:
        root = root.__cause__
    status = _status(err)
    connection = root is not err and isinstance(root, OSError) and not isinstance(root, FileNotFoundError)
    if status == 412 or "PreconditionFailed" in str(root):
        what = "the file changed on the server while it was being read (its ETag/modification time differ)"
    elif status == 403 or isinstance(err, PermissionError):
        what = f"access denied (403) when trying to {action}"
    elif (status == 404 or isinstance(err, FileNotFoundError)) and not connection:
        what = "not found"
    else:
        what = f"cannot {action}"
    detail = f"{type(root).__name__}: {root}" if root is not err or not isinstance(err, FileNotFoundError) else str(err)
    return RemoteFileError(f"{url}: {what} ({detail})")


def _s3_range(fs: Any, path: str, start: int, end: int, etag: str) -> bytes:
    """Bytes ``start:end`` of an S3 object, only if its ETag is still ``etag`` (s3fs's cat_file cannot ask)."""
    from fsspec.asyn import sync  # type: ignore[import-untyped]

    bucket, key, version = fs.split_path(path)
    extra = {"VersionId": version} if version else {}

    async def get() -> bytes:
        response = await fs._call_s3("get_object", Bucket=bucket, Key=key, Range=f"bytes={start}-{end - 1}",
                                     IfMatch=etag, **extra)
        try:
            return await response["Body"].read()  # type: ignore[no-any-return]
        finally:
            response["Body"].close()

    return sync(fs.loop, get)  # type: ignore[no-any-return]


class PositionedReader(io.RawIOBase):
    """A read-only, seekable binary file that keeps its own position.

    The remote readers (:class:`RangeFile`, and the gzip readers on top of
    it) share this: a subclass gives ``readinto`` (reading at ``_pos``) and
    ``_end`` (the size of what it reads, asked only for ``SEEK_END`` and
    ``read()`` of everything).
    """

    name: str
    _pos: int

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def _end(self) -> int:
        raise NotImplementedError

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_END:
            offset += self._end()
        elif whence == io.SEEK_CUR:
            offset += self._pos
        elif whence != io.SEEK_SET:
            raise InvalidArgumentError(f"{self.name}: invalid whence {whence!r}; valid: 0, 1, 2")
        if offset < 0:
            raise InvalidArgumentError(f"{self.name}: negative seek position {offset}")
        self._pos = offset
        return offset

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = max(self._end() - self._pos, 0)
        buffer = bytearray(size)
        return bytes(buffer[: self.readinto(buffer)])

    def readall(self) -> bytes:
        return self.read(-1)


class RangeFile(PositionedReader):
    """A read-only, seekable binary file whose reads are ranged requests on an fsspec filesystem.

    Parameters
    ----------
    fs : fsspec.AbstractFileSystem
    path : str
        The path on ``fs``.
    url : str
        The name used in messages and as ``.name``.
    """

    def __init__(self, fs: Any, path: str, url: str) -> None:
        super().__init__()
        self.fs, self.path, self.name = fs, path, url
        self._pos = 0
        self._size: int | None = None
        self._info: dict[str, Any] | None = None
        self._blocks: OrderedDict[int, bytes] | None = None  # see keep_blocks
        self._blocks_kept = 0
        #: with keep_blocks, the least a request for missing blocks fetches (raised by long reads)
        self.fetch_min = READ_AHEAD
        self._block_start = 0
        self._block = b""
        #: the last failure of a request, for readers (indexed_gzip) that report it otherwise
        self.last_error: RemoteFileError | None = None
        #: ranged requests made and bytes they returned (for tests and benchmarks)
        self.requests = 0
        self.bytes_fetched = 0

    def size(self) -> int:
        """The file's size in bytes (asked of the server once, with its ETag/modification time)."""
        if self._size is None:
            info = self.info()
            size = info.get("size")
            if size is None:
                raise RemoteFileError(f"{self.name}: the server does not say the file's size")
            self._size = int(size)
        return self._size

    def info(self) -> dict[str, Any]:
        """What the server says of the file (``fs.info``), asked once: size, ETag, modification time."""
        if self._info is None:
            try:
                self._info = dict(self.fs.info(self.path))
            except Exception as err:  # any fsspec/transport failure becomes one error naming the URL
                raise _error(self.name, "get its size", err) from err
        return self._info

    def identity(self) -> tuple[str, int, str]:
        """What tells this version of the file from another: URL, size and ETag (or modification time).

        The validator is empty when the server gives neither; then only the
        size tells versions apart.
        """
        info = self.info()
        validator = ""
        for field in ("ETag", "etag", "LastModified", "Last-Modified", "mtime", "created", "md5"):
            if info.get(field) not in (None, ""):
                validator = f"{field}={info[field]}"
                break
        return (self.name, self.size(), validator)

    def _cat(self, start: int, end: int) -> bytes:
        """Bytes ``start:end`` in one request that fails (HTTP 412) if the file changed since :meth:`info`."""
        info = (self._info or {}) if CHECK_VERSION else {}
        etag = info.get("ETag") or info.get("etag")
        if isinstance(etag, str) and etag.startswith("W/"):
            etag = None  # a weak ETag never matches If-Match (RFC 9110): compare dates instead
        protocols = (self.fs.protocol,) if isinstance(self.fs.protocol, str) else tuple(self.fs.protocol)
        if etag and ("http" in protocols or "https" in protocols):
            headers = dict(getattr(self.fs, "kwargs", {}).get("headers") or {})
            headers["If-Match"] = etag
            return self.fs.cat_file(self.path, start=start, end=end, headers=headers)  # type: ignore[no-any-return]
        if etag and ("s3" in protocols or "s3a" in protocols) and hasattr(self.fs, "_call_s3"):
            return _s3_range(self.fs, self.path, start, end, etag)
        last_modified = info.get("Last-Modified")
        if last_modified and ("http" in protocols or "https" in protocols):
            headers = dict(getattr(self.fs, "kwargs", {}).get("headers") or {})
            headers["If-Unmodified-Since"] = last_modified
            return self.fs.cat_file(self.path, start=start, end=end, headers=headers)  # type: ignore[no-any-return]
        return self.fs.cat_file(self.path, start=start, end=end)  # type: ignore[no-any-return]

    def _at_or_past_end(self, pos: int) -> bool:
        try:
            return self.size() <= pos
        except RemoteFileError:
            return False  # the size cannot be had either: report the read's own failure

    def _end(self) -> int:
        return self.size()

    def keep_blocks(self, nbytes: int) -> None:
        """From now on, keep the last ``nbytes`` fetched, in aligned blocks, and fetch only blocks not kept.

        For a reader that goes back a little (indexed_gzip decodes up to a
        place, then reads again from the seek point before it): those
        bytes are not fetched twice.
        """
        self._blocks = OrderedDict()
        self._blocks_kept = max(1, nbytes // READ_AHEAD)

    def _fetch(self, start: int, nbytes: int) -> bytes:
        """Bytes ``start`` to ``start + nbytes`` (fewer only at the end of the file)."""
        try:
            if self._blocks is not None:
                return self._fetch_blocks(start, nbytes)
            return self._fetch_once(start, nbytes)
        except RemoteFileError as err:
            self.last_error = err
            raise

    def _fetch_blocks(self, start: int, nbytes: int) -> bytes:
        blocks = self._blocks
        assert blocks is not None
        end = min(start + nbytes, self.size())
        if end <= start:
            return b""
        first, last = start // READ_AHEAD, (end - 1) // READ_AHEAD
        wanted = range(first, last + 1)
        missing = [b for b in wanted if b not in blocks]
        last_block = (self.size() - 1) // READ_AHEAD
        while missing:  # one request per run of neighbouring missing blocks
            run = 1
            while run < len(missing) and missing[run] == missing[0] + run:
                run += 1
            if run == len(missing):  # the last run: at least fetch_min bytes (a long read)
                more = max(run, self.fetch_min // READ_AHEAD)
                while run < more and missing[0] + run <= last_block and missing[0] + run not in blocks:
                    missing.append(missing[0] + run)
                    run += 1
            data = self._fetch_once(missing[0] * READ_AHEAD, run * READ_AHEAD)
            for k in range(run):
                blocks[missing[k]] = data[k * READ_AHEAD:(k + 1) * READ_AHEAD]
            missing = missing[run:]
        for b in wanted:
            blocks.move_to_end(b)
        joined = b"".join(blocks[b] for b in wanted)
        while len(blocks) > max(self._blocks_kept, len(wanted)):
            blocks.popitem(last=False)
        return joined[start - first * READ_AHEAD:end - first * READ_AHEAD]

    def _fetch_once(self, start: int, nbytes: int) -> bytes:
        self.size()  # first the size and validators, so every range is checked against them
        if self._size is not None and start >= self._size:
            return b""
        try:
            data = self._cat(start, start + nbytes)
        except Exception as err:  # any fsspec/transport failure becomes one error naming the URL
            if self._size is None and start > 0 and self._at_or_past_end(start):
                return b""  # a range starting at the end (HTTP 416): end of file
            raise _error(self.name, f"read bytes {start}-{start + nbytes - 1}", err) from err
        self.requests += 1
        self.bytes_fetched += len(data)
        expected = nbytes if self._size is None else max(min(nbytes, self._size - start), 0)
        if len(data) > expected:
            # a server that ignores Range answers with the whole file: never take it for the range
            raise RemoteFileError(
                f"{self.name}: the server ignored the byte range {start}-{start + nbytes - 1} "
                f"(sent {len(data)} bytes); it does not support range requests. Read it whole "
                f"with a 'simplecache::{self.name}' URL or download it first"
            )
        if len(data) < nbytes:
            if self._size is not None and start + len(data) < self._size:
                raise RemoteFileError(f"{self.name}: short read at byte {start} ({len(data)} of {nbytes} bytes)")
            self._size = start + len(data)  # a short answer marks the end of the file
        return bytes(data)

    def pread(self, offset: int, count: int) -> bytes:
        """Exactly bytes ``offset:offset + count`` (fewer at the end) in one request, no read-ahead."""
        if count <= 0:
            return b""
        inside = offset - self._block_start
        if 0 <= inside and (inside + count <= len(self._block) or self._at_end_of_block()):
            return self._block[inside:inside + count]  # already fetched (a header probe after sniffing)
        return self._fetch(offset, count)

    def _at_end_of_block(self) -> bool:
        return self._size is not None and self._block_start + len(self._block) >= self._size

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        wanted = len(view)
        if wanted == 0:
            return 0
        pos, done = self._pos, 0
        # serve what the read-ahead block already holds
        offset = pos - self._block_start
        if 0 <= offset < len(self._block):
            chunk = self._block[offset:offset + wanted]
            view[:len(chunk)] = chunk
            done = len(chunk)
        if done < wanted:
            start, rest = pos + done, wanted - done
            if rest < READ_AHEAD:
                block = self._fetch(start, READ_AHEAD)
                self._block_start, self._block = start, block
                chunk = block[:rest]
            else:
                chunk = self._fetch(start, rest)
            view[done:done + len(chunk)] = chunk
            done += len(chunk)
        self._pos = pos + done
        return done

    def __reduce__(self) -> tuple[Any, ...]:
        # the filesystem pickles with its storage options: a worker process opens the URL itself;
        # the size and ETag travel too, so a worker notices a file changed since it was loaded
        return (RangeFile, (self.fs, self.path, self.name), {"_info": self._info, "_size": self._size})

    def __repr__(self) -> str:
        return f"RangeFile({self.name!r})"
