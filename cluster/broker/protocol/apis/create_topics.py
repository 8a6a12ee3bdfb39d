"""CreateTopics (key 19): admin clients create topics (-1 partitions or replicas = broker default)."""

from cluster.broker.protocol.primitives import BOOLEAN, INT16, INT32, STRING
from cluster.broker.protocol.schema import Api, Array, Field, Struct

CreatableReplicaAssignment = Struct(
    "CreatableReplicaAssignment",
    Field("partition_index", INT32),
    Field("broker_ids", Array(INT32)),
)
CreatableTopicConfig = Struct(
    "CreatableTopicConfig",
    Field("name", STRING),
    Field("value", STRING, nullable="0+"),
)
CreatableTopic = Struct(
    "CreatableTopic",
    Field("name", STRING),
    Field("num_partitions", INT32),
    Field("replication_factor", INT16),
    Field("assignments", Array(CreatableReplicaAssignment)),
    Field("configs", Array(CreatableTopicConfig)),
)
CreateTopicsRequest = Struct(
    "CreateTopicsRequest",
    Field("topics", Array(CreatableTopic)),
    Field("timeout_ms", INT32, default=60000),
    Field("validate_only", BOOLEAN, "1+"),
)

CreatableTopicResult = Struct(
    "CreatableTopicResult",
    Field("name", STRING),
    Field("error_code", INT16),
    Field("error_message", STRING, "1+", nullable="0+", default=None),
)
CreateTopicsResponse = Struct(
    "CreateTopicsResponse",
    Field("throttle_time_ms", INT32, "2+"),
    Field("topics", Array(CreatableTopicResult)),
)

CREATE_TOPICS = Api(19, "CreateTopics", "2-4", CreateTopicsRequest, CreateTopicsResponse)
