"""OffsetForLeaderEpoch (key 23): where a leader epoch ends; followers truncate there (KIP-101/279)."""

from cluster.broker.protocol.primitives import INT16, INT32, INT64, STRING
from cluster.broker.protocol.schema import Api, Array, Field, Struct

CONSUMER_REPLICA_ID = -1
DEBUGGING_REPLICA_ID = -2

OffsetForLeaderPartition = Struct(
    "OffsetForLeaderPartition",
    Field("partition", INT32),
    Field("current_leader_epoch", INT32, "2+", default=-1),
    Field("leader_epoch", INT32),
)
OffsetForLeaderTopic = Struct(
    "OffsetForLeaderTopic",
    Field("topic", STRING),
    Field("partitions", Array(OffsetForLeaderPartition)),
)
OffsetForLeaderEpochRequest = Struct(
    "OffsetForLeaderEpochRequest",
    Field("replica_id", INT32, "3+", default=DEBUGGING_REPLICA_ID),
    Field("topics", Array(OffsetForLeaderTopic)),
)

EpochEndOffset = Struct(
    "EpochEndOffset",
    Field("error_code", INT16),
    Field("partition", INT32),
    Field("leader_epoch", INT32, default=-1),
    Field("end_offset", INT64, default=-1),
)
OffsetForLeaderTopicResult = Struct(
    "OffsetForLeaderTopicResult",
    Field("topic", STRING),
    Field("partitions", Array(EpochEndOffset)),
)
OffsetForLeaderEpochResponse = Struct(
    "OffsetForLeaderEpochResponse",
    Field("throttle_time_ms", INT32),
    Field("topics", Array(OffsetForLeaderTopicResult)),
)

OFFSET_FOR_LEADER_EPOCH = Api(
    23, "OffsetForLeaderEpoch", "2-3", OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse
)
