"""A proxy server per test module, driven by the unmodified toxiproxy-python client (as users would)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from toxiproxy import Toxiproxy

from cluster.proxy.server import ProxyServer, server_in_thread
from tests.proxy.peers import echo, tcp_server


@pytest.fixture(scope="module")
def server() -> Iterator[ProxyServer]:
    with server_in_thread() as started:
        yield started


@pytest.fixture
def toxiproxy(server: ProxyServer) -> Iterator[Toxiproxy]:
    """The client, pointed at this module's server, with no proxies left over from other tests."""
    client = Toxiproxy()
    host, _, port = server.address.rpartition(":")
    client.update_api_consumer(host, int(port))
    client.destroy_all()
    yield client
    client.destroy_all()


@pytest.fixture
def echo_upstream() -> Iterator[str]:
    with tcp_server(echo) as address:
        yield address
