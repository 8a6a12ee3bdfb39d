"""Compaction and InstallSnapshot: a follower behind the leader's compacted log gets a snapshot."""

from __future__ import annotations

import pytest

from cluster.keeper.raft import MessageType
from tests.raft.harness import Cluster


def _lagging_cluster() -> Cluster:
    cluster = Cluster(3)
    cluster.elect(1)
    cluster.cut = {3}
    cluster.propose(1, [b"a", b"b", b"c", b"d"])
    cluster.cut = set()
    return cluster


def test_compaction_keeps_the_snapshot_and_drops_the_entries_it_covers() -> None:
    cluster = _lagging_cluster()
    leader = cluster[1]
    snapshot = leader.compact(4, b"state@4")
    assert (snapshot.index, snapshot.term) == (4, 1)
    assert leader.log.first_index == 5 and leader.log.entry(4) is None
    cluster.process(1)
    assert cluster.disk[1].snapshot == snapshot
    assert [e.index for e in cluster.disk[1].entries] == [5]


def test_only_applied_entries_can_be_compacted() -> None:
    cluster = _lagging_cluster()
    with pytest.raises(ValueError):
        cluster[3].compact(3, b"not applied here")


def test_a_follower_behind_the_compacted_log_installs_the_snapshot_then_catches_up() -> None:
    cluster = _lagging_cluster()
    cluster[1].compact(4, b"state@4")
    cluster.process(1)
    cluster.propose(1, [b"e"])
    cluster.tick(1, 2)
    cluster.settle()
    assert cluster.count(MessageType.SNAPSHOT, dst=3) >= 1
    follower = cluster[3]
    assert follower.log.snapshot.index == 4 and follower.log.snapshot.data == b"state@4"
    assert follower.log.committed == 6
    assert cluster.disk[3].snapshot.data == b"state@4"
    assert [e.data for e in cluster.applied[3] if e.index > 4] == [b"d", b"e"]


def test_a_restarted_node_resumes_from_its_snapshot_and_log() -> None:
    cluster = _lagging_cluster()
    cluster[1].compact(3, b"state@3")
    cluster.process(1)
    restarted = cluster.restart(1)
    assert restarted.log.snapshot.index == 3
    assert restarted.log.last_index == 5
    assert restarted.log.committed == 5
    cluster.applied[1].clear()
    cluster.process(1)
    assert [e.index for e in cluster.applied[1]] == [4, 5]


def test_a_lost_snapshot_is_sent_again() -> None:
    cluster = _lagging_cluster()
    cluster[1].compact(4, b"state@4")
    cluster.process(1)
    cluster.tick(1, 2)
    cluster.settle(keep=lambda m: m.type is not MessageType.SNAPSHOT)
    assert cluster[3].log.snapshot.index == 0
    cluster.tick(1, 2)
    cluster.settle()
    assert cluster[3].log.snapshot.index == 4
