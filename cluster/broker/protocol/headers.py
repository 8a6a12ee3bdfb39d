"""Request and response headers.

Request header v1 precedes every non-flexible request, v2 (v1 plus a tag
section) every flexible one. client_id stays an int16-length string even in
v2, so the first four fields read the same in both: that prefix is all a
broker needs to decide whether it speaks the request at all. Response header
v0 is the correlation id alone; v1 adds a tag section, but ApiVersions
responses always use v0 so a client that guessed too high a version can read
the refusal.
"""

from __future__ import annotations

from cluster.broker.protocol.primitives import INT16, INT32, STRING, TAGGED_FIELDS
from cluster.broker.protocol.schema import Field, MessageCodec, Struct

RequestHeader = Struct(
    "RequestHeader",
    Field("request_api_key", INT16),
    Field("request_api_version", INT16),
    Field("correlation_id", INT32),
    Field("client_id", STRING, "1+", nullable="1+", default=None),
    Field("tagged_fields", TAGGED_FIELDS, "2+"),
)
ResponseHeader = Struct(
    "ResponseHeader",
    Field("correlation_id", INT32),
    Field("tagged_fields", TAGGED_FIELDS, "1+"),
)

REQUEST_HEADER_V1 = MessageCodec(RequestHeader, 1, "request header v1")
REQUEST_HEADER_V2 = MessageCodec(RequestHeader, 2, "request header v2")
RESPONSE_HEADER_V0 = MessageCodec(ResponseHeader, 0, "response header v0")
RESPONSE_HEADER_V1 = MessageCodec(ResponseHeader, 1, "response header v1")
