"""What the AMQP workload's workers do: enqueues of unique integers and dequeues, then a drain of the queue.

Main phase (Jepsen's RabbitMQ queue test): enqueues of 0, 1, 2, ... and dequeues, evenly mixed, at
the run's rate. Final phase, after healing: every worker drains the queue until it answers empty
once, so that whatever survived is read; a worker whose drain ended early (info) drains again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from harness.generator import (SECOND, Context, Delay, Emission, Generator, Mix, Pending, Update, clients, each_thread,
                               repeat_op, stagger)
from harness.spec import TestSpec

DRAINS_PER_WORKER_SECOND = 2
"""At most this many drains a second per worker, so that one whose node is down does not spin."""


@dataclass(frozen=True)
class Enqueues(Generator):
    """Enqueues of 0, 1, 2, ...: every value unique across the run."""

    next_value: int = 0

    def op(self, ctx: Context) -> Emission | None:
        thread = ctx.first_free()
        if thread is None:
            return Pending(), self
        return ({"f": "enqueue", "value": self.next_value, "thread": thread, "time": ctx.time},
                replace(self, next_value=self.next_value + 1))


@dataclass(frozen=True)
class DrainUntilEmpty(Generator):
    """One worker's drains, until one of them saw the queue empty."""

    emptied: bool = False

    def op(self, ctx: Context) -> Emission | None:
        if self.emptied:
            return None
        thread = ctx.first_free()
        if thread is None:
            return Pending(), self
        return {"f": "drain", "value": None, "thread": thread, "time": ctx.time}, self

    def update(self, ctx: Context, event: Update) -> Generator:
        return replace(self, emptied=self.emptied or (event["f"] == "drain" and event["type"] == "ok"))


def main_phase(spec: TestSpec) -> Generator:
    """Client ops at `spec.rate` per second in total, forever (the runner bounds it with a time limit)."""
    return clients(stagger(spec.rate, Mix((Enqueues(), repeat_op("dequeue")), (1.0, 1.0))))


def drains() -> Generator:
    return clients(each_thread(Delay(SECOND // DRAINS_PER_WORKER_SECOND, DrainUntilEmpty())))
