"""A Raft node's fixed settings: who it is, who votes, and how many ticks make a timeout."""

from __future__ import annotations

from dataclasses import dataclass

from cluster.keeper.raft.state import NO_NODE


@dataclass(frozen=True, slots=True)
class Config:
    id: int
    peers: tuple[int, ...]
    """Every voter, this node included. Fixed for the cluster's lifetime."""
    election_ticks: int = 10
    heartbeat_ticks: int = 1
    max_append_entries: int = 64

    def __post_init__(self) -> None:
        if self.id <= NO_NODE or self.id not in self.peers or len(set(self.peers)) != len(self.peers):
            raise ValueError(f"node id {self.id} must be a positive member of distinct peers {self.peers}")
        if not 0 < self.heartbeat_ticks < self.election_ticks:
            raise ValueError("need 0 < heartbeat_ticks < election_ticks")

    @property
    def others(self) -> tuple[int, ...]:
        """The voters besides this node: whom it sends to."""
        return tuple(p for p in self.peers if p != self.id)

    @property
    def quorum(self) -> int:
        return len(self.peers) // 2 + 1
