"""Which workers write to which partitions: a worker stuck on a faulted leader holds up only its own partitions.

Workers (by rank among the generator's threads) own partitions round robin. With at least as many
workers as partitions every partition has workers of its own: rank r writes to partition r % P.
With fewer, rank r owns every partition p with p % workers == r, and a stuck worker holds up all of
them. Each op goes to a partition drawn uniformly among those with a free owner, on its first free
owner: the asked rate is spread over the partitions still moving, while a partition whose owners
are all waiting on a dead leader gets nothing new until one of them comes back (after the op
timeout, as a fresh process).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.generator import Context, Emission, Generator, Pending, Thread, thread_order


def owned(rank: int, workers: int, partitions: int) -> tuple[int, ...]:
    """The partitions of the worker of this rank among `workers`: never empty, and together all of them."""
    return tuple(p for p in range(partitions) if p % workers == rank % partitions)


def free_owner(ctx: Context, partitions: int) -> tuple[Thread, int] | None:
    """A (thread, partition): the partition drawn among those with a free owner, the thread its first free owner."""
    threads = sorted(ctx.threads, key=thread_order)
    owners: dict[int, Thread] = {}
    for rank, thread in enumerate(threads):
        if thread in ctx.free:
            for partition in owned(rank, len(threads), partitions):
                owners.setdefault(partition, thread)
    if not owners:
        return None
    partition = ctx.rng.choice(sorted(owners))
    return owners[partition], partition


@dataclass(frozen=True)
class OwnedFn(Generator):
    """Infinitely many ops, each made by `make(rng, partition)` on a free owner of that partition."""

    partitions: int
    make: Callable[[random.Random, int], dict[str, Any]]

    def op(self, ctx: Context) -> Emission | None:
        chosen = free_owner(ctx, self.partitions)
        if chosen is None:
            return Pending(), self
        thread, partition = chosen
        return {**self.make(ctx.rng, partition), "thread": thread, "time": ctx.time}, self
