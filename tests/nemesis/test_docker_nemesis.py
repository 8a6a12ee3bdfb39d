"""The nemesis on containers: process faults through docker's kill, stop, pause and start, and
partitions through iptables in each container's own network namespace."""

from __future__ import annotations

import random

import pytest

import nemesis
from cluster.deploy.deployment import ClusterSpec, Deployment, deploy, docker_unavailable
from tests.deploy.kafka_io import answers_metadata
from tests.facilities import require
from tests.nemesis.partition_checks import (check_grudges_are_applied_exactly_and_healed,
                                            check_group_talks_within_itself_until_heal,
                                            check_partition_cuts_both_ways_until_stopped)


def _containers(tmp_path_factory, spec: ClusterSpec) -> Deployment:
    reason = docker_unavailable()
    require(reason is None, "docker", reason or "")
    return deploy(spec, "docker", tmp_path_factory.mktemp("docker-nemesis"))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with _containers(tmp_path_factory, ClusterSpec(keepers=0, brokers=2)) as deployment:
        yield deployment


def test_kill_pause_and_restart_containers_then_heal(cluster):
    faults = nemesis.build(["kill", "pause", "restart"], cluster, {"rng": random.Random(5)})
    assert faults.invoke("start-pause", ["b1"]) == {"nodes": ["b1"], "action": "pause"}
    assert cluster.node("b1").is_paused()
    assert not answers_metadata(cluster.node("b1").address, timeout=2)
    assert faults.invoke("start-kill", "one") == {"nodes": ["b2"], "action": "SIGKILL"}
    assert not cluster.node("b2").is_running()
    faults.heal()
    assert all(node.is_running() and not node.is_paused() and node.serves() for node in cluster.nodes)
    assert faults.invoke("start-restart", "all") == {"nodes": ["b1", "b2"], "action": "SIGTERM"}
    assert not any(node.is_running() for node in cluster.nodes)
    assert faults.heal() == [{"fault": "restart", "nodes": ["b1", "b2"], "action": "start"}]
    assert all(answers_metadata(node.address) for node in cluster.nodes)


@pytest.fixture(scope="module")
def cluster_with_keeper(tmp_path_factory):
    with _containers(tmp_path_factory, ClusterSpec(keepers=1, brokers=3)) as deployment:
        yield deployment


def test_a_cut_off_container_neither_reaches_nor_is_reached_until_stopped(cluster_with_keeper):
    check_partition_cuts_both_ways_until_stopped(cluster_with_keeper, "python")


def test_a_group_of_containers_keeps_talking_within_itself_until_heal(cluster_with_keeper):
    check_group_talks_within_itself_until_heal(cluster_with_keeper, "python")


def test_grudges_in_containers_drop_exactly_what_they_name_until_healed(cluster_with_keeper):
    check_grudges_are_applied_exactly_and_healed(cluster_with_keeper, "python")


def test_a_killed_container_has_no_rules_left_to_remove(cluster_with_keeper):
    """Docker gives a restarted container a fresh network namespace: reconnecting a stopped one is a no-op."""
    victim = cluster_with_keeper.brokers[2]
    victim.drop_packets([cluster_with_keeper.brokers[0]], [cluster_with_keeper.brokers[0]])
    victim.kill()
    victim.reconnect()
    victim.start()
    victim.wait_serving()
    code, listing = victim.exec(["iptables", "-w", "-S"])
    assert code == 0 and "logquake-partition" not in listing
