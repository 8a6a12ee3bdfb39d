"""What the replication core asks its driver to do. The core itself does no I/O.

Log changes (`AppendAsLeader`, `AppendAsFollower`, `TruncateTo`, `TruncateFullyAndStartAt`) come
last in a list of actions; once it has applied one, the driver reports back (`appended_as_leader`
or `log_changed`), because what the core does next depends on the log as it then is.
`AdvanceLogStart` only drops old records and is applied in its place in the list, unreported.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.replication.messages import EpochEndOffsetRequest, FetchRequest


@dataclass(frozen=True, slots=True)
class AppendAsLeader:
    """Append the produce request's batch stamped with `leader_epoch`, then call `appended_as_leader`.

    If the log refuses the batch (corrupt, too large) the driver answers the producer itself:
    nothing was appended and the core has nothing to learn."""

    request_id: Hashable
    leader_epoch: int
    acks: int
    timeout_ms: int


@dataclass(frozen=True, slots=True)
class CompleteProduce:
    """Answer a produce request. acks=0 requests are completed too; their driver sends nothing."""

    request_id: Hashable
    error: ErrorCode
    base_offset: int = -1
    log_append_time: int = -1
    """The time a LogAppendTime log stamped the batch with; -1 for CreateTime (Produce's log_append_time_ms)."""


@dataclass(frozen=True, slots=True)
class AppendAsFollower:
    records: Any


@dataclass(frozen=True, slots=True)
class TruncateTo:
    offset: int


@dataclass(frozen=True, slots=True)
class TruncateFullyAndStartAt:
    offset: int


@dataclass(frozen=True, slots=True)
class AdvanceLogStart:
    """Forget the records below `offset`, the leader's log start (Kafka's maybeIncrementLogStartOffset).

    The leader deleted them, so nothing can tell whether ours match: a history that diverged
    there must not outlive them. Needs no report back."""

    offset: int


@dataclass(frozen=True, slots=True)
class SendFetch:
    leader: int
    request: FetchRequest


@dataclass(frozen=True, slots=True)
class SendEpochEndOffset:
    leader: int
    request: EpochEndOffsetRequest


@dataclass(frozen=True, slots=True)
class AlterIsr:
    """Write the ISR to the keeper, conditional on the znode version; answer with `isr_update_result`."""

    isr: tuple[int, ...]
    leader_epoch: int
    expected_version: int


LogChange = AppendAsLeader | AppendAsFollower | TruncateTo | TruncateFullyAndStartAt
"""Log changes the driver reports back after applying."""
Action = LogChange | AdvanceLogStart | CompleteProduce | SendFetch | SendEpochEndOffset | AlterIsr
