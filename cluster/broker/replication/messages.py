"""What replicas of one partition say to each other: follower fetches and epoch end-offset queries.

Kafka carries these as Fetch (replica_id >= 0) and OffsetForLeaderEpoch; the inter-broker wire
can be anything that moves these fields. Every request carries the sender's idea of the current
leader epoch, so a stale leader or a stale follower is told so (FENCED_LEADER_EPOCH,
UNKNOWN_LEADER_EPOCH) instead of being served. `correlation` pairs a response with its request:
a follower ignores answers to requests it no longer waits for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cluster.broker.protocol.errors import ErrorCode


@dataclass(frozen=True, slots=True)
class FetchRequest:
    replica_id: int
    fetch_offset: int
    """The follower's log end: everything below it the leader may count as replicated."""
    current_leader_epoch: int
    correlation: int


@dataclass(frozen=True, slots=True)
class FetchAnswer:
    """The leader's decision on a fetch; its driver reads [read_from, read_to) and sends the records."""

    error: ErrorCode
    high_watermark: int
    log_start_offset: int
    log_end_offset: int
    read_from: int
    read_to: int

    @property
    def has_records(self) -> bool:
        return self.error == ErrorCode.NONE and self.read_to > self.read_from


@dataclass(frozen=True, slots=True)
class FetchResponse:
    correlation: int
    error: ErrorCode
    high_watermark: int
    log_start_offset: int
    log_end_offset: int
    """Read only after OFFSET_OUT_OF_RANGE. Kafka's Fetch does not carry it: a fetcher speaking
    Kafka's protocol asks ListOffsets (latest, with its replica id) for it, as Kafka's does."""
    records: Any = None
    """Opaque to the core: whatever the driver hands to its log's append-as-follower; None for none."""


@dataclass(frozen=True, slots=True)
class EpochEndOffsetRequest:
    replica_id: int
    leader_epoch: int
    """The epoch whose end the follower wants to know: the latest one in its own log."""
    current_leader_epoch: int
    correlation: int


@dataclass(frozen=True, slots=True)
class EpochEndOffsetResponse:
    correlation: int
    error: ErrorCode
    leader_epoch: int
    """The largest epoch the leader knows that is <= the one asked for (KIP-279), or -1."""
    end_offset: int
