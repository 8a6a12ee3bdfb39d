"""The controller's pure decisions: placement, clean and unclean election, preferred leaders, shutdown, ISR changes."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.broker.controller.election import (
    AssignmentError,
    IsrChangeError,
    assign_replicas,
    awaits_shutdown,
    initial_state,
    isr_change,
    next_state,
)
from cluster.broker.metadata.partition_state import NO_LEADER, PartitionState

BROKERS = range(6)
Situation = tuple[tuple[int, ...], PartitionState, frozenset[int]]


@st.composite
def situations(draw: st.DrawFn) -> Situation:
    """A partition somewhere in its life: assignment, a consistent state, and who is alive now."""
    replicas = tuple(draw(st.permutations(BROKERS))[: draw(st.integers(1, 5))])
    isr = tuple(draw(st.lists(st.sampled_from(replicas), min_size=1, unique=True)))
    leader = draw(st.sampled_from((NO_LEADER, *isr)))
    state = PartitionState(leader, draw(st.integers(0, 50)), isr, draw(st.integers(0, 5)), draw(st.integers(0, 50)))
    live = frozenset(draw(st.sets(st.sampled_from(BROKERS))))
    return replicas, state, live


@given(st.sets(st.integers(0, 100), min_size=1, max_size=8), st.integers(1, 40), st.data())
def test_assignment_places_distinct_live_replicas_and_rotates_leaders(
    brokers: set[int], partitions: int, data: st.DataObject
) -> None:
    factor = data.draw(st.integers(1, len(brokers)))
    start, shift = data.draw(st.integers(0, 20)), data.draw(st.integers(0, 20))
    assignment = assign_replicas(brokers, partitions, factor, start, shift)
    assert sorted(assignment) == list(range(partitions))
    for replicas in assignment.values():
        assert len(replicas) == factor == len(set(replicas)) and set(replicas) <= brokers
    leaders = Counter(replicas[0] for replicas in assignment.values())
    assert max(leaders.values()) - min(leaders[broker] for broker in brokers) <= 1


def test_assignment_is_kafkas_round_robin_with_a_shift_every_lap() -> None:
    assert assign_replicas([3, 1, 2], 4, 2) == {0: (1, 2), 1: (2, 3), 2: (3, 1), 3: (1, 3)}
    assert assign_replicas([1, 2, 3, 4], 2, 3, start_index=1) == {0: (2, 3, 4), 1: (3, 4, 1)}


@pytest.mark.parametrize(("brokers", "partitions", "factor"), [([1, 2], 1, 3), ([1, 2], 1, 0), ([1], 0, 1), ([], 1, 1)])
def test_impossible_assignments_are_refused(brokers: list[int], partitions: int, factor: int) -> None:
    with pytest.raises(AssignmentError):
        assign_replicas(brokers, partitions, factor)


def test_a_new_partition_is_led_by_its_first_live_replica_with_every_live_replica_in_sync() -> None:
    assert initial_state((3, 1, 2), {1, 2}, controller_epoch=4) == PartitionState(1, 0, (1, 2), 4)
    with pytest.raises(AssignmentError):
        initial_state((3, 1), {2}, controller_epoch=4)


@given(situations(), st.booleans(), st.booleans())
def test_clean_election_never_picks_a_replica_outside_the_isr(
    situation: Situation, unclean: bool, preferred: bool
) -> None:
    replicas, state, live = situation
    new = next_state(replicas, state, live, unclean=unclean, controller_epoch=9, preferred=preferred) or state
    survivors = [broker for broker in state.isr if broker in live]
    if survivors:
        assert new.leader in survivors and new.isr == tuple(survivors)
        if not preferred:
            assert new.leader == (state.leader if state.leader in live else next(r for r in replicas if r in survivors))
    elif unclean and live & set(replicas):
        assert new.leader == next(r for r in replicas if r in live) and new.isr == (new.leader,)
    else:
        assert new.leader == NO_LEADER and new.isr == state.isr


@given(situations(), st.booleans(), st.booleans(), st.sets(st.sampled_from(BROKERS)))
def test_decisions_are_consistent_and_settle(
    situation: Situation, unclean: bool, preferred: bool, shutting_down: set[int]
) -> None:
    replicas, state, live = situation
    def decide(state: PartitionState) -> PartitionState | None:
        return next_state(replicas, state, live, unclean=unclean, controller_epoch=9, shutting_down=shutting_down,
                          preferred=preferred)

    new = decide(state)
    if new is None:
        return
    assert new.version == state.version and new.controller_epoch == 9
    assert new.leader_epoch == state.leader_epoch + (new.leader != state.leader)
    assert new.leader == NO_LEADER or (new.leader in live and new.leader in new.isr)
    assert (new.leader, new.isr) != (state.leader, state.isr)
    assert decide(new.stored(new.version + 1)) is None


@given(situations(), st.booleans())
def test_preferred_replica_leads_whenever_it_is_in_sync_and_alive(situation: Situation, unclean: bool) -> None:
    replicas, state, live = situation
    new = next_state(replicas, state, live, unclean=unclean, controller_epoch=1) or state
    if replicas[0] in live and replicas[0] in state.isr:
        assert new.leader == replicas[0]


def test_broker_loss_moves_leadership_to_the_first_live_isr_member_in_assignment_order() -> None:
    state = PartitionState(leader=1, leader_epoch=3, isr=(1, 3, 2), controller_epoch=1, version=8)
    assert next_state((1, 2, 3), state, {2, 3}, unclean=False, controller_epoch=2) == PartitionState(2, 4, (3, 2), 2, 8)


def test_a_dead_follower_leaves_the_isr_without_a_new_leader_epoch() -> None:
    state = PartitionState(leader=1, leader_epoch=3, isr=(1, 2, 3), controller_epoch=1)
    assert next_state((1, 2, 3), state, {1, 2}, unclean=False, controller_epoch=1) == PartitionState(1, 3, (1, 2), 1)


def test_no_live_isr_member_takes_the_partition_offline_and_keeps_the_last_isr() -> None:
    state = PartitionState(leader=1, leader_epoch=3, isr=(1,), controller_epoch=1)
    offline = next_state((1, 2, 3), state, {2, 3}, unclean=False, controller_epoch=1)
    assert offline == PartitionState(NO_LEADER, 4, (1,), 1)
    assert next_state((1, 2, 3), offline, {2, 3}, unclean=False, controller_epoch=1) is None
    back = next_state((1, 2, 3), offline, {1, 2, 3}, unclean=False, controller_epoch=1)
    assert back == PartitionState(1, 5, (1,), 1)


def test_unclean_election_picks_any_live_replica_and_makes_it_the_whole_isr() -> None:
    offline = PartitionState(leader=NO_LEADER, leader_epoch=4, isr=(1,), controller_epoch=1)
    assert next_state((1, 2, 3), offline, {3, 2}, unclean=True, controller_epoch=1) == PartitionState(2, 5, (2,), 1)


def test_preferred_leader_returns_once_back_in_the_isr() -> None:
    state = PartitionState(leader=2, leader_epoch=5, isr=(2, 3), controller_epoch=1)
    assert next_state((1, 2, 3), state, {1, 2, 3}, unclean=False, controller_epoch=1) is None
    rejoined = PartitionState(leader=2, leader_epoch=5, isr=(2, 3, 1), controller_epoch=1)
    moved = next_state((1, 2, 3), rejoined, {1, 2, 3}, unclean=False, controller_epoch=1)
    assert moved == PartitionState(1, 6, (2, 3, 1), 1)
    assert next_state((1, 2, 3), rejoined, {1, 2, 3}, unclean=False, controller_epoch=1, preferred=False) is None


def test_controlled_shutdown_moves_leadership_away_and_leaves_the_isr() -> None:
    led = PartitionState(leader=1, leader_epoch=2, isr=(1, 2, 3), controller_epoch=1)
    moved = next_state((1, 2, 3), led, {1, 2, 3}, unclean=False, controller_epoch=1, shutting_down={1})
    assert moved == PartitionState(2, 3, (2, 3), 1)
    followed = PartitionState(leader=2, leader_epoch=2, isr=(2, 1), controller_epoch=1)
    left = next_state((1, 2), followed, {1, 2}, unclean=False, controller_epoch=1, shutting_down={1})
    assert left == PartitionState(2, 2, (2,), 1)


def test_controlled_shutdown_keeps_a_leader_no_one_can_replace() -> None:
    alone = PartitionState(leader=1, leader_epoch=2, isr=(1,), controller_epoch=1)
    assert next_state((1, 2), alone, {1, 2}, unclean=True, controller_epoch=1, shutting_down={1}) is None


def test_a_leader_may_shrink_and_expand_its_isr_within_its_replicas() -> None:
    state = PartitionState(leader=1, leader_epoch=2, isr=(1, 2), controller_epoch=3, version=4)
    assert isr_change((1, 2, 3), state, 1, (1, 2, 3)) == PartitionState(1, 2, (1, 2, 3), 3, 4)
    assert isr_change((1, 2, 3), state, 1, (1,)) == PartitionState(1, 2, (1,), 3, 4)


@pytest.mark.parametrize(("leader", "isr"), [(2, (1, 2)), (1, (2,)), (1, (1, 4)), (1, (1, 1)), (1, (1, 2, 3))])
def test_isr_changes_a_leader_may_not_make(leader: int, isr: tuple[int, ...]) -> None:
    state = PartitionState(leader=1, leader_epoch=2, isr=(1, 2), controller_epoch=3, version=4)
    with pytest.raises(IsrChangeError):
        isr_change((1, 2, 3), state, leader, isr, live={1, 2})


def test_a_dead_member_may_stay_in_the_isr_until_the_controller_removes_it() -> None:
    state = PartitionState(leader=1, leader_epoch=2, isr=(1, 2), controller_epoch=3, version=4)
    assert isr_change((1, 2, 3), state, 1, (1, 2), live={1}).isr == (1, 2)


@given(situations(), st.booleans(), st.sampled_from(BROKERS))
def test_controlled_shutdown_is_done_once_the_controller_has_nothing_left_to_move(
    situation: Situation, unclean: bool, broker: int
) -> None:
    replicas, state, live = situation
    live = live | {broker}
    new = next_state(replicas, state, live, unclean=unclean, controller_epoch=1, shutting_down={broker}) or state
    assert not awaits_shutdown(new, live, {broker}, broker)
    if awaits_shutdown(state, live, {broker}, broker):
        assert new != state
