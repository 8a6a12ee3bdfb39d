"""The register workload's schedule: random reads, writes and compare-and-sets on a few keys at a time.

Values are drawn from a small range (as in Jepsen's register tests) so that compare-and-sets often
match. Each key takes about `ops_per_key` ops before the workload moves on to fresh keys: the
checker's search grows with a key's concurrency and its operations of unknown outcome, not with
the length of the run, so many short registers are checkable where one long one may not be.

After healing, the final reads read every register the main phase touched once more: a write that a
fault lost is seen only by a read that comes after the cluster is back, and the main phase may end
before it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from harness.generator import SECOND, Context, Delay, Emission, Generator, Pending, Update, clients, stagger
from harness.history import Event
from harness.spec import TestSpec
from workloads.register.options import RegisterOptions

VALUES = 5
OPS_PER_KEY = 100
FUNCTIONS = ("read", "write", "cas")
FINAL_READS_PER_SECOND = 20
"""Over all workers: enough to read a run's registers in a second or two, few enough that workers whose
reads fail at once do not spin."""


@dataclass(frozen=True)
class RegisterOps(Generator):
    """Ops on `keys` keys at once; after `keys * ops_per_key` ops, the next `keys` keys (never reused)."""

    keys: int
    ops_per_key: int = OPS_PER_KEY
    issued: int = 0

    def op(self, ctx: Context) -> Emission | None:
        thread = ctx.first_free()
        if thread is None:
            return Pending(), self
        generation = self.issued // (self.keys * self.ops_per_key)
        key = generation * self.keys + ctx.rng.randrange(self.keys)
        f = ctx.rng.choice(FUNCTIONS)
        op = {"f": f, "value": {"key": key, "value": _argument(f, ctx)}, "thread": thread, "time": ctx.time}
        return op, replace(self, issued=self.issued + 1)


def _argument(f: str, ctx: Context) -> Any:
    if f == "read":
        return None
    if f == "write":
        return ctx.rng.randrange(VALUES)
    return [ctx.rng.randrange(VALUES), ctx.rng.randrange(VALUES)]


def main_phase(spec: TestSpec) -> Generator:
    """Client ops at `spec.rate` per second in total, forever (the runner bounds it with a time limit)."""
    return clients(stagger(spec.rate, RegisterOps(spec.options_as(RegisterOptions).register_keys)))


@dataclass(frozen=True)
class FinalReads(Generator):
    """Reads of `keys`, each repeated until one succeeds: the phase ends when every register was read."""

    keys: frozenset[int]
    read: frozenset[int] = frozenset()
    turn: int = 0

    def op(self, ctx: Context) -> Emission | None:
        unread = sorted(self.keys - self.read)
        if not unread:
            return None
        thread = ctx.first_free()
        if thread is None:
            return Pending(), self
        key = unread[self.turn % len(unread)]
        op = {"f": "read", "value": {"key": key, "value": None}, "thread": thread, "time": ctx.time}
        return op, replace(self, turn=self.turn + 1)

    def update(self, ctx: Context, event: Update) -> Generator:
        if event["f"] != "read" or event["type"] != "ok":
            return self
        return replace(self, read=self.read | {event["value"]["key"]})


def touched_keys(history: list[Event]) -> frozenset[int]:
    """Every register a client op of the main phase named."""
    return frozenset(op["value"]["key"] for op in history
                     if op["process"] != "nemesis" and op["f"] in FUNCTIONS and op["type"] == "invoke")


def final_reads(keys: frozenset[int]) -> Generator:
    return clients(Delay(SECOND // FINAL_READS_PER_SECOND, FinalReads(keys)))
