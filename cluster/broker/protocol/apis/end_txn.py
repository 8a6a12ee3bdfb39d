"""EndTxn (key 26): a transactional producer commits or aborts its transaction."""

from cluster.broker.protocol.primitives import BOOLEAN, INT16, INT32, INT64, STRING
from cluster.broker.protocol.schema import Api, Field, Struct

EndTxnRequest = Struct(
    "EndTxnRequest",
    Field("transactional_id", STRING),
    Field("producer_id", INT64),
    Field("producer_epoch", INT16),
    Field("committed", BOOLEAN),
)
EndTxnResponse = Struct(
    "EndTxnResponse",
    Field("throttle_time_ms", INT32),
    Field("error_code", INT16),
)

END_TXN = Api(26, "EndTxn", "0-2", EndTxnRequest, EndTxnResponse)
