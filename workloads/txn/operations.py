"""What the transactional workload's workers do: transactions of sends and polls, then final polls.

Main phase (Jepsen's Kafka test with --txn): every worker first assigns all partitions (or
subscribes), then runs transactions of 1 to max_txn_length micro-ops, each a send of the next
unique integer to a random partition (the key) or a poll, with an occasional re-assign (or
re-subscribe) as the queue workload does. Final polls: after healing every worker assigns all
partitions and runs poll-only transactions until it has read each partition up to the highest
offset a committed send was given, so that a committed write that nobody read is a lost write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from harness.generator import (
    SECOND,
    Context,
    Delay,
    Emission,
    Generator,
    Mix,
    Pending,
    Update,
    clients,
    each_thread,
    phases,
    stagger,
)
from harness.history import Event
from harness.spec import TestSpec
from workloads.queue.operations import FINAL_OPS_PER_WORKER_SECOND, REASSIGN_WEIGHT, consume, reassign
from workloads.txn.options import TxnOptions

TXN = "txn"
POLL = ["poll"]
REREAD = "assign-from-start"
"""The final polls' assign: from each partition's start, whatever the consumer read before."""


@dataclass(frozen=True)
class Transactions(Generator):
    """Transactions of sends of 0, 1, 2, ... (unique across the run, so per key) and polls, on the first free thread."""

    partitions: int
    max_length: int
    next_value: int = 0

    def op(self, ctx: Context) -> Emission | None:
        thread = ctx.first_free()
        if thread is None:
            return Pending(), self
        micro_ops: list[list[Any]] = []
        value = self.next_value
        for _ in range(ctx.rng.randint(1, self.max_length)):
            if ctx.rng.random() < 0.5:
                micro_ops.append(["send", ctx.rng.randrange(self.partitions), value])
                value += 1
            else:
                micro_ops.append(list(POLL))
        return {"f": TXN, "value": micro_ops, "thread": thread, "time": ctx.time}, replace(self, next_value=value)


def main_phase(spec: TestSpec) -> Generator:
    """Transactions at `spec.rate` per second in total, forever (the runner bounds it with a time limit)."""
    options = spec.options_as(TxnOptions)
    mix = Mix((Transactions(options.partitions, options.max_txn_length), reassign(options)),
              (1.0, REASSIGN_WEIGHT))
    return clients(phases(each_thread(consume(options)), stagger(spec.rate, mix)))


@dataclass(frozen=True)
class FinalPolls(Generator):
    """One worker's final polls: assign every partition from its start, then poll-only transactions until each target offset was
    read. After an `info` the worker continues as a fresh process with a fresh client, so it assigns again."""

    partitions: tuple[int, ...]
    targets: Mapping[int, int]
    assigned: bool = False
    reached: Mapping[int, int] = field(default_factory=dict)

    def done(self) -> bool:
        return self.assigned and all(self.reached.get(p, -1) >= target for p, target in self.targets.items())

    def op(self, ctx: Context) -> Emission | None:
        if self.done():
            return None
        thread = ctx.first_free()
        if thread is None:
            return Pending(), self
        if not self.assigned:
            return {"f": REREAD, "value": list(self.partitions), "thread": thread, "time": ctx.time}, replace(
                self, assigned=True)
        return {"f": TXN, "value": [list(POLL)], "thread": thread, "time": ctx.time}, self

    def update(self, ctx: Context, event: Update) -> Generator:
        if event["type"] == "info" or (event["f"] == REREAD and event["type"] == "fail"):
            return replace(self, assigned=False)
        if event["type"] != "ok" or event["f"] != TXN:
            return self
        reached = dict(self.reached)
        for _, records in event["value"]:
            for partition, read in records.items():
                if read:
                    reached[int(partition)] = max(reached.get(int(partition), -1), max(o for o, _ in read))
        return replace(self, reached=reached)


def final_polls(partitions: int, targets: Mapping[int, int]) -> Generator:
    """Every worker polls every partition up to its target, at most FINAL_OPS_PER_WORKER_SECOND ops a second."""
    reader = FinalPolls(tuple(range(partitions)), dict(targets))
    return clients(each_thread(Delay(SECOND // FINAL_OPS_PER_WORKER_SECOND, reader)))


def committed_targets(history: list[Event]) -> dict[int, int]:
    """Per partition, the highest offset a committed transaction's send was given: what final polls must reach."""
    highest: dict[int, int] = {}
    for op in history:
        if op["f"] == TXN and op["type"] == "ok":
            for micro_op in op["value"]:
                if micro_op[0] == "send" and micro_op[2][0] is not None:
                    highest[micro_op[1]] = max(highest.get(micro_op[1], -1), micro_op[2][0])
    return highest
