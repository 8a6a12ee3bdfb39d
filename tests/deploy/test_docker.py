"""The docker backend: a broker in a container of the locally built image, driven from the host."""

from __future__ import annotations

import docker
import pytest

from cluster.deploy.cleanup import remove_leftovers
from cluster.deploy.deployment import ClusterSpec, deploy, docker_unavailable, resolve_backend
from cluster.deploy.docker_backend import RUN_LABEL
from tests.deploy.kafka_io import consume, produce
from tests.deploy.node_checks import (
    check_graceful_stop_and_restart,
    check_keeper_ensemble_serves,
    check_kill_restarts_with_data,
    check_pause_silences_until_resumed,
)
from tests.facilities import require


@pytest.fixture(scope="module")
def engine():
    reason = docker_unavailable()
    require(reason is None, "docker", reason or "")
    return docker.from_env()


@pytest.fixture(scope="module")
def cluster(engine, tmp_path_factory):
    deployment = deploy(ClusterSpec(keepers=0, brokers=1), "docker", tmp_path_factory.mktemp("docker"))
    with deployment:
        yield deployment


def _labelled(engine, run_id):
    label = {"label": f"{RUN_LABEL}={run_id}"}
    return engine.containers.list(all=True, filters=label, ignore_removed=True), engine.networks.list(filters=label)


def test_auto_chooses_docker_when_an_engine_answers(engine):
    assert resolve_backend("auto") == "docker"


def test_a_kafka_client_on_the_host_produces_to_and_consumes_from_the_container(cluster):
    (broker,) = cluster.brokers
    assert cluster.backend == "docker"
    assert cluster.bootstrap_servers == f"{broker.host}:9092"
    values = [f"v{i}" for i in range(50)]
    produce(cluster.bootstrap_servers, "docker-rw", values)
    assert consume(cluster.bootstrap_servers, "docker-rw", len(values)) == values


def test_exec_runs_in_the_nodes_network_namespace_with_net_admin(cluster):
    (broker,) = cluster.brokers
    code, output = broker.exec(["ip", "-4", "-o", "addr", "show", "eth0"])
    assert code == 0 and f"inet {broker.host}/24" in output
    code, output = broker.exec(["iptables", "-L", "INPUT"])
    assert code == 0, output
    code, _ = broker.exec(["test", "-c", "/dev/fuse"])
    assert code == 0


def test_paused_container_answers_nothing_until_resumed(cluster):
    (broker,) = cluster.brokers
    check_pause_silences_until_resumed(broker, cluster.bootstrap_servers)


def test_killed_container_restarts_at_the_same_address_with_its_data(cluster):
    (broker,) = cluster.brokers
    check_kill_restarts_with_data(broker, cluster.bootstrap_servers, "docker-kill")


def test_graceful_stop_reaches_the_broker_through_the_init(cluster):
    (broker,) = cluster.brokers
    check_graceful_stop_and_restart(broker)


def test_down_collects_logs_and_leaves_no_container_or_network(engine, tmp_path):
    deployment = deploy(ClusterSpec(keepers=0, brokers=1), "docker", tmp_path / "run")
    deployment.up()
    containers, networks = _labelled(engine, deployment.run_id)
    assert len(containers) == 1 and len(networks) == 1
    deployment.down(logs_to=tmp_path / "logs")
    assert _labelled(engine, deployment.run_id) == ([], [])
    assert "serving on" in (tmp_path / "logs" / "b1" / "node.log").read_text()
    assert "broker.id=1" in (tmp_path / "logs" / "b1" / "server.properties").read_text()


def test_cleanup_removes_a_crashed_runs_containers_and_network_by_label(engine, tmp_path):
    deployment = deploy(ClusterSpec(keepers=0, brokers=1), "docker", tmp_path / "run")
    deployment.up()
    try:
        removed = remove_leftovers(run_id=deployment.run_id)
        assert sorted(removed) == sorted([f"container logquake-{deployment.run_id}-b1",
                                          f"network logquake-{deployment.run_id}"])
        assert _labelled(engine, deployment.run_id) == ([], [])
    finally:
        deployment.down()


def test_keepers_in_containers_form_an_ensemble_the_host_can_use(engine, tmp_path):
    with deploy(ClusterSpec(keepers=3, brokers=1), "docker", tmp_path) as deployment:
        check_keeper_ensemble_serves(deployment)
