"""Process faults through the node handles, so they work on containers and local processes alike.

- kill: start-kill sends SIGKILL, stop-kill starts the nodes again (a crash and a recovery);
- pause: SIGSTOP or docker pause, undone by SIGCONT or unpause (a node that hangs, sockets open);
- restart: start-restart stops the nodes gracefully (SIGTERM), stop-restart starts them again.

Every fault of the start-X/stop-X pair holds its nodes until stopped; nodes held by one process
fault are not chosen by another, so that a paused node is never also killed half-way.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from operator import methodcaller
from typing import Any

from cluster.deploy.node import NodeError
from harness.seams import Deployment, Nemesis, Node
from nemesis.base import NemesisError
from nemesis.targets import ROLE_HOLDERS, Locator, choose_share, share_of


@dataclass(frozen=True)
class Action:
    """One side of a fault: what is done to each node and what the history calls it."""

    name: str
    apply: Callable[[Node], None]


@dataclass(frozen=True)
class FaultKind:
    name: str
    start: Action
    stop: Action


def kinds(stop_timeout: float) -> dict[str, FaultKind]:
    return {
        "kill": FaultKind("kill", Action("SIGKILL", methodcaller("kill")), Action("start", methodcaller("start"))),
        "pause": FaultKind("pause", Action("pause", methodcaller("pause")), Action("resume", methodcaller("resume"))),
        "restart": FaultKind("restart", Action("SIGTERM", methodcaller("stop", stop_timeout)),
                             Action("start", methodcaller("start"))),
    }


FAULTS = ("kill", "pause", "restart")


class Claims:
    """Which node is held by which process fault, shared by all of them."""

    def __init__(self) -> None:
        self.holder: dict[str, str] = {}

    def free(self, nodes: list[Node]) -> list[Node]:
        return [node for node in nodes if node.name not in self.holder]


class ProcessFault(Nemesis):
    """One process fault kind (kill, pause or restart) with its targets, history values and heal."""

    def __init__(self, kind: FaultKind, deployment: Deployment, options: dict[str, Any], claims: Claims) -> None:
        self.kind = kind
        self.fs = frozenset({f"start-{kind.name}", f"stop-{kind.name}"})
        self.deployment = deployment
        self.rng: random.Random = options.get("rng") or random.Random(options.get("seed"))
        self.roles: tuple[str, ...] = tuple(options.get("roles", ("broker",)))
        self.heal_timeout = float(options.get("heal_timeout", 60))
        self.locator = Locator(deployment, options)
        self.claims = claims
        self.held: list[Node] = []

    def invoke(self, f: str, value: Any) -> dict[str, Any]:
        if f == f"start-{self.kind.name}":
            return self._start(value)
        if f == f"stop-{self.kind.name}":
            return self._stop()
        raise NemesisError(f"{self.kind.name} does not handle {f!r}")

    def heal(self) -> list[dict[str, Any]]:
        if not self.held:
            return []
        undone = self._stop()
        for node in self.deployment.nodes:
            if node.name in undone["nodes"]:
                try:
                    node.wait_serving(self.heal_timeout)
                except NodeError as error:
                    raise NemesisError(f"{self.kind.name} undone on {', '.join(undone['nodes'])}, "
                                       f"but {node.name} does not serve again: {error}") from error
        return [{"fault": self.kind.name, **undone}]

    def active(self) -> list[str]:
        return [f"{self.kind.name} {','.join(node.name for node in self.held)}"] if self.held else []

    def targets(self, value: Any) -> list[Node]:
        """value: a share ("one", "minority", "majority", "all"), a role group ("all-brokers", "all-keepers"), a
        role holder, a node's name, or a list of node names."""
        if isinstance(value, list):
            return [self._free(self.deployment.node(name)) for name in value]
        if any(node.name == value for node in self.deployment.nodes):
            return [self._free(self.deployment.node(value))]
        if value in ROLE_HOLDERS:
            return [self._free(self.locator.find(value))]
        share, pool = share_of(value, self.deployment.nodes, self.roles)
        return choose_share(share, pool, self.claims.free(pool), self.rng)

    def _free(self, node: Node) -> Node:
        holder = self.claims.holder.get(node.name)
        if holder is not None:
            raise NemesisError(f"{node.name} is already held by the {holder} fault")
        return node

    def _start(self, value: Any) -> dict[str, Any]:
        if self.held:
            raise NemesisError(f"{self.kind.name} is already active on {', '.join(n.name for n in self.held)}")
        nodes = self.targets(value)
        for node in nodes:
            self._start_on(node)
        return {"nodes": [node.name for node in nodes], "action": self.kind.start.name}

    def _start_on(self, node: Node) -> None:
        """The fault's start action on one node, which it then holds (once, however often it is started)."""
        self._do(self.kind.start, node, [n.name for n in self.held])
        if node not in self.held:
            self.held.append(node)
            self.claims.holder[node.name] = self.kind.name

    def _stop(self) -> dict[str, Any]:
        undone: list[str] = []
        for node in list(self.held):
            self._do(self.kind.stop, node, undone)
            self.held.remove(node)
            del self.claims.holder[node.name]
            undone.append(node.name)
        return {"nodes": undone, "action": self.kind.stop.name}

    def _do(self, action: Action, node: Node, done: list[str]) -> None:
        try:
            action.apply(node)
        except Exception as error:
            so_far = f" (already done: {', '.join(done)})" if done else ""
            raise NemesisError(f"{action.name} of {node.name} failed: {error}{so_far}") from error
