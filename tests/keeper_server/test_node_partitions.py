"""Three KeeperNodes in one event loop, their peer messages routed in memory so a test can cut links.

What real processes on loopback cannot show: a client's server cut off from the leader drops
the client's pending write rather than leaving it hanging, and a partitioned minority's
sessions expire through the majority's log while the majority keeps serving.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from cluster.keeper.config import KeeperConfig, Peer
from cluster.keeper.jute import CreateMode, OpCode
from cluster.keeper.jute.records import CreateRequest, RequestHeader
from cluster.keeper.jute.wire import encode
from cluster.keeper.raft import Role
from cluster.keeper.replica import Applied, SessionCreated
from cluster.keeper.requests import Create
from cluster.keeper.server.node import KeeperNode
from cluster.keeper.server.peer_messages import PeerMessage, decode
from cluster.keeper.server.peer_messages import encode as encode_peer
from cluster.keeper.server.raft_driver import RaftDriver
from cluster.keeper.server.storage import RaftStorage
from cluster.keeper.tree import Change

TICK_S = 0.01
WAIT_S = 20.0


class _Router:
    """Delivers peer messages through their wire encoding, unless the link is cut."""

    def __init__(self) -> None:
        self.nodes: dict[int, KeeperNode] = {}
        self.cut: set[frozenset[int]] = set()

    def peers_of(self, src: int) -> _Peers:
        return _Peers(self, src)

    def deliver(self, src: int, dst: int, frame: bytes) -> None:
        if frozenset((src, dst)) not in self.cut and dst in self.nodes:
            self.nodes[dst].receive(src, decode(frame[4:]))

    def isolate(self, node_id: int) -> None:
        self.cut |= {frozenset((node_id, other)) for other in self.nodes if other != node_id}


class _Peers:
    def __init__(self, router: _Router, src: int) -> None:
        self._router = router
        self._src = src

    def send(self, peer_id: int, message: PeerMessage) -> None:
        asyncio.get_running_loop().call_soon(self._router.deliver, self._src, peer_id, encode_peer(message))


class _Holder:
    """A client connection as the node sees it."""

    def __init__(self) -> None:
        self.dropped: list[str] = []
        self.closed = False

    def notify(self, change: Change) -> None:
        pass

    def session_closed(self) -> None:
        self.closed = True

    def drop(self, reason: str) -> None:
        self.dropped.append(reason)


def _config(tmp_path: Path, node_id: int) -> KeeperConfig:
    peers = tuple(Peer(n, "127.0.0.1", 0, 0) for n in (1, 2, 3))
    directory = tmp_path / f"node{node_id}"
    return KeeperConfig(
        data_dir=directory, log_dir=directory, my_id=node_id, peers=peers, client_host="127.0.0.1", client_port=0,
        tick_ms=100, min_session_timeout_ms=200, max_session_timeout_ms=2000, snap_count=1000, force_sync=False,
        linearizable_reads=False, election_timeout_ms=100,
    )


async def _until(condition: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"gave up waiting {WAIT_S} s for {what}")
        await asyncio.sleep(TICK_S)


async def _cluster(tmp_path: Path, body: Callable[[_Router], Awaitable[None]]) -> None:
    router = _Router()
    drivers = []
    for node_id in (1, 2, 3):
        config = _config(tmp_path, node_id)
        storage = RaftStorage(config.log_dir, config.data_dir, sync=False)
        node = KeeperNode(config, storage.load(), router.peers_of(node_id))
        driver = RaftDriver(node.raft, storage, node, config.snap_count, lambda error: pytest.fail(str(error)))
        node.attach(driver.schedule)
        router.nodes[node_id] = node
        drivers.append(driver)

    async def tick() -> None:
        while True:
            for node in router.nodes.values():
                node.tick()
            await asyncio.sleep(TICK_S)

    ticker = asyncio.create_task(tick())
    try:
        await _until(lambda: sum(n.raft.role is Role.LEADER for n in router.nodes.values()) == 1, "a leader")
        await body(router)
    finally:
        ticker.cancel()
        for driver in drivers:
            await driver.stop()


def _create_payload(path: str, flags: int = 0) -> bytes:
    """What a client sends; a follower forwards these bytes, so they must say what the request says."""
    return encode(RequestHeader(1, OpCode.CREATE)) + encode(CreateRequest(path, b"", [], flags))


async def _session(node: KeeperNode, timeout_ms: int) -> int:
    """A new session, asked again if a leader change leaves the answer unknown (None), as a client would;
    on a loaded machine ten 10 ms ticks without a heartbeat are enough for an election."""
    while True:
        created: list[Applied | None] = []
        node.create_session(timeout_ms, created.append)
        await _until(lambda: bool(created), "the session")
        if created[0] is not None:
            assert isinstance(created[0].result, SessionCreated)
            return created[0].result.session_id


def _leader(router: _Router) -> KeeperNode:
    return next(n for n in router.nodes.values() if n.raft.role is Role.LEADER)


def test_a_follower_cut_off_from_the_leader_drops_its_pending_write_and_its_clients(tmp_path: Path) -> None:
    async def body(router: _Router) -> None:
        leader = _leader(router)
        follower = next(n for n in router.nodes.values() if n is not leader)
        session = await _session(follower, 2000)
        holder = _Holder()
        follower.holders[session] = holder
        router.isolate(follower.id)
        outcome: list[Applied | None] = []
        follower.submit(session, _create_payload("/cut-off"), Create("/cut-off"), outcome.append)
        await _until(lambda: bool(outcome), "an answer to the write")
        assert outcome == [None]  # unknown outcome: the connection is dropped, nothing is guessed
        await _until(lambda: bool(holder.dropped), "the follower to drop its client")
        assert all(node.replica.tree.get("/cut-off") is None for node in router.nodes.values())

    asyncio.run(_cluster(tmp_path, body))


def test_a_partitioned_minority_session_expires_through_the_majority_log(tmp_path: Path) -> None:
    async def body(router: _Router) -> None:
        leader = _leader(router)
        minority = next(n for n in router.nodes.values() if n is not leader)
        majority_follower = next(n for n in router.nodes.values() if n not in (leader, minority))
        session = await _session(minority, 200)
        created: list[Applied | None] = []
        ephemeral = CreateMode.EPHEMERAL
        minority.submit(session, _create_payload("/owned", ephemeral), Create("/owned", ephemeral=True), created.append)
        await _until(lambda: bool(created), "the ephemeral")
        assert created[0] is not None
        kept = await _session(majority_follower, 200)
        router.isolate(minority.id)
        for _ in range(60):  # keep the majority's session alive the way pings do
            majority_follower.touch(kept)
            await asyncio.sleep(TICK_S)
        await _until(lambda: leader.replica.tree.get("/owned") is None, "the expiry to delete the ephemeral")
        await _until(lambda: majority_follower.replica.tree.get("/owned") is None, "the follower to apply it")
        assert session not in leader.replica.sessions and kept in leader.replica.sessions
        assert minority.replica.tree.get("/owned") is not None  # it never heard: it serves no one now
        assert not minority.serving

    asyncio.run(_cluster(tmp_path, body))
