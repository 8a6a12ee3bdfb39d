"""ApiVersions (key 18): which APIs and versions a broker speaks; every connection starts here."""

from cluster.broker.protocol.primitives import INT16, INT32
from cluster.broker.protocol.schema import Api, Array, Field, Struct

ApiVersionsRequest = Struct("ApiVersionsRequest")

ApiVersion = Struct(
    "ApiVersion",
    Field("api_key", INT16),
    Field("min_version", INT16),
    Field("max_version", INT16),
)
ApiVersionsResponse = Struct(
    "ApiVersionsResponse",
    Field("error_code", INT16),
    Field("api_keys", Array(ApiVersion)),
    Field("throttle_time_ms", INT32, "1+"),
)

API_VERSIONS = Api(18, "ApiVersions", "0-2", ApiVersionsRequest, ApiVersionsResponse)
