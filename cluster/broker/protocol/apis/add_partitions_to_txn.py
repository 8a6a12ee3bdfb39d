"""AddPartitionsToTxn (key 24): a transactional producer names the partitions it is about to write.

Field names are Kafka's: versions 4+ batch transactions (brokers verifying for KIP-890), and
the fields of a single producer's request carry a v3_and_below prefix."""

from cluster.broker.protocol.primitives import INT16, INT32, INT64, STRING
from cluster.broker.protocol.schema import Api, Array, Field, Struct

AddPartitionsToTxnTopic = Struct(
    "AddPartitionsToTxnTopic",
    Field("name", STRING),
    Field("partitions", Array(INT32)),
)
AddPartitionsToTxnRequest = Struct(
    "AddPartitionsToTxnRequest",
    Field("v3_and_below_transactional_id", STRING),
    Field("v3_and_below_producer_id", INT64),
    Field("v3_and_below_producer_epoch", INT16),
    Field("v3_and_below_topics", Array(AddPartitionsToTxnTopic)),
)
AddPartitionsToTxnPartitionResult = Struct(
    "AddPartitionsToTxnPartitionResult",
    Field("partition_index", INT32),
    Field("partition_error_code", INT16),
)
AddPartitionsToTxnTopicResult = Struct(
    "AddPartitionsToTxnTopicResult",
    Field("name", STRING),
    Field("results_by_partition", Array(AddPartitionsToTxnPartitionResult)),
)
AddPartitionsToTxnResponse = Struct(
    "AddPartitionsToTxnResponse",
    Field("throttle_time_ms", INT32),
    Field("results_by_topic_v3_and_below", Array(AddPartitionsToTxnTopicResult)),
)

ADD_PARTITIONS_TO_TXN = Api(24, "AddPartitionsToTxn", "0-2", AddPartitionsToTxnRequest, AddPartitionsToTxnResponse)
