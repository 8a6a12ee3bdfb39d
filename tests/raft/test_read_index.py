"""Linearizable reads by read-index (Raft thesis §6.4)."""

from __future__ import annotations

import pytest

from cluster.keeper.raft import MessageType, ProposalDropped, ReadState
from tests.raft.harness import Cluster


def test_a_leader_read_is_ready_at_its_commit_index_once_a_quorum_confirms() -> None:
    cluster = Cluster(3)
    cluster.elect(1)
    cluster.propose(1, [b"a"])
    cluster[1].read_index(b"r1")
    cluster.process(1)
    assert cluster.read_states[1] == []
    heartbeats = [m for m in cluster.outbox if m.type is MessageType.HEARTBEAT]
    assert {m.context for m in heartbeats} == {b"r1"}
    cluster.settle()
    assert cluster.read_states[1] == [ReadState(2, b"r1")]


def test_a_leader_cut_off_from_the_quorum_never_answers_a_read() -> None:
    cluster = Cluster(3)
    cluster.elect(1)
    cluster.cut = {1}
    cluster[1].read_index(b"r1")
    cluster.settle()
    cluster.tick(1, 5)
    cluster.settle()
    assert cluster.read_states[1] == []


def test_a_new_leader_answers_reads_only_after_committing_in_its_term() -> None:
    cluster = Cluster(3)
    cluster.campaign(1, keep=lambda m: m.type is not MessageType.APPEND)
    cluster[1].read_index(b"early")
    cluster.settle(keep=lambda m: m.type is not MessageType.APPEND)
    assert cluster.read_states[1] == []
    cluster.tick(1, 2)
    cluster.settle()
    assert cluster.read_states[1] == [ReadState(1, b"early")]


def test_one_quorum_answer_completes_every_earlier_read_too() -> None:
    cluster = Cluster(3)
    cluster.elect(1)
    cluster[1].read_index(b"first")
    cluster.settle(keep=lambda m: m.type is not MessageType.HEARTBEAT_RESP)
    cluster[1].read_index(b"second")
    cluster.settle()
    assert [r.context for r in cluster.read_states[1]] == [b"first", b"second"]


def test_a_follower_read_is_forwarded_to_the_leader_and_ready_on_the_follower() -> None:
    cluster = Cluster(3)
    cluster.elect(1)
    cluster.propose(1, [b"a"])
    cluster[2].read_index(b"f1")
    cluster.settle()
    assert cluster.read_states[2] == [ReadState(2, b"f1")]
    assert cluster.read_states[1] == []


def test_a_read_without_a_known_leader_is_refused() -> None:
    cluster = Cluster(3)
    with pytest.raises(ProposalDropped):
        cluster[1].read_index(b"nobody")


def test_a_single_node_leader_reads_without_messages() -> None:
    cluster = Cluster(1)
    cluster.elect(1)
    cluster[1].read_index(b"solo")
    cluster.process(1)
    assert cluster.read_states[1] == [ReadState(1, b"solo")]
