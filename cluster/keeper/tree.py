"""The znode tree: data, children and ZooKeeper's stat fields, changed only by applied txns.

Every mutator takes the zxid and time of the txn that causes it, so replicas
applying the same txns end with identical trees, stats included. Mutators
trust their caller (the prepare step validated the request against the same
state); they report the watch events their change triggers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from cluster.keeper.jute.codes import EventType
from cluster.keeper.paths import ROOT, name_of, parent_of


@dataclass(frozen=True)
class Stat:
    """ZooKeeper's Stat, field for field, in jute order."""

    czxid: int
    mzxid: int
    ctime: int
    mtime: int
    version: int
    cversion: int
    aversion: int
    ephemeral_owner: int
    data_length: int
    num_children: int
    pzxid: int


@dataclass(frozen=True)
class Change:
    """One watch trigger caused by a txn: what happened to which path."""

    type: EventType
    path: str


@dataclass
class Znode:
    data: bytes = b""
    czxid: int = 0
    mzxid: int = 0
    ctime: int = 0
    mtime: int = 0
    version: int = 0
    cversion: int = 0
    aversion: int = 0
    ephemeral_owner: int = 0
    pzxid: int = 0
    sequence: int = 0
    """The next sequential child's number: ZooKeeper counts creates under the parent, not deletes,
    so it drifts from cversion (which counts both) once a child is deleted."""
    children: set[str] = field(default_factory=set)

    def stat(self) -> Stat:
        return Stat(
            self.czxid, self.mzxid, self.ctime, self.mtime, self.version, self.cversion,
            self.aversion, self.ephemeral_owner, len(self.data), len(self.children), self.pzxid,
        )


def _initial_nodes() -> dict[str, Znode]:
    """The nodes a fresh ZooKeeper 3.8 server already has, with the stats it reports for them."""
    return {
        ROOT: Znode(cversion=-1, children={"zookeeper"}),
        "/zookeeper": Znode(cversion=-2, children={"quota", "config"}),
        "/zookeeper/quota": Znode(),
        "/zookeeper/config": Znode(aversion=-1),
    }


class DataTree:
    def __init__(self, nodes: dict[str, Znode] | None = None) -> None:
        self._nodes = _initial_nodes() if nodes is None else nodes
        self._ephemerals: dict[int, set[str]] = {}
        for path, node in self._nodes.items():
            if node.ephemeral_owner:
                self._ephemerals.setdefault(node.ephemeral_owner, set()).add(path)

    def get(self, path: str) -> Znode | None:
        return self._nodes.get(path)

    def ephemerals(self, owner: int) -> list[str]:
        return sorted(self._ephemerals.get(owner, ()))

    def __len__(self) -> int:
        return len(self._nodes)

    def ephemeral_count(self) -> int:
        return sum(len(paths) for paths in self._ephemerals.values())

    def approximate_data_size(self) -> int:
        """ZooKeeper's zk_approximate_data_size: path and data bytes of every node."""
        return sum(len(path) + len(node.data) for path, node in self._nodes.items())

    def items(self) -> Iterator[tuple[str, Znode]]:
        """Every node, in path order: the canonical order for snapshots and comparisons."""
        for path in sorted(self._nodes):
            yield path, self._nodes[path]

    def create(self, path: str, data: bytes, ephemeral_owner: int, zxid: int, time_ms: int) -> list[Change]:
        parent_path = parent_of(path)
        parent = self._nodes[parent_path]
        if path in self._nodes:
            raise ValueError(f"txn {zxid} creates existing node {path}")
        self._nodes[path] = Znode(
            data=data, czxid=zxid, mzxid=zxid, ctime=time_ms, mtime=time_ms,
            ephemeral_owner=ephemeral_owner, pzxid=zxid,
        )
        if ephemeral_owner:
            self._ephemerals.setdefault(ephemeral_owner, set()).add(path)
        self._children_changed(parent, zxid)
        parent.sequence += 1
        parent.children.add(name_of(path))
        return [Change(EventType.NODE_CREATED, path), Change(EventType.NODE_CHILDREN_CHANGED, parent_path)]

    def delete(self, path: str, zxid: int) -> list[Change]:
        node = self._nodes.pop(path)
        if node.children:
            raise ValueError(f"txn {zxid} deletes {path}, which has children")
        if node.ephemeral_owner:
            owned = self._ephemerals[node.ephemeral_owner]
            owned.discard(path)
            if not owned:
                del self._ephemerals[node.ephemeral_owner]
        parent_path = parent_of(path)
        parent = self._nodes[parent_path]
        parent.children.discard(name_of(path))
        self._children_changed(parent, zxid)
        return [Change(EventType.NODE_DELETED, path), Change(EventType.NODE_CHILDREN_CHANGED, parent_path)]

    def set_data(self, path: str, data: bytes, zxid: int, time_ms: int) -> list[Change]:
        node = self._nodes[path]
        node.data = data
        node.version += 1
        node.mzxid = zxid
        node.mtime = time_ms
        return [Change(EventType.NODE_DATA_CHANGED, path)]

    @staticmethod
    def _children_changed(parent: Znode, zxid: int) -> None:
        """ZooKeeper counts creates and deletes alike in cversion; pzxid is the last such zxid."""
        parent.cversion += 1
        parent.pzxid = zxid

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DataTree) and self._nodes == other._nodes


