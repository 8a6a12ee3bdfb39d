"""What the runner asks of a workload: Jepsen's split into setup, client, generator, final phase and checker.

The runner owns everything a workload shares with every other (the cluster, the nemesis, worker
threads, the history, healing, teardown, the store); a workload owns only what its operations
mean. It prepares the cluster (a topic, a parent znode), opens one client per process, schedules
the main phase's operations, optionally schedules a final phase after healing (queue's final
reads), and names the node roles and targets the nemesis may hit. Its checker is the one
`checkers.WORKLOAD_CHECKERS` files under the workload's name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from logquake.generator import Generator
from logquake.spec import TestSpec

Completion = dict[str, Any]
"""{"type": "ok"|"fail"|"info", "value"?, "error"?}: what a client says happened to one op."""


def ok(value: Any) -> Completion:
    return {"type": "ok", "value": value}


def failed(error: str) -> Completion:
    """The operation definitely did not take effect."""
    return {"type": "fail", "error": error}


def unknown(error: str) -> Completion:
    """Nobody knows whether the operation took effect (Jepsen's info)."""
    return {"type": "info", "error": error}


class Client(Protocol):
    """One process's connection: performs ops and says what happened; exceptions are the runner's to catch."""

    def invoke(self, op: dict[str, Any]) -> Completion: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class FinalPhase:
    """Operations after the faults are healed and the cluster settled, with a line for the progress display."""

    description: str
    generator: Generator


class Workload(ABC):
    name: str
    roles: tuple[str, ...]
    """Which nodes (by role) the nemesis draws its shares from."""
    has_final_phase = False
    """True: after healing, the cluster settles for the spec's settle time and `final_phase` runs."""

    @abstractmethod
    def setup(self, spec: TestSpec, deployment: Any) -> str:
        """Prepare the deployed cluster for the run; returns what was prepared, in words."""

    @abstractmethod
    def open_client(self, spec: TestSpec, deployment: Any, process: int) -> Client:
        """A connected client for one process; raising means nothing was sent (the op fails)."""

    @abstractmethod
    def generator(self, spec: TestSpec) -> Generator:
        """The main phase's client operations, unbounded: the runner adds the time limit."""

    @abstractmethod
    def fault_targets(self, spec: TestSpec) -> tuple[str, ...]:
        """The targets the nemesis schedule draws from: shares of `roles`, role holders."""

    def final_phase(self, spec: TestSpec, deployment: Any, history: list[dict[str, Any]],
                    say: Callable[[str], None]) -> FinalPhase:
        """Operations after healing and settling, from what the main phase did (only if `has_final_phase`)."""
        raise NotImplementedError(f"the {self.name} workload has no final phase")

