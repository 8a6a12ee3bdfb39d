"""What differs between running nodes as containers and as processes, behind one interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path

from cluster.deploy.node import Node, NodePlan


class DeployError(RuntimeError):
    """The cluster could not be brought up or taken down; the message says which node and why."""


class Backend(ABC):
    """Gives nodes their addresses and handles, and removes what it created for the run."""

    name: str

    @abstractmethod
    def hosts(self, count: int, ports: Sequence[int] | None = None) -> list[str]:
        """One address per node, reachable from this host, for nodes that listen on fixed ports: `ports`, or else
        those of our brokers and keepers."""

    @abstractmethod
    def proxy_host(self) -> str:
        """Where a proxied run's proxy server listens (after hosts()): an address of this host that the harness and
        every node reach, and that no other run uses."""

    @abstractmethod
    def node_path(self, node_directory: Path, relative: str) -> str:
        """Where a node's processes see `relative` of its directory (a path inside the container for docker)."""

    @abstractmethod
    def create(self, plan: NodePlan, directory: Path, environment: Mapping[str, str] | None = None) -> Node:
        """The node's handle, ready to start; its processes get `environment` on top of their usual one."""

    @abstractmethod
    def release(self) -> None:
        """Remove what the backend created for the run (containers, network); nodes are stopped already."""
