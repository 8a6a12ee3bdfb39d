"""LeaveGroup (key 13): members leave a group; v3 leaves several at once."""

from cluster.broker.protocol.primitives import INT16, INT32, STRING
from cluster.broker.protocol.schema import Api, Array, Field, Struct

MemberIdentity = Struct(
    "MemberIdentity",
    Field("member_id", STRING, "3+"),
    Field("group_instance_id", STRING, "3+", nullable="3+", default=None),
)
LeaveGroupRequest = Struct(
    "LeaveGroupRequest",
    Field("group_id", STRING),
    Field("member_id", STRING, "0-2"),
    Field("members", Array(MemberIdentity), "3+"),
)

MemberResponse = Struct(
    "MemberResponse",
    Field("member_id", STRING, "3+"),
    Field("group_instance_id", STRING, "3+", nullable="3+", default=None),
    Field("error_code", INT16, "3+"),
)
LeaveGroupResponse = Struct(
    "LeaveGroupResponse",
    Field("throttle_time_ms", INT32, "1+"),
    Field("error_code", INT16),
    Field("members", Array(MemberResponse), "3+"),
)

LEAVE_GROUP = Api(13, "LeaveGroup", "0-3", LeaveGroupRequest, LeaveGroupResponse)
