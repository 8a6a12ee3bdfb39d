"""Leadership transfer: the leader catches the target up, then sends TimeoutNow (thesis §3.10)."""

from __future__ import annotations

import pytest

from cluster.keeper.raft import MessageType, ProposalDropped, Role
from tests.raft.harness import Cluster


def test_leadership_moves_to_an_up_to_date_target_in_the_next_term() -> None:
    cluster = Cluster(3)
    cluster.elect(1)
    cluster[1].transfer_leadership(3)
    cluster.settle()
    assert cluster[3].role is Role.LEADER and cluster[3].term == 2
    assert cluster[1].role is Role.FOLLOWER and cluster[1].leader == 3
    assert cluster.count(MessageType.TIMEOUT_NOW, dst=3) == 1
    assert cluster.count(MessageType.PRE_VOTE) == 2  # only the first election used pre-vote


def test_a_lagging_target_is_caught_up_before_timeout_now() -> None:
    cluster = Cluster(3)
    cluster.elect(1)
    cluster.cut = {3}
    cluster.propose(1, [b"a", b"b"])
    cluster.cut = set()
    cluster[1].transfer_leadership(3)
    cluster.settle()
    assert cluster[3].role is Role.LEADER
    assert cluster.applied_data(3) == [b"a", b"b"]


def test_proposals_are_refused_while_a_transfer_is_in_flight() -> None:
    cluster = Cluster(3)
    cluster.elect(1)
    cluster.cut = {3}
    cluster[1].transfer_leadership(3)
    with pytest.raises(ProposalDropped):
        cluster[1].propose(b"x")


def test_a_transfer_that_does_not_finish_within_an_election_timeout_is_abandoned() -> None:
    cluster = Cluster(3)
    cluster.elect(1)
    cluster.cut = {3}
    cluster[1].transfer_leadership(3)
    for _ in range(10):
        cluster.tick(1)
        cluster.tick(2)
        cluster.settle()
    cluster[1].propose(b"x")
    cluster.settle()
    assert cluster[1].role is Role.LEADER and cluster.applied_data(1) == [b"x"]


def test_only_a_leader_can_transfer() -> None:
    cluster = Cluster(3)
    cluster.elect(1)
    with pytest.raises(ProposalDropped):
        cluster[2].transfer_leadership(3)
