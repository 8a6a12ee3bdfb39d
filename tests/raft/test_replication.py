"""Log replication: conflict resolution with fast backtracking, and the commit rule (Figure 8)."""

from __future__ import annotations

from cluster.keeper.raft import DurableState, Entry, HardState, Message, MessageType, Role
from tests.raft.harness import Cluster


def _log(*terms: int) -> tuple[Entry, ...]:
    return tuple(Entry(term, index, f"{term}@{index}".encode()) for index, term in enumerate(terms, start=1))


def test_proposals_reach_every_node_in_order() -> None:
    cluster = Cluster(5)
    cluster.elect(2)
    cluster.propose(2, [b"a", b"b", b"c"])
    for peer in cluster.peers:
        assert cluster.applied_data(peer) == [b"a", b"b", b"c"]


def test_a_minority_cannot_commit() -> None:
    cluster = Cluster(5)
    cluster.elect(1)
    cluster.cut = {3, 4, 5}
    cluster.propose(1, [b"lonely"])
    assert cluster.applied_data(1) == []
    cluster.cut = set()
    cluster.tick(1, 2)
    cluster.settle()
    assert all(cluster.applied_data(p) == [b"lonely"] for p in cluster.peers)


def test_divergent_follower_log_is_repaired_with_one_probe_per_term() -> None:
    # Figure 7 of the Raft paper, roughly: the follower holds many entries of terms the
    # leader never saw. Backtracking entry by entry would take one round trip per entry.
    leader_log = _log(1, 1, 1, 4, 4, 5, 5, 6, 6, 6)
    follower_log = _log(1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3)
    cluster = Cluster(
        3,
        durable={
            1: DurableState(HardState(term=6), entries=leader_log),
            2: DurableState(HardState(term=3), entries=follower_log),
            3: DurableState(HardState(term=6), entries=leader_log),
        },
    )
    cluster.elect(1)
    assert cluster[2].log.slice(1, 12) == cluster[1].log.slice(1, 12)
    rejections = cluster.count(MessageType.APPEND_RESP, src=2, reject=True)
    assert 1 <= rejections <= 2


def test_a_follower_missing_entries_is_caught_up_from_its_last_index() -> None:
    leader_log = _log(*[1] * 20)
    cluster = Cluster(
        3,
        durable={
            1: DurableState(HardState(term=1), entries=leader_log),
            2: DurableState(HardState(term=1), entries=leader_log[:3]),
            3: DurableState(HardState(term=1), entries=leader_log),
        },
    )
    cluster.elect(1)
    assert cluster[2].log.last_index == 21
    assert cluster.count(MessageType.APPEND_RESP, src=2, reject=True) == 1


def test_entries_of_an_earlier_term_commit_only_with_one_of_the_current_term() -> None:
    # Figure 8: index 2 (term 2) sits on a majority when the new leader takes over in term 4,
    # yet counting replicas for it would be unsafe. It commits with the term-4 no-op at 3.
    cluster = Cluster(
        3,
        durable={
            1: DurableState(HardState(term=3, commit=1), entries=_log(1, 2)),
            2: DurableState(HardState(term=3, commit=1), entries=_log(1, 2)),
            3: DurableState(HardState(term=3, commit=1), entries=_log(1)),
        },
    )
    cluster.campaign(1, keep=lambda m: m.type is not MessageType.APPEND)
    leader = cluster[1]
    assert leader.role is Role.LEADER and leader.term == 4
    assert leader.log.last_index == 3 and leader.log.term(3) == 4

    leader.step(Message(MessageType.APPEND_RESP, src=2, dst=1, term=4, index=2))
    cluster.process(1)
    assert leader.log.committed == 1, "a previous-term entry was committed by counting replicas"

    leader.step(Message(MessageType.APPEND_RESP, src=2, dst=1, term=4, index=3))
    cluster.process(1)
    assert leader.log.committed == 3
    assert [e.index for e in cluster.applied[1]] == [1, 2, 3]


def test_a_stale_leader_steps_down_when_told_of_a_newer_term() -> None:
    cluster = Cluster(3)
    cluster.elect(1)
    cluster.cut = {1}
    new_leader = cluster.elect_among((2, 3))
    cluster.cut = set()
    cluster.tick(1, 1)  # its heartbeat at the old term is answered with the new one
    cluster.settle()
    assert cluster[1].role is Role.FOLLOWER and cluster[1].term == cluster[new_leader].term


def test_a_deposed_leaders_uncommitted_entries_are_overwritten() -> None:
    cluster = Cluster(3)
    cluster.elect(1)
    cluster.cut = {1}
    cluster[1].propose(b"lost")
    cluster.settle()
    new_leader = cluster.elect_among((2, 3))
    cluster.propose(new_leader, [b"kept"])
    cluster.cut = set()
    cluster.tick(new_leader, 2)
    cluster.settle()
    for peer in cluster.peers:
        assert cluster.applied_data(peer) == [b"kept"]
        assert cluster[peer].log.slice(1, 4) == cluster[new_leader].log.slice(1, 4)
