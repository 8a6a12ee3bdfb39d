"""A network that loses, delays, duplicates and reorders messages, and can be partitioned."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cluster.sim.world.scheduler import Scheduler


@dataclass(frozen=True, slots=True)
class NetworkConditions:
    """Per-message odds. Reordering needs no knob: independent random delays reorder."""

    min_delay: int = 1
    max_delay: int = 10
    loss: float = 0.0
    duplication: float = 0.0


class Network:
    """Delivers `(src, dst, message)` to a `deliver` callback after a random delay.

    A partition is a list of groups: members of different groups cannot talk; an endpoint in no
    group (a client, say) reaches everyone. Connectivity is checked on send and on arrival, so a
    partition also cuts messages already in flight.
    """

    def __init__(
        self,
        scheduler: Scheduler,
        rng: random.Random,
        conditions: NetworkConditions,
        deliver: Callable[[int, int, Any], None],
    ) -> None:
        self._scheduler = scheduler
        self._rng = rng
        self.conditions = conditions
        self._deliver = deliver
        self._group_of: dict[int, int] = {}
        self.sent = 0
        self.dropped = 0

    def partition(self, groups: Iterable[Iterable[int]]) -> None:
        self._group_of = {node: number for number, group in enumerate(groups) for node in group}

    def heal(self) -> None:
        self._group_of = {}

    @property
    def partitioned(self) -> bool:
        return bool(self._group_of)

    def connected(self, a: int, b: int) -> bool:
        group_a = self._group_of.get(a)
        group_b = self._group_of.get(b)
        return group_a is None or group_b is None or group_a == group_b

    def send(self, src: int, dst: int, message: Any, *, may_duplicate: bool = True) -> None:
        """`may_duplicate=False` models a session channel (TCP): lossy and slow, never doubled.
        A client can only call an operation failed if no second copy of it can still arrive."""
        self.sent += 1
        rng = self._rng
        conditions = self.conditions
        if not self.connected(src, dst) or (conditions.loss and rng.random() < conditions.loss):
            self.dropped += 1
            return
        duplicate = may_duplicate and conditions.duplication and rng.random() < conditions.duplication
        copies = 2 if duplicate else 1
        spread = conditions.max_delay - conditions.min_delay + 1
        for _ in range(copies):
            delay = conditions.min_delay + int(rng.random() * spread)  # randint, at a third of the cost
            self._scheduler.after(delay, self._arrive, src, dst, message)

    def _arrive(self, src: int, dst: int, message: Any) -> None:
        if self.connected(src, dst):
            self._deliver(src, dst, message)
        else:
            self.dropped += 1
