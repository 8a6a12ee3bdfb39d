"""Deployments with clocks (ClusterSpec.clocks), on both backends: every node process runs with the preload and its
own control file and sees what the harness writes there; the harness and what it runs beside the nodes do not; the
control files are gone once the cluster is."""

from __future__ import annotations

import os
import re
import time
from datetime import datetime

import docker
import psutil
import pytest
from kazoo.client import KazooClient

from cluster.clock import CONTROL_ENV
from cluster.deploy.deployment import ClusterSpec, deploy, docker_unavailable
from cluster.deploy.docker_backend import DockerNode
from cluster.deploy.keeper_ensemble import unavailable_reason as zookeeper_unavailable
from cluster.deploy.local import PID_FILE
from cluster.deploy.node_clocks import CLOCK_DIR, CONTROL_FILE
from cluster.deploy.proxy_server import PID_FILE as PROXY_PID_FILE
from cluster.deploy.proxy_server import PROXY_DIR
from tests.facilities import require

DAY_NS = 86_400 * 10**9
LOGGED_AT = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d{3} .*shutting down", re.MULTILINE)


def _require_docker() -> None:
    require(docker_unavailable() is None, "docker", docker_unavailable() or "")


@pytest.fixture(scope="module", params=["local", "docker"])
def cluster(request, tmp_path_factory):
    if request.param == "docker":
        _require_docker()
    spec = ClusterSpec(keepers=1, brokers=1, clocks=True)
    with deploy(spec, request.param, tmp_path_factory.mktemp(f"clocks-{request.param}")) as deployment:
        yield deployment


def node_processes(node) -> list[psutil.Process]:
    """The node's processes as the host sees them: the local node's process, or everything under a container's
    init."""
    if isinstance(node, DockerNode):
        node.container.reload()
        return psutil.Process(node.container.attrs["State"]["Pid"]).children(recursive=True)
    return [psutil.Process(int((node.directory / PID_FILE).read_text()))]


def _seen_path(node, relative: str) -> str:
    return f"/node/{relative}" if isinstance(node, DockerNode) else str((node.directory / relative).resolve())


def test_every_node_process_loads_the_library_and_names_its_own_control_file(cluster):
    for node in cluster.nodes:
        library = next((node.directory / CLOCK_DIR).glob("*.so"))
        for process in node_processes(node):
            environment = process.environ()
            assert environment["LD_PRELOAD"] == _seen_path(node, f"{CLOCK_DIR}/{library.name}"), node.name
            assert environment[CONTROL_ENV] == _seen_path(node, f"{CLOCK_DIR}/{CONTROL_FILE}"), node.name
            assert any(mapped.path.endswith(f"/{CLOCK_DIR}/{library.name}") for mapped in process.memory_maps()), \
                f"{node.name}: {process.cmdline()} did not load the library"


def test_a_running_keeper_stamps_znodes_with_the_clock_its_control_file_says(cluster):
    (keeper,) = cluster.keepers
    client = KazooClient(hosts=cluster.keeper_connect)
    client.start(timeout=20)
    try:
        keeper.clock.bump(DAY_NS)
        ahead = client.create("/ahead", b"", sequence=True)
        keeper.clock.reset()
        now = client.create("/now", b"", sequence=True)
        assert abs(client.exists(ahead).created - (time.time() + 86_400)) < 60
        assert abs(client.exists(now).created - time.time()) < 60
    finally:
        keeper.clock.reset()
        client.stop()
        client.close()


def test_a_broker_logs_in_the_time_its_clock_was_set_back_to(cluster):
    (broker,) = cluster.brokers
    broker.clock.bump(-DAY_NS)
    try:
        broker.stop(timeout=20)
    finally:
        broker.clock.reset()
    broker.start()
    broker.wait_serving()
    logged = datetime.strptime(LOGGED_AT.findall(broker.log_text())[-1], "%Y-%m-%d %H:%M:%S")
    assert abs(logged.timestamp() - (time.time() - 86_400)) < 60


def test_the_harness_and_the_commands_it_runs_for_a_local_node_get_no_preload(cluster):
    assert "LD_PRELOAD" not in os.environ and CONTROL_ENV not in os.environ
    if cluster.backend == "local":
        code, output = cluster.brokers[0].exec(["sh", "-c", "echo ${LD_PRELOAD:-none}"])
        assert (code, output.strip()) == (0, "none")


def test_the_proxy_server_is_not_preloaded_and_the_control_files_go_with_the_cluster(tmp_path):
    spec = ClusterSpec(keepers=0, brokers=1, clocks=True, proxied=True)
    deployment = deploy(spec, "local", tmp_path)
    try:
        deployment.up()
        (broker,) = deployment.brokers
        assert (broker.directory / CLOCK_DIR / CONTROL_FILE).is_file()
        proxy = psutil.Process(int((tmp_path / PROXY_DIR / PROXY_PID_FILE).read_text()))
        assert "LD_PRELOAD" not in proxy.environ()
        assert all("LD_PRELOAD" in process.environ() for process in node_processes(broker))
    finally:
        deployment.down()
    assert not (broker.directory / CLOCK_DIR).exists()


def test_control_files_in_containers_go_with_the_cluster(tmp_path):
    _require_docker()
    deployment = deploy(ClusterSpec(keepers=0, brokers=1, clocks=True), "docker", tmp_path)
    (broker,) = deployment.nodes
    try:
        deployment.up()
        code, output = broker.exec(["cat", f"/node/{CLOCK_DIR}/{CONTROL_FILE}"])
        assert code == 0 and output.startswith("LQCK")
    finally:
        deployment.down()
    assert not (broker.directory / CLOCK_DIR).exists()
    assert docker.from_env().containers.list(all=True, filters={"label": f"logquake.run={deployment.run_id}"}) == []


def test_apache_zookeeper_started_by_its_launcher_follows_its_control_file(tmp_path):
    reason = zookeeper_unavailable("zookeeper")
    require(reason is None, "Apache ZooKeeper", reason or "")
    spec = ClusterSpec(keepers=1, brokers=0, keeper_kind="zookeeper", clocks=True)
    with deploy(spec, "local", tmp_path) as deployment:
        (keeper,) = deployment.keepers
        assert any(process.name() == "java" for process in node_processes(keeper))
        client = KazooClient(hosts=deployment.keeper_connect)
        client.start(timeout=30)
        try:
            keeper.clock.bump(DAY_NS)
            created = client.exists(client.create("/ahead", b"", sequence=True)).created
            assert abs(created - (time.time() + 86_400)) < 60
        finally:
            client.stop()
            client.close()
