"""A hand-driven cluster of Raft cores for unit tests: the test decides every tick and delivery.

It follows the Ready contract (persist, send, apply, advance) with a perfect disk, and holds
messages in an outbox so a test can deliver, drop or inspect them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable

from cluster.keeper.raft import Config, DurableState, Entry, Message, MessageType, Raft, ReadState, Role, persisted


class Cluster:
    def __init__(
        self,
        size: int,
        *,
        durable: dict[int, DurableState] | None = None,
        election_ticks: int = 10,
        max_append_entries: int = 64,
        seed: int = 0,
        core: type[Raft] = Raft,
    ) -> None:
        self.peers = tuple(range(1, size + 1))
        self.election_ticks = election_ticks
        self.max_append_entries = max_append_entries
        self.seed = seed
        self.core = core
        self.disk: dict[int, DurableState] = dict(durable or {})
        self.nodes: dict[int, Raft] = {}
        self.applied: dict[int, list[Entry]] = {p: [] for p in self.peers}
        self.read_states: dict[int, list[ReadState]] = {p: [] for p in self.peers}
        self.outbox: list[Message] = []
        self.delivered: list[Message] = []
        self.cut: set[int] = set()
        for peer in self.peers:
            self.restart(peer)

    def restart(self, peer: int) -> Raft:
        """Rebuild a node from what it persisted, as after a crash."""
        config = Config(
            peer, self.peers, election_ticks=self.election_ticks, max_append_entries=self.max_append_entries
        )
        node = self.core(config, random.Random(self.seed * 1000 + peer), self.disk.get(peer, DurableState()))
        self.nodes[peer] = node
        return node

    def __getitem__(self, peer: int) -> Raft:
        return self.nodes[peer]

    def process(self, peer: int) -> None:
        """Run the Ready loop of one node until it has nothing more to do."""
        node = self.nodes[peer]
        while node.has_ready():
            ready = node.ready()
            self.disk[peer] = persisted(self.disk.get(peer, DurableState()), ready)
            self.outbox.extend(ready.messages)
            self.applied[peer].extend(ready.committed_entries)
            self.read_states[peer].extend(ready.read_states)
            node.advance()

    def process_all(self) -> None:
        for peer in self.peers:
            self.process(peer)

    def deliver(self, keep: Callable[[Message], bool] = lambda m: True) -> int:
        """Deliver every message in the outbox (dropping those `keep` rejects or that cross the
        cut), then process the receivers; returns how many were delivered."""
        self.process_all()
        batch, self.outbox = self.outbox, []
        count = 0
        for message in batch:
            if (message.src in self.cut) != (message.dst in self.cut) or not keep(message):
                continue
            self.delivered.append(message)
            self.nodes[message.dst].step(message)
            count += 1
        self.process_all()
        return count

    def settle(self, keep: Callable[[Message], bool] = lambda m: True, rounds: int = 200) -> None:
        for _ in range(rounds):
            self.process_all()
            if not self.outbox:
                return
            self.deliver(keep)
        raise AssertionError("messages still flowing after many rounds")

    def tick(self, peer: int, times: int = 1) -> None:
        for _ in range(times):
            self.nodes[peer].tick()
        self.process(peer)

    def tick_all(self, times: int = 1) -> None:
        for _ in range(times):
            for peer in self.peers:
                self.nodes[peer].tick()
            self.settle()

    def campaign(self, peer: int, keep: Callable[[Message], bool] = lambda m: True) -> None:
        """Tick one node until its election timer fires, then let the election play out."""
        node = self.nodes[peer]
        for _ in range(2 * self.election_ticks):
            node.tick()
            if node.role is not Role.FOLLOWER:
                break
        self.settle(keep)

    def elect(self, peer: int) -> Raft:
        self.campaign(peer)
        assert self.nodes[peer].role is Role.LEADER, f"{peer} is {self.nodes[peer].role}"
        return self.nodes[peer]

    def elect_among(self, peers: Iterable[int]) -> int:
        """Tick `peers` together until one leads (leases of the old leader expire on the way)."""
        peers = tuple(peers)
        for _ in range(10 * self.election_ticks):
            for peer in peers:
                self.nodes[peer].tick()
            self.settle()
            leaders = [p for p in peers if self.nodes[p].role is Role.LEADER and p not in self.cut]
            if leaders:
                return leaders[0]
        raise AssertionError(f"none of {peers} became leader")

    def propose(self, peer: int, payloads: Iterable[bytes]) -> None:
        for data in payloads:
            self.nodes[peer].propose(data)
        self.settle()

    def count(self, kind: MessageType, **fields: object) -> int:
        return sum(
            1 for m in self.delivered if m.type is kind and all(getattr(m, k) == v for k, v in fields.items())
        )

    def applied_data(self, peer: int) -> list[bytes]:
        return [e.data for e in self.applied[peer] if e.data]
