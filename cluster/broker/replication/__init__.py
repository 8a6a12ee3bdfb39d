"""The replication data plane of one partition, sans-IO: ISR, high watermark, acks, leader epochs.

`PartitionReplica` takes events (the controller's partition states, produce requests, follower
fetches, the leader's responses, the keeper's answers, time) and returns `actions` for its
driver to carry out; it reads the log through `LogPositions` and writes nothing itself.

What drives it (`cluster.broker.replica_driver` for the log, the broker's ReplicaManager or the
simulator's broker for the I/O):
- feeds every partition state from the controller to `apply_state`, and calls `tick` often
  (every 100 ms is plenty against Kafka's default timeouts);
- on Produce: `produce`; on `AppendAsLeader`, appends the batch with that epoch and calls
  `appended_as_leader` with the offsets; answers `CompleteProduce` (never for acks=0);
- on a follower's Fetch (replica_id >= 0): `fetch`, reads [read_from, read_to) and replies with
  the answer's HW; consumers: `consumer_fetch`; OffsetForLeaderEpoch: `epoch_end_offset`;
- as a follower, sends `SendFetch` / `SendEpochEndOffset` to the leader and feeds the answers to
  `on_fetch_response` / `on_epoch_end_offset`; applies `AppendAsFollower`, `TruncateTo` and
  `TruncateFullyAndStartAt` to the log, then calls `log_changed`; applies `AdvanceLogStart`
  (drop records below the leader's log start) without reporting;
- on `AlterIsr`, writes the state conditionally on `expected_version` and calls
  `isr_update_result` with the state the keeper then holds; a broker's writes must reach the
  keeper in the order sent (one session), and an unanswered one is simply sent again by `tick`.
Actions that change the log come last in their list; everything else may be carried out in order.
"""

from cluster.broker.replication.actions import (
    Action,
    AdvanceLogStart,
    AlterIsr,
    AppendAsFollower,
    AppendAsLeader,
    CompleteProduce,
    LogChange,
    SendEpochEndOffset,
    SendFetch,
    TruncateFullyAndStartAt,
    TruncateTo,
)
from cluster.broker.replication.config import ReplicationConfig
from cluster.broker.replication.log_positions import (
    UNDEFINED_EPOCH,
    UNDEFINED_OFFSET,
    LogPositions,
    PartitionLogPositions,
)
from cluster.broker.replication.messages import (
    EpochEndOffsetRequest,
    EpochEndOffsetResponse,
    FetchAnswer,
    FetchRequest,
    FetchResponse,
)
from cluster.broker.replication.replica import PartitionReplica, Role

__all__ = [
    "UNDEFINED_EPOCH",
    "UNDEFINED_OFFSET",
    "Action",
    "AdvanceLogStart",
    "AlterIsr",
    "AppendAsFollower",
    "AppendAsLeader",
    "CompleteProduce",
    "EpochEndOffsetRequest",
    "EpochEndOffsetResponse",
    "FetchAnswer",
    "FetchRequest",
    "FetchResponse",
    "LogChange",
    "LogPositions",
    "PartitionLogPositions",
    "PartitionReplica",
    "ReplicationConfig",
    "Role",
    "SendEpochEndOffset",
    "SendFetch",
    "TruncateFullyAndStartAt",
    "TruncateTo",
]
