"""A simulated broker: a replica core per partition on an in-memory log, registered with the keeper.

Each replica's actions are carried out by the broker's own driver (cluster/broker/replica_driver.py);
what is left for this module is the virtual network, the keeper session and the timers.

The log is the page cache: it is flushed to the machine's disk every `flush_every` (Kafka never
fsyncs per write), so a crash brings a broker back with what was last flushed. The broker
registers with the keeper (retrying while its previous session is still alive), heartbeats,
obeys pushed partition states that carry its current broker epoch, serves and sends fetches,
and answers producers (never for acks=0).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, cast

from cluster.broker.metadata.partition_state import PartitionState
from cluster.broker.replica_driver import ReplicaDriver
from cluster.broker.replication import (
    Action,
    AlterIsr,
    CompleteProduce,
    FetchRequest,
    FetchResponse,
    LogPositions,
    PartitionReplica,
    ReplicationConfig,
    SendEpochEndOffset,
    SendFetch,
)
from cluster.sim.replication.memory_log import MemoryLog
from cluster.sim.replication.wire import (
    AlterIsrReply,
    AlterIsrRequest,
    Heartbeat,
    PeerEpochQuery,
    PeerEpochReply,
    PeerFetch,
    PeerFetchReply,
    Produce,
    ProduceReply,
    Register,
    Registered,
    RegisterRefused,
    SessionExpired,
    StatePush,
)
from cluster.sim.world.machines import Machine

ProduceKey = tuple[int, int, int]
"""(client endpoint, client's request number, acks)."""
ReplicaCore = Callable[[int, LogPositions, ReplicationConfig], PartitionReplica]
"""Builds a broker's replica core: `PartitionReplica`, or in tests one broken on purpose."""


def memory_replica(
    broker_id: int, log: MemoryLog, config: ReplicationConfig, core: ReplicaCore = PartitionReplica
) -> ReplicaDriver[MemoryLog]:
    """A replica core on an in-memory log, with the driver the broker runs."""
    return ReplicaDriver(f"broker {broker_id}", core(broker_id, log, config), log)


def answer_fetch(
    leader: ReplicaDriver[MemoryLog], request: FetchRequest, now: int
) -> tuple[FetchResponse, list[Action]]:
    """A follower's fetch as the broker's fetch handler answers it: the core decides, the log is read."""
    answer, actions = leader.replica.fetch(request, now)
    records = leader.log.read(answer.read_from, answer.read_to) if answer.has_records else None
    response = FetchResponse(
        request.correlation, answer.error, answer.high_watermark, answer.log_start_offset, answer.log_end_offset,
        records,
    )
    return response, leader.run(actions, now)


class LeaderObserver(Protocol):
    def observe_leader(self, broker: int, partition: int, epoch: int, high_watermark: int) -> None: ...


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    keeper: int
    partitions: tuple[int, ...]
    replication: ReplicationConfig
    core: ReplicaCore = PartitionReplica
    tick: int = 10
    heartbeat_every: int = 50
    register_retry: int = 50
    flush_every: int = 200
    retention_every: int = 0
    """How often a leader deletes what lies more than `retention_keep` records below its HW (0: never)."""
    retention_keep: int = 5


class SimBroker:
    def __init__(self, machine: Machine, settings: BrokerSettings, observer: LeaderObserver) -> None:
        self._machine = machine
        self._settings = settings
        self._observer = observer
        self.broker_epoch: int | None = None
        self._connection = machine.rng.getrandbits(32)
        """Identifies this life's connections to other brokers."""
        self.drivers = {
            partition: memory_replica(
                machine.id,
                MemoryLog.restore(machine.disk.read(_log_file(partition))),
                settings.replication,
                settings.core,
            )
            for partition in settings.partitions
        }
        self._replicas: dict[int, tuple[int, ...]] = {}
        self._register()
        machine.after(settings.tick, self._tick)
        machine.after(settings.heartbeat_every, self._heartbeat)
        machine.after(settings.flush_every, self._flush)
        if settings.retention_every:
            machine.after(settings.retention_every, self._apply_retention)

    @property
    def _now(self) -> int:
        return self._machine.world.scheduler.now

    # --- keeper session ------------------------------------------------------------------------

    def _register(self) -> None:
        if self.broker_epoch is None:
            self._machine.send(self._settings.keeper, Register())
            self._machine.after(self._settings.register_retry, self._register)

    def _heartbeat(self) -> None:
        if self.broker_epoch is not None:
            self._machine.send(self._settings.keeper, Heartbeat(self.broker_epoch))
        self._machine.after(self._settings.heartbeat_every, self._heartbeat)

    def _tick(self) -> None:
        for partition, driver in self.drivers.items():
            self._handle(partition, driver.run(driver.replica.tick(self._now), self._now))
        self._machine.after(self._settings.tick, self._tick)

    def _flush(self) -> None:
        disk = self._machine.disk
        for partition, driver in self.drivers.items():
            disk.write(_log_file(partition), driver.log.snapshot())
        disk.sync(lambda: None)
        self._machine.after(self._settings.flush_every, self._flush)

    def _apply_retention(self) -> None:
        """Kafka deletes old segments only below the HW; here only leaders do, so followers that
        fall behind the leader's log start must start their logs again there."""
        for driver in self.drivers.values():
            if driver.replica.isr:
                driver.log.advance_log_start(driver.replica.high_watermark - self._settings.retention_keep)
        self._machine.after(self._settings.retention_every, self._apply_retention)

    # --- messages ------------------------------------------------------------------------------

    def receive(self, src: int, message: object) -> None:
        now = self._now
        if isinstance(message, (PeerFetchReply, PeerEpochReply)) and message.connection != self._connection:
            return
        if isinstance(message, PeerFetch):
            driver = self.drivers[message.partition]
            response, actions = answer_fetch(driver, message.request, now)
            self._machine.send(src, PeerFetchReply(message.connection, message.partition, response))
            self._handle(message.partition, actions)
        elif isinstance(message, PeerFetchReply):
            driver = self.drivers[message.partition]
            self._handle(message.partition, driver.run(driver.replica.on_fetch_response(message.response, now), now))
        elif isinstance(message, PeerEpochQuery):
            answer = self.drivers[message.partition].replica.epoch_end_offset(message.request)
            self._machine.send(src, PeerEpochReply(message.connection, message.partition, answer))
        elif isinstance(message, PeerEpochReply):
            driver = self.drivers[message.partition]
            self._handle(message.partition, driver.run(driver.replica.on_epoch_end_offset(message.response, now), now))
        elif isinstance(message, Produce):
            key: ProduceKey = (src, message.request, message.acks)
            driver = self.drivers[message.partition]
            actions = driver.produce(key, message.value, message.acks, message.timeout_ms, now)
            self._handle(message.partition, actions)
        elif isinstance(message, StatePush):
            if message.broker_epoch == self.broker_epoch:
                self._apply(message.partition, message.state, message.replicas)
        elif isinstance(message, AlterIsrReply):
            replicas = self._replicas.get(message.partition)
            if replicas is not None:
                driver = self.drivers[message.partition]
                actions = driver.replica.isr_update_result(message.change, message.state, replicas, now)
                self._handle(message.partition, driver.run(actions, now))
        elif isinstance(message, Registered):
            if self.broker_epoch is None:
                self.broker_epoch = message.broker_epoch
        elif isinstance(message, SessionExpired):
            if message.broker_epoch == self.broker_epoch:
                self.broker_epoch = None
                self._register()
        elif not isinstance(message, RegisterRefused):
            raise TypeError(f"broker {self._machine.id} got an unexpected {message!r}")

    def _apply(self, partition: int, state: PartitionState, replicas: tuple[int, ...]) -> None:
        self._replicas[partition] = replicas
        driver = self.drivers[partition]
        self._handle(partition, driver.run(driver.replica.apply_state(state, replicas, self._now), self._now))

    def _handle(self, partition: int, actions: Iterable[Action]) -> None:
        machine = self._machine
        for action in actions:
            if isinstance(action, SendFetch):
                machine.send(action.leader, PeerFetch(self._connection, partition, action.request))
            elif isinstance(action, SendEpochEndOffset):
                machine.send(action.leader, PeerEpochQuery(self._connection, partition, action.request))
            elif isinstance(action, AlterIsr):
                machine.send(self._settings.keeper, AlterIsrRequest(partition, action))
            elif isinstance(action, CompleteProduce):
                client, request_number, acks = cast(ProduceKey, action.request_id)
                if acks != 0:
                    machine.send(client, ProduceReply(request_number, action.error, action.base_offset))
        replica = self.drivers[partition].replica
        if replica.isr:
            self._observer.observe_leader(machine.id, partition, replica.leader_epoch, replica.high_watermark)


def _log_file(partition: int) -> str:
    return f"partition-{partition}.log"


__all__ = ["BrokerSettings", "ReplicaCore", "SimBroker", "answer_fetch", "memory_replica"]
