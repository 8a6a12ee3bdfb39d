"""The log workload as the runner sees it: the queue's topic setup and broker faults, appends and reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from logquake.generator import Generator
from logquake.spec import TestSpec
from workloads.log.client import LogClient
from workloads.log.operations import final_reads, main_phase
from workloads.queue.workload import BrokerWorkload
from workloads.workload import Client, FinalPhase


class LogWorkload(BrokerWorkload):
    name = "log"
    has_final_phase = True

    def open_client(self, spec: TestSpec, deployment: Any, process: int) -> Client:
        return LogClient(spec, deployment.bootstrap_servers, process)

    def generator(self, spec: TestSpec) -> Generator:
        return main_phase(spec)

    def final_phase(self, spec: TestSpec, deployment: Any, history: list[dict[str, Any]],
                    say: Callable[[str], None]) -> FinalPhase:
        targets, reads = final_reads(history)
        return FinalPhase(f"reading each partition's highest acknowledged offset {targets}", reads)
