"""The local backend: three brokers as real processes, each on its own 127.0.x.y address."""

from __future__ import annotations

import ipaddress

import pytest

from cluster.deploy.cleanup import remove_leftovers
from cluster.deploy.deployment import ClusterSpec, deploy
from cluster.deploy.local import PID_FILE
from cluster.deploy.probes import accepts_connections
from tests.deploy.kafka_io import consume, produce
from tests.deploy.node_checks import (
    check_graceful_stop_and_restart,
    check_keeper_ensemble_serves,
    check_kill_restarts_with_data,
    check_pause_silences_until_resumed,
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp("local")
    deployment = deploy(ClusterSpec(keepers=0, brokers=3), "local", work_dir)
    with deployment:
        yield deployment


def test_each_broker_has_its_own_loopback_address_and_kafkas_port(cluster):
    assert cluster.backend == "local"
    assert [b.name for b in cluster.brokers] == ["b1", "b2", "b3"]
    assert [b.node_id for b in cluster.brokers] == [1, 2, 3]
    hosts = [broker.host for broker in cluster.brokers]
    assert len(set(hosts)) == 3
    assert all(ipaddress.ip_address(host).is_loopback and host != "127.0.0.1" for host in hosts)
    assert cluster.bootstrap_servers == ",".join(f"{host}:9092" for host in hosts)
    assert cluster.keeper_connect == ""
    properties = cluster.brokers[1].config_path.read_text()
    assert f"advertised.listeners=PLAINTEXT://{hosts[1]}:9092" in properties.splitlines()
    assert "broker.id=2" in properties.splitlines()


def test_a_kafka_client_produces_to_and_consumes_from_every_broker(cluster):
    for broker in cluster.brokers:
        values = [f"{broker.name}-{i}" for i in range(20)]
        produce(broker.address, "local-rw", values)
        assert consume(broker.address, "local-rw", len(values)) == values


def test_paused_broker_answers_nothing_until_resumed(cluster):
    broker = cluster.brokers[0]
    check_pause_silences_until_resumed(broker, broker.address)


def test_killed_broker_is_gone_and_restarts_with_its_data(cluster):
    broker = cluster.brokers[2]
    check_kill_restarts_with_data(broker, broker.address, "local-kill")


def test_graceful_stop_and_exec_on_the_host(cluster):
    broker = cluster.brokers[1]
    check_graceful_stop_and_restart(broker)
    code, output = broker.exec(["sh", "-c", "echo $PWD; exit 3"])
    assert (code, output.strip()) == (3, str(broker.directory))


def test_down_ends_every_process_and_collects_logs(tmp_path):
    deployment = deploy(ClusterSpec(keepers=0, brokers=2), "local", tmp_path / "run")
    deployment.up()
    pids = [int((node.directory / PID_FILE).read_text()) for node in deployment.nodes]
    deployment.down(logs_to=tmp_path / "logs")
    assert not any(node.is_running() for node in deployment.nodes)
    assert not any(_alive(pid) for pid in pids)
    assert not any(accepts_connections(node.host, node.port) for node in deployment.nodes)
    for node in deployment.nodes:
        assert "serving on" in (tmp_path / "logs" / node.name / "node.log").read_text()
        assert (tmp_path / "logs" / node.name / "server.properties").is_file()


def test_leftovers_of_a_crashed_run_are_found_by_their_pid_files(tmp_path):
    deployment = deploy(ClusterSpec(keepers=0, brokers=1), "local", tmp_path / "run")
    deployment.up()
    (pid,) = [int((node.directory / PID_FILE).read_text()) for node in deployment.nodes]
    try:
        removed = remove_leftovers(local_dirs=[tmp_path / "run"], docker_runs=False)
        assert removed == [f"process {pid} (b1)"]
        assert not _alive(pid)
    finally:
        deployment.down()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_keepers_form_an_ensemble_before_the_brokers_start(tmp_path):
    with deploy(ClusterSpec(keepers=3, brokers=1), "local", tmp_path) as deployment:
        assert [k.name for k in deployment.keepers] == ["k1", "k2", "k3"]
        (broker,) = deployment.brokers
        assert f"zookeeper.connect={deployment.keeper_connect}" in broker.config_path.read_text().splitlines()
        check_keeper_ensemble_serves(deployment)
