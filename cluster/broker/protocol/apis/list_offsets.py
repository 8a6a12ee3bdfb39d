"""ListOffsets (key 2): the offset for a timestamp, or the earliest (-2) or latest (-1) offset."""

from cluster.broker.protocol.primitives import INT8, INT16, INT32, INT64, STRING
from cluster.broker.protocol.schema import Api, Array, Field, Struct

LATEST_TIMESTAMP = -1
EARLIEST_TIMESTAMP = -2

ListOffsetsPartition = Struct(
    "ListOffsetsPartition",
    Field("partition_index", INT32),
    Field("current_leader_epoch", INT32, "4+", default=-1),
    Field("timestamp", INT64),
)
ListOffsetsTopic = Struct(
    "ListOffsetsTopic",
    Field("name", STRING),
    Field("partitions", Array(ListOffsetsPartition)),
)
ListOffsetsRequest = Struct(
    "ListOffsetsRequest",
    Field("replica_id", INT32),
    Field("isolation_level", INT8, "2+"),
    Field("topics", Array(ListOffsetsTopic)),
)

ListOffsetsPartitionResponse = Struct(
    "ListOffsetsPartitionResponse",
    Field("partition_index", INT32),
    Field("error_code", INT16),
    Field("timestamp", INT64, default=-1),
    Field("offset", INT64, default=-1),
    Field("leader_epoch", INT32, "4+", default=-1),
)
ListOffsetsTopicResponse = Struct(
    "ListOffsetsTopicResponse",
    Field("name", STRING),
    Field("partitions", Array(ListOffsetsPartitionResponse)),
)
ListOffsetsResponse = Struct(
    "ListOffsetsResponse",
    Field("throttle_time_ms", INT32, "2+"),
    Field("topics", Array(ListOffsetsTopicResponse)),
)

LIST_OFFSETS = Api(2, "ListOffsets", "1-5", ListOffsetsRequest, ListOffsetsResponse)
