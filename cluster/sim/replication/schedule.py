"""One seeded schedule of a replicated topic under faults, and its verdict.

Everything (partitions, election mode, acks levels, network odds, flush interval, fault
timeline, producers) is drawn from `random.Random(seed)`, so a seed replays exactly. Phases:
faults while producers write; heal everything; wait (bounded) until every replica is in sync
with an identical log; check the final logs against what producers were told.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

from cluster.broker.replication import PartitionReplica
from cluster.sim.replication.broker import ReplicaCore
from cluster.sim.replication.client import Write
from cluster.sim.replication.cluster import KEEPER, ClusterSettings, ReplicationCluster
from cluster.sim.replication.faults import ReplicationFaults
from cluster.sim.replication.monitor import LostWrite
from cluster.sim.world.network import NetworkConditions


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    cluster: ClusterSettings
    conditions: NetworkConditions
    acks_choices: tuple[int, ...]
    producers: int
    fault_gap: int
    max_down: int
    fault_phase: int = 2_000
    convergence_bound: int = 4_000

    @staticmethod
    def draw(rng: random.Random) -> ScheduleSettings:
        return ScheduleSettings(
            cluster=ClusterSettings(
                brokers=rng.choice((3, 3, 4)),
                partitions=rng.choice((1, 1, 2)),
                unclean=rng.random() < 0.2,
                flush_every=rng.choice((50, 200, 1_000)),
                retention_every=rng.choice((0, 0, 100)),
            ),
            conditions=NetworkConditions(
                min_delay=1, max_delay=rng.choice((5, 10, 30)), loss=rng.choice((0.0, 0.0, 0.01, 0.05))
            ),
            acks_choices=rng.choice(((-1,), (-1, -1, 1), (-1, 0, 1))),
            producers=rng.randint(1, 3),
            fault_gap=rng.choice((100, 300, 600)),
            max_down=rng.choice((100, 300, 800)),
        )


@dataclass(slots=True)
class ScheduleResult:
    seed: int
    settings: ScheduleSettings
    writes: list[Write]
    violations: list[str]
    lost: list[LostWrite]
    timeline: list[tuple[int, str]] = field(default_factory=list)
    events: int = 0
    virtual_time: int = 0

    def describe(self, replay: str) -> str:
        faults = ", ".join(f"{t}:{what}" for t, what in self.timeline[-12:])
        return (
            f"seed {self.seed} failed: " + "; ".join(self.violations[:5])
            + f"\n  settings: {self.settings}\n  last faults: {faults}\n  replay: {replay}"
        )


def run_schedule(seed: int, core: ReplicaCore = PartitionReplica) -> ScheduleResult:
    rng = random.Random(seed)
    settings = ScheduleSettings.draw(rng)
    cluster = ReplicationCluster(rng.getrandbits(64), settings.cluster, settings.conditions, core)
    faults = ReplicationFaults(
        cluster.world,
        cluster.brokers,
        KEEPER,
        random.Random(rng.getrandbits(64)),
        settings.fault_gap,
        settings.max_down,
        cluster.membership_changed,
    )
    monitor = cluster.monitor
    result = ScheduleResult(seed, settings, cluster.history.writes, monitor.violations, monitor.lost, faults.timeline)
    cluster.start()
    for _ in range(settings.producers):
        cluster.add_producer(settings.acks_choices).run(stop_at=settings.fault_phase)
    faults.run(until=settings.fault_phase)
    cluster.run_until(settings.fault_phase)
    faults.heal_all()
    cluster.world.network.conditions = replace(settings.conditions, loss=0.0)
    cluster.stop_producers()
    cluster.run_until(cluster.world.scheduler.now + settings.cluster.produce_timeout + 100)
    if not cluster.converge(settings.convergence_bound):
        monitor.violations.append(
            f"liveness: replicas not all in sync with identical logs {settings.convergence_bound} ms after the heal"
        )
    else:
        cluster.check_final()
    result.events = cluster.world.scheduler.events_run
    result.virtual_time = cluster.world.scheduler.now
    return result
