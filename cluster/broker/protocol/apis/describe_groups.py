"""DescribeGroups (key 15): state, protocol and members of consumer groups (admin tooling)."""

from cluster.broker.protocol.primitives import BOOLEAN, BYTES, INT16, INT32, STRING
from cluster.broker.protocol.schema import Api, Array, Field, Struct

AUTHORIZED_OPERATIONS_UNKNOWN = -(2**31)

DescribeGroupsRequest = Struct(
    "DescribeGroupsRequest",
    Field("groups", Array(STRING)),
    Field("include_authorized_operations", BOOLEAN, "3+"),
)

DescribedGroupMember = Struct(
    "DescribedGroupMember",
    Field("member_id", STRING),
    Field("group_instance_id", STRING, "4+", nullable="4+", default=None),
    Field("client_id", STRING),
    Field("client_host", STRING),
    Field("member_metadata", BYTES),
    Field("member_assignment", BYTES),
)
DescribedGroup = Struct(
    "DescribedGroup",
    Field("error_code", INT16),
    Field("group_id", STRING),
    Field("group_state", STRING),
    Field("protocol_type", STRING),
    Field("protocol_data", STRING),
    Field("members", Array(DescribedGroupMember)),
    Field("authorized_operations", INT32, "3+", default=AUTHORIZED_OPERATIONS_UNKNOWN),
)
DescribeGroupsResponse = Struct(
    "DescribeGroupsResponse",
    Field("throttle_time_ms", INT32, "1+"),
    Field("groups", Array(DescribedGroup)),
)

DESCRIBE_GROUPS = Api(15, "DescribeGroups", "0-4", DescribeGroupsRequest, DescribeGroupsResponse)
