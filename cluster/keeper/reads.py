"""Reads served by whichever server a client is connected to, from its applied state.

A read carries the replica's last applied zxid (ZooKeeper's reply header) and
may leave a watch in that server's WatchManager. Like ZooKeeper, exists leaves
its watch even when the node is missing (to hear NodeCreated); getData and
getChildren leave none on a missing node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable

from cluster.keeper.errors import ErrorCode, KeeperError
from cluster.keeper.paths import validate_path
from cluster.keeper.replica import Replica
from cluster.keeper.tree import Stat, Znode
from cluster.keeper.watches import WatchManager


@dataclass(frozen=True)
class DataRead:
    zxid: int
    data: bytes
    stat: Stat


@dataclass(frozen=True)
class StatRead:
    zxid: int
    stat: Stat | None
    """None: the node does not exist (exists answers, it does not fail)."""


@dataclass(frozen=True)
class ChildrenRead:
    zxid: int
    children: list[str]
    """Names, sorted: ZooKeeper promises no order, sorting makes replicas agree."""
    stat: Stat


class Reader:
    def __init__(self, replica: Replica, watches: WatchManager) -> None:
        self._replica = replica
        self._watches = watches

    @property
    def last_zxid(self) -> int:
        """The zxid a reply carries: the last txn this replica applied."""
        return self._replica.last_zxid

    def get_data(self, path: str, watcher: Hashable | None = None) -> DataRead:
        node = self._existing(path)
        if watcher is not None:
            self._watches.watch_data(path, watcher)
        return DataRead(self._replica.last_zxid, node.data, node.stat())

    def exists(self, path: str, watcher: Hashable | None = None) -> StatRead:
        validate_path(path)
        if watcher is not None:
            self._watches.watch_data(path, watcher)
        node = self._replica.tree.get(path)
        return StatRead(self._replica.last_zxid, None if node is None else node.stat())

    def get_children(self, path: str, watcher: Hashable | None = None) -> ChildrenRead:
        node = self._existing(path)
        if watcher is not None:
            self._watches.watch_children(path, watcher)
        return ChildrenRead(self._replica.last_zxid, sorted(node.children), node.stat())

    def _existing(self, path: str) -> Znode:
        validate_path(path)
        node = self._replica.tree.get(path)
        if node is None:
            raise KeeperError(ErrorCode.NONODE, path)
        return node
