"""The log workload as the runner sees it: the queue's topic setup and broker faults, appends and reads."""

from __future__ import annotations

from typing import Any

from logquake.generator import Generator
from logquake.spec import TestSpec
from workloads.log.client import LogClient
from workloads.log.operations import main_phase
from workloads.queue.workload import BrokerWorkload
from workloads.workload import Client


class LogWorkload(BrokerWorkload):
    name = "log"

    def open_client(self, spec: TestSpec, deployment: Any, process: int) -> Client:
        return LogClient(spec, deployment.bootstrap_servers, process)

    def generator(self, spec: TestSpec) -> Generator:
        return main_phase(spec)
