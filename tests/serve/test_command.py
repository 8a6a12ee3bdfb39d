"""`logquake serve` as a user starts it: on 127.0.0.1 unless told otherwise, serving the store's runs."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import psutil

from tests.e2e.runs import ROOT
from tests.polling import wait_until
from tests.serve.stores import stored_run


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_listens_on_loopback_only_by_default(tmp_path: Path) -> None:
    stored_run(tmp_path / "store", "queue-pause", "queue-pause/20261201T100000")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "logquake", "serve", "--store", str(tmp_path / "store"),
                               "--port", str(port)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        listening = wait_until(lambda: [c.laddr for c in psutil.Process(server.pid).net_connections("inet")
                                        if c.status == psutil.CONN_LISTEN], "the server to listen")
        assert [(address.ip, address.port) for address in listening] == [("127.0.0.1", port)]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
            assert "queue-pause/20261201T100000" in response.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=30)
