"""What `logquake compare` runs: per fault, one run of each system under the same fault schedule.

Both systems get the configuration their durability claim is about: our Kafka-compatible cluster
with acks=all, an idempotent producer, replication factor 3 and min ISR 2 on three brokers (one
partition, so every send goes to the leader a fault may hit); RabbitMQ with a quorum queue on three
nodes. Everything else is the same: the fault, its target (a minority of the three brokers or
nodes), its interval, the time limit, the offered rate, the workers and the seed, so both runs
draw the same fault at the same moments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.spec import TestSpec
from logquake.registry import Registry

FAULTS = ("kill", "pause", "partition")
SYSTEMS: dict[str, dict[str, Any]] = {
    "logquake": {"workload": "queue", "brokers": 3, "keepers": 3, "replication_factor": 3, "min_insync": 2,
                 "partitions": 1, "acks": "all", "idempotence": True,
                 "broker_overrides": {"zookeeper.session.timeout.ms": "6000"}},
    "rabbitmq": {"workload": "amqp", "brokers": 3, "keepers": 0, "queue_type": "quorum",
                 "partition_handling": "pause_minority"},
}
LABELS = {"logquake": "Kafka-compatible (acks=all, RF 3, min ISR 2)", "rabbitmq": "RabbitMQ 3.10 (quorum queue)"}
TARGETS = ("minority",)


@dataclass(frozen=True)
class Schedule:
    """The fault schedule and load every run of a comparison shares."""

    faults: tuple[str, ...] = FAULTS
    time_limit: float = 30.0
    nemesis_interval: float = 6.0
    rate: float = 100.0
    concurrency: int = 4
    seed: int = 1
    backend: str = "auto"
    final_time_limit: float = 30.0


@dataclass(frozen=True)
class Planned:
    system: str
    fault: str
    spec: TestSpec


def plan(schedule: Schedule, registry: Registry) -> list[Planned]:
    """Every (fault, system) run, checked as `logquake run` checks its specs, before anything runs."""
    shared = {"nemesis_targets": TARGETS, "nemesis_interval": schedule.nemesis_interval,
              "time_limit": schedule.time_limit, "rate": schedule.rate, "concurrency": schedule.concurrency,
              "seed": schedule.seed, "backend": schedule.backend, "final_time_limit": schedule.final_time_limit}
    return [Planned(system, fault, registry.spec(name=f"compare-{system}-{fault}", system=system, nemesis=(fault,),
                                                 **shared, **settings))
            for fault in schedule.faults for system, settings in SYSTEMS.items()]
