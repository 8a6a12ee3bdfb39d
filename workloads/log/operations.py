"""The log workload's schedule: appends of unique values and reads of committed offsets, on random partitions.

Each op goes to a partition with a free owner, on that owner (harness.partition_owners), so a worker
waiting on a faulted leader holds up only its own partitions.

A read names its partition and a fraction in [0, 1); the client turns the fraction into an offset
between the partition's log start and its high watermark, which only it can know at that moment.
The generator's seeded choice of the fraction keeps runs with one seed alike. After healing, the
final phase reads each partition at its highest acknowledged offset by name: if the log lost its
acknowledged tail, that read finds nothing there, which the checker cannot miss.
"""

from __future__ import annotations

from random import Random
from typing import Any

from harness.generator import Generator, Mix, clients, once, phases, stagger
from harness.history import Event
from harness.spec import TestSpec
from workloads.queue.operations import Sends, highest_acknowledged
from harness.partition_owners import OwnedFn
from workloads.queue.options import KafkaOptions


def main_phase(spec: TestSpec) -> Generator:
    """Appends and reads in equal shares at `spec.rate` per second in total, forever (the runner adds the limit)."""
    partitions = spec.options_as(KafkaOptions).partitions

    def read(rng: Random, partition: int) -> dict[str, Any]:
        return {"f": "read", "value": {"partition": partition, "fraction": rng.random()}}

    return clients(stagger(spec.rate, Mix((Sends(partitions, f="append"), OwnedFn(partitions, read)))))


def final_reads(history: list[Event]) -> tuple[dict[int, int], Generator]:
    """One read of each partition's highest acknowledged offset; returns the offsets too, for the progress line."""
    targets = highest_acknowledged(history, "append")
    reads = [once("read", {"partition": partition, "offset": offset}) for partition, offset in sorted(targets.items())]
    return targets, clients(phases(*reads))
