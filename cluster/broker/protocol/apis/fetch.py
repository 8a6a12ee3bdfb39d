"""Fetch (key 1): consumers and followers read record batches.

Response records go out zero-copy: give the field a list of file regions and
encode with MessageCodec.encode_parts.
"""

from cluster.broker.protocol.primitives import INT8, INT16, INT32, INT64, RECORDS, STRING
from cluster.broker.protocol.schema import Api, Array, Field, Struct

FetchPartition = Struct(
    "FetchPartition",
    Field("partition", INT32),
    Field("current_leader_epoch", INT32, "9+", default=-1),
    Field("fetch_offset", INT64),
    Field("log_start_offset", INT64, "5+", default=-1),
    Field("partition_max_bytes", INT32),
)
FetchTopic = Struct(
    "FetchTopic",
    Field("topic", STRING),
    Field("partitions", Array(FetchPartition)),
)
ForgottenTopic = Struct(
    "ForgottenTopic",
    Field("topic", STRING, "7+"),
    Field("partitions", Array(INT32), "7+"),
)
FetchRequest = Struct(
    "FetchRequest",
    Field("replica_id", INT32, default=-1),
    Field("max_wait_ms", INT32),
    Field("min_bytes", INT32),
    Field("max_bytes", INT32, "3+", default=0x7FFFFFFF),
    Field("isolation_level", INT8, "4+"),
    Field("session_id", INT32, "7+"),
    Field("session_epoch", INT32, "7+", default=-1),
    Field("topics", Array(FetchTopic)),
    Field("forgotten_topics_data", Array(ForgottenTopic), "7+"),
    Field("rack_id", STRING, "11+"),
)

AbortedTransaction = Struct(
    "AbortedTransaction",
    Field("producer_id", INT64, "4+"),
    Field("first_offset", INT64, "4+"),
)
PartitionData = Struct(
    "PartitionData",
    Field("partition_index", INT32),
    Field("error_code", INT16),
    Field("high_watermark", INT64),
    Field("last_stable_offset", INT64, "4+", default=-1),
    Field("log_start_offset", INT64, "5+", default=-1),
    Field("aborted_transactions", Array(AbortedTransaction), "4+", nullable="4+"),
    Field("preferred_read_replica", INT32, "11+", default=-1),
    Field("records", RECORDS, nullable="0+"),
)
FetchableTopicResponse = Struct(
    "FetchableTopicResponse",
    Field("topic", STRING),
    Field("partitions", Array(PartitionData)),
)
FetchResponse = Struct(
    "FetchResponse",
    Field("throttle_time_ms", INT32, "1+"),
    Field("error_code", INT16, "7+"),
    Field("session_id", INT32, "7+"),
    Field("responses", Array(FetchableTopicResponse)),
)

FETCH = Api(1, "Fetch", "4-11", FetchRequest, FetchResponse)
