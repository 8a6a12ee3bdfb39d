"""When faults start and stop: the nemesis thread's generator (Jepsen's nemesis package schedules alike).

Quiet for an interval, start a fault on a random target, an interval later stop it, repeat until
the time limit; then a stop for every fault kind at once, whether or not it is active, while client
operations still drain. Faults come in cycles: each draw picks among the faults the current cycle
has not started yet, so every fault named runs once per cycle, in a seeded shuffled order. Independent
draws let a short run miss a fault altogether (a 60-second run of kill, pause and partition once drew
kill three times). The n-th choice of fault and target comes from a random stream of its own, seeded
with the run's seed and n, not from the interpreter's Random, which client ops draw from too, in an
order the cluster's timing decides: so a seed repeats a run's faults whatever the clients did meanwhile.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, replace

from harness.generator import Context, Emission, Generator, Invocation, Pending, TimeLimit, nemesis, once, phases


@dataclass(frozen=True)
class FaultSchedule(Generator):
    """Nemesis ops: quiet for `interval`, start the cycle's next fault on a random target, `interval` later stop it."""

    faults: tuple[str, ...]
    targets: tuple[str, ...]
    interval: int
    seed: int = 0
    active: str | None = None
    next_time: int | None = None
    started: int = 0
    """How many faults were started so far: the n of the next draw."""
    cycle_left: tuple[str, ...] = ()
    """The faults this cycle has not started yet; empty when the next draw begins a new cycle."""

    def op(self, ctx: Context) -> Emission | None:
        if not self.faults:
            return None
        if self.next_time is None:
            return Pending(ctx.time + self.interval), replace(self, next_time=ctx.time + self.interval)
        thread = ctx.first_free()
        if thread is None:
            return Pending(), self
        if ctx.time < self.next_time:
            return Pending(self.next_time), self
        following_time = ctx.time + self.interval
        if self.active is None:
            draw = random.Random(f"{self.seed}/{self.started}")
            candidates = self.cycle_left or self.faults
            fault = draw.choice(candidates)
            item: Invocation = {"f": f"start-{fault}", "value": draw.choice(self.targets)}
            following = replace(self, active=fault, next_time=following_time, started=self.started + 1,
                                cycle_left=tuple(other for other in candidates if other != fault))
        else:
            item = {"f": f"stop-{self.active}", "value": None}
            following = replace(self, active=None, next_time=following_time)
        return {**item, "thread": thread, "time": ctx.time}, following


def heal_all(faults: Iterable[str]) -> Generator:
    """A stop op for every fault kind, whether or not it is active: the heal phase."""
    return phases(*(once(f"stop-{fault}") for fault in faults))


def fault_schedule(faults: tuple[str, ...], targets: tuple[str, ...], interval: int, limit: int,
                   seed: int) -> Generator:
    """Faults for `limit` ns, then every kind stopped: the whole run's nemesis generator, on its thread alone."""
    return nemesis(phases(TimeLimit(limit, FaultSchedule(faults, targets, interval, seed)), heal_all(faults)))
