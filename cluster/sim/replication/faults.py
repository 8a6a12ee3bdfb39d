"""Faults for the replication simulation: broker crashes (losing unflushed writes) and partitions
that may cut brokers from each other, from the keeper, or both."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from cluster.sim.world.machines import World


class ReplicationFaults:
    def __init__(
        self,
        world: World,
        brokers: Sequence[int],
        keeper: int,
        rng: random.Random,
        mean_gap: int,
        max_down: int,
        on_down: Callable[[], None],
    ) -> None:
        self._world = world
        self._brokers = list(brokers)
        self._keeper = keeper
        self._rng = rng
        self._mean_gap = mean_gap
        self._max_down = max_down
        self._on_down = on_down
        self._until = 0
        self.timeline: list[tuple[int, str]] = []

    def run(self, until: int) -> None:
        self._until = until
        self._world.scheduler.after(self._gap(), self._strike)

    def _gap(self) -> int:
        return 1 + int(self._rng.expovariate(1 / self._mean_gap))

    def _strike(self) -> None:
        if self._world.scheduler.now >= self._until:
            return
        fault = self._rng.choice((self._crash, self._crash, self._isolate, self._partition, self._heal))
        fault()
        self._world.scheduler.after(self._gap(), self._strike)

    def crash(self, broker: int, down_for: int) -> None:
        machine = self._world.machines[broker]
        if not machine.alive:
            return
        machine.crash()
        self._note(f"crash {broker} for {down_for}")
        self._on_down()
        self._world.scheduler.after(down_for, self.restart, broker)

    def restart(self, broker: int) -> None:
        machine = self._world.machines[broker]
        if not machine.alive:
            machine.start()
            self._note(f"restart {broker}")

    def partition(self, groups: list[list[int]]) -> None:
        self._world.network.partition(groups)
        self._note(f"partition {groups}")

    def heal_network(self) -> None:
        self._world.network.heal()
        self._note("heal network")

    def heal_all(self) -> None:
        self._until = 0
        self.heal_network()
        for broker in self._brokers:
            self.restart(broker)

    def _crash(self) -> None:
        self.crash(self._rng.choice(self._brokers), self._rng.randint(1, self._max_down))

    def _isolate(self) -> None:
        lonely = self._rng.choice([*self._brokers, self._keeper])
        everyone = [*self._brokers, self._keeper]
        self.partition([[lonely], [n for n in everyone if n != lonely]])

    def _partition(self) -> None:
        nodes = [*self._brokers, self._keeper]
        self._rng.shuffle(nodes)
        cut = self._rng.randrange(1, len(nodes))
        self.partition([sorted(nodes[:cut]), sorted(nodes[cut:])])

    def _heal(self) -> None:
        self.heal_network()

    def _note(self, what: str) -> None:
        self.timeline.append((self._world.scheduler.now, what))
