"""Read-index rounds in flight on a leader (Raft thesis §6.4).

A read is safe at the commit index the leader had when the request arrived, once a quorum has
answered a heartbeat sent after it: then no newer leader can have committed anything yet.
A quorum's answer for one round also confirms every earlier round, so rounds complete in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class PendingRead:
    context: bytes
    index: int
    requester: int
    acks: set[int] = field(default_factory=set)


class ReadIndexQueue:
    def __init__(self) -> None:
        self._rounds: dict[bytes, PendingRead] = {}

    def add(self, context: bytes, index: int, requester: int, leader: int) -> None:
        """Start a round; a context already in flight is ignored (contexts must be unique)."""
        if context not in self._rounds:
            self._rounds[context] = PendingRead(context, index, requester, {leader})

    def ack(self, context: bytes, voter: int) -> int:
        """Record a heartbeat answer; the number of voters that confirmed the round so far."""
        read = self._rounds.get(context)
        if read is None:
            return 0
        read.acks.add(voter)
        return len(read.acks)

    def release_through(self, context: bytes) -> list[PendingRead]:
        """Complete the round `context` and every round that started before it."""
        released: list[PendingRead] = []
        for key in list(self._rounds):
            released.append(self._rounds.pop(key))
            if key == context:
                break
        return released

    def last_context(self) -> bytes:
        return next(reversed(self._rounds), b"")

    def clear(self) -> None:
        self._rounds.clear()
