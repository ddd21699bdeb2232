"""Decompressing a one-member gzip file whole, in one call or in parts on several threads.

:class:`~.gzread.GzipReader` checks that a file is one member of a known size
and hands its deflate stream here as a :class:`WholeStream`:

- :func:`inflate_into` fills the caller's memory (an image's data): in parts
  on several threads (:mod:`.deflate_split`), else in one libdeflate call on
  the file's mapped bytes, or on its bytes read into memory the caller lends;
- :func:`inflate_in_parts` leaves each part in anonymous memory of its own,
  for a reader that copies out of it (a front-to-back pass, :mod:`.gzahead`).

Both check the stream's CRC; they return False or None, having decided
nothing, for data they cannot decode (the streaming reader then reports it).
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .._threads import run_parallel
from . import backends, deflate_split, libdeflate

__all__ = ["WholeStream", "inflate_in_parts", "inflate_into"]


class WholeStream(NamedTuple):
    """A one-member file's deflate stream: bytes ``start:end`` of the open file ``fd``, and its CRC."""

    fd: int
    start: int
    end: int
    crc: int

    def private_body(self) -> np.ndarray:
        """A new copy-on-write view of the stream's bytes (a splitter patches its own)."""
        mapping = mmap.mmap(self.fd, 0, access=mmap.ACCESS_COPY)
        return np.frombuffer(mapping, dtype=np.uint8)[self.start : self.end]


def _runner(threads: int) -> Callable[[list[Callable[[], None]]], None]:
    return lambda tasks: run_parallel(tasks, threads)


def _inflate_mapped(stream: WholeStream, dest: np.ndarray) -> int | None:
    """Bytes written inflating the stream from the mapped file into ``dest``; None for bad data.

    The map is left to close when the last view of it goes (an error's
    traceback may hold one for a while).
    """
    body = np.frombuffer(mmap.mmap(stream.fd, 0, access=mmap.ACCESS_READ), dtype=np.uint8)[stream.start : stream.end]
    try:
        with deflate_split.InputTrimmer() as trimmer:
            trimmer.add(body)
            return libdeflate.inflate_into(body, dest)[1]
    except backends.decode_errors():
        return None


def _inflate_read(stream: WholeStream, dest: np.ndarray, room: np.ndarray) -> int | None:
    """As :func:`_inflate_mapped`, with the compressed bytes read into ``room`` first."""
    body = room[: stream.end - stream.start]
    got = 0
    while got < len(body):
        count = os.preadv(stream.fd, [body[got:].data], stream.start + got)
        if count <= 0:
            return None
        got += count
    try:
        return libdeflate.inflate_into(body, dest)[1]
    except backends.decode_errors():
        return None


def inflate_into(stream: WholeStream, dest: np.ndarray, room: np.ndarray | None, threads: int) -> bool:
    """Whether ``stream`` was decompressed into ``dest`` (exactly its size), ``room`` lent as scratch."""
    if deflate_split.inflate_into(stream.private_body, dest, stream.crc, threads, _runner(threads), room):
        return True
    if room is not None and len(room) >= stream.end - stream.start and hasattr(os, "preadv"):
        written = _inflate_read(stream, dest, room)
    else:
        written = _inflate_mapped(stream, dest)
    return written == len(dest) and backends.crc32(dest) == stream.crc


def inflate_in_parts(stream: WholeStream, total: int, threads: int) -> list[tuple[mmap.mmap, np.ndarray]] | None:
    """``stream`` (``total`` bytes of output) decompressed into anonymous memory: (map, bytes) per part, in order.

    The parts decoded on several threads stay where they were decoded
    (:func:`.deflate_split.inflate_in_parts`); a stream that does not split
    is one part. None for data that does not decode to ``total`` bytes with
    the stream's CRC.
    """
    parts = deflate_split.inflate_in_parts(stream.private_body, total, stream.crc, threads, _runner(threads))
    if parts is not None:
        return parts
    mapping, data = deflate_split.anonymous_memory(total)
    if _inflate_mapped(stream, data) != total or backends.crc32(data) != stream.crc:
        return None
    return [(mapping, data)]
