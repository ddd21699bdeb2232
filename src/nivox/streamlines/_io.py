"""Opening tractogram files for reading and (atomically) for writing."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from ..errors import DataError

_COMPRESSED = (".gz", ".bz2", ".zst")


def is_path(fileobj: Any) -> bool:
    return isinstance(fileobj, (str, os.PathLike))


def describe(fileobj: Any) -> str:
    """The file name to put in messages."""
    if is_path(fileobj):
        return os.fspath(fileobj)
    name = getattr(fileobj, "name", None)
    return str(name) if isinstance(name, (str, os.PathLike)) else f"<{type(fileobj).__name__}>"


@contextlib.contextmanager
def reading(fileobj: Any) -> Iterator[BinaryIO]:
    """A binary file positioned where `fileobj` was; a file object gets its position back."""
    if is_path(fileobj):
        if os.fspath(fileobj).lower().endswith(_COMPRESSED):
            from ..openers import Opener

            with Opener(fileobj, "rb") as opened:
                yield opened  # type: ignore[misc]
            return
        with open(fileobj, "rb") as f:
            yield f
        return
    start = fileobj.tell() if hasattr(fileobj, "tell") else None
    try:
        yield fileobj
    finally:
        if start is not None:
            fileobj.seek(start, os.SEEK_SET)


@contextlib.contextmanager
def writing(fileobj: Any) -> Iterator[BinaryIO]:
    """A binary file to write; a file name is written to a temporary renamed over it at the end."""
    if not is_path(fileobj):
        yield fileobj
        return
    from .._atomic import replacing_files
    from ..fileholders import FileHolder

    with replacing_files({"image": FileHolder(filename=os.fspath(fileobj))}) as temp_map:
        target = temp_map["image"].filename
        assert target is not None
        if os.fspath(fileobj).lower().endswith(_COMPRESSED):
            from ..openers import Opener

            with Opener(target, "wb") as f:
                yield f  # type: ignore[misc]
        else:
            with open(target, "wb") as raw:
                yield raw


def remaining_size(f: BinaryIO, offset: int) -> int | None:
    """Bytes from `offset` to the end of `f`, or None when it cannot seek."""
    try:
        here = f.tell()
        end = f.seek(0, os.SEEK_END)
        f.seek(here, os.SEEK_SET)
    except (OSError, AttributeError, ValueError):
        return None
    return max(0, end - offset)


def read_into(f: BinaryIO, out: NDArray[Any], name: str, what: str) -> None:
    """Fill `out` from `f` (one pass, no intermediate copy); DataError when the file is short."""
    view = memoryview(out.reshape(-1).view(np.uint8).data)
    got = 0
    total = len(view)
    readinto = getattr(f, "readinto", None)
    while got < total:
        if readinto is not None:
            n = readinto(view[got:])
        else:
            chunk = f.read(total - got)
            n = len(chunk)
            view[got : got + n] = chunk
        if not n:
            raise DataError(f"{name}: file ends inside the {what}: {got} of {total} bytes read")
        got += n


def read_rest(f: BinaryIO, offset: int, itemsize: int, name: str) -> NDArray[np.uint8]:
    """All bytes from `offset` to the end, in a fresh writable array (file size known or not)."""
    size = remaining_size(f, offset)
    f.seek(offset, os.SEEK_SET)
    if size is None:
        data = f.read()
        out = np.frombuffer(bytearray(data), np.uint8)
        return out
    out = np.empty(size, np.uint8)
    read_into(f, out, name, "data")
    return out


def run_threads(tasks: Sequence[Callable[[], None]]) -> None:
    """Run `tasks` at once: the first on this thread, the others on new plain threads.

    The first error is raised once all have ended. Plain threads rather than a
    pool: making a pool imports concurrent.futures (and logging), which costs
    more than the few threads a load starts.
    """
    errors: list[BaseException | None] = [None] * len(tasks)

    def call(i: int) -> None:
        try:
            tasks[i]()
        except BaseException as err:  # raised below, on the caller's thread
            errors[i] = err

    threads = [threading.Thread(target=call, args=(i,), daemon=True) for i in range(1, len(tasks))]
    for t in threads:
        t.start()
    if tasks:
        call(0)
    for t in threads:
        t.join()
    for err in errors:
        if err is not None:
            raise err
