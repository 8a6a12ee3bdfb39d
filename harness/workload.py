"""What a workload is: Jepsen's split into options, setup, client, generator, final phase and checker, as one object.

The runner owns everything a workload shares with every other (the cluster, the nemesis, worker
threads, the history, healing, teardown, the store); a workload owns only what its operations
mean. It declares its options and the rules they must keep with the run's fields, prepares the
cluster (a topic, a parent znode), opens one client per process, schedules the main phase's
operations, optionally schedules a final phase after healing (queue's final reads), names the node
roles and targets the nemesis may hit, and checks the history. A workload lives in its own folder
of workloads/; one line of the registry (logquake.registry) makes it runnable.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.generator import Generator
from harness.history import Event
from harness.seams import Client, Deployment
from harness.spec import Options, TestSpec

Results = dict[str, Any]
"""A checker's results: at least {"valid": True | False | "unknown"}; the report shows the rest."""


@dataclass(frozen=True)
class FinalPhase:
    """Operations after the faults are healed and the cluster settled, with a line for the progress display."""

    description: str
    generator: Generator


class Workload(ABC):
    name: str
    summary: str
    """One line for the command line's help: what the workload does and checks."""
    options: type[Options] = Options
    """Its options, declared (see harness.spec); the spec holds an instance."""
    roles: tuple[str, ...]
    """Which nodes (by role) the nemesis draws its shares from."""
    systems: tuple[str, ...] = ("logquake",)
    """The systems under test (cluster.deploy.node.SYSTEMS) its clients speak to."""
    has_final_phase = False
    partition_writes: str | None = None
    """The f of its ops that write one value to one partition (value {"partition": p, ...}): the ops whose
    acknowledgements measure each partition's availability under faults (checkers.availability). None: not measured."""
    """True: after healing, the cluster settles for the spec's settle time and `final_phase` runs."""

    def validate(self, spec: TestSpec) -> None:
        """Rules between the workload's options and the run's fields (e.g. enough brokers); raise SpecError."""

    def default_name(self, spec: TestSpec) -> str:
        """The test's name when none is given (workload-faults-variant): what tells runs apart in the store."""
        return f"{self.name}-{'-'.join(spec.nemesis) or 'none'}-{self.variant(spec)}"

    @abstractmethod
    def variant(self, spec: TestSpec) -> str:
        """The setting that decides this workload's claim most, as one word of the test's name (acksall, keeper)."""

    @abstractmethod
    def setup(self, spec: TestSpec, deployment: Deployment) -> str:
        """Prepare the deployed cluster for the run; returns what was prepared, in words."""

    @abstractmethod
    def open_client(self, spec: TestSpec, deployment: Deployment, process: int) -> Client:
        """A connected client for one process; raising means nothing was sent (the op fails)."""

    @abstractmethod
    def generator(self, spec: TestSpec) -> Generator:
        """The main phase's client operations, unbounded: the runner adds the time limit."""

    @abstractmethod
    def fault_targets(self, spec: TestSpec) -> tuple[str, ...]:
        """The targets the nemesis schedule draws from: shares of `roles`, role holders."""

    def nemesis_options(self, spec: TestSpec) -> dict[str, Any]:
        """What the nemesis needs to know of this workload's data (e.g. which partition's leader to hunt)."""
        return {}

    def final_phase(self, spec: TestSpec, deployment: Deployment, history: list[Event],
                    say: Callable[[str], None]) -> FinalPhase:
        """Operations after healing and settling, from what the main phase did (only if `has_final_phase`)."""
        raise NotImplementedError(f"the {self.name} workload has no final phase")

    @abstractmethod
    def check(self, test: dict[str, Any], history: list[Event], out_dir: Path) -> Results:
        """The workload's verdict on a history; `test` is the stored test.json, `out_dir` takes any file it writes."""
