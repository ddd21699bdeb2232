"""Files at fsspec URLs read by byte range, as seekable binary file objects.

Loading an image from a URL must not download it whole: :class:`RangeFile`
turns every ``read`` at a position into one ranged request through fsspec
(``cat_file(path, start, end)``), with a small read-ahead block so the many
little header reads of a load cost one request. fsspec (and aiohttp for
HTTP) are the optional extra ``remote``, imported only here.
"""

from __future__ import annotations

import io
from typing import Any

from .errors import InvalidArgumentError, MissingDependencyError, RemoteFileError

__all__ = ["RangeFile", "is_url", "is_openfile", "open_remote"]

#: reads smaller than this fetch this much, so a header load is one request
READ_AHEAD = 64 * 1024

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
    fsspec = _fsspec()
    url = str(target)
    try:
        fs, path = fsspec.core.url_to_fs(url, **(storage_options or {}))
    except ImportError as err:
        raise MissingDependencyError(f"reading {url} needs {err.name or err}; {_EXTRA_HINT}") from err
    except (ValueError, TypeError, KeyError) as err:
        raise RemoteFileError(f"{url}: cannot open it: {err}") from err
    return RangeFile(fs, path, url)


def _error(url: str, action: str, err: BaseException) -> RemoteFileError:
    """A RemoteFileError naming ``url`` and the root cause of ``err``.

    fsspec reports an unreachable HTTP host as FileNotFoundError; the
    innermost cause (connection refused, 403, ...) says what happened.
    """
    root = err
    while root.__cause__ is not None and root.__cause__ is not root:
        root = root.__cause__
    what = "not found" if isinstance(err, FileNotFoundError) and root is err else action
    detail = f"{type(root).__name__}: {root}" if root is not err or not isinstance(err, FileNotFoundError) else str(err)
    return RemoteFileError(f"{url}: {what} ({detail})")


class RangeFile(io.RawIOBase):
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
        self._block_start = 0
        self._block = b""
        #: ranged requests made and bytes they returned (for tests and benchmarks)
        self.requests = 0
        self.bytes_fetched = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def size(self) -> int:
        """The file's size in bytes (asked of the server once)."""
        if self._size is None:
            try:
                size = self.fs.size(self.path)
            except Exception as err:  # any fsspec/transport failure becomes one error naming the URL
                raise _error(self.name, "cannot get its size", err) from err
            if size is None:
                raise RemoteFileError(f"{self.name}: the server does not say the file's size")
            self._size = int(size)
        return self._size

    def _at_or_past_end(self, pos: int) -> bool:
        try:
            return self.size() <= pos
        except RemoteFileError:
            return False  # the size cannot be had either: report the read's own failure

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self.size() + offset
        else:
            raise InvalidArgumentError(f"{self.name}: invalid whence {whence!r}; valid: 0, 1, 2")
        if pos < 0:
            raise InvalidArgumentError(f"{self.name}: negative seek position {pos}")
        self._pos = pos
        return pos

    def _fetch(self, start: int, nbytes: int) -> bytes:
        """Bytes ``start`` to ``start + nbytes`` (fewer only at the end of the file)."""
        if self._size is not None and start >= self._size:
            return b""
        try:
            data = self.fs.cat_file(self.path, start=start, end=start + nbytes)
        except Exception as err:  # any fsspec/transport failure becomes one error naming the URL
            if self._size is None and start > 0 and self._at_or_past_end(start):
                return b""  # a range starting at the end (HTTP 416): end of file
            raise _error(self.name, f"cannot read bytes {start}-{start + nbytes - 1}", err) from err
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

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = max(self.size() - self._pos, 0)
        buffer = bytearray(size)
        got = self.readinto(buffer)
        return bytes(buffer[:got])

    def readall(self) -> bytes:
        return self.read(-1)

    def __repr__(self) -> str:
        return f"RangeFile({self.name!r})"
