"""The controller as a sans-IO state machine: events in, keeper writes out.

The runtime (cluster/broker/controller/runtime.py) feeds it the broker's ClusterView
and the outcome of every action; the same core runs under a simulator in tests.
It is level-triggered: on any event it compares what each partition's state is with
what the election rules say it should be, and writes the difference. Missed or
repeated events therefore cost nothing but a later write.

Fencing: the core acts only between Elected(epoch) and Resigned, and stops by
itself when the view shows a higher controller epoch. Every write it asks for carries
its epoch and is made conditional by the runtime twice over: on the state znode's
version (a concurrent leader ISR change or a rival controller wins the race) and on
the version /controller_epoch had when this controller incremented it (a controller
that was superseded while it was not looking is refused outright).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cluster import config_values
from cluster.broker.controller.election import initial_state, next_state
from cluster.broker.controller.view import ClusterView, TopicInfo, TopicPartition
from cluster.broker.metadata.partition_state import PartitionState

UNCLEAN_CONFIG = "unclean.leader.election.enable"

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ControllerSettings:
    unclean_leader_election: bool = False
    """The broker default (unclean.leader.election.enable); a topic's own config overrides it."""
    preferred_leader_election: bool = True
    """Kafka's auto.leader.rebalance.enable, applied at once rather than on a timer."""


@dataclass(frozen=True)
class Elected:
    epoch: int


@dataclass(frozen=True)
class Resigned:
    """The session was lost, a write was fenced, or the broker is stopping."""

    reason: str


@dataclass(frozen=True)
class ViewChanged:
    view: ClusterView


@dataclass(frozen=True)
class StateWritten:
    topic: str
    partition: int
    state: PartitionState
    """As stored, with the znode's new version."""


@dataclass(frozen=True)
class StateWriteFailed:
    """The version did not match, or the outcome is unknown (connection loss): read before deciding again."""

    topic: str
    partition: int


@dataclass(frozen=True)
class StateRead:
    topic: str
    partition: int
    state: PartitionState | None


@dataclass(frozen=True)
class StateUnreadable:
    """The znode holds something that is not a partition state: the partition is left alone, not overwritten."""

    topic: str
    partition: int


@dataclass(frozen=True)
class TopicDeleteDone:
    """The deletion was attempted; whether it worked shows in the next view."""

    topic: str


Event = (
    Elected | Resigned | ViewChanged | StateWritten | StateWriteFailed | StateRead | StateUnreadable | TopicDeleteDone
)


@dataclass(frozen=True)
class WriteState:
    """Store `state`, conditional on its version (UNWRITTEN: create the znode) and on the controller epoch."""

    topic: str
    partition: int
    state: PartitionState


@dataclass(frozen=True)
class ReadState:
    topic: str
    partition: int


@dataclass(frozen=True)
class DeleteTopic:
    """Remove the topic's state, assignment, config and deletion request znodes, conditional on the epoch."""

    topic: str


Action = WriteState | ReadState | DeleteTopic


