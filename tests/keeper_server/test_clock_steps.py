"""A standalone keeper node whose wall clock steps a day each way keeps its sessions: their deadlines,
like ZooKeeper's, are on the monotonic clock, and only its passing past a timeout expires one. The wall
clock is what txns carry as ctime and mtime."""

from __future__ import annotations

from cluster.keeper.config import KeeperConfig
from cluster.keeper.raft import DurableState
from cluster.keeper.replica import Applied
from cluster.keeper.server.node import ELECTION_TICKS, KeeperNode
from cluster.keeper.server.peer_messages import PeerMessage

DAY_S = 86_400.0
TIMEOUT_MS = 6_000


class _NoPeers:
    def send(self, peer_id: int, message: PeerMessage) -> None:
        raise AssertionError("a standalone node has no peers to send to")


class Clocks:
    def __init__(self) -> None:
        self.wall = 1_700_000_000.0
        self.monotonic = 1_000.0


def run(node: KeeperNode) -> None:
    """One pass of the node's Ready loop (as its driver runs it)."""
    node.before_ready()
    while node.raft.has_ready():
        ready = node.raft.ready()
        if ready.soft_state is not None:
            node.on_soft_state(ready.soft_state)
        if ready.committed_entries:
            node.apply(ready.committed_entries)
        node.raft.advance()
        node.before_ready()


def ticks(node: KeeperNode, count: int) -> None:
    for _ in range(count):
        node.tick()
        run(node)


def test_wall_clock_steps_expire_no_session_and_the_monotonic_clock_does() -> None:
    clocks = Clocks()
    config = KeeperConfig.from_properties({"dataDir": "unused", "clientPort": "2181"})
    node = KeeperNode(config, DurableState(), _NoPeers(), wall_clock=lambda: clocks.wall,
                      monotonic=lambda: clocks.monotonic)
    ticks(node, 2 * ELECTION_TICKS)
    created: list[Applied | None] = []
    node.create_session(TIMEOUT_MS, created.append)
    run(node)
    assert created and created[0] is not None
    session = next(iter(node.replica.sessions))

    for step in (DAY_S, -2 * DAY_S, DAY_S):
        clocks.wall += step
        ticks(node, 5)
        assert session in node.replica.sessions, f"a wall-clock step of {step:+.0f} s expired the session"

    clocks.monotonic += 2 * TIMEOUT_MS / 1000
    ticks(node, 2)
    assert session not in node.replica.sessions, "the session's timeout passed on the monotonic clock"
