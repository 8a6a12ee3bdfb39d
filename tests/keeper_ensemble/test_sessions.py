"""Sessions: ephemerals go when a session expires, and a session outlives the loss of the leader."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Callable

from kazoo.client import KazooClient
from kazoo.protocol.states import EventType, KazooState, WatchedEvent

from cluster.deploy.keeper_ensemble import HOST, KeeperEnsemble
from tests.keeper_ensemble.conftest import Connect
from tests.keeper_ensemble.relay import Relay
from tests.keeper_ensemble.raw_jute import (
    EXISTS, GET_DATA, NO_NODE, NODE_CREATED, NODE_DATA_CHANGED, NOTIFICATION_XID, SET_WATCHES, SET_WATCHES_XID,
    Reply, handshake, notification_path, read_reply, request, strings, ustring,
)

WAIT = 60
SHORT_SESSION = 4.0
"""Seconds; the shortest session both kinds grant with tickTime=2000 (2 ticks)."""


class States:
    """Connection states one kazoo client went through, with a way to wait for the next one of a kind."""

    def __init__(self, client: KazooClient) -> None:
        self.seen: list[str] = []
        self._changed = threading.Condition()
        client.add_listener(self._listen)

    def _listen(self, state: str) -> None:
        with self._changed:
            self.seen.append(state)
            self._changed.notify_all()

    def wait_for(self, state: str) -> None:
        """Waits until `state` has been seen."""
        self._wait(lambda: state in self.seen, f"never reached {state}")

    def wait_until_in(self, state: str) -> None:
        """Waits until `state` is the latest state."""
        self._wait(lambda: self.seen[-1:] == [state], f"not {state} now")

    def _wait(self, predicate: Callable[[], bool], failure: str) -> None:
        with self._changed:
            reached = self._changed.wait_for(predicate, timeout=WAIT)
        assert reached, f"{failure}; states were {self.seen}"


def test_an_expired_sessions_ephemerals_are_deleted(ensemble: KeeperEnsemble, connect: Connect, root: str) -> None:
    observer = connect(ensemble.connect_string)
    observer.create(root)
    with Relay(ensemble.nodes[0].address) as relay:
        owner = connect(relay.address, timeout=SHORT_SESSION)
        states = States(owner)
        owner.create(f"{root}/ephemeral", b"mine", ephemeral=True)
        owner.create(f"{root}/sequential-", ephemeral=True, sequence=True)
        owner.create(f"{root}/persistent")
        observer.sync(root)
        deleted = threading.Event()

        def heard(event: WatchedEvent) -> None:
            if event.type == EventType.DELETED:
                deleted.set()

        assert observer.exists(f"{root}/ephemeral", watch=heard).ephemeralOwner == owner.client_id[0]
        relay.cut()
        assert deleted.wait(WAIT), "the ephemeral node outlived its session"
        observer.sync(root)
        assert observer.get_children(root) == ["persistent"]
        relay.heal()
        states.wait_for(KazooState.LOST)


def test_a_client_keeps_its_session_and_ephemerals_when_the_leader_is_killed(
    own_ensemble: KeeperEnsemble, connect: Connect, root: str
) -> None:
    leader = own_ensemble.leader()
    others = [node for node in own_ensemble.nodes if node is not leader]
    client = connect(",".join(node.address for node in [leader, *others]), randomize_hosts=False, timeout=10.0)
    assert "Mode: leader" in client.command(b"srvr")
    states = States(client)
    session_id = client.client_id[0]
    client.create(root)
    client.create(f"{root}/ephemeral", b"still here", ephemeral=True)

    leader.kill()
    states.wait_for(KazooState.SUSPENDED)
    new_leader = own_ensemble.wait_until_serving()
    # A follower may take the client in before it notices the leader is gone, then drop it: by the time
    # a new leader serves, every survivor has noticed, so the client's latest connection is one that stays.
    states.wait_until_in(KazooState.CONNECTED)

    assert new_leader is not leader and KazooState.LOST not in states.seen
    assert client.client_id[0] == session_id
    assert client.exists(f"{root}/ephemeral").ephemeralOwner == session_id
    client.create(f"{root}/after", b"written after the failover")
    observer = connect(others[-1].address)
    observer.sync(root)
    assert sorted(observer.get_children(root)) == ["after", "ephemeral"]
    assert observer.exists(f"{root}/ephemeral").ephemeralOwner == session_id

    leader.start()
    own_ensemble.wait_until_serving()
    rejoined = connect(leader.address)
    rejoined.sync(root)
    assert rejoined.get(f"{root}/after")[0] == b"written after the failover"
    assert rejoined.exists(f"{root}/ephemeral").ephemeralOwner == session_id


def test_a_client_never_sees_older_state_on_a_server_that_is_behind(
    own_ensemble: KeeperEnsemble, connect: Connect, root: str
) -> None:
    """lastZxidSeen: a server that has not caught up with what the client saw must not serve that client.

    The client fails over to a server that was down while it wrote, right as that server comes back: the server
    must refuse the client until it has caught up (the client retries), so a read without sync is never stale.
    """
    behind, ahead = own_ensemble.followers()
    with Relay(ahead.address) as relay:
        client = connect(relay.address, timeout=20.0, connection_retry={"max_tries": -1, "max_delay": 0.5})
        states = States(client)
        session_id = client.client_id[0]
        client.create(root, b"0")
        behind.stop()
        for value in range(1, 301):
            last = client.set(root, str(value).encode())
        behind.start()
        relay.move_to(behind.address)
        states.wait_for(KazooState.SUSPENDED)
        states.wait_until_in(KazooState.CONNECTED)
        assert client.client_id[0] == session_id
        assert client.get(root) == (b"300", last)




def test_set_watches_carries_a_sessions_watches_to_another_server(ensemble: KeeperEnsemble, connect: Connect, root: str) -> None:
    """setWatches on reconnect (kazoo never sends it, so raw jute does, as ZooKeeper's Java client would):
    a change made while the session was away fires at once, a later change fires when it happens, each once."""
    away, later, barrier = f"{root}/changed-while-away", f"{root}/changed-later", f"{root}/barrier"
    writer = connect(ensemble.nodes[2].address)
    writer.create(root)
    writer.create(away, b"0")
    writer.create(later, b"0")
    with socket.create_connection((HOST, ensemble.nodes[0].ports.client), timeout=WAIT) as first:
        session = handshake(first)
        first.sendall(request(1, GET_DATA, ustring(away) + b"\x01"))
        seen = read_reply(first)
        assert seen is not None and (seen.xid, seen.error) == (1, 0)
    writer.set(away, b"1")
    with socket.create_connection((HOST, ensemble.nodes[1].ports.client), timeout=WAIT) as second:
        assert handshake(second, session, last_zxid_seen=seen.zxid) == session
        watches = struct.pack(">q", seen.zxid) + strings([away, later]) + strings([]) + strings([])
        second.sendall(request(SET_WATCHES_XID, SET_WATCHES, watches))
        heard, set_watches = notifications_until(second, lambda reply: reply.xid == SET_WATCHES_XID)
        assert set_watches.error == 0
        second.sendall(request(2, EXISTS, ustring(barrier) + b"\x01"))
        heard_more, exists = notifications_until(second, lambda reply: reply.xid == 2)
        assert exists.error == NO_NODE  # and the exists watch is set
        writer.set(later, b"1")
        writer.set(away, b"2")
        writer.set(later, b"2")
        writer.create(barrier)
        heard_last, _ = notifications_until(second, lambda reply: reply.xid == NOTIFICATION_XID and barrier.encode() in reply.body)
        heard += heard_more + heard_last
    assert heard == [(NODE_DATA_CHANGED, away), (NODE_DATA_CHANGED, later), (NODE_CREATED, barrier)]


def notifications_until(sock: socket.socket, last: Callable[[Reply], bool]) -> tuple[list[tuple[int, str]], Reply]:
    """The watch events read up to and including the reply `last` picks, and that reply."""
    heard: list[tuple[int, str]] = []
    while True:
        reply = read_reply(sock)
        assert reply is not None, f"the connection closed after {heard}"
        if reply.xid == NOTIFICATION_XID:
            heard.append(notification_path(reply))
        if last(reply):
            return heard, reply
