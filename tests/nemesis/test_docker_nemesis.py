"""The process nemesis on containers: the same faults through docker's kill, stop, pause and start."""

from __future__ import annotations

import random

import pytest

import nemesis
from cluster.deploy.deployment import ClusterSpec, deploy, docker_unavailable
from tests.deploy.kafka_io import answers_metadata
from tests.facilities import require


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = docker_unavailable()
    require(reason is None, "docker", reason or "")
    with deploy(ClusterSpec(keepers=0, brokers=2), "docker", tmp_path_factory.mktemp("docker-nemesis")) as deployment:
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
