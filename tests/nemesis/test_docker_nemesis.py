"""The nemesis on containers: process faults through docker's kill, stop, pause and start, and
partitions through iptables in each container's own network namespace."""

from __future__ import annotations

import random

import pytest

import nemesis
from cluster.deploy.deployment import ClusterSpec, Deployment, deploy, docker_unavailable
from cluster.deploy.node import Node
from tests.deploy.kafka_io import answers_metadata
from tests.facilities import require


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


PROBE = """
import socket, sys
with socket.socket() as sock:
    sock.settimeout(1.5)
    try:
        sock.connect((sys.argv[1], int(sys.argv[2])))
        print("reached")
    except OSError as error:
        print("cut:", error)
"""


def reaches(source: Node, target: Node) -> bool:
    """Whether a connection opened inside source's namespace, as its own process would, gets to target."""
    code, output = source.exec(["python", "-c", PROBE, target.host, str(target.port)])
    assert code == 0, output
    return output.startswith("reached")


@pytest.fixture(scope="module")
def cluster_with_keeper(tmp_path_factory):
    with _containers(tmp_path_factory, ClusterSpec(keepers=1, brokers=3)) as deployment:
        yield deployment


def test_a_cut_off_container_neither_reaches_nor_is_reached_until_stopped(cluster_with_keeper):
    faults = nemesis.build(["partition", "kill"], cluster_with_keeper, {"rng": random.Random(7)})
    isolated = cluster_with_keeper.brokers[0]
    others = [node for node in cluster_with_keeper.nodes if node is not isolated]
    done = faults.invoke("start-partition", [isolated.name])
    assert done == {"nodes": [isolated.name], "action": "isolate", "cut_off_from": [n.name for n in others]}
    assert faults.active() == [f"partition {isolated.name}"]
    for other in others:
        assert not reaches(isolated, other), f"{isolated.name} still reaches {other.name}"
        assert not reaches(other, isolated), f"{other.name} still reaches {isolated.name}"
    assert reaches(others[0], others[-1])
    assert answers_metadata(isolated.address), "clients on the host must still reach a cut-off node"
    with pytest.raises(nemesis.NemesisError, match="already held by the partition fault"):
        faults.invoke("start-kill", [isolated.name])
    faults.invoke("stop-partition", None)
    assert faults.active() == []
    assert reaches(isolated, others[0]) and reaches(others[0], isolated)


def test_a_group_of_containers_keeps_talking_within_itself_until_heal(cluster_with_keeper):
    faults = nemesis.build(["partition"], cluster_with_keeper, {"rng": random.Random(1)})
    group = [cluster_with_keeper.node(name) for name in faults.invoke("start-partition", "majority")["nodes"]]
    outside = [node for node in cluster_with_keeper.nodes if node not in group]
    assert len(group) == 2 and len(outside) == 2
    assert reaches(group[0], group[1])
    assert not reaches(group[0], outside[0]) and not reaches(outside[1], group[1])
    assert faults.heal() == [{"fault": "partition", "nodes": [n.name for n in group], "action": "reconnect"}]
    assert all(reaches(node, peer) for node in group for peer in outside)


def test_a_killed_container_has_no_rules_left_to_remove(cluster_with_keeper):
    """Docker gives a restarted container a fresh network namespace: reconnecting a stopped one is a no-op."""
    victim = cluster_with_keeper.brokers[2]
    victim.isolate([cluster_with_keeper.brokers[0].host])
    victim.kill()
    victim.reconnect()
    victim.start()
    victim.wait_serving()
    code, listing = victim.exec(["iptables", "-w", "-S"])
    assert code == 0 and "logquake-partition" not in listing
