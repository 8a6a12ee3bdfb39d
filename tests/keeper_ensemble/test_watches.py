"""Watches fire once: data, child and exists watches each report the first change and nothing after.

"Nothing after" is checked without sleeping: a server sends one session's
notifications in order, so once a barrier watch set after the later changes
has fired, any second firing would already have arrived.
"""

from __future__ import annotations

import threading
from kazoo.client import KazooClient
from kazoo.protocol.states import EventType, WatchedEvent

from cluster.deploy.keeper_ensemble import KeeperEnsemble
from tests.keeper_ensemble.conftest import Connect

WAIT = 30


class Heard:
    """The events one watch callback received."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def __call__(self, event: WatchedEvent) -> None:
        self.events.append((event.type, event.path))


def after_barrier(watcher: KazooClient, writer: KazooClient, barrier: str) -> None:
    """Returns once the watcher's session has heard a change the writer makes now."""
    fired = threading.Event()
    assert watcher.exists(barrier, watch=lambda event: fired.set()) is None
    writer.create(barrier)
    assert fired.wait(WAIT), f"the barrier watch on {barrier} never fired"


def test_a_data_watch_fires_once(ensemble: KeeperEnsemble, connect: Connect, root: str) -> None:
    watcher, writer = connect(ensemble.nodes[0].address), connect(ensemble.nodes[1].address)
    writer.create(root)
    writer.create(f"{root}/data", b"0")
    watcher.sync(f"{root}/data")
    heard = Heard()
    assert watcher.get(f"{root}/data", watch=heard)[0] == b"0"
    writer.set(f"{root}/data", b"1")
    writer.set(f"{root}/data", b"2")
    writer.delete(f"{root}/data")
    after_barrier(watcher, writer, f"{root}/barrier")
    assert heard.events == [(EventType.CHANGED, f"{root}/data")]


def test_a_data_watch_reports_deletion(ensemble: KeeperEnsemble, connect: Connect, root: str) -> None:
    watcher, writer = connect(ensemble.nodes[0].address), connect(ensemble.nodes[1].address)
    writer.create(root)
    writer.create(f"{root}/doomed")
    watcher.sync(f"{root}/doomed")
    heard = Heard()
    watcher.get(f"{root}/doomed", watch=heard)
    writer.delete(f"{root}/doomed")
    writer.create(f"{root}/doomed")
    after_barrier(watcher, writer, f"{root}/barrier")
    assert heard.events == [(EventType.DELETED, f"{root}/doomed")]


def test_a_child_watch_fires_once(ensemble: KeeperEnsemble, connect: Connect, root: str) -> None:
    watcher, writer = connect(ensemble.nodes[2].address), connect(ensemble.nodes[0].address)
    writer.create(root)
    writer.create(f"{root}/parent")
    watcher.sync(f"{root}/parent")
    heard = Heard()
    assert watcher.get_children(f"{root}/parent", watch=heard) == []
    writer.create(f"{root}/parent/a")
    writer.create(f"{root}/parent/b")
    writer.delete(f"{root}/parent/a")
    writer.set(f"{root}/parent", b"data changes are not child changes")
    after_barrier(watcher, writer, f"{root}/barrier")
    assert heard.events == [(EventType.CHILD, f"{root}/parent")]


def test_a_child_watch_ignores_data_changes(ensemble: KeeperEnsemble, connect: Connect, root: str) -> None:
    watcher, writer = connect(ensemble.nodes[2].address), connect(ensemble.nodes[0].address)
    writer.create(root)
    writer.create(f"{root}/parent")
    watcher.sync(f"{root}/parent")
    heard = Heard()
    watcher.get_children(f"{root}/parent", watch=heard)
    writer.set(f"{root}/parent", b"new data")
    after_barrier(watcher, writer, f"{root}/barrier")
    assert heard.events == []


def test_an_exists_watch_on_a_missing_node_fires_once_on_creation(ensemble: KeeperEnsemble, connect: Connect, root: str) -> None:
    watcher, writer = connect(ensemble.nodes[1].address), connect(ensemble.nodes[2].address)
    writer.create(root)
    watcher.sync(root)
    heard = Heard()
    assert watcher.exists(f"{root}/later", watch=heard) is None
    writer.create(f"{root}/later")
    writer.set(f"{root}/later", b"changed")
    writer.delete(f"{root}/later")
    after_barrier(watcher, writer, f"{root}/barrier")
    assert heard.events == [(EventType.CREATED, f"{root}/later")]


def test_a_watch_set_again_fires_again(ensemble: KeeperEnsemble, connect: Connect, root: str) -> None:
    watcher, writer = connect(ensemble.nodes[1].address), connect(ensemble.nodes[0].address)
    writer.create(root, b"0")
    watcher.sync(root)
    heard = Heard()
    for value in (b"1", b"2"):
        watcher.get(root, watch=heard)
        writer.set(root, value)
        after_barrier(watcher, writer, f"{root}/barrier-{value.decode()}")
    assert heard.events == [(EventType.CHANGED, root), (EventType.CHANGED, root)]
