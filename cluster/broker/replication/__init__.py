"""The replication data plane of one partition, sans-IO: ISR, high watermark, acks, leader epochs.

`PartitionReplica` takes events (the controller's partition states, produce requests, follower
fetches, the leader's responses, the keeper's answers, time) and returns `actions` for its
driver to carry out; it reads the log through `LogPositions` and writes nothing itself.
"""

from cluster.broker.replication.actions import (
    Action,
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
