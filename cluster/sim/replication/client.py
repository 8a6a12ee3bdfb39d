"""Producers that write unique values with acks 0, 1 or all and record what they were told.

A producer keeps one request in flight and caches each partition's leader from the keeper's
metadata, refreshing it only after an error or a timeout, so it keeps talking to a deposed
leader for a while, as real clients do. Outcomes: `ok` with an offset (acknowledged), `fail`
with an error (the write did not happen for the codes that say so, NOT_ENOUGH_REPLICAS), or
`unknown` (timeouts, acks=0, and errors after which the write may exist: 20, 7, 6).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from cluster.broker.metadata.partition_state import NO_LEADER
from cluster.broker.protocol.errors import ErrorCode
from cluster.sim.replication.wire import Produce, ProduceReply
from cluster.sim.world.machines import World

DEFINITELY_NOT_WRITTEN = frozenset({ErrorCode.NOT_ENOUGH_REPLICAS, ErrorCode.INVALID_REQUIRED_ACKS})


@dataclass(slots=True)
class Write:
    value: int
    partition: int
    acks: int
    invoked: int
    outcome: str = "pending"
    offset: int = -1
    error: ErrorCode = ErrorCode.NONE
    completed: int = -1


@dataclass(slots=True)
class WriteHistory:
    writes: list[Write] = field(default_factory=list)

    def acknowledged(self) -> list[Write]:
        return [w for w in self.writes if w.outcome == "ok"]


LeaderLookup = Callable[[int], int]
"""partition -> its leader now (NO_LEADER when offline or not yet created)."""


class Producer:
    def __init__(
        self,
        world: World,
        endpoint: int,
        partitions: tuple[int, ...],
        acks_choices: tuple[int, ...],
        leader_of: LeaderLookup,
        history: WriteHistory,
        rng: random.Random,
        timeout: int,
        think: int,
    ) -> None:
        self._world = world
        self.endpoint = endpoint
        self._partitions = partitions
        self._acks_choices = acks_choices
        self._leader_of = leader_of
        self._history = history
        self._rng = rng
        self._timeout = timeout
        self._think = think
        self._leaders: dict[int, int] = {}
        self._in_flight: tuple[int, Write] | None = None
        self._requests = 0
        self._stop_at = 0
        world.add_endpoint(endpoint, self.receive)

    def run(self, stop_at: int) -> None:
        self._stop_at = stop_at
        self._world.scheduler.after(1 + self._rng.randrange(self._think), self._next)

    def stop(self) -> None:
        self._stop_at = 0

    def _next(self) -> None:
        now = self._world.scheduler.now
        if now >= self._stop_at:
            return
        partition = self._rng.choice(self._partitions)
        leader = self._leaders.get(partition, NO_LEADER)
        if leader == NO_LEADER:
            leader = self._leaders[partition] = self._leader_of(partition)
        if leader == NO_LEADER:
            self._world.scheduler.after(self._think, self._next)
            return
        acks = self._rng.choice(self._acks_choices)
        write = Write(len(self._history.writes), partition, acks, now)
        self._history.writes.append(write)
        self._requests += 1
        request = Produce(partition, self._requests, write.value, acks, self._timeout)
        self._world.network.send(self.endpoint, leader, request, may_duplicate=False)
        if acks == 0:
            self._finish(write, "unknown")
            return
        self._in_flight = (self._requests, write)
        self._world.scheduler.after(self._timeout + 50, self._expire, self._requests)

    def receive(self, src: int, message: object) -> None:
        if not isinstance(message, ProduceReply) or self._in_flight is None or self._in_flight[0] != message.request:
            return
        write = self._in_flight[1]
        self._in_flight = None
        write.error = message.error
        if message.error == ErrorCode.NONE:
            write.offset = message.offset
            self._finish(write, "ok")
            return
        self._leaders.pop(write.partition, None)
        self._finish(write, "fail" if message.error in DEFINITELY_NOT_WRITTEN else "unknown")

    def _expire(self, request: int) -> None:
        if self._in_flight is not None and self._in_flight[0] == request:
            write = self._in_flight[1]
            self._in_flight = None
            self._leaders.pop(write.partition, None)
            self._finish(write, "unknown")

    def _finish(self, write: Write, outcome: str) -> None:
        write.outcome = outcome
        write.completed = self._world.scheduler.now
        self._world.scheduler.after(self._think, self._next)
