"""ApiVersions answers: the advertised table, and the refusal that makes a client downgrade.

Clients open with a flexible ApiVersions (kafka-python v4, librdkafka v3).
Like the Java broker, we answer a version we do not speak with a v0 response
header and a v0 body: UNSUPPORTED_VERSION plus our own ApiVersions range, and
the client retries at a version inside it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cluster.broker.protocol.apis import APIS, ApiKey
from cluster.broker.protocol.apis.api_versions import API_VERSIONS, ApiVersion, ApiVersionsResponse
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.protocol.messages import encode_response
from cluster.broker.protocol.primitives import Region


def advertised() -> list[Any]:
    """One ApiVersion entry per API, ordered by key."""
    return [
        ApiVersion(api_key=key, min_version=api.min_version, max_version=api.max_version)
        for key, api in sorted(APIS.items())
    ]


def api_versions_response(throttle_time_ms: int = 0) -> Any:
    return ApiVersionsResponse(error_code=ErrorCode.NONE, api_keys=advertised(), throttle_time_ms=throttle_time_ms)


def unsupported_version_response(request_header: Any) -> list[bytes | Region] | None:
    """The framed answer to a request the broker does not speak, or None: close the connection.

    Only ApiVersions gets an answer (Kafka closes the connection for any other
    unknown version): error 35 and the entry (18, min, max).
    """
    if request_header.request_api_key != ApiKey.API_VERSIONS:
        return None
    refusal = ApiVersionsResponse(
        error_code=ErrorCode.UNSUPPORTED_VERSION,
        api_keys=[ApiVersion(api_key=ApiKey.API_VERSIONS, min_version=API_VERSIONS.min_version,
                             max_version=API_VERSIONS.max_version)],
    )
    return encode_response(replace(request_header, request_api_version=0), refusal)
