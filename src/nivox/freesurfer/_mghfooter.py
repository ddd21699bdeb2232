"""What follows the data of an MGH file: scan parameters and tags, read now or when first needed.

Reaching the end of a ``.mgz`` that is one deflate stream (as FreeSurfer
and nibabel write it) means decompressing all its data, so for such files
the read waits until a header field after the data is asked for; a
:class:`_PendingFooter` shared by every copy of the header does it once,
under a lock, and refuses a file that changed since it was loaded. Files of
sized gzip members (nivox's) and plain files are read at load.
"""

from __future__ import annotations

import os
import threading
from typing import IO, Any

from .. import validation as _validation
from ..errors import ImageFileError, MGHError
from ..fileholders import FileHolder

__all__ = ["MAX_TAG_BYTES", "lazy_footer_source", "read_after_data"]

#: most bytes of tagged blocks read after the data (FreeSurfer writes a few kB)
MAX_TAG_BYTES = 64 << 20


class PendingFooter:
    """What follows the data of a compressed file, read once when first needed (by any header copy)."""

    def __init__(self, filename: Any, offset: int, size: int, name: str | None, frames: int = 1) -> None:
        self.frames = frames  # as the file's header says: what its MRI_FRAME tag describes
        self.filename = filename
        self.offset = offset
        self.size = size
        self.name = name
        self.stamp = _stamp(filename)
        self.lock = threading.Lock()
        self.result: tuple[bytes, bytes] | None = None

    def read(self) -> tuple[bytes, bytes]:
        with self.lock:
            if self.result is None:
                from ..openers import ImageOpener

                with _validation.source(self.name):
                    try:
                        if _stamp(self.filename) != self.stamp:
                            raise ImageFileError(_validation.named(
                                "the file changed or went away since its header was loaded, so what "
                                "follows its data (scan parameters, tags) cannot be read; load it again"))
                        with ImageOpener(self.filename, "rb") as fileobj:
                            self.result = read_after_data(fileobj, self.offset, self.size)  # type: ignore[arg-type]
                    except _validation.LOAD_ERRORS as err:
                        raise _validation.named_load_error(err, self.name) from err
            return self.result


def _stamp(filename: Any) -> tuple[int, int, int] | None:
    try:
        status = os.stat(filename)
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns, status.st_ino


def read_after_data(fileobj: IO[bytes], offset: int, footer_size: int) -> tuple[bytes, bytes]:
    """(scan parameters, tags) after the data ending at ``offset``; empty where the file ends."""
    try:
        fileobj.seek(offset)
    except (OSError, ValueError, OverflowError):
        return b"", b""
    footer = fileobj.read(footer_size)
    if len(footer) < footer_size:
        return footer, b""
    # in pieces: one read of the largest size would allocate all of it up front
    pieces, total = [], 0
    while True:
        piece = fileobj.read(1 << 20)
        if not piece:
            break
        total += len(piece)
        if total > MAX_TAG_BYTES:
            raise MGHError(_validation.named(f"more than {MAX_TAG_BYTES} bytes of tags after the data"))
        pieces.append(piece)
    return footer, b"".join(pieces)


def lazy_footer_source(holder: FileHolder) -> Any:
    """The file to read what follows the data from when first needed, or None to read it now.

    Only a named gzip file that is one deflate stream (as FreeSurfer and
    nibabel write) is worth it: reaching its end decompresses all the data.
    In files of sized members (as nivox writes) only the last one is
    decompressed, and plain files seek, so those are read at once.
    """
    from .._codecs.gzformat import parse_header
    from ..openers import ImageOpener

    if holder.fileobj is not None or holder.filename is None:
        return None
    codec = ImageOpener.codec_for(holder.filename)
    if codec is None or codec.name != "gzip":
        return None
    try:
        with open(holder.filename, "rb") as raw:
            member = parse_header(raw.read(64), holder.filename)
    except (OSError, ValueError):
        return None  # read now, and report what is wrong now
    if member is None or member.data_size is not None:
        return None
    return os.path.abspath(holder.filename)
