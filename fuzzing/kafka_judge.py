"""What the broker must do with a frame, and whether an answer is one it may give.

The expectation comes from decoding the frame with the broker's own codecs, the way the
broker will: a request it can read is answered (Produce with acks=0 excepted: no answer, or
a closed connection if it failed); a header naming an API or version it does not speak is
refused, with an ApiVersions v0 answer for ApiVersions and a closed connection for the rest,
as Kafka does; anything else it cannot read closes the connection. An answer must carry the
request's correlation id, decode with the response schema, and hold only known error codes.
"""

from __future__ import annotations

import dataclasses
import enum
import struct
from dataclasses import dataclass
from typing import Any, Iterator

from cluster.broker.protocol.apis import ApiKey
from cluster.broker.protocol.apis.api_versions import API_VERSIONS
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.protocol.messages import UnsupportedVersionError, api_for, read_request_header
from cluster.broker.protocol.schema import Api

_WRITES = {ApiKey.PRODUCE, ApiKey.CREATE_TOPICS, ApiKey.DELETE_TOPICS}
"""The APIs whose accepted requests change the topics' stored data (what the digest covers)."""
GROUP_MAX_SESSION_TIMEOUT_MS = 1000
REPLICA_FETCH_WAIT_MAX_MS = 50
"""The fuzzed broker's group.max.session.timeout.ms and replica.fetch.wait.max.ms: they bound its waits."""
_KNOWN_ERRORS = frozenset(int(code) for code in ErrorCode)
_CORRELATION = struct.Struct(">i")


class Expect(enum.Enum):
    ANSWER = "answered"
    SILENT = "not answered (acks=0), or the connection closed"
    REFUSE = "the connection closed"
    REFUSE_WITH_VERSIONS = "answered with ApiVersions v0"


@dataclass(frozen=True)
class Expectation:
    expect: Expect
    correlation_id: int | None
    api: Api | None = None
    version: int = 0
    wait_ms: int = 0
    """How long the request asks the broker to hold its answer (a long poll, a rebalance)."""

    @property
    def label(self) -> str:
        return f"{self.api.name} v{self.version}" if self.api else "unparseable header"


def expectation(payload: bytes) -> Expectation:
    try:
        header, body_start = read_request_header(payload)
    except Exception:
        return Expectation(Expect.REFUSE, None)
    cid = header.correlation_id
    try:
        api = api_for(header)
    except UnsupportedVersionError:
        if header.request_api_key == API_VERSIONS.key:
            return Expectation(Expect.REFUSE_WITH_VERSIONS, cid, API_VERSIONS, 0)
        return Expectation(Expect.REFUSE, cid)
    version = header.request_api_version
    try:
        body = api.request_codecs[version].decode(memoryview(payload), body_start)
    except Exception:
        return Expectation(Expect.REFUSE, cid, api, version)
    if api.key == ApiKey.PRODUCE and body.acks == 0:
        return Expectation(Expect.SILENT, cid, api, version)
    return Expectation(Expect.ANSWER, cid, api, version, _wait_ms(api, body))


def _wait_ms(api: Api, body: Any) -> int:
    if api.key == ApiKey.FETCH:
        return max(0, body.max_wait_ms) if body.min_bytes > 0 else 0
    if api.key == ApiKey.JOIN_GROUP:
        return max(0, body.rebalance_timeout_ms if body.rebalance_timeout_ms > 0 else body.session_timeout_ms)
    if api.key == ApiKey.SYNC_GROUP:
        return GROUP_MAX_SESSION_TIMEOUT_MS  # a follower's sync waits for the leader's, at most a session
    if api.key == ApiKey.OFFSET_FOR_LEADER_EPOCH and body.replica_id >= 0:
        return REPLICA_FETCH_WAIT_MAX_MS
    return 0


def may_write(expected: Expectation) -> bool:
    return expected.api is not None and ApiKey(expected.api.key) in _WRITES


def judge_answer(expected: Expectation, payload: bytes) -> tuple[list[str], bool]:
    """(problems with this answer, whether it accepted something: an error code 0 anywhere)."""
    if len(payload) < 4:
        return [f"an answer of {len(payload)} bytes, too short for a correlation id ({expected.label})"], False
    assert expected.api is not None
    try:
        body = expected.api.response_codecs[expected.version].decode(payload, 4)
    except Exception as error:
        return [f"an answer that does not decode as its response ({expected.label}): {type(error).__name__}"], False
    codes = list(_error_codes(body))
    unknown = sorted({code for code in codes if code not in _KNOWN_ERRORS})
    problems = [f"unknown error code(s) {unknown} ({expected.label})"] if unknown else []
    return problems, ErrorCode.NONE in codes or not codes


def correlation_of(payload: bytes) -> int | None:
    return _CORRELATION.unpack_from(payload)[0] if len(payload) >= 4 else None


def _error_codes(value: Any) -> Iterator[int]:
    if isinstance(value, list):
        for item in value:
            yield from _error_codes(item)
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            inner = getattr(value, field.name)
            if field.name == "error_code":
                yield inner
            elif isinstance(inner, list) or dataclasses.is_dataclass(inner):
                yield from _error_codes(inner)

