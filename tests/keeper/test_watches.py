"""One-shot watches fire exactly as ZooKeeper fires them, once each, and setWatches catches up."""

from __future__ import annotations

import pytest

from cluster.keeper.jute.codes import EventType
from cluster.keeper.requests import CloseSession, Create, Delete, Multi, SetData
from tests.keeper.test_tree import Keeper

W, V = "watcher-w", "watcher-v"


class SessionKeeper(Keeper):
    """A keeper with one session already open, the one every write here comes from."""

    def __init__(self) -> None:
        super().__init__()
        self.sid = self.session()


@pytest.fixture
def keeper() -> SessionKeeper:
    keeper = SessionKeeper()
    keeper.write(Create("/p"), keeper.sid)
    keeper.write(Create("/p/c", b"v"), keeper.sid)
    return keeper


def events(keeper: SessionKeeper) -> list[tuple[str, EventType, str]]:
    fired = [(str(watcher), change.type, change.path) for watcher, change in keeper.notifications]
    keeper.notifications.clear()
    return fired


def test_data_watch_fires_once_on_change(keeper: SessionKeeper) -> None:
    keeper.reader.get_data("/p/c", W)
    keeper.write(SetData("/p/c", b"1"), keeper.sid)
    keeper.write(SetData("/p/c", b"2"), keeper.sid)
    assert events(keeper) == [(W, EventType.NODE_DATA_CHANGED, "/p/c")]


def test_exists_on_a_missing_node_watches_for_its_creation(keeper: SessionKeeper) -> None:
    keeper.reader.exists("/p/new", W)
    keeper.write(Create("/p/new"), keeper.sid)
    assert events(keeper) == [(W, EventType.NODE_CREATED, "/p/new")]


def test_reads_of_a_missing_node_leave_no_watch(keeper: SessionKeeper) -> None:
    for read in (keeper.reader.get_data, keeper.reader.get_children):
        with pytest.raises(Exception):
            read("/p/new", W)
    keeper.write(Create("/p/new"), keeper.sid)
    assert events(keeper) == []


def test_delete_fires_the_nodes_watches_once_and_the_parents_child_watch(keeper: SessionKeeper) -> None:
    keeper.reader.get_data("/p/c", W)
    keeper.reader.get_children("/p/c", W)
    keeper.reader.get_children("/p/c", V)
    keeper.reader.get_children("/p", V)
    keeper.reader.get_data("/p", V)
    keeper.write(Delete("/p/c"), keeper.sid)
    assert events(keeper) == [
        (W, EventType.NODE_DELETED, "/p/c"),
        (V, EventType.NODE_DELETED, "/p/c"),
        (V, EventType.NODE_CHILDREN_CHANGED, "/p"),
    ]


def test_create_fires_the_parents_child_watch_not_its_data_watch(keeper: SessionKeeper) -> None:
    keeper.reader.get_children("/p", W)
    keeper.reader.get_data("/p", V)
    keeper.write(Create("/p/d"), keeper.sid)
    assert events(keeper) == [(W, EventType.NODE_CHILDREN_CHANGED, "/p")]


def test_a_multi_fires_in_op_order_and_a_failed_multi_fires_nothing(keeper: SessionKeeper) -> None:
    keeper.reader.exists("/p/m", W)
    keeper.reader.get_children("/p", V)
    keeper.write(Multi((Create("/p/m"), Create("/p/c"))), keeper.sid)
    assert events(keeper) == []
    keeper.write(Multi((Create("/p/m"), SetData("/p/m", b"x"))), keeper.sid)
    assert events(keeper) == [(W, EventType.NODE_CREATED, "/p/m"), (V, EventType.NODE_CHILDREN_CHANGED, "/p")]


def test_session_close_fires_deletes_of_its_ephemerals(keeper: SessionKeeper) -> None:
    owner = keeper.session()
    keeper.write(Create("/p/e", ephemeral=True), owner)
    keeper.reader.exists("/p/e", W)
    keeper.write(CloseSession(), owner)
    assert events(keeper) == [(W, EventType.NODE_DELETED, "/p/e")]


def test_forgotten_watchers_hear_nothing(keeper: SessionKeeper) -> None:
    keeper.reader.get_data("/p/c", W)
    keeper.reader.get_children("/p", W)
    keeper.watches.forget(W)
    keeper.write(Delete("/p/c"), keeper.sid)
    assert events(keeper) == []


def test_set_watches_fires_what_changed_after_the_clients_zxid_and_rearms_the_rest(keeper: SessionKeeper) -> None:
    keeper.write(Create("/p/old"), keeper.sid)
    seen = keeper.replica.last_zxid
    keeper.write(SetData("/p/c", b"new"), keeper.sid)
    keeper.write(Create("/p/born"), keeper.sid)
    fired = keeper.watches.reregister(
        keeper.replica.tree, seen, W,
        data_paths=["/p/c", "/p/old", "/p/gone"], exist_paths=["/p/born", "/p/later"], child_paths=["/p", "/p/old", "/x"],
    )
    assert [(c.type, c.path) for _, c in fired] == [
        (EventType.NODE_DATA_CHANGED, "/p/c"),
        (EventType.NODE_DELETED, "/p/gone"),
        (EventType.NODE_CREATED, "/p/born"),
        (EventType.NODE_CHILDREN_CHANGED, "/p"),
        (EventType.NODE_DELETED, "/x"),
    ]
    keeper.write(Create("/p/later"), keeper.sid)
    keeper.write(Create("/p/old/kid"), keeper.sid)
    keeper.write(SetData("/p/old", b"1"), keeper.sid)
    assert events(keeper) == [
        (W, EventType.NODE_CREATED, "/p/later"),
        (W, EventType.NODE_CHILDREN_CHANGED, "/p/old"),
        (W, EventType.NODE_DATA_CHANGED, "/p/old"),
    ]
