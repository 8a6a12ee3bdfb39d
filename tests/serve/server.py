"""`logquake serve`'s application on a real uvicorn server in a thread, on a free loopback port."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from logquake.serve.app import create_app
from tests.polling import wait_until


@dataclass(frozen=True)
class Served:
    url: str
    port: int
    app: Starlette

    def get(self, raw_path: str) -> tuple[int, bytes, dict[str, str]]:
        """A GET of the path exactly as given (no client-side normalising of `..` or percent-escapes)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.putrequest("GET", raw_path, skip_accept_encoding=True)
            connection.endheaders()
            response = connection.getresponse()
            return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}
        finally:
            connection.close()

    def text(self, path: str) -> str:
        status, body, _ = self.get(path)
        assert status == 200, (path, status, body[:300])
        return body.decode("utf-8")


@contextmanager
def serving(store_root: Path) -> Iterator[Served]:
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    app = create_app(store_root)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, "the server to start")
        yield Served(f"http://127.0.0.1:{port}", port, app)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        listening.close()
