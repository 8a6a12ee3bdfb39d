"""One-shot watches, local to the server a client is connected to, fired by applied txns.

As in ZooKeeper's WatchManager there are two tables: data watches (set by
getData, and by exists whether or not the node exists) and child watches (set
by getChildren). Each watch fires at most once, then is gone; a watcher that
holds both watches on a deleted node hears one NodeDeleted.
"""

from __future__ import annotations

from typing import Hashable, Iterable

from cluster.keeper.tree import Change, DataTree, EventType

Notification = tuple[Hashable, Change]
"""A watcher (a session or a connection, as the server chooses) and the event it must hear."""


class WatchManager:
    def __init__(self) -> None:
        self._data: dict[str, dict[Hashable, None]] = {}
        self._child: dict[str, dict[Hashable, None]] = {}

    def __len__(self) -> int:
        """Watches set and not yet fired, as ZooKeeper's zk_watch_count counts them."""
        return sum(len(watchers) for table in (self._data, self._child) for watchers in table.values())

    def watch_data(self, path: str, watcher: Hashable) -> None:
        self._data.setdefault(path, {})[watcher] = None

    def watch_children(self, path: str, watcher: Hashable) -> None:
        self._child.setdefault(path, {})[watcher] = None

    def trigger(self, changes: Iterable[Change]) -> list[Notification]:
        """The notifications an applied txn's changes cause, in change order; the fired watches are spent."""
        notifications: list[Notification] = []
        for change in changes:
            watchers: dict[Hashable, None] = {}
            if change.type is not EventType.NODE_CHILDREN_CHANGED:
                watchers.update(self._data.pop(change.path, {}))
            if change.type in (EventType.NODE_CHILDREN_CHANGED, EventType.NODE_DELETED):
                watchers.update(self._child.pop(change.path, {}))
            notifications += [(watcher, change) for watcher in watchers]
        return notifications

    def forget(self, watcher: Hashable) -> None:
        """The watcher's session closed or its connection went away."""
        for table in (self._data, self._child):
            for path in [p for p, watchers in table.items() if watcher in watchers]:
                del table[path][watcher]
                if not table[path]:
                    del table[path]

    def reregister(
        self,
        tree: DataTree,
        relative_zxid: int,
        watcher: Hashable,
        data_paths: Iterable[str] = (),
        exist_paths: Iterable[str] = (),
        child_paths: Iterable[str] = (),
    ) -> list[Notification]:
        """ZooKeeper's setWatches after a reconnect: what changed after the client's last seen zxid fires now.

        A data watch fires NodeDeleted if the node is gone, NodeDataChanged if it
        changed after `relative_zxid`; an exist watch fires NodeCreated if the node
        now exists; a child watch fires NodeDeleted or NodeChildrenChanged (by
        pzxid). Every other watch is registered again.
        """
        fired: list[Change] = []
        for path in data_paths:
            node = tree.get(path)
            if node is None:
                fired.append(Change(EventType.NODE_DELETED, path))
            elif node.mzxid > relative_zxid:
                fired.append(Change(EventType.NODE_DATA_CHANGED, path))
            else:
                self.watch_data(path, watcher)
        for path in exist_paths:
            if tree.get(path) is not None:
                fired.append(Change(EventType.NODE_CREATED, path))
            else:
                self.watch_data(path, watcher)
        for path in child_paths:
            node = tree.get(path)
            if node is None:
                fired.append(Change(EventType.NODE_DELETED, path))
            elif node.pzxid > relative_zxid:
                fired.append(Change(EventType.NODE_CHILDREN_CHANGED, path))
            else:
                self.watch_children(path, watcher)
        return [(watcher, change) for change in fired]
