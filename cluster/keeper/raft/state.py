"""The records a Raft node persists and reports: log entries, snapshots, hard and soft state."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

NO_NODE = 0
"""Node ids start at 1, so 0 means "nobody" (no vote cast, no leader known)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One log entry. Empty data is the no-op a new leader appends to commit its term."""

    term: int
    index: int
    data: bytes = b""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The application's state after applying every entry up to `index` (whose term is `term`)."""

    index: int
    term: int
    data: bytes = b""


EMPTY_SNAPSHOT = Snapshot(0, 0)


@dataclass(frozen=True, slots=True)
class HardState:
    """What must be durable before any message that depends on it leaves the node."""

    term: int = 0
    vote: int = NO_NODE
    commit: int = 0


@dataclass(frozen=True, slots=True)
class DurableState:
    """What a restarting node reads back from its disk to rebuild its Raft core."""

    hard_state: HardState = HardState()
    snapshot: Snapshot = EMPTY_SNAPSHOT
    entries: tuple[Entry, ...] = field(default_factory=tuple)


class Role(enum.Enum):
    FOLLOWER = "follower"
    PRE_CANDIDATE = "pre-candidate"
    CANDIDATE = "candidate"
    LEADER = "leader"


@dataclass(frozen=True, slots=True)
class SoftState:
    """Volatile facts the application may want to observe: who leads, in which role we are."""

    term: int
    role: Role
    leader: int
