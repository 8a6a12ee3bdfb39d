"""Replicas of one partition wired together synchronously: a message is answered the moment it is sent.

Tests choose who is connected and when time passes; everything not a message between replicas
(produce answers, ISR writes) is collected for them to look at.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from cluster.broker.metadata.partition_state import PartitionState
from cluster.broker.replication import (
    Action,
    AlterIsr,
    CompleteProduce,
    PartitionReplica,
    ReplicationConfig,
    SendEpochEndOffset,
    SendFetch,
)
from cluster.sim.replication.broker import answer_fetch, memory_replica
from cluster.sim.replication.memory_log import MemoryLog, Record

CONFIG = ReplicationConfig(
    min_insync_replicas=2,
    replica_lag_time_max_ms=100,
    replica_fetch_wait_max_ms=10,
    replica_fetch_backoff_ms=20,
    replica_socket_timeout_ms=50,
    isr_update_timeout_ms=50,
)


def state(leader: int, epoch: int, isr: Iterable[int], version: int) -> PartitionState:
    return PartitionState(leader=leader, leader_epoch=epoch, isr=tuple(isr), controller_epoch=1, version=version)


def records(*epochs: int, start: int = 0) -> list[Record]:
    """Records at consecutive offsets from `start` with these epochs; the value is 100 + offset."""
    return [Record(start + index, epoch, 100 + start + index) for index, epoch in enumerate(epochs)]


class Wiring:
    def __init__(self, replicas: Iterable[int] = (1, 2, 3), config: ReplicationConfig = CONFIG) -> None:
        self.replicas = tuple(replicas)
        self.drivers = {broker: memory_replica(broker, MemoryLog(), config) for broker in self.replicas}
        self.cut: set[int] = set()
        """Brokers whose messages (both ways) are dropped."""
        self.completed: dict[object, CompleteProduce] = {}
        self.isr_writes: list[AlterIsr] = []
        self.now = 0

    def log(self, broker: int) -> MemoryLog:
        return self.drivers[broker].log

    def replica(self, broker: int) -> PartitionReplica:
        return self.drivers[broker].replica

    def restart(self, broker: int, log: MemoryLog, config: ReplicationConfig = CONFIG) -> None:
        self.drivers[broker] = memory_replica(broker, log, config)

    def apply(self, partition_state: PartitionState, brokers: Iterable[int] | None = None) -> None:
        for broker in self.replicas if brokers is None else brokers:
            driver = self.drivers[broker]
            actions = driver.replica.apply_state(partition_state, self.replicas, self.now)
            self.handle(broker, driver.run(actions, self.now))

    def produce(self, leader: int, request_id: object, value: int, acks: int, timeout_ms: int = 1_000) -> None:
        self.handle(leader, self.drivers[leader].produce(request_id, value, acks, timeout_ms, self.now))

    def advance(self, to: int) -> None:
        """Time passes in steps of 1 ms; every replica ticks at each."""
        while self.now < to:
            self.now += 1
            for broker, driver in self.drivers.items():
                self.handle(broker, driver.run(driver.replica.tick(self.now), self.now))

    def handle(self, sender: int, actions: list[Action]) -> None:
        queue = deque((sender, action) for action in actions)
        while queue:
            broker, action = queue.popleft()
            if isinstance(action, CompleteProduce):
                self.completed[action.request_id] = action
            elif isinstance(action, AlterIsr):
                self.isr_writes.append(action)
            elif isinstance(action, SendFetch) and self._connected(broker, action.leader):
                leader = self.drivers[action.leader]
                fetched, leader_actions = answer_fetch(leader, action.request, self.now)
                queue.extend((action.leader, a) for a in leader_actions)
                follower = self.drivers[broker]
                more = follower.run(follower.replica.on_fetch_response(fetched, self.now), self.now)
                queue.extend((broker, a) for a in more)
            elif isinstance(action, SendEpochEndOffset) and self._connected(broker, action.leader):
                answer = self.drivers[action.leader].replica.epoch_end_offset(action.request)
                follower = self.drivers[broker]
                more = follower.run(follower.replica.on_epoch_end_offset(answer, self.now), self.now)
                queue.extend((broker, a) for a in more)

    def _connected(self, a: int, b: int) -> bool:
        return a not in self.cut and b not in self.cut
