"""WriteTxnMarkers (key 27): a transaction coordinator has partition leaders on other brokers write markers.

Only version 0 (the one non-flexible version): brokers of this cluster are its only senders."""

from cluster.broker.protocol.primitives import BOOLEAN, INT16, INT32, INT64, STRING
from cluster.broker.protocol.schema import Api, Array, Field, Struct

WritableTxnMarkerTopic = Struct(
    "WritableTxnMarkerTopic",
    Field("name", STRING),
    Field("partition_indexes", Array(INT32)),
)
WritableTxnMarker = Struct(
    "WritableTxnMarker",
    Field("producer_id", INT64),
    Field("producer_epoch", INT16),
    Field("transaction_result", BOOLEAN),
    Field("topics", Array(WritableTxnMarkerTopic)),
    Field("coordinator_epoch", INT32),
)
WriteTxnMarkersRequest = Struct(
    "WriteTxnMarkersRequest",
    Field("markers", Array(WritableTxnMarker)),
)
WritableTxnMarkerPartitionResult = Struct(
    "WritableTxnMarkerPartitionResult",
    Field("partition_index", INT32),
    Field("error_code", INT16),
)
WritableTxnMarkerTopicResult = Struct(
    "WritableTxnMarkerTopicResult",
    Field("name", STRING),
    Field("partitions", Array(WritableTxnMarkerPartitionResult)),
)
WritableTxnMarkerResult = Struct(
    "WritableTxnMarkerResult",
    Field("producer_id", INT64),
    Field("topics", Array(WritableTxnMarkerTopicResult)),
)
WriteTxnMarkersResponse = Struct(
    "WriteTxnMarkersResponse",
    Field("markers", Array(WritableTxnMarkerResult)),
)

WRITE_TXN_MARKERS = Api(27, "WriteTxnMarkers", "0", WriteTxnMarkersRequest, WriteTxnMarkersResponse)
