"""A local S3-compatible server (moto's server mode) on 127.0.0.1 that counts requests and bytes.

Tests start it, reach it through s3fs with :attr:`S3Server.storage_options`,
and stop it after. Every request is logged as (method, path, Range header,
body bytes sent), as the HTTP test server in ``test__remote`` does.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any


class S3Server:
    """moto's S3 on a free port of 127.0.0.1, in a thread of this process."""

    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        self.log: list[tuple[str, str, str | None, int]] = []
        app = DomainDispatcherApplication(create_backend_app)
        owner = self

        def counting(environ: dict[str, Any], start_response: Any) -> Any:
            entry = [environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), environ.get("HTTP_RANGE"), 0]
            owner.log.append(entry)  # type: ignore[arg-type]
            for chunk in app(environ, start_response):
                if entry[0] == "GET":
                    entry[3] += len(chunk)
                yield chunk

        class QuietHandler(MotoRequestHandler):
            def log_request(self, *args: Any) -> None:
                pass

        self.httpd = make_server("127.0.0.1", 0, counting, threaded=True, request_handler=QuietHandler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_port}"
        self.storage_options = {
            "key": "testing", "secret": "testing", "endpoint_url": self.endpoint,
            "client_kwargs": {"region_name": "eu-west-1"}, "skip_instance_cache": True,
            "use_listings_cache": False,
        }

    def filesystem(self) -> Any:
        import s3fs

        return s3fs.S3FileSystem(**self.storage_options)

    def new_bucket(self) -> str:
        name = f"nivox-{uuid.uuid4().hex[:12]}"
        self.filesystem().mkdir(name)
        return name

    @property
    def bytes_sent(self) -> int:
        return sum(entry[3] for entry in self.log)

    @property
    def gets(self) -> int:
        return sum(entry[0] == "GET" for entry in self.log)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
