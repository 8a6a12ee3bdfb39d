"""DeleteTopics (key 20): admin clients delete topics by name."""

from cluster.broker.protocol.primitives import INT16, INT32, STRING
from cluster.broker.protocol.schema import Api, Array, Field, Struct

DeleteTopicsRequest = Struct(
    "DeleteTopicsRequest",
    Field("topic_names", Array(STRING)),
    Field("timeout_ms", INT32),
)

DeletableTopicResult = Struct(
    "DeletableTopicResult",
    Field("name", STRING),
    Field("error_code", INT16),
)
DeleteTopicsResponse = Struct(
    "DeleteTopicsResponse",
    Field("throttle_time_ms", INT32, "1+"),
    Field("responses", Array(DeletableTopicResult)),
)

DELETE_TOPICS = Api(20, "DeleteTopics", "1-3", DeleteTopicsRequest, DeleteTopicsResponse)
