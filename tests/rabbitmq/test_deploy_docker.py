"""A RabbitMQ cluster on the docker backend: three containers of the node image joined into one cluster and torn
down with no container, network or volume left (test_faults.py kills, pauses and cuts them off in a run)."""

from __future__ import annotations

import docker
import pytest

from cluster.deploy.deployment import ClusterSpec, deploy
from cluster.deploy.docker_backend import RUN_LABEL
from cluster.deploy.image import docker_unavailable
from cluster.deploy.node import NodeError
from cluster.deploy.rabbitmq import EPMD_PORT
from tests.facilities import require
from tests.rabbitmq.cluster_checks import (check_a_confirmed_message_crosses_nodes, check_every_node_sees_all_running,
                                           check_every_node_ticks_at)


@pytest.fixture(scope="module")
def engine():
    reason = docker_unavailable()
    require(reason is None, "docker", reason or "")
    client = docker.from_env()
    yield client
    client.close()


@pytest.fixture(scope="module")
def cluster(engine, tmp_path_factory):
    deployment = deploy(ClusterSpec(keepers=0, brokers=3, system="rabbitmq", partition_handling="autoheal",
                                    net_ticktime=12), "docker", tmp_path_factory.mktemp("rabbitmq-docker"))
    try:
        yield deployment.up(180)
    finally:
        deployment.down()


def _labelled(engine, run_id):
    label = {"label": f"{RUN_LABEL}={run_id}"}
    return engine.containers.list(all=True, filters=label, ignore_removed=True), engine.networks.list(filters=label)


def test_three_containers_on_their_own_addresses_run_as_one_cluster(cluster, engine):
    assert cluster.backend == "docker"
    identities = [cluster.rabbitmq.identity(node.plan) for node in cluster.brokers]
    assert {identity.epmd_port for identity in identities} == {EPMD_PORT}
    assert len({identity.host for identity in identities}) == 3
    assert cluster.bootstrap_servers == ",".join(f"{node.host}:5672" for node in cluster.brokers)
    assert "cluster_partition_handling = autoheal" in cluster.brokers[0].config_path.read_text()
    check_every_node_sees_all_running(cluster)
    check_every_node_ticks_at(cluster, 12)
    containers, _ = _labelled(engine, cluster.run_id)
    assert all(mount["Type"] == "bind" for container in containers for mount in container.attrs["Mounts"])


def test_a_message_confirmed_on_one_container_is_got_from_another(cluster):
    check_a_confirmed_message_crosses_nodes(cluster, "docker-deploy-check")


def test_teardown_leaves_no_container_network_volume_or_data(cluster, engine):
    volumes = {volume.name for volume in engine.volumes.list()}
    cluster.down()
    assert _labelled(engine, cluster.run_id) == ([], [])
    assert {volume.name for volume in engine.volumes.list()} <= volumes
    assert not any(node.data_directory.exists() for node in cluster.brokers)


def test_a_container_whose_node_fails_to_start_shows_its_log(engine, tmp_path):
    deployment = deploy(ClusterSpec(keepers=0, brokers=1, system="rabbitmq"), "docker", tmp_path)
    deployment.brokers[0].config_path.write_text("no_such_setting_here = 1\n")
    with pytest.raises(NodeError, match="b1 exited before serving") as failure:
        with deployment:
            pass
    assert "failed_to_prepare_configuration" in str(failure.value)
    assert _labelled(engine, deployment.run_id) == ([], [])
