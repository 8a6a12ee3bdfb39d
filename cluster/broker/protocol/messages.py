"""Whole messages: a request frame in, a typed request out; a response body in, frame parts out.

The server works in three steps per frame: read the header, check the
(api, version) against the advertised table (refuse with
UnsupportedVersionError before touching the body), then decode the body.
Responses come back as frame parts so Fetch records can be sendfile'd.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from cluster.broker.protocol.apis import APIS, ApiKey
from cluster.broker.protocol.errors import ProtocolError
from cluster.broker.protocol.framing import frame
from cluster.broker.protocol.headers import REQUEST_HEADER_V1, RESPONSE_HEADER_V0, ResponseHeader
from cluster.broker.protocol.primitives import Region
from cluster.broker.protocol.schema import Api, coalesce


class UnsupportedVersionError(ValueError):
    """A well-formed request header naming an API or version the broker does not speak.

    negotiation.unsupported_version_response says how to answer it.
    """

    def __init__(self, header: Any) -> None:
        super().__init__(f"API {header.request_api_key} v{header.request_api_version} is not supported")
        self.header = header


class UnencodableResponse(Exception):
    """A response the broker built that its schema cannot encode: the broker's own bug, never the client's.

    Not a ProtocolError, which blames the bytes a client sent: the server logs this as an internal error."""


@dataclass(frozen=True, slots=True)
class Request:
    header: Any
    api: Api
    body: Any

    @property
    def version(self) -> int:
        return self.header.request_api_version

    @property
    def correlation_id(self) -> int:
        return self.header.correlation_id


def read_request_header(frame_payload: bytes | bytearray | memoryview) -> tuple[Any, int]:
    """Reads api key, version, correlation id and client id; returns the header and where the rest starts.

    Those four fields read the same in header v1 and v2, so this never needs
    to know whether the request is flexible.
    """
    return REQUEST_HEADER_V1.decode_prefix(frame_payload)


def api_for(header: Any) -> Api:
    """The API a request header names, if the broker speaks that version of it."""
    try:
        api = APIS[ApiKey(header.request_api_key)]
    except ValueError:
        raise UnsupportedVersionError(header) from None
    if not api.supports(header.request_api_version):
        raise UnsupportedVersionError(header)
    return api


def decode_request(frame_payload: bytes | bytearray | memoryview) -> Request:
    """Decodes a request frame (without its size prefix); Produce records stay views of it."""
    view = memoryview(frame_payload)
    header, body_start = read_request_header(view)
    api = api_for(header)
    return Request(header, api, api.request_codecs[header.request_api_version].decode(view, body_start))


def encode_response(request_header: Any, body: Any) -> list[bytes | Region]:
    """The framed response (size, header v0, body) as parts: bytes, and any records regions."""
    codec = APIS[ApiKey(request_header.request_api_key)].response_codecs[request_header.request_api_version]
    header = RESPONSE_HEADER_V0.encode(ResponseHeader(correlation_id=request_header.correlation_id))
    try:
        parts = codec.encode_parts(body)
    except ProtocolError as error:
        raise UnencodableResponse(str(error)) from error
    return coalesce(frame([header, *parts]))


def joined(parts: Sequence[bytes | Region]) -> bytes:
    """One bytes object for parts that hold no regions, e.g. every response but Fetch."""
    if any(not isinstance(part, (bytes, bytearray, memoryview)) for part in parts):
        raise ValueError("parts hold records regions: write them with sendfile, not as bytes")
    return b"".join(parts)
