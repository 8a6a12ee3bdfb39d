"""AddOffsetsToTxn (key 25): a transactional producer will commit a group's offsets in its transaction."""

from cluster.broker.protocol.primitives import INT16, INT32, INT64, STRING
from cluster.broker.protocol.schema import Api, Field, Struct

AddOffsetsToTxnRequest = Struct(
    "AddOffsetsToTxnRequest",
    Field("transactional_id", STRING),
    Field("producer_id", INT64),
    Field("producer_epoch", INT16),
    Field("group_id", STRING),
)
AddOffsetsToTxnResponse = Struct(
    "AddOffsetsToTxnResponse",
    Field("throttle_time_ms", INT32),
    Field("error_code", INT16),
)

ADD_OFFSETS_TO_TXN = Api(25, "AddOffsetsToTxn", "0-2", AddOffsetsToTxnRequest, AddOffsetsToTxnResponse)
