"""ListGroups (key 16): the groups this broker coordinates (admin tooling)."""

from cluster.broker.protocol.primitives import INT16, INT32, STRING
from cluster.broker.protocol.schema import Api, Array, Field, Struct

ListGroupsRequest = Struct("ListGroupsRequest")

ListedGroup = Struct(
    "ListedGroup",
    Field("group_id", STRING),
    Field("protocol_type", STRING),
)
ListGroupsResponse = Struct(
    "ListGroupsResponse",
    Field("throttle_time_ms", INT32, "1+"),
    Field("error_code", INT16),
    Field("groups", Array(ListedGroup)),
)

LIST_GROUPS = Api(16, "ListGroups", "0-2", ListGroupsRequest, ListGroupsResponse)
