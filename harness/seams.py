"""The seams of a run: what the runner, workloads and nemeses need of a deployment, its nodes, a nemesis and a client.

They are Protocols, so any system under test fits that offers them: today's broker and keeper
clusters on containers or processes (cluster.deploy), tomorrow another system's nodes. A client's
answer to one operation is a Completion; `ok`, `failed` and `unknown` say which of Jepsen's three
outcomes it is, and the difference between the last two is the whole point of the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from cluster.clock import ClockControl
    from cluster.deploy.proxy_server import ProxyServer
    from cluster.faultfs import DiskControl
    from cluster.packets.handling import PacketFault

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
    """One process's connection: performs ops and says what happened; exceptions are the interpreter's to catch."""

    def invoke(self, op: dict[str, Any]) -> Completion: ...

    def close(self) -> None: ...


class Node(Protocol):
    """One node of a deployment, as faults act on it: a process that can be crashed, hung, cut off, whose disk can
    fail (through `disk`, when the deployment put its data directory on a fault filesystem) and whose wall clock can
    be set wrong (through `clock`, when the deployment preloads the clock shift)."""

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def node_id(self) -> int: ...

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...

    cannot_partition: str | None
    """Why this node cannot be cut off from its peers, or None when it can."""

    disk: DiskControl | None
    """The fault filesystem under its data directory, or None when the deployment mounted none."""

    clock: ClockControl | None
    """Its processes' wall clock, or None when the deployment does not shift clocks."""

    @property
    def data_directory(self) -> Path:
        """Where the node keeps its data, as this host sees it (through the fault filesystem when there is one)."""
        ...

    def start(self) -> None: ...

    def stop(self, timeout: float = 30) -> None: ...

    def kill(self) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def is_running(self) -> bool: ...

    def is_paused(self) -> bool: ...

    def drop_packets(self, inbound_from: Sequence[Node] = (), outbound_to: Sequence[Node] = ()) -> None:
        """Drop packets this node receives from `inbound_from` and sends to `outbound_to` until reconnect()."""
        ...

    def reconnect(self) -> None: ...

    @property
    def cannot_fault_packets(self) -> str | None:
        """Why this node's packets cannot be dropped or handled, or None when they can."""
        ...

    def lose_packets(self, peers: Sequence[Node], direction: str, probability: float) -> None:
        """Drop a share of the packets this node receives from peers, sends to them, or both (direction)."""
        ...

    def mangle_packets(self, peers: Sequence[Node], direction: str, fault: PacketFault, seed: int) -> None:
        """Pass those packets through a packet handler (delay, duplicate, reorder, corrupt)."""
        ...

    def restore_packets(self) -> None: ...

    def wait_serving(self, timeout: float = 60) -> None: ...


class Deployment(Protocol):
    """A cluster brought up for one run: where clients connect, its nodes, and its teardown."""

    @property
    def backend(self) -> str: ...

    @property
    def nodes(self) -> Sequence[Node]: ...

    @property
    def brokers(self) -> Sequence[Node]: ...

    @property
    def keepers(self) -> Sequence[Node]: ...

    @property
    def bootstrap_servers(self) -> str: ...

    @property
    def keeper_connect(self) -> str: ...

    proxies: ProxyServer | None
    """The proxy server every node is reached through, when the deployment is proxied (the proxy faults' tool)."""

    def node(self, name: str) -> Node: ...

    def up(self, timeout: float = 90) -> Deployment: ...

    def down(self, logs_to: Path | None = None) -> None: ...


class Nemesis(Protocol):
    """The fault injector: performs the nemesis process's ops, heals everything, and says what is active."""

    fs: frozenset[str]
    """The op names ("start-kill", "stop-kill", ...) it handles."""

    def invoke(self, f: str, value: Any) -> Any:
        """Do what op f asks with target value; returns what was done (the ok op's value)."""
        ...

    def heal(self) -> list[dict[str, Any]]:
        """Undo every active fault, waiting until the nodes serve again; returns what was undone."""
        ...

    def active(self) -> list[str]:
        """Active faults in a few words each, e.g. "kill b2"."""
        ...
