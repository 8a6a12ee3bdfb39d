"""OffsetCommit (key 8): a group member stores its consumed positions."""

from cluster.broker.protocol.primitives import INT16, INT32, INT64, STRING
from cluster.broker.protocol.schema import Api, Array, Field, Struct

OffsetCommitRequestPartition = Struct(
    "OffsetCommitRequestPartition",
    Field("partition_index", INT32),
    Field("committed_offset", INT64),
    Field("committed_leader_epoch", INT32, "6+", default=-1),
    Field("committed_metadata", STRING, nullable="0+"),
)
OffsetCommitRequestTopic = Struct(
    "OffsetCommitRequestTopic",
    Field("name", STRING),
    Field("partitions", Array(OffsetCommitRequestPartition)),
)
OffsetCommitRequest = Struct(
    "OffsetCommitRequest",
    Field("group_id", STRING),
    Field("generation_id_or_member_epoch", INT32, default=-1),
    Field("member_id", STRING),
    Field("group_instance_id", STRING, "7+", nullable="7+", default=None),
    Field("retention_time_ms", INT64, "2-4", default=-1),
    Field("topics", Array(OffsetCommitRequestTopic)),
)

OffsetCommitResponsePartition = Struct(
    "OffsetCommitResponsePartition",
    Field("partition_index", INT32),
    Field("error_code", INT16),
)
OffsetCommitResponseTopic = Struct(
    "OffsetCommitResponseTopic",
    Field("name", STRING),
    Field("partitions", Array(OffsetCommitResponsePartition)),
)
OffsetCommitResponse = Struct(
    "OffsetCommitResponse",
    Field("throttle_time_ms", INT32, "3+"),
    Field("topics", Array(OffsetCommitResponseTopic)),
)

OFFSET_COMMIT = Api(8, "OffsetCommit", "2-7", OffsetCommitRequest, OffsetCommitResponse)
