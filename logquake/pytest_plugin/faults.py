"""The nemesis a plugin test holds: every fault logquake has, as a context manager that starts it and stops it.

`with cluster.nemesis.kill("partition-leader", topic="t", partition=0): ...` starts the fault,
runs the block, and stops the fault on the way out however the block ends, then waits until the
nodes it touched serve again. Each fault is a nemesis built for that one call (nemesis.build), so
that its options (which topic's leader, which latency) are the call's own; faults held at the same
time must hit different nodes, which is checked once each has chosen its nodes. When the test
records a history, every start and stop goes into it as ops of process "nemesis", as in a run, so
the checkers and the timeline see the faults.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import nemesis
from harness.history import Event
from harness.seams import Deployment, Nemesis
from harness.spec import SpecError
from nemesis.base import NemesisError

Recorder = Callable[[str, str, Any, str | None], Event]
"""(type, f, value, error): appends one nemesis event to the test's history."""

BUILD_OPTIONS = ("topic", "partition", "stop_timeout", "heal_timeout", "lookup_timeout", "isolation_time",
                 "election_timeout")
"""Keyword options that tune the nemesis itself (nemesis.build); any other keyword is a nemesis option
(`fsync_delay_ms=100` is the run's `--nemesis-option fsync-delay-ms=100`)."""


class FaultError(RuntimeError):
    """A fault the cluster was not deployed for, or one whose nodes another active fault already holds."""


@dataclass
class Held:
    """A fault started and not yet stopped: its name, its nemesis, the nodes its start chose."""

    name: str
    injector: Nemesis
    nodes: list[str] = field(default_factory=list)


class ClusterNemesis:
    """Faults of one test's cluster; `heal()` undoes whatever is still active (teardown calls it)."""

    def __init__(self, deployment: Deployment, declared: tuple[str, ...], roles: tuple[str, ...],
                 overrides: dict[str, str], seed: int, defaults: dict[str, str] | None = None) -> None:
        self.deployment = deployment
        self.declared = declared
        self.defaults = defaults or {}
        """The marker's nemesis options: each applies to calls of the faults it belongs to, unless a call sets it."""
        self.roles = roles
        self.overrides = overrides
        self.rng = random.Random(seed)
        self.recorder: Recorder | None = None
        self._held: list[Held] = []

    def kill(self, target: Any = "one", **options: Any) -> AbstractContextManager[Any]:
        """SIGKILL the targets; start them again on exit."""
        return self.fault("kill", target, **options)

    def pause(self, target: Any = "one", **options: Any) -> AbstractContextManager[Any]:
        """SIGSTOP (or docker pause) the targets; resume them on exit."""
        return self.fault("pause", target, **options)

    def restart(self, target: Any = "one", **options: Any) -> AbstractContextManager[Any]:
        """Stop the targets gracefully (SIGTERM); start them again on exit."""
        return self.fault("restart", target, **options)

    def partition(self, target: Any = "one", **options: Any) -> AbstractContextManager[Any]:
        """Cut the targets off (a share, a role, node names), or a shape or grudge ("majorities-ring", "b1:b2+b3");
        reconnect on exit."""
        return self.fault("partition", target, **options)

    def isolate_leader(self, topic: str, partition: int = 0, **options: Any) -> AbstractContextManager[Any]:
        """Pause the partition's in-sync followers, kill its leader, wait for a follower's election; start the old
        leader again on exit."""
        return self.fault("isolate-leader", None, topic=topic, partition=partition, **options)

    @contextmanager
    def fault(self, name: str, target: Any = "one", **options: Any) -> Iterator[Any]:
        """Any fault of nemesis.FAULTS (disk, proxy, packet, clock faults included, once declared in the marker's
        `faults`); yields what the start did (e.g. {"nodes": ["b2"], ...})."""
        held = Held(name, self._build(name, options))
        self._held.append(held)
        try:
            done = self._record(held.injector, f"start-{name}", target)
            held.nodes = [str(node) for node in done.get("nodes", [])] if isinstance(done, dict) else []
            self._refuse_shared_nodes(held)
        except BaseException:
            self._heal(held)
            raise
        try:
            yield done
        finally:
            self._record(held.injector, f"stop-{name}", None)
            self._held.remove(held)
            for node in held.nodes:
                self.deployment.node(node).wait_serving(float(options.get("heal_timeout", 60)))

    def heal(self) -> list[str]:
        """Undoes every fault still active (one whose stop failed, or whose block a second interrupt cut short),
        newest first, waiting until its nodes serve again; every one is tried even when one fails."""
        errors, healed = [], []
        for held in reversed(list(self._held)):
            try:
                self._heal(held)
                healed.append(held.name)
            except Exception as error:
                errors.append(f"{held.name}: {error}")
        if errors:
            raise NemesisError("healing failed: " + "; ".join(errors))
        return healed

    def active(self) -> list[str]:
        return [fault for held in self._held for fault in held.injector.active()]

    def _heal(self, held: Held) -> None:
        try:
            self._record(held.injector, "heal", None, held.injector.heal)
        finally:
            self._held.remove(held)

    def _build(self, name: str, options: dict[str, Any]) -> Nemesis:
        if name not in nemesis.FAULTS:
            raise FaultError(f"unknown fault {name!r}: choose from {', '.join(nemesis.FAULTS)}")
        special = (nemesis.needs_fault_disks([name]) or nemesis.needs_proxies([name])
                   or nemesis.needs_clocks([name]))
        if special and name not in self.declared:
            raise FaultError(f"{name} needs a cluster deployed for it: declare it in the marker, "
                             f"@pytest.mark.logquake_cluster(faults=[..., {name!r}])")
        tuning = {key: value for key, value in options.items() if key in BUILD_OPTIONS}
        nemesis_options = {key: value for key, value in self.defaults.items() if _option_of(key, name)}
        nemesis_options.update({key.replace("_", "-"): str(value) for key, value in options.items()
                                if key not in BUILD_OPTIONS})
        try:
            nemesis.check_run([name], nemesis_options, self.overrides)
        except SpecError as error:
            raise FaultError(str(error)) from None
        return nemesis.build([name], self.deployment, {"rng": self.rng, "roles": self.roles, **tuning,
                                                       "nemesis_options": nemesis_options})

    def _record(self, injector: Nemesis, f: str, value: Any, action: Callable[[], Any] | None = None) -> Any:
        """Performs op f (or `action` under its name), with its invoke and completion in the history when there
        is one."""
        if self.recorder is not None:
            self.recorder("invoke", f, value, None)
        try:
            done = action() if action is not None else injector.invoke(f, value)
        except Exception as error:
            if self.recorder is not None:  # a fault may fail half-way: what it did is unknown
                self.recorder("info", f, None, f"{type(error).__name__}: {error}")
            raise
        if self.recorder is not None:
            self.recorder("ok", f, done, None)
        return done

    def _refuse_shared_nodes(self, held: Held) -> None:
        others = {node: other.name for other in self._held if other is not held for node in other.nodes}
        shared = sorted(node for node in held.nodes if node in others)
        if shared:
            raise FaultError(f"{held.name} chose {', '.join(shared)}, already held by the "
                             f"{', '.join(sorted({others[node] for node in shared}))} fault: aim it at other nodes")


def _option_of(key: str, fault: str) -> bool:
    return any(key in family and fault in family[key].faults for family in nemesis.OPTION_FAMILIES)
