"""InitProducerId (key 22): a producer id and epoch for idempotent (kafka-python's default) producers."""

from cluster.broker.protocol.primitives import INT16, INT32, INT64, STRING
from cluster.broker.protocol.schema import Api, Field, Struct

InitProducerIdRequest = Struct(
    "InitProducerIdRequest",
    Field("transactional_id", STRING, nullable="0+", default=None),
    Field("transaction_timeout_ms", INT32),
)
InitProducerIdResponse = Struct(
    "InitProducerIdResponse",
    Field("throttle_time_ms", INT32),
    Field("error_code", INT16),
    Field("producer_id", INT64, default=-1),
    Field("producer_epoch", INT16),
)

INIT_PRODUCER_ID = Api(22, "InitProducerId", "0-1", InitProducerIdRequest, InitProducerIdResponse)
