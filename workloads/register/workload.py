"""The register workload as the runner sees it: a parent znode, one kazoo client per process, faults on keepers,
then a final read of every register."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from tenacity import retry, stop_after_delay, wait_fixed

from checkers.register import check_register
from nemesis import hits_whole_tiers
from harness.generator import Generator
from harness.history import Event
from harness.seams import Client, Deployment
from harness.spec import SpecError, TestSpec
from harness.workload import FinalPhase, Results, Workload
from workloads.register.client import ROOT, RegisterClient, connect
from workloads.register.operations import final_reads, main_phase, touched_keys
from workloads.register.options import RegisterOptions

SETUP_TIMEOUT = 60


class RegisterWorkload(Workload):
    name = "register"
    summary = "register: read/write/cas on znodes (keepers only, --brokers 0)"
    options = RegisterOptions
    roles = ("keeper",)
    has_final_phase = True

    def validate(self, spec: TestSpec) -> None:
        if spec.keepers < 1:
            raise SpecError(f"the {self.name} workload talks to the keepers: keepers must be at least 1")

    def variant(self, spec: TestSpec) -> str:
        return spec.target

    def setup(self, spec: TestSpec, deployment: Deployment) -> str:
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
        reads = "sync, then read" if self._options(spec).register_sync_reads else "plain reads"
        return f"registers under {ROOT} on {spec.target} ({deployment.keeper_connect}); {reads}"

    def open_client(self, spec: TestSpec, deployment: Deployment, process: int) -> Client:
        return RegisterClient(deployment.keeper_connect, spec.op_timeout, self._options(spec).register_sync_reads)

    def generator(self, spec: TestSpec) -> Generator:
        return main_phase(spec)

    def final_phase(self, spec: TestSpec, deployment: Deployment, history: list[Event],
                    say: Callable[[str], None]) -> FinalPhase:
        keys = touched_keys(history)
        return FinalPhase(f"a final read of each of the {len(keys)} registers", final_reads(keys))

    def fault_targets(self, spec: TestSpec) -> tuple[str, ...]:
        """Shares of the keepers and their leader; a minority of fewer than three would be no node at all. With a
        fault of the fault filesystem, every keeper at once too: a whole ensemble's power loss; with a packet fault,
        every keeper receiving its peers' packets lost, late, doubled or out of order."""
        return ("one", "majority", "keeper-leader") + (("minority",) if spec.keepers >= 3 else ()) + (
            ("all-keepers",) if hits_whole_tiers(spec.nemesis) else ())

    def check(self, test: dict[str, Any], history: list[Event], out_dir: Path) -> Results:
        return check_register(test, history, out_dir)

    @staticmethod
    def _options(spec: TestSpec) -> RegisterOptions:
        return spec.options_as(RegisterOptions)
