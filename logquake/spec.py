"""The test spec: everything that decides what a run does, stored as test.json beside its history.

A stored spec is enough to re-check a run (`logquake check`) and to repeat it: the seed fixes
every choice the generator makes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

WORKLOADS = ("queue", "register", "log")
KEEPER_ONLY_WORKLOADS = ("register",)
"""Workloads whose clients talk to the keepers only: they run with brokers=0 and need keepers."""
TARGETS = ("keeper", "zookeeper")
"""What the keeper nodes run: our keeper, or Apache ZooKeeper 3.8 (Debian's) on the same zoo.cfg."""
FAULTS = ("kill", "pause", "restart", "partition", "isolate-leader")
"""The nemesis package's faults (nemesis.FAULTS); kept here so a spec is checked without importing the nemesis."""
ACKS = ("0", "1", "all")
MODES = ("assign", "subscribe")
BACKENDS = ("docker", "local", "auto")
CLIENTS = ("confluent-kafka", "kafka-python")


class SpecError(ValueError):
    """A spec that cannot describe a run; the message names the field."""


@dataclass(frozen=True)
class TestSpec:
    name: str = "queue"
    workload: str = "queue"
    nemesis: tuple[str, ...] = ()
    nemesis_interval: float = 10.0
    nemesis_targets: tuple[str, ...] = ()
    """What the faults are aimed at, drawn from at random; empty: every target the workload offers."""
    acks: str = "all"
    idempotence: bool = False
    retries: int = 0
    replication_factor: int = 3
    min_insync: int = 2
    partitions: int = 3
    topic: str = "queue"
    mode: str = "assign"
    brokers: int = 3
    keepers: int = 3
    broker_overrides: dict[str, str] = field(default_factory=dict)
    time_limit: float = 60.0
    rate: float = 200.0
    concurrency: int = 6
    seed: int = 0
    backend: str = "auto"
    client: str = "confluent-kafka"
    target: str = "keeper"
    # register: how many znodes are written at once, and whether every read is preceded by a sync.
    register_keys: int = 3
    register_sync_reads: bool = False
    # How long the cluster gets to recover after healing, and how long final reads may take.
    settle_time: float = 5.0
    final_time_limit: float = 60.0
    # One send or poll may take this long before its outcome is declared unknown (info).
    op_timeout: float = 10.0

    __test__ = False  # not a pytest test class, despite the name

    def __post_init__(self) -> None:
        for name, allowed in (
            ("workload", WORKLOADS),
            ("acks", ACKS),
            ("mode", MODES),
            ("backend", BACKENDS),
            ("client", CLIENTS),
            ("target", TARGETS),
        ):
            if getattr(self, name) not in allowed:
                raise SpecError(f"{name} must be one of {', '.join(allowed)}, not {getattr(self, name)!r}")
        unknown = [fault for fault in self.nemesis if fault not in FAULTS]
        if unknown:
            raise SpecError(f"nemesis: unknown fault(s) {', '.join(unknown)}; known: {', '.join(FAULTS)}")
        for name in ("partitions", "concurrency", "replication_factor", "min_insync", "register_keys"):
            if getattr(self, name) < 1:
                raise SpecError(f"{name} must be at least 1, not {getattr(self, name)}")
        for name in ("time_limit", "rate", "nemesis_interval", "op_timeout"):
            if getattr(self, name) <= 0:
                raise SpecError(f"{name} must be positive, not {getattr(self, name)}")
        if self.keepers < 0 or self.retries < 0 or self.settle_time < 0 or self.final_time_limit < 0:
            raise SpecError("keepers, retries, settle_time and final_time_limit cannot be negative")
        if self.workload in KEEPER_ONLY_WORKLOADS:
            self._check_keeper_only()
        else:
            self._check_brokers()
        if self.target != "keeper" and self.keepers < 1:
            raise SpecError(f"target {self.target} runs on the keeper nodes: keepers must be at least 1")
        if not self.name or "/" in self.name or self.name.startswith("."):
            raise SpecError(f"name {self.name!r} cannot name a store directory")

    def _check_keeper_only(self) -> None:
        if self.keepers < 1:
            raise SpecError(f"the {self.workload} workload talks to the keepers: keepers must be at least 1")
        if self.brokers < 0:
            raise SpecError(f"brokers cannot be negative, not {self.brokers}")

    def _check_brokers(self) -> None:
        if self.brokers < 1:
            raise SpecError(f"the {self.workload} workload needs at least 1 broker, not {self.brokers}")
        if self.replication_factor > self.brokers:
            raise SpecError(f"replication_factor {self.replication_factor} exceeds brokers {self.brokers}")
        if self.min_insync > self.replication_factor:
            raise SpecError(f"min_insync {self.min_insync} exceeds replication_factor {self.replication_factor}")
        if self.idempotence and self.acks != "all":
            raise SpecError("idempotence needs acks all (as in Kafka's producer)")
        if self.workload == "log" and (self.acks != "all" or (self.retries and not self.idempotence)):
            raise SpecError("the log workload checks that every acknowledged append stays at its offset, exactly "
                            "once: it needs acks all, and retries only with idempotence")

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["nemesis"] = list(self.nemesis)
        data["nemesis_targets"] = list(self.nemesis_targets)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TestSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError(f"unknown spec field(s): {', '.join(unknown)}")
        values = dict(data)
        for name in ("nemesis", "nemesis_targets"):
            if name in values:
                values[name] = tuple(values[name])
        if "broker_overrides" in values:
            values["broker_overrides"] = {str(k): str(v) for k, v in values["broker_overrides"].items()}
        return cls(**values)
