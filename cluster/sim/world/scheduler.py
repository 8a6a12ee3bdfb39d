"""Virtual time and the event queue: the only clock a simulated program ever sees."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any


class Scheduler:
    """Runs callbacks in (time, insertion order): equal times never depend on hashing or ids."""

    def __init__(self) -> None:
        self.now = 0
        self._queue: list[tuple[int, int, Callable[..., None], tuple[Any, ...]]] = []
        self._sequence = 0
        self.events_run = 0

    def at(self, time: int, callback: Callable[..., None], *args: Any) -> None:
        if time < self.now:
            raise ValueError(f"cannot schedule at {time}, it is already {self.now}")
        self._sequence += 1
        heapq.heappush(self._queue, (time, self._sequence, callback, args))

    def after(self, delay: int, callback: Callable[..., None], *args: Any) -> None:
        if delay < 0:
            raise ValueError(f"negative delay {delay}")
        self._sequence += 1
        heapq.heappush(self._queue, (self.now + delay, self._sequence, callback, args))

    def run_until(self, time: int) -> None:
        """Run every event due at or before `time`, then leave the clock at `time`."""
        queue = self._queue
        pop = heapq.heappop
        while queue and queue[0][0] <= time:
            self.now, _, callback, args = pop(queue)
            self.events_run += 1
            callback(*args)
        self.now = time
