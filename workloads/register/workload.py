"""The register workload as the runner sees it: a parent znode, one kazoo client per process, faults on keepers."""

from __future__ import annotations

from typing import Any

from tenacity import retry, stop_after_delay, wait_fixed

from logquake.generator import Generator
from logquake.spec import TestSpec
from workloads.register.client import ROOT, RegisterClient, connect
from workloads.register.operations import main_phase
from workloads.workload import Client, Workload

SETUP_TIMEOUT = 60


class RegisterWorkload(Workload):
    name = "register"
    roles = ("keeper",)

    def setup(self, spec: TestSpec, deployment: Any) -> str:
        """The registers' parent znode; creating it again is harmless, so it is retried until the ensemble serves."""

        @retry(stop=stop_after_delay(SETUP_TIMEOUT), wait=wait_fixed(0.5), reraise=True)
        def create_root() -> None:
            client = connect(deployment.keeper_connect, spec.op_timeout)
            try:
                client.ensure_path(ROOT)
            finally:
                client.stop()
                client.close()

        create_root()
        reads = "sync, then read" if spec.register_sync_reads else "plain reads"
        return f"registers under {ROOT} on {spec.target} ({deployment.keeper_connect}); {reads}"

    def open_client(self, spec: TestSpec, deployment: Any, process: int) -> Client:
        return RegisterClient(deployment.keeper_connect, spec.op_timeout, spec.register_sync_reads)

    def generator(self, spec: TestSpec) -> Generator:
        return main_phase(spec)

    def fault_targets(self, spec: TestSpec) -> tuple[str, ...]:
        """Shares of the keepers and their leader; a minority of fewer than three would be no node at all."""
        return ("one", "majority", "keeper-leader") + (("minority",) if spec.keepers >= 3 else ())
