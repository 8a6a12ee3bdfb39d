"""TxnOffsetCommit (key 28): a transactional producer's offset commits, visible once its transaction commits."""

from cluster.broker.protocol.primitives import INT16, INT32, INT64, STRING
from cluster.broker.protocol.schema import Api, Array, Field, Struct

TxnOffsetCommitRequestPartition = Struct(
    "TxnOffsetCommitRequestPartition",
    Field("partition_index", INT32),
    Field("committed_offset", INT64),
    Field("committed_leader_epoch", INT32, "2+", default=-1),
    Field("committed_metadata", STRING, nullable="0+"),
)
TxnOffsetCommitRequestTopic = Struct(
    "TxnOffsetCommitRequestTopic",
    Field("name", STRING),
    Field("partitions", Array(TxnOffsetCommitRequestPartition)),
)
TxnOffsetCommitRequest = Struct(
    "TxnOffsetCommitRequest",
    Field("transactional_id", STRING),
    Field("group_id", STRING),
    Field("producer_id", INT64),
    Field("producer_epoch", INT16),
    Field("topics", Array(TxnOffsetCommitRequestTopic)),
)
TxnOffsetCommitResponsePartition = Struct(
    "TxnOffsetCommitResponsePartition",
    Field("partition_index", INT32),
    Field("error_code", INT16),
)
TxnOffsetCommitResponseTopic = Struct(
    "TxnOffsetCommitResponseTopic",
    Field("name", STRING),
    Field("partitions", Array(TxnOffsetCommitResponsePartition)),
)
TxnOffsetCommitResponse = Struct(
    "TxnOffsetCommitResponse",
    Field("throttle_time_ms", INT32),
    Field("topics", Array(TxnOffsetCommitResponseTopic)),
)

TXN_OFFSET_COMMIT = Api(28, "TxnOffsetCommit", "0-2", TxnOffsetCommitRequest, TxnOffsetCommitResponse)