class ControllerCore:
    def __init__(self, settings: ControllerSettings) -> None:
        self.settings = settings
        self.epoch: int | None = None
        self._view = ClusterView()
        self._known: dict[TopicPartition, PartitionState] = {}
        self._busy: dict[TopicPartition, PartitionState] = {}
        self._refused: dict[TopicPartition, PartitionState] = {}
        self._bounced: dict[TopicPartition, set[int]] = {}
        """Brokers that re-registered while in a partition's ISR: dead to it until a state without them is known."""
        self._bounce_writes: set[TopicPartition] = set()
        """Partitions whose write in flight was decided with their bounced brokers counted dead."""
        self._deleting: set[str] = set()

    @property
    def acting(self) -> bool:
        return self.epoch is not None

    def handle(self, event: Event) -> list[Action]:
        if isinstance(event, Elected):
            self.epoch, self._busy, self._refused, self._deleting = event.epoch, {}, {}, set()
            self._bounced, self._bounce_writes = {}, set()
            self._known = dict(self._view.states)
            return self._reconcile_all()
        if isinstance(event, Resigned):
            if self.epoch is not None:
                _log.info("controller epoch %d resigns: %s", self.epoch, event.reason)
            self.epoch = None
            return []
        if isinstance(event, ViewChanged):
            return self._view_changed(event.view)
        if isinstance(event, StateWriteFailed):
            self._bounce_writes.discard((event.topic, event.partition))
            refused = self._busy.get((event.topic, event.partition))
            if refused is not None:
                self._refused[(event.topic, event.partition)] = refused
            return [ReadState(event.topic, event.partition)]
        if isinstance(event, TopicDeleteDone):
            self._deleting.discard(event.topic)
            return []
        if isinstance(event, StateUnreadable):
            _log.error("the state of %s-%d is unreadable: left alone", event.topic, event.partition)
            return []  # it stays busy until the next election
        key = (event.topic, event.partition)
        self._busy.pop(key, None)
        if isinstance(event, StateWritten):
            if key in self._bounce_writes:  # the bounce is dealt with, even if the ISR had to keep the broker
                self._bounced.pop(key, None)
            self._bounce_writes.discard(key)
            self._learn(key, event.state)
        elif event.state is None:
            self._known.pop(key, None)
        else:
            self._know(key, event.state)
        return self._reconcile(key)

    def _view_changed(self, view: ClusterView) -> list[Action]:
        self._notice_bounces(self._view, view)
        self._view = view
        self._refused.clear()
        for key in [key for key in self._known if key[0] not in view.topics]:
            del self._known[key]
        for key, state in view.states.items():
            self._learn(key, state)
        if self.epoch is not None and view.controller_epoch > self.epoch:
            return self.handle(Resigned(f"controller epoch {view.controller_epoch} is newer"))
        return self._reconcile_all()

    def _notice_bounces(self, old: ClusterView, new: ClusterView) -> None:
        """A broker whose registration changed between two views went away unseen (KIP-380's broker epoch).

        It may have restarted with less than it had, so it leaves every ISR as a dead broker would,
        and takes leadership or a place in the ISR again only the ordinary way.
        """
        epochs = old.broker_epochs
        bounced = {broker for broker, epoch in new.broker_epochs.items() if epochs.get(broker, epoch) != epoch}
        if not bounced or self.epoch is None:
            return
        _log.info("brokers %s re-registered since the last view: out of every ISR", sorted(bounced))
        for key, state in self._known.items():
            if bounced & set(state.isr):
                self._bounced.setdefault(key, set()).update(bounced & set(state.isr))

    def _learn(self, key: TopicPartition, state: PartitionState) -> None:
        known = self._known.get(key)
        if known is None or state.version > known.version:
            self._know(key, state)

    def _know(self, key: TopicPartition, state: PartitionState) -> None:
        self._known[key] = state
        if not self._bounced.get(key, set()) & set(state.isr):
            self._bounced.pop(key, None)

    def _reconcile_all(self) -> list[Action]:
        if self.epoch is None:
            return []
        deletions = sorted(self._view.deleting - self._deleting)
        self._deleting.update(deletions)
        actions: list[Action] = [DeleteTopic(topic) for topic in deletions]
        for topic, info in sorted(self._view.topics.items()):
            for partition in sorted(info.assignment):
                actions += self._reconcile((topic, partition))
        return actions

    def _reconcile(self, key: TopicPartition) -> list[Action]:
        topic, partition = key
        info = self._view.topics.get(topic)
        if self.epoch is None or key in self._busy or info is None or topic in self._view.deleting:
            return []
        replicas = info.assignment.get(partition)
        if not replicas:
            return []
        desired = self._desired(key, replicas, self._known.get(key), info)
        if desired is None or desired == self._refused.get(key):
            return []  # a write refused once is tried again on a newer view, not in a loop
        self._busy[key] = desired
        if key in self._bounced:
            self._bounce_writes.add(key)
        return [WriteState(topic, partition, desired)]

    def _desired(
        self, key: TopicPartition, replicas: tuple[int, ...], state: PartitionState | None, info: TopicInfo
    ) -> PartitionState | None:
        assert self.epoch is not None
        live = self._view.live - self._bounced.get(key, set())
        if state is None:
            return initial_state(replicas, live, self.epoch) if live & set(replicas) else None
        return next_state(
            replicas, state, live,
            unclean=self._unclean(info),
            controller_epoch=self.epoch,
            shutting_down=self._view.shutting_down,
            preferred=self.settings.preferred_leader_election,
        )

    def _unclean(self, info: TopicInfo) -> bool:
        value = info.configs.get(UNCLEAN_CONFIG)
        if value is None:
            return self.settings.unclean_leader_election
        try:
            return config_values.boolean(UNCLEAN_CONFIG, value)
        except ValueError:
            _log.warning("ignoring topic config %s=%r: not true or false", UNCLEAN_CONFIG, value)
            return self.settings.unclean_leader_election
