"""One consumer group's members and rebalance state, as Kafka's classic protocol defines them.

The broker never interprets subscriptions or assignments: they are opaque bytes
chosen by the clients (the leader member assigns). What the broker owns is the
state machine: who is in the group, which generation is current, and when a
rebalance starts and ends.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Hashable


class GroupState(enum.Enum):
    """Kafka's state names; DescribeGroups reports them verbatim."""

    EMPTY = "Empty"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    STABLE = "Stable"
    DEAD = "Dead"


Protocols = tuple[tuple[str, bytes], ...]
"""(protocol name, member metadata) in the member's order of preference."""


@dataclass
class Member:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    protocols: Protocols
    last_heartbeat_ms: int
    assignment: bytes = b""
    join_token: Hashable | None = None
    """The JoinGroup request waiting for the rebalance to finish, if any."""
    sync_token: Hashable | None = None
    """The SyncGroup request waiting for the leader's assignment, if any."""

    @property
    def protocol_names(self) -> list[str]:
        return [name for name, _ in self.protocols]

    def metadata_for(self, protocol: str) -> bytes:
        return next(metadata for name, metadata in self.protocols if name == protocol)

    def session_expired(self, now_ms: int) -> bool:
        # A member waiting for its JoinGroup answer cannot heartbeat; the rebalance timeout covers it.
        return self.join_token is None and now_ms >= self.last_heartbeat_ms + self.session_timeout_ms


@dataclass
class Group:
    group_id: str
    state: GroupState = GroupState.EMPTY
    generation: int = 0
    protocol_type: str | None = None
    protocol: str | None = None
    leader_id: str | None = None
    members: dict[str, Member] = field(default_factory=dict)
    pending_members: dict[str, int] = field(default_factory=dict)
    """Member ids handed out with MEMBER_ID_REQUIRED, mapped to when they lapse."""
    join_deadline_ms: int | None = None
    initial_join_limit_ms: int | None = None
    """While a new group waits for its first members, the latest the delay may be extended to."""

    def all_members_joined(self) -> bool:
        return not self.pending_members and all(m.join_token is not None for m in self.members.values())

    def supports(self, protocol_type: str, protocols: Protocols) -> bool:
        """A joining member must share the group's protocol type and one protocol with every member."""
        if not protocol_type or not protocols:
            return False
        if not self.members:
            return True
        if protocol_type != self.protocol_type:
            return False
        return bool(self.candidate_protocols() & {name for name, _ in protocols})

    def candidate_protocols(self) -> set[str]:
        names = [set(member.protocol_names) for member in self.members.values()]
        return set.intersection(*names) if names else set()

    def select_protocol(self) -> str:
        """Each member votes for its most preferred candidate; the most votes win.

        Ties go to the protocol the longest-standing member prefers, so the
        choice is deterministic.
        """
        candidates = self.candidate_protocols()
        votes: dict[str, int] = {}
        for member in self.members.values():
            choice = next(name for name in member.protocol_names if name in candidates)
            votes[choice] = votes.get(choice, 0) + 1
        return max(votes, key=lambda name: (votes[name], -list(votes).index(name)))

    def rebalance_timeout_ms(self) -> int:
        return max((m.rebalance_timeout_ms for m in self.members.values()), default=0)
