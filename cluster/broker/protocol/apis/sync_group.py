"""SyncGroup (key 14): the group leader hands out assignments; every member receives its own."""

from cluster.broker.protocol.primitives import BYTES, INT16, INT32, STRING
from cluster.broker.protocol.schema import Api, Array, Field, Struct

SyncGroupRequestAssignment = Struct(
    "SyncGroupRequestAssignment",
    Field("member_id", STRING),
    Field("assignment", BYTES),
)
SyncGroupRequest = Struct(
    "SyncGroupRequest",
    Field("group_id", STRING),
    Field("generation_id", INT32),
    Field("member_id", STRING),
    Field("group_instance_id", STRING, "3+", nullable="3+", default=None),
    Field("assignments", Array(SyncGroupRequestAssignment)),
)
SyncGroupResponse = Struct(
    "SyncGroupResponse",
    Field("throttle_time_ms", INT32, "1+"),
    Field("error_code", INT16),
    Field("assignment", BYTES),
)

SYNC_GROUP = Api(14, "SyncGroup", "0-3", SyncGroupRequest, SyncGroupResponse)
