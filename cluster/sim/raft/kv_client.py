"""Simulated clients of the replicated KV service, and the history they record.

A history entry has the invocation and completion times in virtual time. An operation whose
outcome the client cannot know (no answer before its timeout) is recorded as `info` and, as in
Jepsen, the client's process is retired: a new process id takes over, so one process never has
two operations open.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from cluster.sim.world.machines import World

OK, FAIL, INFO = "ok", "fail", "info"


@dataclass(frozen=True, slots=True)
class ClientRequest:
    client: int
    sequence: int
    kind: str  # "put" or "get"
    key: int
    value: int | None = None

    @property
    def op_id(self) -> str:
        return f"{self.client}.{self.sequence}"


@dataclass(frozen=True, slots=True)
class ClientReply:
    op_id: str
    ok: bool
    value: int | None = None
    index: int = 0
    """For a put: the log index it committed at."""
    leader_hint: int = 0


@dataclass(slots=True)
class HistoryOp:
    process: int
    kind: str
    key: int
    value: int | None
    call: int
    ret: int | None = None
    outcome: str | None = None
    index: int = 0


@dataclass(slots=True)
class History:
    ops: list[HistoryOp] = field(default_factory=list)

    def first_put_after(self, time: int) -> HistoryOp | None:
        """The first write invoked at or after `time` that is known to have committed."""
        puts = [op for op in self.ops if op.kind == "put" and op.call >= time and op.outcome == OK]
        return min(puts, key=lambda op: op.ret or 0, default=None)


class KVClient:
    def __init__(
        self,
        world: World,
        client_id: int,
        nodes: Sequence[int],
        history: History,
        *,
        keys: int,
        timeout: int,
        think: int,
        rng: random.Random,
    ) -> None:
        self._world = world
        self._id = client_id
        self._nodes = tuple(nodes)
        self._history = history
        self._keys = keys
        self._timeout = timeout
        self._think = think
        self._rng = rng
        self._process = client_id
        self._sequence = 0
        self._target = rng.choice(self._nodes)
        self._open: tuple[str, HistoryOp] | None = None
        self._stop_at = 0
        world.add_endpoint(client_id, self.receive)

    def run(self, stop_at: int) -> None:
        """Keep issuing operations, one at a time, until virtual time `stop_at`."""
        self._stop_at = stop_at
        self._world.scheduler.after(self._rng.randint(0, self._think), self._invoke)

    def stop(self) -> None:
        """Invoke nothing new; the operation in flight still completes or times out."""
        self._stop_at = 0

    def _invoke(self) -> None:
        scheduler = self._world.scheduler
        if scheduler.now >= self._stop_at:
            return
        self._sequence += 1
        key = self._rng.randrange(self._keys)
        if self._rng.random() < 0.5:
            request = ClientRequest(self._id, self._sequence, "put", key, self._id * 1_000_000 + self._sequence)
        else:
            request = ClientRequest(self._id, self._sequence, "get", key)
        op = HistoryOp(self._process, request.kind, key, request.value, scheduler.now)
        self._history.ops.append(op)
        self._open = (request.op_id, op)
        self._world.network.send(self._id, self._target, request, may_duplicate=False)
        scheduler.after(self._timeout, self._expire, request.op_id)

    def receive(self, src: int, reply: ClientReply) -> None:
        if self._open is None or self._open[0] != reply.op_id:
            return  # the answer to an operation we already gave up on
        op = self._open[1]
        self._open = None
        op.ret = self._world.scheduler.now
        op.outcome = OK if reply.ok else FAIL
        if reply.ok:
            op.index = reply.index
            if op.kind == "get":
                op.value = reply.value
        else:
            self._target = reply.leader_hint or self._rng.choice(self._nodes)
        self._next()

    def _expire(self, op_id: str) -> None:
        if self._open is None or self._open[0] != op_id:
            return
        self._open[1].outcome = INFO
        self._open = None
        self._process += 1000  # a retired process never invokes again
        self._target = self._rng.choice(self._nodes)
        self._next()

    def _next(self) -> None:
        self._world.scheduler.after(self._rng.randint(1, self._think), self._invoke)
