"""The sans-IO controller driven against a small in-memory store of versioned state znodes.

The store plays keeper's part for the state znodes only: conditional writes that
fail on a version mismatch, and reads. Views are built from it the way the watcher
builds them, sometimes late, as watches are.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.broker.config import BrokerConfig
from cluster.broker.controller.core import (
    Action,
    ControllerCore,
    ControllerSettings,
    DeleteTopic,
    Elected,
    Event,
    ReadState,
    Resigned,
    StateRead,
    StateWriteFailed,
    StateWritten,
    TopicDeleteDone,
    ViewChanged,
    WriteState,
)
from cluster.broker.controller.election import assign_replicas, next_state
from cluster.broker.controller.view import ClusterView, TopicInfo, TopicPartition
from cluster.broker.controller.znodes import BrokerRegistration
from cluster.broker.membership import controller_settings
from cluster.broker.metadata.partition_state import NO_LEADER, UNWRITTEN, PartitionState


class StateStore:
    """Versioned state znodes: a write succeeds only at the version it expects."""

    def __init__(self) -> None:
        self.states: dict[TopicPartition, PartitionState] = {}
        self.writes: list[WriteState] = []

    def perform(self, action: Action) -> Event:
        if isinstance(action, DeleteTopic):
            for key in [key for key in self.states if key[0] == action.topic]:
                del self.states[key]
            return TopicDeleteDone(action.topic)
        key = (action.topic, action.partition)
        if isinstance(action, ReadState):
            return StateRead(action.topic, action.partition, self.states.get(key))
        current = self.states.get(key)
        if (current.version if current else UNWRITTEN) != action.state.version:
            return StateWriteFailed(action.topic, action.partition)
        self.writes.append(action)
        stored = action.state.stored(action.state.version + 1)
        self.states[key] = stored
        return StateWritten(action.topic, action.partition, stored)


class Cluster:
    def __init__(
        self, brokers: set[int], topics: dict[str, TopicInfo], settings: ControllerSettings = ControllerSettings()
    ) -> None:
        self.store = StateStore()
        self.brokers = set(brokers)
        self.broker_epochs = {broker: 100 + broker for broker in brokers}
        self.topics = dict(topics)
        self.deleting: frozenset[str] = frozenset()
        self.shutting_down: frozenset[int] = frozenset()
        self.controller_epoch = 0
        self.core = ControllerCore(settings)
        self.perform: Callable[[Action], Event] = self.store.perform

    def view(self) -> ClusterView:
        return ClusterView(
            brokers={broker: BrokerRegistration.plaintext(broker, "127.0.0.1", 9000 + broker) for broker in self.brokers},
            broker_epochs={broker: self.broker_epochs[broker] for broker in self.brokers},
            topics=dict(self.topics), states=dict(self.store.states), deleting=self.deleting,
            shutting_down=self.shutting_down, controller_epoch=self.controller_epoch,
        )

    def send(self, event: Event) -> None:
        """Deliver an event and run every action it leads to, to quiescence."""
        pending = [event]
        while pending:
            pending += [self.perform(action) for action in self.core.handle(pending.pop(0))]

    def refresh(self) -> None:
        self.send(ViewChanged(self.view()))

    def elect(self, epoch: int) -> None:
        self.controller_epoch = epoch
        self.send(ViewChanged(self.view()))
        self.send(Elected(epoch))

    def state(self, topic: str, partition: int = 0) -> PartitionState:
        return self.store.states[(topic, partition)]


def three_replicas() -> dict[str, TopicInfo]:
    return {"t": TopicInfo({0: (1, 2, 3)})}


def test_a_controller_that_was_never_elected_writes_nothing() -> None:
    cluster = Cluster({1, 2, 3}, three_replicas())
    cluster.refresh()
    assert cluster.store.writes == []


def test_elected_controller_initialises_new_partitions_with_its_epoch() -> None:
    cluster = Cluster({1, 2, 3}, {"t": TopicInfo(assign_replicas({1, 2, 3}, 3, 2))})
    cluster.elect(4)
    assert [cluster.state("t", p) for p in range(3)] == [
        PartitionState(1, 0, (1, 2), 4, 0), PartitionState(2, 0, (2, 3), 4, 0), PartitionState(3, 0, (3, 1), 4, 0),
    ]


def test_broker_loss_elects_the_next_isr_member_and_its_return_restores_the_preferred_leader() -> None:
    cluster = Cluster({1, 2, 3}, three_replicas())
    cluster.elect(1)
    cluster.brokers.discard(1)
    cluster.refresh()
    assert cluster.state("t") == PartitionState(2, 1, (2, 3), 1, 1)
    cluster.brokers.add(1)
    cluster.refresh()
    assert cluster.state("t").leader == 2, "back, but not in sync yet"
    cluster.store.states[("t", 0)] = replace(cluster.state("t"), isr=(2, 3, 1), version=2)  # the leader expands its ISR
    cluster.refresh()
    assert cluster.state("t") == PartitionState(1, 2, (2, 3, 1), 1, 3)


def test_losing_every_isr_member_takes_the_partition_offline_unless_the_topic_allows_unclean_election() -> None:
    topics = {
        "clean": TopicInfo({0: (1, 2)}),
        "unclean": TopicInfo({0: (1, 2)}, {"unclean.leader.election.enable": "true"}),
    }
    cluster = Cluster({1, 2}, topics)
    cluster.elect(1)
    for topic in topics:
        cluster.store.states[(topic, 0)] = replace(cluster.state(topic), isr=(1,), version=1)  # 2 fell behind
    cluster.brokers.discard(1)
    cluster.refresh()
    assert cluster.state("clean") == PartitionState(NO_LEADER, 1, (1,), 1, 2)
    assert cluster.state("unclean") == PartitionState(2, 1, (2,), 1, 2)


def test_broker_default_for_unclean_election_applies_when_the_topic_says_nothing() -> None:
    cluster = Cluster({1, 2}, {"t": TopicInfo({0: (1, 2)})}, ControllerSettings(unclean_leader_election=True))
    cluster.elect(1)
    cluster.store.states[("t", 0)] = replace(cluster.state("t"), isr=(1,), version=1)
    cluster.brokers.discard(1)
    cluster.refresh()
    assert cluster.state("t").leader == 2


def test_a_lost_race_with_the_leaders_isr_change_is_read_and_decided_again() -> None:
    cluster = Cluster({1, 2, 3}, three_replicas())
    cluster.elect(1)
    stale_view = cluster.view()
    cluster.store.states[("t", 0)] = replace(cluster.state("t"), isr=(1, 2), version=1)  # the leader shrank the ISR
    cluster.brokers.discard(1)
    cluster.send(ViewChanged(replace(stale_view, brokers={b: r for b, r in stale_view.brokers.items() if b != 1})))
    assert cluster.state("t") == PartitionState(2, 1, (2,), 1, 2), "decided on the state it read after the conflict"


def test_a_higher_controller_epoch_in_the_view_makes_the_controller_stop() -> None:
    cluster = Cluster({1, 2, 3}, three_replicas())
    cluster.elect(1)
    cluster.controller_epoch = 2
    cluster.brokers.discard(1)
    cluster.refresh()
    assert not cluster.core.acting and cluster.state("t").leader == 1


def test_a_resigned_controller_writes_nothing_until_elected_again() -> None:
    cluster = Cluster({1, 2, 3}, three_replicas())
    cluster.elect(1)
    cluster.send(Resigned("session lost"))
    cluster.brokers.discard(1)
    cluster.refresh()
    assert cluster.state("t").leader == 1
    cluster.elect(3)
    assert cluster.state("t") == PartitionState(2, 1, (2, 3), 3, 1)


def test_controlled_shutdown_moves_leadership_away_and_out_of_the_isrs() -> None:
    topics = {"a": TopicInfo({0: (1, 2, 3)}), "b": TopicInfo({0: (2, 1)}), "c": TopicInfo({0: (1,)})}
    cluster = Cluster({1, 2, 3}, topics)
    cluster.elect(1)
    cluster.shutting_down = frozenset({1})
    cluster.refresh()
    assert cluster.state("a") == PartitionState(2, 1, (2, 3), 1, 1)
    assert cluster.state("b") == PartitionState(2, 0, (2,), 1, 1)
    assert cluster.state("c") == PartitionState(1, 0, (1,), 1, 0), "nobody else can lead it"
    assert cluster.view().led_by(1) == [("c", 0)]


def test_topic_deletion_is_asked_for_once_while_pending() -> None:
    cluster = Cluster({1, 2, 3}, three_replicas())
    cluster.elect(1)
    cluster.deleting = frozenset({"t"})
    cluster.core.handle(ViewChanged(cluster.view()))
    assert cluster.core.handle(ViewChanged(cluster.view())) == []
    assert cluster.core.handle(TopicDeleteDone("t")) == []
    assert cluster.core.handle(ViewChanged(cluster.view())) == [DeleteTopic("t")], "still asked for: try again"


@settings(max_examples=60)
@given(st.randoms(use_true_random=False), st.booleans())
def test_random_failures_and_leader_isr_changes_settle_into_states_the_rules_accept(
    rng: random.Random, unclean: bool
) -> None:
    brokers = {1, 2, 3, 4}
    topics = {f"t{n}": TopicInfo(assign_replicas(brokers, 3, rng.randint(1, 3), rng.randrange(4))) for n in range(2)}
    cluster = Cluster(brokers, topics, ControllerSettings(unclean_leader_election=unclean))
    cluster.elect(1)
    for _ in range(12):
        step = rng.randrange(3)
        if step == 0:
            cluster.brokers = {broker for broker in brokers if rng.random() < 0.7}
        elif step == 1:
            key, state = rng.choice(sorted(cluster.store.states.items()))
            replicas = topics[key[0]].assignment[key[1]]
            if state.leader != NO_LEADER:  # the leader takes in or drops followers
                isr = [state.leader] + [r for r in replicas if r != state.leader and rng.random() < 0.5]
                cluster.store.states[key] = replace(state, isr=tuple(isr), version=state.version + 1)
        else:
            cluster.shutting_down = frozenset(rng.sample(sorted(brokers), rng.randint(0, 1)))
        cluster.refresh()
        view = cluster.view()
        for (topic, partition), state in view.states.items():
            replicas = topics[topic].assignment[partition]
            decision = next_state(replicas, state, view.live, unclean=unclean, controller_epoch=1,
                                  shutting_down=view.shutting_down)
            assert decision is None, f"{topic}-{partition} left at {state}"
            assert state.leader == NO_LEADER or state.leader in view.live


def test_a_write_refused_again_and_again_is_retried_on_each_new_view_not_in_a_loop() -> None:
    cluster = Cluster({1, 2}, {"t": TopicInfo({0: (1, 2)})})
    refusals = 0

    def refuse(action: Action) -> Event:
        nonlocal refusals
        if isinstance(action, WriteState):
            refusals += 1
            return StateWriteFailed(action.topic, action.partition)
        return cluster.store.perform(action)

    cluster.perform = refuse
    cluster.elect(1)
    assert refusals == 1
    cluster.refresh()
    assert refusals == 2


def test_a_broker_that_re_registered_unseen_leaves_the_isrs_as_if_it_had_died() -> None:
    cluster = Cluster({1, 2, 3}, {"led": TopicInfo({0: (2, 1, 3)}), "followed": TopicInfo({0: (1, 2)})})
    cluster.elect(1)
    cluster.broker_epochs[2] += 1000  # a restart between two views: same broker id, new registration
    cluster.refresh()
    assert cluster.state("led") == PartitionState(1, 1, (1, 3), 1, 1)
    assert cluster.state("followed") == PartitionState(1, 0, (1,), 1, 1)
    cluster.refresh()
    assert cluster.state("led").version == 1, "once out, it comes back only the ordinary way"


def test_a_bounced_sole_isr_member_goes_offline_first_then_is_elected_cleanly() -> None:
    cluster = Cluster({1, 2}, {"t": TopicInfo({0: (2, 1)})})
    cluster.elect(1)
    cluster.store.states[("t", 0)] = replace(cluster.state("t"), isr=(2,), version=1)
    cluster.broker_epochs[2] += 1000
    cluster.refresh()
    assert cluster.state("t") == PartitionState(2, 2, (2,), 1, 3)
    assert [write.state.leader for write in cluster.store.writes[-2:]] == [NO_LEADER, 2]


def test_a_write_decided_before_a_bounce_was_seen_does_not_settle_it() -> None:
    cluster = Cluster({1, 2, 3}, three_replicas())
    cluster.elect(1)
    cluster.brokers.discard(3)
    (in_flight,) = cluster.core.handle(ViewChanged(cluster.view()))  # decided, not yet stored
    cluster.broker_epochs[2] += 1000
    assert cluster.core.handle(ViewChanged(cluster.view())) == [], "busy: one write at a time"
    cluster.send(cluster.store.perform(in_flight))
    assert cluster.state("t") == PartitionState(1, 0, (1,), 1, 2), "then 2 leaves the ISR too"


def test_settings_take_the_brokers_unclean_leader_election_enable() -> None:
    config = BrokerConfig.from_properties({"unclean.leader.election.enable": "true"})
    assert controller_settings(config) == ControllerSettings(unclean_leader_election=True)


class CheckedStore(StateStore):
    """A store that checks every controller write it accepts against the state it replaces."""

    def __init__(self, unclean: bool) -> None:
        super().__init__()
        self.unclean = unclean

    def perform(self, action: Action) -> Event:
        before = self.states.get((action.topic, action.partition)) if isinstance(action, WriteState) else None
        result = super().perform(action)
        if isinstance(result, StateWritten) and before is not None:
            after = result.state
            moved = after.leader != before.leader
            assert after.leader_epoch == before.leader_epoch + moved
            assert after.leader == NO_LEADER or after.leader in after.isr
            if moved and after.leader != NO_LEADER and after.leader not in before.isr:
                assert self.unclean and after.isr == (after.leader,), f"unclean election {before} -> {after}"
            else:
                assert set(after.isr) <= set(before.isr), f"the controller added to an ISR: {before} -> {after}"
        return result


@settings(max_examples=80)
@given(st.randoms(use_true_random=False), st.booleans())
def test_out_of_order_outcomes_and_stale_views_never_break_election_rules(rng: random.Random, unclean: bool) -> None:
    """Actions complete in any order, views arrive late, leaders change ISRs meanwhile: every accepted
    write still follows the rules relative to the state it replaced, and quiet leads to a fixpoint."""
    brokers = {1, 2, 3, 4}
    topics = {"t": TopicInfo(assign_replicas(brokers, 4, 3, rng.randrange(4)))}
    cluster = Cluster(brokers, topics, ControllerSettings(unclean_leader_election=unclean))
    cluster.store = CheckedStore(unclean)
    cluster.perform = cluster.store.perform
    cluster.elect(1)
    pending: list[Action] = []
    views = [cluster.view()]
    for _ in range(40):
        step = rng.randrange(4)
        if step == 0 and pending:
            action = pending.pop(rng.randrange(len(pending)))
            pending += cluster.core.handle(cluster.store.perform(action))
        elif step == 1:
            cluster.brokers = {broker for broker in brokers if rng.random() < 0.75}
            views.append(cluster.view())
        elif step == 2:
            pending += cluster.core.handle(ViewChanged(rng.choice(views[-3:])))
        elif cluster.store.states:
            key, state = rng.choice(sorted(cluster.store.states.items()))
            if state.leader != NO_LEADER:
                replicas = topics["t"].assignment[key[1]]
                isr = [state.leader] + [r for r in replicas if r != state.leader and rng.random() < 0.6]
                cluster.store.states[key] = replace(state, isr=tuple(isr), version=state.version + 1)
    while pending:
        pending += cluster.core.handle(cluster.store.perform(pending.pop(0)))
    cluster.refresh()
    view = cluster.view()
    for (topic, partition), state in view.states.items():
        replicas = topics[topic].assignment[partition]
        assert next_state(replicas, state, view.live, unclean=unclean, controller_epoch=1) is None
