"""isolate-leader on a replicated local cluster: which nodes it pauses and kills, what the history hears,
what it holds until stop, and that it waits until a follower it isolated leads the partition."""

from __future__ import annotations

import random
import time

import pytest

import nemesis
from cluster.deploy.deployment import ClusterSpec, deploy
from harness.spec import SpecError
from logquake.registry import WORKLOADS
from nemesis.proxy_faults import NOT_WITH_PROXIES
from nemesis.targets import Locator
from workloads.queue.admin import create_topic
from workloads.queue.options import KafkaOptions

TOPIC = "isolated"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    quick_failover = {"zookeeper.session.timeout.ms": "4000"}  # a dead leader's session expires within seconds
    with deploy(ClusterSpec(keepers=3, brokers=3, broker_overrides=quick_failover), "local",
                tmp_path_factory.mktemp("isolation")) as deployment:
        create_topic(KafkaOptions(topic=TOPIC, partitions=1, replication_factor=3, min_insync=2),
                     deployment.bootstrap_servers)
        yield deployment


def _leader_and_followers(cluster, topic=TOPIC, in_sync_followers=2):
    """Once the partition has a leader and its in-sync followers again (a restarted broker catches up first), as
    the broker the nemesis asks sees it: another may have known of the leader first."""
    locator = Locator(cluster, {"topic": topic, "lookup_timeout": 5})
    deadline = time.monotonic() + 90
    while True:
        try:
            leader, followers = locator.partition_leader_and_followers()
            if len(followers) == in_sync_followers:
                return leader.name, sorted(node.name for node in followers)
        except nemesis.NemesisError:
            pass
        assert time.monotonic() < deadline, f"{topic}-0 never had a leader and {in_sync_followers} in-sync followers"
        time.sleep(0.5)


def test_isolate_leader_pauses_the_followers_kills_the_leader_and_a_follower_takes_over(cluster):
    leader, followers = _leader_and_followers(cluster)
    faults = nemesis.build(["isolate-leader", "kill"], cluster,
                           {"rng": random.Random(1), "topic": TOPIC, "isolation_time": 0.5})
    done = faults.invoke("start-isolate-leader", "one")
    elected = done.pop("elected")
    assert elected in followers  # the start waits for the election it provokes
    assert done == {"nodes": [leader], "action": "SIGKILL", "isolated_by_pausing": followers,
                    "isolated_for_s": 0.5}
    assert not cluster.node(leader).is_running()
    assert all(cluster.node(name).is_running() and not cluster.node(name).is_paused() for name in followers)
    assert faults.active() == [f"isolate-leader {leader}"]
    with pytest.raises(nemesis.NemesisError, match="already held by the isolate-leader fault"):
        faults.invoke("start-kill", [leader])
    assert Locator(cluster, {"topic": TOPIC}).partition_leader().name == elected
    assert faults.invoke("stop-isolate-leader", None) == {"nodes": [leader], "action": "start"}
    assert faults.heal() == []
    cluster.node(leader).wait_serving()


def test_a_follower_held_by_another_fault_stops_isolation_before_anything_is_done(cluster):
    leader, followers = _leader_and_followers(cluster)
    faults = nemesis.build(["isolate-leader", "pause"], cluster, {"topic": TOPIC, "isolation_time": 0.5})
    faults.invoke("start-pause", [followers[0]])
    with pytest.raises(nemesis.NemesisError, match=f"{followers[0]} is already held by the pause fault"):
        faults.invoke("start-isolate-leader", None)
    assert cluster.node(leader).is_running() and not cluster.node(followers[1]).is_paused()
    assert faults.heal() == [{"fault": "pause", "nodes": [followers[0]], "action": "resume"}]


def test_isolate_leader_of_a_partition_that_does_not_exist_is_an_honest_error(cluster):
    faults = nemesis.build(["isolate-leader"], cluster, {"topic": TOPIC, "partition": 7, "lookup_timeout": 5})
    with pytest.raises(nemesis.NemesisError, match=f"{TOPIC}-7 has no leader"):
        faults.invoke("start-isolate-leader", None)
    assert faults.active() == [] and all(node.is_running() and not node.is_paused() for node in cluster.nodes)


def test_a_run_may_name_every_fault_the_nemesis_builds():
    """All at once, but for the faults refused beside proxy faults (proxy_faults.NOT_WITH_PROXIES)."""
    with_proxies = tuple(fault for fault in nemesis.FAULTS if fault not in NOT_WITH_PROXIES)
    without_proxies = tuple(fault for fault in nemesis.FAULTS if fault not in nemesis.PROXY_FAULTS)
    for faults in (with_proxies, without_proxies):
        assert WORKLOADS.spec(nemesis=faults).nemesis == faults
    with pytest.raises(SpecError, match="unknown fault"):
        WORKLOADS.spec(nemesis=("isolate-everything",))


def test_a_leader_without_followers_is_killed_and_no_one_is_elected(cluster):
    create_topic(KafkaOptions(topic="alone", partitions=1, replication_factor=1, min_insync=1),
                 cluster.bootstrap_servers)
    _leader_and_followers(cluster, "alone", in_sync_followers=0)
    faults = nemesis.build(["isolate-leader"], cluster, {"topic": "alone", "isolation_time": 0.1,
                                                         "election_timeout": 3})
    done = faults.invoke("start-isolate-leader", None)
    assert done["isolated_by_pausing"] == [] and done["elected"] is None
    assert not cluster.node(done["nodes"][0]).is_running()
    assert faults.heal() == [{"fault": "isolate-leader", "nodes": done["nodes"], "action": "start"}]
