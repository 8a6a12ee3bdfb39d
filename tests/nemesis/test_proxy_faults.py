"""The proxy faults on in-memory nodes (fake_cluster.py) behind a real proxy server: which proxies each start puts
its toxics on, what the history's value says, that stop removes exactly those, and what a reset does to a real
connection through the proxy."""

from __future__ import annotations

import itertools
import random
import socket
import threading
from collections.abc import Iterator

import pytest

import nemesis
from cluster.deploy.node import NodePlan
from cluster.deploy.ports import HOST, free_port
from cluster.deploy.proxy_routes import ProxyRoutes, Route
from cluster.deploy.proxy_server import ProxyServer
from nemesis.base import NemesisError
from tests.nemesis.fake_cluster import FakeDeployment


@pytest.fixture
def echo() -> Iterator[str]:
    """An upstream that echoes what it gets, for the one proxy the connection tests go through."""
    server = socket.create_server((HOST, free_port()))
    threading.Thread(target=_echo_forever, args=(server,), daemon=True).start()
    yield f"{HOST}:{server.getsockname()[1]}"
    server.close()


def _echo_forever(server: socket.socket) -> None:
    while True:
        try:
            connection, _ = server.accept()
        except OSError:
            return
        threading.Thread(target=_echo, args=(connection,), daemon=True).start()


def _echo(connection: socket.socket) -> None:
    """Until the connection ends, reset ones too (the proxy resets them under the reset fault)."""
    with connection:
        try:
            while data := connection.recv(4096):
                connection.sendall(data)
        except OSError:
            pass


@pytest.fixture
def cluster(tmp_path, echo) -> Iterator[FakeDeployment]:
    """Three keepers and three brokers, each with its proxies on one real server; b1's client proxy leads to echo."""
    deployment = FakeDeployment(tmp_path, disks=False)
    plans = [NodePlan(node.name, node.role, node.node_id, node.host) for node in deployment.nodes]
    planned = ProxyRoutes.plan(HOST, plans, (free_port() for _ in itertools.count()))
    routes = tuple(Route(r.name, r.node, r.link, r.listen, echo) if r.name == "b1-client" else r for r in planned.routes)
    server = ProxyServer(ProxyRoutes(planned.api, routes), tmp_path)
    deployment.proxies = server.start()
    yield deployment
    server.stop()


def _build(deployment, names, **nemesis_options):
    return nemesis.build(names, deployment, {"rng": random.Random(1), "roles": ("broker",), "heal_timeout": 1,
                                             "nemesis_options": nemesis_options})


def _toxics(deployment) -> dict[str, list[tuple[str, str, dict]]]:
    api = deployment.proxies.api
    found = {route.name: sorted((toxic["name"], toxic["type"], toxic["attributes"]) for toxic in api.toxics(route.name))
             for route in deployment.proxies.routes.routes}
    return {name: toxics for name, toxics in found.items() if toxics}


def test_latency_goes_on_each_stream_of_the_targets_proxies_of_the_chosen_links_until_stopped(cluster):
    faults = _build(cluster, ["latency"], **{"latency-ms": "300", "jitter-ms": "20", "links": "replication,keeper"})
    done = faults.invoke("start-latency", "all")
    assert done == {"nodes": ["b1", "b2", "b3"], "action": "add-toxics",
                    "parameters": {"latency_ms": 300, "jitter_ms": 20, "links": "replication,keeper",
                                   "stream": "both", "direction": "to"},
                    "proxies": ["b1-replication", "b2-replication", "b3-replication"]}
    attributes = {"latency": 300, "jitter": 20}
    assert _toxics(cluster) == {f"b{i}-replication": [("latency-downstream", "latency", attributes),
                                                      ("latency-upstream", "latency", attributes)] for i in (1, 2, 3)}
    assert faults.active() == ["latency b1,b2,b3"]
    assert faults.invoke("stop-latency", None) == {"nodes": ["b1", "b2", "b3"], "action": "remove-toxics"}
    assert _toxics(cluster) == {}


def test_a_keeper_target_gets_every_link_to_it_and_heal_removes_them(cluster):
    faults = _build(cluster, ["timeout"], stream="upstream")
    done = faults.invoke("start-timeout", ["k2"])
    assert done["proxies"] == ["k2-client", "k2-quorum-from-k1", "k2-quorum-election-from-k1", "k2-quorum-from-k3",
                               "k2-quorum-election-from-k3", "k2-keeper-from-b1", "k2-keeper-from-b2",
                               "k2-keeper-from-b3"]
    assert {name: [toxic[0] for toxic in toxics] for name, toxics in _toxics(cluster).items()} == {
        name: ["timeout-upstream"] for name in done["proxies"]}
    assert faults.heal() == [{"fault": "timeout", "nodes": ["k2"], "action": "remove-toxics"}]
    assert _toxics(cluster) == {}


def test_direction_from_picks_the_proxies_only_the_target_dials(cluster):
    faults = _build(cluster, ["slow-close"], direction="from", stream="downstream")
    assert faults.invoke("start-slow-close", ["b2"])["proxies"] == ["k1-keeper-from-b2", "k2-keeper-from-b2",
                                                                   "k3-keeper-from-b2"]
    assert set(_toxics(cluster)) == {"k1-keeper-from-b2", "k2-keeper-from-b2", "k3-keeper-from-b2"}
    faults.invoke("stop-slow-close", None)
    both = _build(cluster, ["slow-close"], direction="both", links="quorum,client")
    assert both.invoke("start-slow-close", ["k3"])["proxies"] == [
        "k3-client", "k3-quorum-from-k1", "k3-quorum-election-from-k1", "k3-quorum-from-k2",
        "k3-quorum-election-from-k2", "k1-quorum-from-k3", "k1-quorum-election-from-k3", "k2-quorum-from-k3",
        "k2-quorum-election-from-k3"]


def test_links_a_target_does_not_have_are_refused_and_nothing_is_held(cluster):
    faults = _build(cluster, ["bandwidth"], links="quorum")
    with pytest.raises(NemesisError, match="b1 has no proxy for the link"):
        faults.invoke("start-bandwidth", ["b1"])
    assert faults.active() == []


def test_reset_resets_connections_through_the_proxy_and_stop_lets_them_through_again(cluster):
    listen = cluster.proxies.routes.listen("b1", "client").rsplit(":", 1)
    address = (listen[0], int(listen[1]))
    with socket.create_connection(address, timeout=5) as before:
        before.sendall(b"ping")
        assert before.recv(4) == b"ping"
    faults = _build(cluster, ["reset"], links="client")
    faults.invoke("start-reset", ["b1"])
    with socket.create_connection(address, timeout=5) as during:
        with pytest.raises(ConnectionResetError):
            during.sendall(b"ping")
            during.recv(4)
    faults.invoke("stop-reset", None)
    with socket.create_connection(address, timeout=5) as after:
        after.sendall(b"ping")
        assert after.recv(4) == b"ping"


def test_a_deployment_without_proxies_cannot_take_a_proxy_fault(tmp_path):
    with pytest.raises(NemesisError, match="the flaky fault needs a deployment whose nodes are reached through proxies"):
        _build(FakeDeployment(tmp_path, disks=False), ["flaky"])
