"""A remote store for tests: the local HTTP server or the local S3 server, behind one small interface."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


class Store:
    """Put files, name them by URL, count requests and body bytes the server sent."""

    def __init__(self, kind: str, root: Path) -> None:
        self.kind = kind
        if kind == "http":
            from test__remote import _Server

            self.root = root
            self.server: Any = _Server(root, honour_range=True)
            self.options: dict[str, Any] | None = None
        else:
            from _s3server import S3Server

            self.server = S3Server()
            self.bucket = self.server.new_bucket()
            self.options = self.server.storage_options

    def put(self, name: str, blob: bytes) -> str:
        if self.kind == "http":
            (self.root / name).write_bytes(blob)
            return str(self.server.url(name))
        self.server.filesystem().pipe_file(f"{self.bucket}/{name}", blob)
        return f"s3://{self.bucket}/{name}"

    @property
    def bytes_sent(self) -> int:
        return int(self.server.bytes_sent)

    @property
    def requests(self) -> int:
        return len(self.server.log)

    def close(self) -> None:
        self.server.close()


@pytest.fixture(params=["http", "s3"])
def store(request: Any, tmp_path: Path) -> Iterator[Store]:
    if request.param == "s3":
        pytest.importorskip("s3fs")
        pytest.importorskip("moto.moto_server.werkzeug_app")
    pytest.importorskip("aiohttp")
    served = tmp_path / "served"
    served.mkdir()
    instance = Store(request.param, served)
    yield instance
    instance.close()
