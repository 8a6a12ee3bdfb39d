"""OffsetFetch (key 9): a group's committed positions; null topics (v2+) asks for all of them."""

from cluster.broker.protocol.primitives import INT16, INT32, INT64, STRING
from cluster.broker.protocol.schema import Api, Array, Field, Struct

OffsetFetchRequestTopic = Struct(
    "OffsetFetchRequestTopic",
    Field("name", STRING),
    Field("partition_indexes", Array(INT32)),
)
OffsetFetchRequest = Struct(
    "OffsetFetchRequest",
    Field("group_id", STRING),
    Field("topics", Array(OffsetFetchRequestTopic), nullable="2+"),
)

OffsetFetchResponsePartition = Struct(
    "OffsetFetchResponsePartition",
    Field("partition_index", INT32),
    Field("committed_offset", INT64),
    Field("committed_leader_epoch", INT32, "5+", default=-1),
    Field("metadata", STRING, nullable="0+"),
    Field("error_code", INT16),
)
OffsetFetchResponseTopic = Struct(
    "OffsetFetchResponseTopic",
    Field("name", STRING),
    Field("partitions", Array(OffsetFetchResponsePartition)),
)
OffsetFetchResponse = Struct(
    "OffsetFetchResponse",
    Field("throttle_time_ms", INT32, "3+"),
    Field("topics", Array(OffsetFetchResponseTopic)),
    Field("error_code", INT16, "2+"),
)

OFFSET_FETCH = Api(9, "OffsetFetch", "1-5", OffsetFetchRequest, OffsetFetchResponse)
