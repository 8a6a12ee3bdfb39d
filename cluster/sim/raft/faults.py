"""Faults for the Raft simulation: random partitions, heals and crash-restarts over a span of virtual time."""

from __future__ import annotations

import random
from collections.abc import Sequence

from cluster.sim.world.machines import World


class RaftFaults:
    """Every `mean_gap` (on average) picks a fault; `heal_all` ends them all at once.

    Crashes may take down any number of machines, a majority included: safety must hold
    regardless, only liveness waits for the heal.
    """

    def __init__(self, world: World, node_ids: Sequence[int], rng: random.Random, mean_gap: int, max_down: int) -> None:
        self._world = world
        self._nodes = list(node_ids)
        self._rng = rng
        self._mean_gap = mean_gap
        self._max_down = max_down
        self._until = 0
        self.timeline: list[tuple[int, str]] = []

    def run(self, until: int) -> None:
        self._until = until
        self._schedule_next()

    def heal_all(self) -> None:
        self._until = 0
        self._world.network.heal()
        for node in self._nodes:
            if not self._world.machines[node].alive:
                self._world.machines[node].start()
        self._note("heal all")

    def _schedule_next(self) -> None:
        self._world.scheduler.after(1 + int(self._rng.expovariate(1 / self._mean_gap)), self._strike)

    def _strike(self) -> None:
        if self._world.scheduler.now >= self._until:
            return
        if len(self._nodes) > 1:
            fault = self._rng.choice((self._partition, self._isolate, self._heal, self._crash, self._crash))
        else:
            fault = self._crash
        fault()
        self._schedule_next()

    def _partition(self) -> None:
        nodes = self._nodes[:]
        self._rng.shuffle(nodes)
        cuts = sorted(self._rng.sample(range(1, len(nodes)), min(len(nodes) - 1, self._rng.choice((1, 2)))))
        groups = [nodes[a:b] for a, b in zip([0, *cuts], [*cuts, len(nodes)])]
        self._world.network.partition(groups)
        self._note(f"partition {groups}")

    def _isolate(self) -> None:
        lonely = self._rng.choice(self._nodes)
        self._world.network.partition([[lonely], [n for n in self._nodes if n != lonely]])
        self._note(f"isolate {lonely}")

    def _heal(self) -> None:
        self._world.network.heal()
        self._note("heal network")

    def _crash(self) -> None:
        node = self._rng.choice(self._nodes)
        machine = self._world.machines[node]
        if not machine.alive:
            return
        machine.crash()
        down_for = self._rng.randint(1, self._max_down)
        self._world.scheduler.after(down_for, self._restart, node)
        self._note(f"crash {node} for {down_for}")

    def _restart(self, node: int) -> None:
        machine = self._world.machines[node]
        if not machine.alive:
            machine.start()
            self._note(f"restart {node}")

    def _note(self, what: str) -> None:
        self.timeline.append((self._world.scheduler.now, what))
