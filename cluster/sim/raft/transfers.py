"""An operator who, now and then, asks the current leader to hand leadership to another node.

Transfers are not faults, but they exercise TimeoutNow and forced elections under the same
network and crash faults as everything else.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from cluster.keeper.raft import Role
from cluster.sim.raft.node import RaftNode
from cluster.sim.world.machines import Machine, World


class LeadershipTransfers:
    def __init__(
        self, world: World, machines: Sequence[Machine], rng: random.Random, mean_gap: int, timeline: list[tuple[int, str]]
    ) -> None:
        self._world = world
        self._machines = list(machines)
        self._rng = rng
        self._mean_gap = mean_gap
        self._timeline = timeline
        self._until = 0

    def run(self, until: int) -> None:
        self._until = until
        self._schedule_next()

    def _schedule_next(self) -> None:
        self._world.scheduler.after(1 + int(self._rng.expovariate(1 / self._mean_gap)), self._transfer)

    def _transfer(self) -> None:
        if self._world.scheduler.now >= self._until:
            return
        leaders = [
            m.program for m in self._machines if isinstance(m.program, RaftNode) and m.program.raft.role is Role.LEADER
        ]
        if leaders:
            leader = self._rng.choice(leaders)
            target = self._rng.choice([m.id for m in self._machines if m.id != leader.raft.id])
            leader.transfer_leadership(target)
            self._timeline.append((self._world.scheduler.now, f"transfer {leader.raft.id}->{target}"))
        self._schedule_next()
