"""A node's disk: writes stay volatile until a sync completes; a crash loses volatile writes.

Files are whole values replaced by `write` (the program decides their granularity). A sync
covers the writes made before it was requested and completes after a random latency; syncs
complete in request order, as fsyncs on one file system do.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from cluster.sim.world.scheduler import Scheduler


class Disk:
    def __init__(self, scheduler: Scheduler, rng: random.Random, min_sync: int, max_sync: int) -> None:
        self._scheduler = scheduler
        self._rng = rng
        self._min_sync = min_sync
        self._max_sync = max_sync
        self._durable: dict[str, Any] = {}
        self._volatile: dict[str, Any] = {}
        self._power_cycles = 0
        self._last_sync_done = 0
        self.syncs = 0

    def read(self, name: str, default: Any = None) -> Any:
        """What a running program sees: its own writes, synced or not."""
        if name in self._volatile:
            return self._volatile[name]
        return self._durable.get(name, default)

    def write(self, name: str, value: Any) -> None:
        self._volatile[name] = value

    def sync(self, on_done: Callable[[], None]) -> None:
        """Make the writes so far durable; `on_done` runs when they are (never, after a crash)."""
        self.syncs += 1
        done = max(self._scheduler.now + self._rng.randint(self._min_sync, self._max_sync), self._last_sync_done)
        self._last_sync_done = done
        self._scheduler.at(done, self._synced, self._power_cycles, dict(self._volatile), on_done)

    def _synced(self, power_cycle: int, writes: dict[str, Any], on_done: Callable[[], None]) -> None:
        if power_cycle != self._power_cycles:
            return
        self._durable.update(writes)
        for name, value in writes.items():
            if self._volatile.get(name) is value:
                del self._volatile[name]
        on_done()

    def crash(self) -> None:
        """Power loss: unsynced writes vanish and syncs in progress never complete."""
        self._volatile.clear()
        self._power_cycles += 1
