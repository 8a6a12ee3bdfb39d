"""FindCoordinator (key 10): which broker coordinates a group (key_type 0) or transaction (1)."""

from cluster.broker.protocol.primitives import INT8, INT16, INT32, STRING
from cluster.broker.protocol.schema import Api, Field, Struct

GROUP_KEY = 0
TRANSACTION_KEY = 1

FindCoordinatorRequest = Struct(
    "FindCoordinatorRequest",
    Field("key", STRING),
    Field("key_type", INT8, "1+"),
)
FindCoordinatorResponse = Struct(
    "FindCoordinatorResponse",
    Field("throttle_time_ms", INT32, "1+"),
    Field("error_code", INT16),
    Field("error_message", STRING, "1+", nullable="1+", default=None),
    Field("node_id", INT32),
    Field("host", STRING),
    Field("port", INT32),
)

FIND_COORDINATOR = Api(10, "FindCoordinator", "0-2", FindCoordinatorRequest, FindCoordinatorResponse)
