"""JoinGroup (key 11): a member joins a consumer group; the leader gets everyone's metadata."""

from cluster.broker.protocol.primitives import BYTES, INT16, INT32, STRING
from cluster.broker.protocol.schema import Api, Array, Field, Struct

JoinGroupRequestProtocol = Struct(
    "JoinGroupRequestProtocol",
    Field("name", STRING),
    Field("metadata", BYTES),
)
JoinGroupRequest = Struct(
    "JoinGroupRequest",
    Field("group_id", STRING),
    Field("session_timeout_ms", INT32),
    Field("rebalance_timeout_ms", INT32, "1+", default=-1),
    Field("member_id", STRING),
    Field("group_instance_id", STRING, "5+", nullable="5+", default=None),
    Field("protocol_type", STRING),
    Field("protocols", Array(JoinGroupRequestProtocol)),
)

JoinGroupResponseMember = Struct(
    "JoinGroupResponseMember",
    Field("member_id", STRING),
    Field("group_instance_id", STRING, "5+", nullable="5+", default=None),
    Field("metadata", BYTES),
)
JoinGroupResponse = Struct(
    "JoinGroupResponse",
    Field("throttle_time_ms", INT32, "2+"),
    Field("error_code", INT16),
    Field("generation_id", INT32, default=-1),
    Field("protocol_name", STRING),
    Field("leader", STRING),
    Field("member_id", STRING),
    Field("members", Array(JoinGroupResponseMember)),
)

JOIN_GROUP = Api(11, "JoinGroup", "0-5", JoinGroupRequest, JoinGroupResponse)
