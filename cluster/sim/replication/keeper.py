"""The keeper and the controller, as one reliable endpoint: versioned partition states and sessions.

The keeper part is a linearizable versioned store (every change bumps the znode version; an
ISR write names the version it expects) plus broker sessions kept alive by heartbeats, which
expire after `session_timeout` of silence. A broker may register again only once its previous
session is gone, as in ZooKeeper, where the old ephemeral /brokers/ids/N blocks the new one.
The controller part reacts to live brokers changing with the election rules of
`cluster.broker.controller.election` (clean, or unclean when configured), moves leadership
back to preferred replicas now and then, and pushes every change to the partition's live
replicas, repeating pushes periodically because the network may lose them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cluster.broker.controller.election import IsrChangeError, initial_state, isr_change, next_state
from cluster.broker.metadata.partition_state import PartitionState
from cluster.sim.replication.wire import (
    AlterIsrReply,
    AlterIsrRequest,
    Heartbeat,
    Register,
    Registered,
    RegisterRefused,
    SessionExpired,
    StatePush,
)
from cluster.sim.world.machines import World

CONTROLLER_EPOCH = 1


@dataclass(frozen=True, slots=True)
class KeeperSettings:
    session_timeout: int
    unclean: bool
    push_every: int = 200
    rebalance_every: int = 500
    check_every: int = 10


@dataclass(slots=True)
class Session:
    broker_epoch: int
    last_heard: int


StateListener = Callable[[int, PartitionState], None]


class KeeperController:
    def __init__(
        self,
        world: World,
        endpoint: int,
        assignment: Mapping[int, tuple[int, ...]],
        settings: KeeperSettings,
        on_state: StateListener,
        on_live: Callable[[], None],
    ) -> None:
        self._world = world
        self.endpoint = endpoint
        self.assignment = dict(assignment)
        self._settings = settings
        self._on_state = on_state
        self._on_live = on_live
        self.sessions: dict[int, Session] = {}
        self._next_broker_epoch = 1
        self.states: dict[int, PartitionState] = {}
        """Empty until every broker has registered once: then the topic is created."""
        world.add_endpoint(endpoint, self.receive)
        self._every(settings.check_every, self._expire_sessions)
        self._every(settings.push_every, self._push_all)
        self._every(settings.rebalance_every, self._reconcile, True)

    @property
    def live(self) -> frozenset[int]:
        return frozenset(self.sessions)

    def _every(self, period: int, callback: Callable[..., None], *args: object) -> None:
        def fire() -> None:
            callback(*args)
            self._world.scheduler.after(period, fire)

        self._world.scheduler.after(period, fire)

    def _send(self, broker: int, message: object) -> None:
        self._world.network.send(self.endpoint, broker, message, may_duplicate=False)

    # --- sessions ------------------------------------------------------------------------------

    def receive(self, broker: int, message: object) -> None:
        now = self._world.scheduler.now
        if isinstance(message, Heartbeat):
            session = self.sessions.get(broker)
            if session is not None and session.broker_epoch == message.broker_epoch:
                session.last_heard = now
            else:
                self._send(broker, SessionExpired(message.broker_epoch))
        elif isinstance(message, Register):
            self._register(broker, now)
        elif isinstance(message, AlterIsrRequest):
            self._alter_isr(broker, message)

    def _register(self, broker: int, now: int) -> None:
        if broker in self.sessions:
            self._send(broker, RegisterRefused())
            return
        self.sessions[broker] = Session(self._next_broker_epoch, now)
        self._next_broker_epoch += 1
        self._on_live()
        self._send(broker, Registered(self.sessions[broker].broker_epoch))
        if not self.states:
            self._create_topic()
        self._reconcile(preferred=False)
        for partition, replicas in self.assignment.items():
            if broker in replicas:
                self._push(partition, broker)

    def _expire_sessions(self) -> None:
        now = self._world.scheduler.now
        expired = [b for b, s in self.sessions.items() if now - s.last_heard > self._settings.session_timeout]
        for broker in expired:
            del self.sessions[broker]
        if expired:
            self._on_live()
            self._reconcile(preferred=False)

    # --- partition states ----------------------------------------------------------------------

    def _create_topic(self) -> None:
        if not all(set(replicas) <= self.live for replicas in self.assignment.values()):
            return
        for partition, replicas in self.assignment.items():
            self.states[partition] = initial_state(replicas, self.live, CONTROLLER_EPOCH).stored(0)
            self._on_state(partition, self.states[partition])
            for broker in replicas:
                self._push(partition, broker)

    def _reconcile(self, preferred: bool) -> None:
        for partition, replicas in self.assignment.items():
            if partition not in self.states:
                continue
            proposed = next_state(
                replicas,
                self.states[partition],
                self.live,
                unclean=self._settings.unclean,
                controller_epoch=CONTROLLER_EPOCH,
                preferred=preferred,
            )
            if proposed is not None:
                self._store(partition, proposed)

    def _alter_isr(self, broker: int, request: AlterIsrRequest) -> None:
        """A leader's conditional ISR write; like KRaft's controller, it refuses to add brokers that
        are not registered, which would otherwise enter the ISR without the controller seeing them."""
        current = self.states.get(request.partition)
        if current is None:
            return
        change = request.change
        replicas = self.assignment[request.partition]
        joining = set(change.isr) - set(current.isr)
        if (
            current.version == change.expected_version
            and current.leader_epoch == change.leader_epoch
            and joining <= self.live
        ):
            try:
                self._store(request.partition, isr_change(replicas, current, broker, change.isr))
            except IsrChangeError:
                pass
        self._send(broker, AlterIsrReply(request.partition, change, self.states[request.partition]))

    def _store(self, partition: int, proposed: PartitionState) -> None:
        stored = proposed.stored(self.states[partition].version + 1)
        self.states[partition] = stored
        self._on_state(partition, stored)
        for broker in self.assignment[partition]:
            self._push(partition, broker)

    def _push(self, partition: int, broker: int) -> None:
        session = self.sessions.get(broker)
        if session is not None and partition in self.states:
            push = StatePush(session.broker_epoch, partition, self.states[partition], self.assignment[partition])
            self._send(broker, push)

    def _push_all(self) -> None:
        for partition, replicas in self.assignment.items():
            for broker in replicas:
                self._push(partition, broker)
