"""The server as its own process: `python -m cluster.proxy` and `logquake proxy`, and --exit-with, which keeps a
harness's proxy server from outliving the harness."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from toxiproxy import Toxiproxy

from tests.proxy.peers import connect, echo, round_trip, tcp_server

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 20


@contextmanager
def proxy_process(*arguments: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The server started on a free port; yields the process and its API address (from its first line)."""
    child = subprocess.Popen([sys.executable, "-m", "cluster.proxy", "--listen", "127.0.0.1:0", *arguments],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert "listening on" in line, line
        yield child, line.split()[-1]
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
        child.wait(STARTUP_SECONDS)


def test_the_module_serves_toxiproxy_clients_and_stops_on_sigterm() -> None:
    with proxy_process() as (child, address), tcp_server(echo) as upstream:
        client = Toxiproxy()
        host, _, port = address.rpartition(":")
        client.update_api_consumer(host, int(port))
        proxy = client.create(upstream=upstream, name="echo")
        with connect(proxy.listen) as connection:
            round_trip(connection)
        child.send_signal(signal.SIGTERM)
        assert child.wait(STARTUP_SECONDS) == 0


def test_exit_with_ends_the_server_when_that_process_is_gone() -> None:
    watched = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        with proxy_process("--exit-with", str(watched.pid)) as (child, _):
            time.sleep(1)
            assert child.poll() is None
            watched.kill()
            watched.wait()
            assert child.wait(STARTUP_SECONDS) == 0
    finally:
        watched.kill()


def test_logquake_proxy_refuses_an_api_address_in_use() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "logquake", "proxy", "--listen", f"127.0.0.1:{port}"],
                                cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"cannot serve the API on 127.0.0.1:{port}" in result.stderr
