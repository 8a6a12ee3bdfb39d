"""Metadata (key 3): brokers, controller, and each partition's leader and replicas."""

from cluster.broker.protocol.primitives import BOOLEAN, INT16, INT32, STRING
from cluster.broker.protocol.schema import Api, Array, Field, Struct

AUTHORIZED_OPERATIONS_UNKNOWN = -(2**31)

MetadataRequestTopic = Struct("MetadataRequestTopic", Field("name", STRING))
MetadataRequest = Struct(
    "MetadataRequest",
    Field("topics", Array(MetadataRequestTopic), nullable="1+"),
    Field("allow_auto_topic_creation", BOOLEAN, "4+", default=True),
    Field("include_cluster_authorized_operations", BOOLEAN, "8+"),
    Field("include_topic_authorized_operations", BOOLEAN, "8+"),
)

MetadataResponseBroker = Struct(
    "MetadataResponseBroker",
    Field("node_id", INT32),
    Field("host", STRING),
    Field("port", INT32),
    Field("rack", STRING, "1+", nullable="1+", default=None),
)
MetadataResponsePartition = Struct(
    "MetadataResponsePartition",
    Field("error_code", INT16),
    Field("partition_index", INT32),
    Field("leader_id", INT32),
    Field("leader_epoch", INT32, "7+", default=-1),
    Field("replica_nodes", Array(INT32)),
    Field("isr_nodes", Array(INT32)),
    Field("offline_replicas", Array(INT32), "5+"),
)
MetadataResponseTopic = Struct(
    "MetadataResponseTopic",
    Field("error_code", INT16),
    Field("name", STRING),
    Field("is_internal", BOOLEAN, "1+"),
    Field("partitions", Array(MetadataResponsePartition)),
    Field("topic_authorized_operations", INT32, "8+", default=AUTHORIZED_OPERATIONS_UNKNOWN),
)
MetadataResponse = Struct(
    "MetadataResponse",
    Field("throttle_time_ms", INT32, "3+"),
    Field("brokers", Array(MetadataResponseBroker)),
    Field("cluster_id", STRING, "2+", nullable="2+", default=None),
    Field("controller_id", INT32, "1+", default=-1),
    Field("topics", Array(MetadataResponseTopic)),
    Field("cluster_authorized_operations", INT32, "8+", default=AUTHORIZED_OPERATIONS_UNKNOWN),
)

METADATA = Api(3, "Metadata", "1-8", MetadataRequest, MetadataResponse)
