"""Leader election, pre-vote and votes that survive restarts, through the core's event interface."""

from __future__ import annotations

from cluster.keeper.raft import NO_NODE, Message, MessageType, Raft, Role
from tests.raft.harness import Cluster


def test_a_node_whose_timer_fires_is_elected_by_the_others() -> None:
    cluster = Cluster(3)
    leader = cluster.elect(1)
    assert leader.term == 1
    for peer in (2, 3):
        assert cluster[peer].role is Role.FOLLOWER
        assert cluster[peer].leader == 1
        assert cluster[peer].term == 1


def test_the_new_leader_commits_a_no_op_of_its_term_everywhere() -> None:
    cluster = Cluster(3)
    cluster.elect(1)
    for peer in cluster.peers:
        assert [(e.term, e.index, e.data) for e in cluster.applied[peer]] == [(1, 1, b"")]


def test_a_single_node_elects_itself_and_commits_alone() -> None:
    cluster = Cluster(1)
    cluster.elect(1)
    cluster.propose(1, [b"x"])
    assert cluster.applied_data(1) == [b"x"]


def test_election_timeouts_are_randomized_between_one_and_two_election_timeouts() -> None:
    fired_after = set()
    for seed in range(30):
        cluster = Cluster(3, seed=seed)
        ticks = 0
        while cluster[1].role is Role.FOLLOWER:
            cluster[1].tick()
            ticks += 1
        fired_after.add(ticks)
    assert min(fired_after) >= 10 and max(fired_after) < 20
    assert len(fired_after) > 3


def test_pre_vote_failure_leaves_term_and_vote_untouched() -> None:
    cluster = Cluster(3)
    cluster.cut = {3}
    cluster.campaign(3)
    assert cluster[3].role is Role.PRE_CANDIDATE
    for _ in range(5):
        cluster.tick(3, 25)
        cluster.settle()
    assert cluster[3].term == 0
    assert cluster.disk.get(3) is None or cluster.disk[3].hard_state.vote == NO_NODE


class _WithoutPreVote(Raft):
    def _campaign(self, pre_vote: bool, force: bool) -> None:
        super()._campaign(pre_vote=False, force=force)


def _rejoin_after_a_partition(core: type[Raft]) -> Cluster:
    cluster = Cluster(3, core=core)
    cluster.elect(1)
    cluster.propose(1, [b"a"])
    cluster.cut = {3}
    for _ in range(10):
        cluster.tick(3, 25)  # campaigns again and again, alone
        cluster.tick(1)
        cluster.tick(2)
        cluster.settle()
    cluster.cut = set()
    for _ in range(30):
        cluster.tick_all()
    return cluster


def test_a_rejoining_partitioned_node_does_not_disrupt_a_stable_leader() -> None:
    cluster = _rejoin_after_a_partition(Raft)
    assert cluster[1].role is Role.LEADER and cluster[1].term == 1
    assert all(cluster[p].term == 1 and cluster[p].leader == 1 for p in cluster.peers)


def test_without_pre_vote_the_same_rejoin_deposes_the_leader() -> None:
    cluster = _rejoin_after_a_partition(_WithoutPreVote)
    assert cluster[1].term > 1


def test_followers_that_hear_from_their_leader_ignore_higher_term_vote_requests() -> None:
    cluster = Cluster(3)
    cluster.elect(1)
    request = Message(MessageType.VOTE, src=3, dst=2, term=9, index=99, log_term=9)
    cluster[2].step(request)
    cluster.process(2)
    assert cluster[2].term == 1 and cluster[2].vote == 1
    assert not [m for m in cluster.outbox if m.type is MessageType.VOTE_RESP]


def test_a_node_votes_once_per_term_even_across_a_restart() -> None:
    cluster = Cluster(3)
    cluster[3].step(Message(MessageType.VOTE, src=1, dst=3, term=1, index=0, log_term=0))
    cluster.process(3)
    assert cluster.disk[3].hard_state.vote == 1
    restarted = cluster.restart(3)
    restarted.step(Message(MessageType.VOTE, src=2, dst=3, term=1, index=0, log_term=0))
    cluster.outbox.clear()
    cluster.process(3)
    (response,) = cluster.outbox
    assert response.type is MessageType.VOTE_RESP and response.reject


def test_a_candidate_with_a_stale_log_loses_even_when_forced() -> None:
    cluster = Cluster(3)
    cluster.elect(1)
    cluster.cut = {3}
    cluster.propose(1, [b"a", b"b"])
    cluster.cut = {1}
    cluster[3].step(Message(MessageType.TIMEOUT_NOW, src=1, dst=3, term=1))
    cluster.settle()
    assert cluster[3].role is Role.CANDIDATE or cluster[3].role is Role.FOLLOWER
    assert cluster.count(MessageType.VOTE_RESP, src=2, dst=3, reject=True) == 1
