"""The log workload as the runner sees it: the queue's topic setup and broker faults, appends and reads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from checkers.log import check_log
from harness.generator import Generator
from harness.history import Event
from harness.seams import Client, Deployment
from harness.spec import SpecError, TestSpec
from harness.workload import FinalPhase, Results
from workloads.log.client import LogClient
from workloads.log.operations import final_reads, main_phase
from workloads.queue.options import KafkaOptions
from workloads.queue.workload import KafkaWorkload


class LogWorkload(KafkaWorkload):
    name = "log"
    summary = "log: Kafka appends and reads of committed offsets, checked for linearizability"
    has_final_phase = True
    partition_writes = "append"

    def validate(self, spec: TestSpec) -> None:
        """Every acknowledged append must stay at its offset, exactly once: acks=all, and no duplicating retries."""
        super().validate(spec)
        options = spec.options_as(KafkaOptions)
        if options.acks != "all" or (options.retries and not options.idempotence):
            raise SpecError("the log workload checks that every acknowledged append stays at its offset, exactly "
                            "once: it needs acks all, and retries only with idempotence")

    def open_client(self, spec: TestSpec, deployment: Deployment, process: int) -> Client:
        return LogClient(spec, deployment.bootstrap_servers, process)

    def generator(self, spec: TestSpec) -> Generator:
        return main_phase(spec)

    def final_phase(self, spec: TestSpec, deployment: Deployment, history: list[Event],
                    say: Callable[[str], None]) -> FinalPhase:
        targets, reads = final_reads(history)
        return FinalPhase(f"reading each partition's highest acknowledged offset {targets}", reads)

    def check(self, test: dict[str, Any], history: list[Event], out_dir: Path) -> Results:
        return check_log(test, history, out_dir)
