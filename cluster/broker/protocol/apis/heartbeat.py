"""Heartbeat (key 12): a member stays alive and learns when to rejoin."""

from cluster.broker.protocol.primitives import INT16, INT32, STRING
from cluster.broker.protocol.schema import Api, Field, Struct

HeartbeatRequest = Struct(
    "HeartbeatRequest",
    Field("group_id", STRING),
    Field("generation_id", INT32),
    Field("member_id", STRING),
    Field("group_instance_id", STRING, "3+", nullable="3+", default=None),
)
HeartbeatResponse = Struct(
    "HeartbeatResponse",
    Field("throttle_time_ms", INT32, "1+"),
    Field("error_code", INT16),
)

HEARTBEAT = Api(12, "Heartbeat", "0-3", HeartbeatRequest, HeartbeatResponse)
