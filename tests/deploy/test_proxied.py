"""A proxied cluster on each backend: clients, brokers and keepers reach every node only through its proxies on
the run's proxy server, the brokers advertise those proxies, and teardown ends the server."""

from __future__ import annotations

import time

import psutil
import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from kazoo.client import KazooClient

from cluster.deploy.deployment import ClusterSpec, deploy, docker_unavailable
from tests.deploy.kafka_io import consume, produce
from tests.facilities import require


@pytest.fixture(params=["local", "docker"])
def cluster(request, tmp_path):
    if request.param == "docker":
        reason = docker_unavailable()
        require(reason is None, "docker", reason or "")
    deployment = deploy(ClusterSpec(keepers=3, brokers=3, proxied=True), request.param, tmp_path)
    with deployment:
        yield deployment
    assert not _servers_in(tmp_path), "the proxy server outlived down()"


def _servers_in(directory) -> list[int]:
    """The proxy server works in its own directory of the deployment's (proxy_server.PROXY_DIR)."""
    return [process.pid for process in psutil.process_iter(["cwd"]) if process.info["cwd"] == str(directory / "proxy")]


def test_every_link_goes_through_the_proxies(cluster):
    routes = cluster.proxies.routes
    assert cluster.bootstrap_servers == ",".join(routes.listen(b.name, "client") for b in cluster.brokers)
    assert cluster.keeper_connect == ",".join(routes.listen(k.name, "client") for k in cluster.keepers)
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap_servers})
    admin.create_topics([NewTopic("proxied", 1, 3)])["proxied"].result(30)
    advertised = {f"{b.host}:{b.port}" for b in admin.list_topics(timeout=10).brokers.values()}
    assert advertised == set(cluster.bootstrap_servers.split(","))
    values = [f"v{i}" for i in range(30)]
    produce(cluster.bootstrap_servers, "proxied", values)
    assert consume(cluster.bootstrap_servers, "proxied", len(values)) == values
    assert _in_sync(admin, "proxied", 3), "the followers never fetched through the replication proxies"
    keeper = KazooClient(hosts=cluster.keeper_connect)
    keeper.start(timeout=20)
    try:
        assert sorted(keeper.get_children("/brokers/ids")) == ["1", "2", "3"]
    finally:
        keeper.stop()
        keeper.close()
    (server,) = _servers_in(cluster.work_dir)
    upstream_ports = {connection.raddr.port for connection in psutil.Process(server).net_connections("tcp")
                      if connection.raddr and connection.status == psutil.CONN_ESTABLISHED}
    assert {9092, 9093, 2181, 2888} <= upstream_ports, "some link does not go through the proxy server"


def _in_sync(admin: AdminClient, topic: str, size: int, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        partition = admin.list_topics(topic, timeout=10).topics[topic].partitions[0]
        if len(partition.isrs) == size:
            return True
        time.sleep(0.5)
    return False
