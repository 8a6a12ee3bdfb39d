"""Issue 15's partition claims, each a whole `logquake run` on local processes (rules by cgroup on the host):

- acks=all, three replicas, min ISR 2, clean election: valid under a majorities-ring and under a bridge;
- acks=1 under a one-way cut of the partition's leader from the keepers (it sends to them, hears nothing
  back): its keeper session expires, a follower is elected, and the writes the old leader went on
  acknowledging are lost, as acks=1 allows;
- unclean.leader.election.enable=true under an escalating partition (the leader cut off from the other
  brokers until the ISR is the leader alone, then from the keepers too): an out-of-sync follower is
  elected and acknowledged writes are lost, which the report allows because of that setting.
"""

from __future__ import annotations

import pytest

from cluster.deploy import node_cgroups
from tests.e2e.runs import THREE_NODES, WatchedRun, leftovers, logquake_run
from tests.facilities import require

QUICK_FAILOVER = ["--broker-override", "zookeeper.session.timeout.ms=6000",
                  "--broker-override", "replica.lag.time.max.ms=2000"]
"""A cut-off broker's keeper session expires in 6 s and a follower that fetches nothing leaves the ISR in 2 s,
so that a 30 s run sees elections and ISR changes inside each partition."""
SHORT = ["--workload", "queue", "--nemesis", "partition", *THREE_NODES, *QUICK_FAILOVER, "--time-limit", "30",
         "--final-time-limit", "15", "--rate", "100", "--concurrency", "4", "--backend", "local"]
ONE_WAY = "partition-leader:all-keepers"
ESCALATING = ("partition-leader:all-brokers;all-brokers:partition-leader"
              ">partition-leader:all-keepers;all-keepers:partition-leader")


@pytest.fixture(autouse=True)
def _partitions_possible():
    reason = node_cgroups.unavailable_reason()
    require(reason is None, "root, iptables and cgroup v2", reason or "")


def _run(tmp_path, arguments: list[str]) -> WatchedRun:
    watched = logquake_run(tmp_path / "store", [*SHORT, *arguments])
    assert {("start-partition", "ok"), ("stop-partition", "ok")} <= set(watched.nemesis_ops()), watched.output
    assert not leftovers(watched)
    return watched


def _partitions(watched: WatchedRun) -> list[dict]:
    return [op["value"] for op in watched.history()
            if op["process"] == "nemesis" and op["f"] == "start-partition" and op["type"] == "ok"]


@pytest.mark.parametrize("shape", ["majorities-ring", "bridge"])
def test_acks_all_with_clean_election_stays_valid_under_the_shape(tmp_path, shape):
    watched = _run(tmp_path, ["--acks", "all", "--nemesis-targets", shape, "--nemesis-interval", "10",
                              "--seed", "1"])
    assert watched.code == 0 and "verdict: VALID" in watched.output, watched.output
    assert all(done["parameters"] == {"shape": shape} and done["grudge"] for done in _partitions(watched))
    queue = watched.results["queue"]
    assert queue["anomalies"]["lost-write"]["count"] == 0 and queue["final_reads"]["complete"] is True
    assert queue["summary"]["sends"]["ok"] > 0


def test_acks_1_loses_what_a_leader_deaf_to_the_keepers_acknowledges(tmp_path):
    watched = _run(tmp_path, ["--acks", "1", "--partitions", "1", "--nemesis-targets", ONE_WAY,
                              "--nemesis-interval", "10", "--seed", "1"])
    assert watched.code == 0, watched.output  # loss is what acks=1 allows: the claim holds
    (done,) = _partitions(watched)
    assert list(done["grudge"]) == done["nodes"], "one-way: only the leader drops packets, and only the keepers'"
    assert done["grudge"][done["nodes"][0]] == ["k1", "k2", "k3"]
    lost = watched.anomaly("lost-write")
    assert lost["allowed"] > 0 and lost["forbidden"] == 0, lost


def test_unclean_election_after_the_isr_shrank_to_a_cut_off_leader_loses_acknowledged_writes(tmp_path):
    watched = _run(tmp_path, ["--acks", "all", "--min-insync", "1", "--partitions", "1",
                              "--broker-override", "unclean.leader.election.enable=true",
                              "--nemesis-targets", ESCALATING, "--nemesis-option", "escalate-after-s=5",
                              "--nemesis-interval", "15", "--time-limit", "35", "--seed", "3"])
    assert watched.code == 0 and "verdict: VALID" in watched.output, watched.output
    queue = watched.results["queue"]
    assert "acknowledged sends may be lost (acks=all, unclean leader election)" in queue["claim"]["guarantees"]
    anomalies = queue["anomalies"]
    assert all(anomaly["forbidden"] == 0 for anomaly in anomalies.values())
    truncated = anomalies["lost-write"]["allowed"] + anomalies["inconsistent-offsets"]["allowed"]
    assert truncated > 0, "acknowledged writes of the cut-off leader are gone (never read, or read and replaced)"
