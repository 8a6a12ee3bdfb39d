"""What the queue workload's workers do: the main mix of sends and polls, then the final reads.

Main phase (Jepsen's queue workload): every worker first assigns all partitions (or subscribes),
then draws sends of unique values and polls, with an occasional re-assign to a random set of
partitions (or re-subscribe). Each send goes to a random partition, by a worker that owns it
(harness.partition_owners: a worker stuck on a faulted leader does not hold up the other partitions).
Final reads: every worker asks where each partition's log starts (retention may have cut its
front), assigns all partitions from the beginning and polls until it has read each partition's
target offset.
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
    Fn,
    Generator,
    Mix,
    Pending,
    Update,
    clients,
    each_thread,
    once,
    phases,
    repeat_op,
    stagger,
)
from harness.history import Event
from harness.spec import TestSpec
from workloads.queue.options import KafkaTopicOptions
from harness.partition_owners import free_owner

REASSIGN_WEIGHT = 1 / 64
FINAL_OPS_PER_WORKER_SECOND = 10


@dataclass(frozen=True)
class Sends(Generator):
    """Sends (ops named `f`) of values 0, 1, 2, ...: unique across the run, each to a random partition among
    those with a free owner, by that owner (harness.partition_owners)."""

    partitions: int
    next_value: int = 0
    f: str = "send"

    def op(self, ctx: Context) -> Emission | None:
        chosen = free_owner(ctx, self.partitions)
        if chosen is None:
            return Pending(), self
        thread, partition = chosen
        value = {"partition": partition, "value": self.next_value}
        return {"f": self.f, "value": value, "thread": thread, "time": ctx.time}, replace(
            self, next_value=self.next_value + 1)


def consume(options: KafkaTopicOptions) -> Generator:
    """A fresh consumer's first op: all partitions assigned, or the topic subscribed."""
    if options.mode == "subscribe":
        return once("subscribe", [options.topic])
    return once("assign", list(range(options.partitions)))


def reassign(options: KafkaTopicOptions) -> Generator:
    if options.mode == "subscribe":
        return repeat_op("subscribe", [options.topic])

    def some_partitions(rng: Any) -> dict[str, Any]:
        chosen = [p for p in range(options.partitions) if rng.random() < 0.5] or [rng.randrange(options.partitions)]
        return {"f": "assign", "value": chosen}

    return Fn(some_partitions)


def main_phase(spec: TestSpec) -> Generator:
    """Client ops at `spec.rate` per second in total, forever (the runner bounds it with a time limit)."""
    options = spec.options_as(KafkaTopicOptions)
    mix = Mix((Sends(options.partitions), repeat_op("poll"), reassign(options)), (1.0, 1.0, 2 * REASSIGN_WEIGHT))
    return clients(phases(each_thread(consume(options)), stagger(spec.rate, mix)))


@dataclass(frozen=True)
class FinalReader(Generator):
    """One worker's final reads: ask for the log starts, assign everything, then poll until every target offset
    was read or lies below its partition's log start (retention deleted it), and the log starts are known.

    The log starts go into the history for the checker: records below them were deleted, not lost. A failed or
    unknown log-starts is asked again after the next op, so a cluster slow to answer it (a leader just restarted)
    is still read meanwhile, and still answers it before the worker is done.
    After an `info` the worker continues as a fresh process with a fresh client, so it assigns again.
    """

    partitions: tuple[int, ...]
    targets: Mapping[int, int]
    ask_log_starts: bool = True
    assigned: bool = False
    polled: bool = False
    reached: Mapping[int, int] = field(default_factory=dict)
    log_starts: Mapping[int, int] | None = None

    def done(self) -> bool:
        """At least one successful poll (final reads were attempted), the log starts known, and every target
        reached or deleted."""
        if not self.polled or self.log_starts is None:
            return False
        return all(self.reached.get(p, -1) >= target or self.log_starts.get(p, 0) > target
                   for p, target in self.targets.items())

    def op(self, ctx: Context) -> Emission | None:
        if self.done():
            return None
        thread = ctx.first_free()
        if thread is None:
            return Pending(), self
        if self.log_starts is None and self.ask_log_starts:
            return {"f": "log-starts", "value": list(self.partitions), "thread": thread, "time": ctx.time}, replace(
                self, ask_log_starts=False)
        if not self.assigned:
            return {"f": "assign", "value": list(self.partitions), "thread": thread, "time": ctx.time}, replace(
                self, assigned=True)
        return {"f": "poll", "value": None, "thread": thread, "time": ctx.time}, self

    def update(self, ctx: Context, event: Update) -> Generator:
        if event["f"] == "log-starts":
            return self._log_starts_answered(event)
        reader = self if self.log_starts is not None else replace(self, ask_log_starts=True)
        if event["type"] == "info" or (event["f"] == "assign" and event["type"] == "fail"):
            return replace(reader, assigned=False)
        if event["type"] != "ok" or event["f"] != "poll":
            return reader
        reached = dict(reader.reached)
        for partition, records in event["value"].items():
            if records:
                reached[int(partition)] = max(reached.get(int(partition), -1), max(o for o, _ in records))
        return replace(reader, polled=True, reached=reached)

    def _log_starts_answered(self, event: Update) -> FinalReader:
        if event["type"] == "ok":
            return replace(self, log_starts={int(p): offset for p, offset in event["value"].items()})
        return replace(self, assigned=self.assigned and event["type"] != "info")


def final_reads(partitions: int, targets: Mapping[int, int]) -> Generator:
    """Every worker records the log starts, then reads every partition from its start up to its target (the
    highest offset known to exist).

    At most ten ops per second per worker, so that a worker whose polls fail at once does not spin.
    """
    reader = FinalReader(tuple(range(partitions)), dict(targets))
    return clients(each_thread(Delay(SECOND // FINAL_OPS_PER_WORKER_SECOND, reader)))


def highest_acknowledged(history: list[Event], f: str = "send") -> dict[int, int]:
    """Per partition, the highest offset an acknowledged send (or an op named `f` of its shape) was given."""
    highest: dict[int, int] = {}
    for op in history:
        if op["f"] == f and op["type"] == "ok" and op["value"].get("offset") is not None:
            partition = int(op["value"]["partition"])
            highest[partition] = max(highest.get(partition, -1), op["value"]["offset"])
    return highest


def final_targets(history: list[Event], watermarks: dict[int, int]) -> dict[int, int]:
    """The highest offset known to exist per partition: acknowledged, or below the high watermark."""
    targets = {p: end - 1 for p, end in watermarks.items()}
    for partition, offset in highest_acknowledged(history).items():
        targets[partition] = max(targets.get(partition, -1), offset)
    return targets
