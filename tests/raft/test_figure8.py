"""The Raft paper's Figure 8, scripted: why a leader must not commit an older term's entry by
counting replicas. Run against the real core and against one that does exactly that."""

from __future__ import annotations

from cluster.keeper.raft import Message, MessageType, Raft, Role
from cluster.sim.raft.monitor import RaftSafetyMonitor
from tests.raft.harness import Cluster
from tests.sim.broken_cores import CommitsOldTermsByCounting


def _force_campaign(cluster: Cluster, peer: int, up: set[int]) -> None:
    node = cluster[peer]
    term = node.term
    node.step(Message(MessageType.TIMEOUT_NOW, src=node.leader, dst=peer, term=node.term))
    cluster.settle(keep=lambda m: m.src in up and m.dst in up and m.type is not MessageType.APPEND)
    assert node.role is Role.LEADER and node.term == term + 1


def _play_figure_8(core: type[Raft]) -> Cluster:
    cluster = Cluster(5, max_append_entries=1, core=core)
    cluster.elect(1)  # term 1: index 1 (the no-op) commits everywhere
    cluster.cut = {1, 2}
    cluster[1].propose(b"x")  # index 2, term 1: reaches S1 and S2 only
    cluster.settle()
    cluster.cut = set()
    _force_campaign(cluster, 5, up={3, 4, 5})  # term 2: S5 appends its no-op at index 2, alone
    up = {1, 2, 3}
    cluster.tick(1)  # S1's heartbeat reaches S3, whose answer tells it about term 2
    cluster.settle(keep=lambda m: m.src in up and m.dst in up)
    _force_campaign(cluster, 1, up=up)  # term 3: S1 leads again, no-op at index 3

    def to_s3_without_term_3(m: Message) -> bool:
        s3_would_append_term_3 = m.dst == 3 and m.index == 2 and cluster[3].log.last_index == 2
        return m.src in up and m.dst in up and not s3_would_append_term_3

    for _ in range(3):  # S3 gets index 2 (term 1) but never index 3 (term 3)
        cluster.tick(1)
        cluster.settle(keep=to_s3_without_term_3)
    assert cluster[3].log.last_index == 2
    up = {2, 3, 4, 5}  # S1 is down
    cluster.tick(5)  # S5's heartbeat tells it about term 3
    cluster.settle(keep=lambda m: m.src in up and m.dst in up)
    _force_campaign(cluster, 5, up=up)  # S5's log ends in term 2, S3's and S4's earlier: term 4
    return cluster


def _safety_verdict(cluster: Cluster) -> list[str]:
    """What the simulation's safety monitor says about what was applied and who leads now."""
    monitor = RaftSafetyMonitor()
    for peer in cluster.peers:
        for entry in cluster.applied[peer]:
            monitor.on_apply(peer, entry, now=0)
    leader = cluster[5]
    monitor.on_role(5, leader.soft_state, leader.log, now=0)
    return monitor.violations


def _applied_at(cluster: Cluster, peer: int, index: int) -> tuple[int, bytes] | None:
    return next(((e.term, e.data) for e in cluster.applied[peer] if e.index == index), None)


def test_the_real_core_does_not_commit_the_old_entry_so_the_new_leader_may_replace_it() -> None:
    cluster = _play_figure_8(Raft)
    assert _applied_at(cluster, 1, 2) is None
    assert _safety_verdict(cluster) == []
    cluster.tick(5, 2)
    cluster.settle(keep=lambda m: 1 not in (m.src, m.dst))
    assert all(_applied_at(cluster, peer, 2) == (2, b"") for peer in (2, 3, 4, 5))


def test_counting_replicas_for_an_older_term_commits_an_entry_a_later_leader_lacks() -> None:
    cluster = _play_figure_8(CommitsOldTermsByCounting)
    assert _applied_at(cluster, 1, 2) == (1, b"x")
    assert cluster[5].log.term(2) == 2
    (violation,) = _safety_verdict(cluster)
    assert violation.startswith("leader completeness: leader 5 of term 4 lacks committed Entry(term=1, index=2")
