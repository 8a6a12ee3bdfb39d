"""Produce (key 0): append record batches to partitions.

Versions 0-2 decode so the server can refuse them with an error; librdkafka
before 2.11.1 disables compression unless the advertised range starts at 0.
"""

from cluster.broker.protocol.primitives import INT16, INT32, INT64, RECORDS, STRING
from cluster.broker.protocol.schema import Api, Array, Field, Struct

PartitionProduceData = Struct(
    "PartitionProduceData",
    Field("index", INT32),
    Field("records", RECORDS, nullable="0+"),
)
TopicProduceData = Struct(
    "TopicProduceData",
    Field("name", STRING),
    Field("partition_data", Array(PartitionProduceData)),
)
ProduceRequest = Struct(
    "ProduceRequest",
    Field("transactional_id", STRING, "3+", nullable="3+", default=None),
    Field("acks", INT16),
    Field("timeout_ms", INT32),
    Field("topic_data", Array(TopicProduceData)),
)

BatchIndexAndErrorMessage = Struct(
    "BatchIndexAndErrorMessage",
    Field("batch_index", INT32, "8+"),
    Field("batch_index_error_message", STRING, "8+", nullable="8+", default=None),
)
PartitionProduceResponse = Struct(
    "PartitionProduceResponse",
    Field("index", INT32),
    Field("error_code", INT16),
    Field("base_offset", INT64),
    Field("log_append_time_ms", INT64, "2+", default=-1),
    Field("log_start_offset", INT64, "5+", default=-1),
    Field("record_errors", Array(BatchIndexAndErrorMessage), "8+"),
    Field("error_message", STRING, "8+", nullable="8+", default=None),
)
TopicProduceResponse = Struct(
    "TopicProduceResponse",
    Field("name", STRING),
    Field("partition_responses", Array(PartitionProduceResponse)),
)
ProduceResponse = Struct(
    "ProduceResponse",
    Field("responses", Array(TopicProduceResponse)),
    Field("throttle_time_ms", INT32, "1+"),
)

PRODUCE = Api(0, "Produce", "0-8", ProduceRequest, ProduceResponse)
