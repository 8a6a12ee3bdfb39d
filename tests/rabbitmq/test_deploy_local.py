"""A RabbitMQ cluster on the local backend: three nodes joined into one, faulted through the same node handles as
our brokers, and torn down with nothing left behind."""

from __future__ import annotations

import json

import psutil
import pytest

from cluster.deploy.deployment import ClusterSpec, deploy
from cluster.deploy.node import NodeError
from cluster.deploy.probes import accepts_connections
from cluster.deploy.rabbitmq import unavailable_reason
from logquake.registry import WORKLOADS
from workloads.amqp.client import declare_queue, open_client
from tests.facilities import require
from tests.rabbitmq.cluster_checks import (check_a_confirmed_message_crosses_nodes, check_a_killed_node_rejoins,
                                           check_every_node_sees_all_running, check_every_node_ticks_at)


@pytest.fixture(autouse=True)
def rabbitmq_installed():
    require(unavailable_reason() is None, "rabbitmq-server", str(unavailable_reason()))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if unavailable_reason() is not None:
        yield None
        return
    deployment = deploy(ClusterSpec(keepers=0, brokers=3, system="rabbitmq", partition_handling="pause_minority",
                                    queue_mirroring=True, net_ticktime=7), "local", tmp_path_factory.mktemp("rabbitmq"))
    try:
        yield deployment.up(180)
    finally:
        deployment.down()


def test_three_nodes_with_their_own_names_addresses_and_directories_run_as_one_cluster(cluster):
    identities = [cluster.rabbitmq.identity(node.plan) for node in cluster.brokers]
    assert len({identity.node_name for identity in identities}) == 3
    assert len({identity.dist_port for identity in identities}) == 3
    assert len({node.data_directory for node in cluster.brokers}) == 3
    assert len({identity.cookie for identity in identities}) == 1
    assert cluster.bootstrap_servers == ",".join(f"{node.host}:5672" for node in cluster.brokers)
    assert "cluster_partition_handling = pause_minority" in cluster.brokers[0].config_path.read_text()
    check_every_node_sees_all_running(cluster)
    check_every_node_ticks_at(cluster, 7)


def test_a_message_confirmed_on_one_node_is_got_from_another_through_a_quorum_queue(cluster):
    check_a_confirmed_message_crosses_nodes(cluster, "deploy-check")


def test_a_killed_node_restarts_and_rejoins_the_cluster(cluster):
    check_a_killed_node_rejoins(cluster)


def test_the_cluster_has_the_mirroring_policy_and_a_mirrored_classic_queue_serves(cluster):
    spec = WORKLOADS.spec(system="rabbitmq", workload="amqp", amqp_queue="mirrored", queue_type="classic-mirrored")
    declare_queue(spec, cluster.bootstrap_servers)
    policies = json.loads(cluster.rabbitmq.ctl(cluster.brokers[1], "--quiet", "list_policies", "--formatter", "json"))
    assert [(p["name"], json.loads(p["definition"])["ha-mode"]) for p in policies] == [("ha-all", "all")]
    client = open_client(spec, cluster.bootstrap_servers, 2)
    try:
        assert client.invoke({"f": "enqueue", "value": 7}) == {"type": "ok", "value": 7}
        assert client.invoke({"f": "drain", "value": None}) == {"type": "ok", "value": [7]}
    finally:
        client.close()


def test_mirroring_is_refused_outside_rabbitmq():
    with pytest.raises(ValueError, match="queue mirroring is a policy of RabbitMQ clusters"):
        ClusterSpec(keepers=3, brokers=3, queue_mirroring=True)


def test_a_drain_whose_connection_closed_ends_info_with_what_it_got(cluster):
    spec = WORKLOADS.spec(system="rabbitmq", workload="amqp", amqp_queue="closed-drain", op_timeout=5)
    declare_queue(spec, cluster.bootstrap_servers)
    client = open_client(spec, cluster.bootstrap_servers, 0)
    assert [client.invoke({"f": "enqueue", "value": v})["type"] for v in (1, 2)] == ["ok", "ok"]
    assert client.invoke({"f": "dequeue", "value": None}) == {"type": "ok", "value": 1}
    client.connection.close()
    drained = client.invoke({"f": "drain", "value": None})
    assert drained["type"] == "info" and drained["value"] == [] and "closed" in drained["error"]
    assert client.invoke({"f": "enqueue", "value": 3})["type"] == "info"
    again = open_client(spec, cluster.bootstrap_servers, 1)
    try:
        assert again.invoke({"f": "drain", "value": None}) == {"type": "ok", "value": [2]}
    finally:
        again.close()


def test_teardown_leaves_no_process_no_epmd_and_no_data(cluster):
    pids = [pid for node in cluster.brokers
            for pid in [int((node.directory / "node.pid").read_text())]]
    epmd_port = cluster.rabbitmq.epmd_port
    cluster.down()
    assert not any(psutil.pid_exists(pid) for pid in pids)
    assert not accepts_connections("127.0.0.1", epmd_port)
    assert not any(node.data_directory.exists() for node in cluster.brokers)


def test_a_node_that_fails_to_start_shows_its_log_before_anything_runs(tmp_path):
    deployment = deploy(ClusterSpec(keepers=0, brokers=1, system="rabbitmq"), "local", tmp_path)
    deployment.brokers[0].config_path.write_text("no_such_setting_here = 1\n")
    with pytest.raises(NodeError, match="b1 exited before serving") as failure:
        with deployment:
            pass
    assert "failed_to_prepare_configuration" in str(failure.value)
    assert not deployment.brokers[0].is_running()


def test_a_partition_handling_mode_rabbitmq_does_not_have_is_refused():
    with pytest.raises(ValueError, match="partition_handling must be one of ignore, pause_minority, autoheal"):
        ClusterSpec(keepers=0, brokers=3, system="rabbitmq", partition_handling="pause_majority")


@pytest.mark.parametrize("ticktime", [0, -10, 2.5, True, "10"])
def test_a_tick_time_that_is_not_a_whole_positive_number_of_seconds_is_refused(ticktime):
    with pytest.raises(ValueError, match="net_ticktime must be a whole number of seconds, at least 1, not "):
        ClusterSpec(keepers=0, brokers=3, system="rabbitmq", net_ticktime=ticktime)


def test_a_rabbitmq_cluster_with_keepers_is_refused():
    with pytest.raises(ValueError, match="no keepers"):
        ClusterSpec(keepers=3, brokers=3, system="rabbitmq")
