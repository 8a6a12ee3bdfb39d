"""Requests in, responses out: headers, the supported-version gate, the ApiVersions downgrade, zero-copy parts."""

from __future__ import annotations

import struct
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kafka.protocol.consumer import FetchResponse as KafkaPythonFetchResponse
from kafka.protocol.metadata import ApiVersionsRequest as KafkaPythonApiVersionsRequest
from kafka.protocol.metadata import ApiVersionsResponse as KafkaPythonApiVersionsResponse
from kafka.protocol.metadata import MetadataRequest as KafkaPythonMetadataRequest

from cluster.broker.protocol.apis import APIS, ApiKey
from cluster.broker.protocol.apis.fetch import FETCH, FetchableTopicResponse, FetchResponse, PartitionData
from cluster.broker.protocol.apis.join_group import JoinGroupResponse
from cluster.broker.protocol.errors import ErrorCode, ProtocolError
from cluster.broker.protocol.framing import FrameDecoder
from cluster.broker.protocol.headers import (
    REQUEST_HEADER_V1,
    REQUEST_HEADER_V2,
    RESPONSE_HEADER_V0,
    RESPONSE_HEADER_V1,
    RequestHeader,
)
from cluster.broker.protocol.messages import (
    UnencodableResponse,
    UnsupportedVersionError,
    decode_request,
    encode_response,
    joined,
    read_request_header,
)
from cluster.broker.protocol.negotiation import api_versions_response, unsupported_version_response
from tests.protocol.strategies import message

ADVERTISED = {
    ApiKey.API_VERSIONS: (0, 2), ApiKey.METADATA: (1, 8), ApiKey.PRODUCE: (0, 8), ApiKey.FETCH: (4, 11),
    ApiKey.LIST_OFFSETS: (1, 5), ApiKey.INIT_PRODUCER_ID: (0, 1), ApiKey.FIND_COORDINATOR: (0, 2),
    ApiKey.JOIN_GROUP: (0, 5), ApiKey.SYNC_GROUP: (0, 3), ApiKey.HEARTBEAT: (0, 3), ApiKey.LEAVE_GROUP: (0, 3),
    ApiKey.OFFSET_COMMIT: (2, 7), ApiKey.OFFSET_FETCH: (1, 5), ApiKey.CREATE_TOPICS: (2, 4),
    ApiKey.OFFSET_FOR_LEADER_EPOCH: (2, 3), ApiKey.DESCRIBE_GROUPS: (0, 4), ApiKey.LIST_GROUPS: (0, 2),
    ApiKey.DELETE_TOPICS: (1, 3), ApiKey.ADD_PARTITIONS_TO_TXN: (0, 2), ApiKey.ADD_OFFSETS_TO_TXN: (0, 2),
    ApiKey.END_TXN: (0, 2), ApiKey.WRITE_TXN_MARKERS: (0, 0), ApiKey.TXN_OFFSET_COMMIT: (0, 2),
}


@dataclass
class FileRegion:
    """Stands in for the server's sendfile range: only its length matters to the codec."""

    length: int


def kafka_python_request(request_class, version: int, correlation_id: int = 7, **fields) -> bytes:
    request = request_class[version](**fields)
    request.with_header(correlation_id=correlation_id, client_id="logquake-test")
    return bytes(request.encode(header=True))


@pytest.mark.parametrize("version", [1, 2])
@given(data=st.data())
def test_request_headers_round_trip(version, data):
    codec = REQUEST_HEADER_V1 if version == 1 else REQUEST_HEADER_V2
    header = data.draw(message(RequestHeader, version))
    assert codec.decode(codec.encode(header)) == header


@given(correlation_id=st.integers(-(2**31), 2**31 - 1), tags=st.dictionaries(st.integers(0, 300), st.binary(max_size=4)))
def test_response_headers_v0_and_v1(correlation_id, tags):
    v0 = RESPONSE_HEADER_V0.encode(RESPONSE_HEADER_V0.schema(correlation_id=correlation_id))
    assert v0 == struct.pack(">i", correlation_id)
    header = RESPONSE_HEADER_V1.schema(correlation_id=correlation_id, tagged_fields=tags)
    assert RESPONSE_HEADER_V1.decode(RESPONSE_HEADER_V1.encode(header)) == header


def test_tagged_fields_must_ascend():
    with pytest.raises(ProtocolError, match="tags must ascend"):
        RESPONSE_HEADER_V1.decode(struct.pack(">i", 1) + bytes([2, 5, 0, 3, 0]))


def test_over_long_varint_is_refused():
    with pytest.raises(ProtocolError, match="varint"):
        RESPONSE_HEADER_V1.decode(struct.pack(">i", 1) + b"\xff" * 6)


def test_a_real_client_request_decodes_with_its_header():
    frame = kafka_python_request(KafkaPythonMetadataRequest, 8, topics=None, allow_auto_topic_creation=False,
                                 include_cluster_authorized_operations=False, include_topic_authorized_operations=True)
    request = decode_request(frame)
    assert (request.api.key, request.version, request.correlation_id) == (ApiKey.METADATA, 8, 7)
    assert request.header.client_id == "logquake-test"
    assert request.body.topics is None and request.body.include_topic_authorized_operations is True


@pytest.mark.parametrize("key, version", [(ApiKey.METADATA, 0), (ApiKey.METADATA, 9), (ApiKey.FETCH, 3), (77, 0)])
def test_unsupported_requests_are_recognised_from_the_header_alone(key, version):
    header_only = REQUEST_HEADER_V1.encode(RequestHeader(request_api_key=key, request_api_version=version,
                                                         correlation_id=3, client_id=None))
    with pytest.raises(UnsupportedVersionError) as raised:
        decode_request(header_only + b"\xde\xad")
    assert raised.value.header.correlation_id == 3
    assert unsupported_version_response(raised.value.header) is None


def test_a_truncated_header_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="request header v1"):
        read_request_header(b"\x00\x03\x00")


@pytest.mark.parametrize("version", [3, 4])
def test_flexible_api_versions_gets_the_v0_downgrade_answer(version):
    frame = kafka_python_request(KafkaPythonApiVersionsRequest, version, correlation_id=42,
                                 client_software_name="kafka-python", client_software_version="3.0")
    with pytest.raises(UnsupportedVersionError) as raised:
        decode_request(frame)
    reply = joined(unsupported_version_response(raised.value.header))
    expected_body = struct.pack(">hi3h", 35, 1, 18, 0, 2)
    assert reply == struct.pack(">ii", 4 + len(expected_body), 42) + expected_body
    response = KafkaPythonApiVersionsResponse.decode(reply[4:], version=version, header=True)
    assert response.error_code == ErrorCode.UNSUPPORTED_VERSION
    assert [(k.api_key, k.min_version, k.max_version) for k in response.api_keys] == [(18, 0, 2)]


def test_downgrade_answer_for_a_hand_built_v3_request():
    """Byte-exact per the protocol guide: header v2 (client_id int16-length, then a tag section) and a compact body."""
    frame = struct.pack(">hhih", 18, 3, 9, 4) + b"rdkf" + b"\x00" + b"\x05librd" + b"\x042.1" + b"\x00"
    assert FrameDecoder().feed(struct.pack(">i", len(frame)) + frame) == [frame]
    with pytest.raises(UnsupportedVersionError) as raised:
        decode_request(frame)
    assert raised.value.header.client_id == "rdkf"
    assert joined(unsupported_version_response(raised.value.header)) == bytes.fromhex("00000010" "00000009" "0023" "00000001" "0012" "0000" "0002")


def test_the_advertised_table_is_the_one_the_field_notes_give():
    assert {key: (api.min_version, api.max_version) for key, api in APIS.items()} == ADVERTISED
    body = api_versions_response()
    assert [(e.api_key, e.min_version, e.max_version) for e in body.api_keys] == sorted(
        (key, low, high) for key, (low, high) in ADVERTISED.items()
    )


def test_a_response_its_schema_cannot_encode_is_the_brokers_error_not_the_clients():
    """A null where the version has no null (JoinGroup v5's protocol_name, as the fuzzer found): the
    server logs UnencodableResponse as an internal error, where a ProtocolError would blame the client."""
    request = REQUEST_HEADER_V1.schema(request_api_key=11, request_api_version=5, correlation_id=5, client_id="c")
    answer = JoinGroupResponse(error_code=ErrorCode.NOT_COORDINATOR, protocol_name=None, leader="", member_id="",
                               members=[])
    with pytest.raises(UnencodableResponse, match="protocol_name") as raised:
        encode_response(request, answer)
    assert not isinstance(raised.value, ProtocolError)


def test_api_versions_response_is_read_by_kafka_python():
    request = REQUEST_HEADER_V1.schema(request_api_key=18, request_api_version=2, correlation_id=5, client_id="c")
    reply = joined(encode_response(request, api_versions_response(throttle_time_ms=3)))
    response = KafkaPythonApiVersionsResponse.decode(reply[4:], version=2, header=True)
    assert response.error_code == 0 and response.throttle_time_ms == 3
    assert {(k.api_key, k.min_version, k.max_version) for k in response.api_keys} == {
        (key, low, high) for key, (low, high) in ADVERTISED.items()
    }


def _fetch_response(records) -> object:
    partition = PartitionData(partition_index=0, high_watermark=10, last_stable_offset=10, log_start_offset=0,
                              aborted_transactions=None, records=records)
    return FetchResponse(responses=[FetchableTopicResponse(topic="t", partitions=[partition])])


def test_fetch_records_as_regions_yield_parts_with_lengths_from_the_regions():
    regions = [FileRegion(1000), FileRegion(24)]
    header = RequestHeader(request_api_key=1, request_api_version=11, correlation_id=8, client_id=None)
    parts = encode_response(header, _fetch_response(regions))
    assert isinstance(parts[0], bytes) and parts[1:] == regions
    same_with_bytes = joined(encode_response(header, _fetch_response(b"a" * 1000 + b"b" * 24)))
    written = parts[0] + b"a" * 1000 + b"b" * 24
    assert written == same_with_bytes
    assert struct.unpack_from(">i", written)[0] == len(written) - 4
    decoded = KafkaPythonFetchResponse.decode(written[4:], version=11, header=True)
    assert decoded.responses[0].partitions[0].high_watermark == 10


def test_plain_bytes_encoding_refuses_regions():
    with pytest.raises(ValueError, match="encode_parts"):
        FETCH.response_codecs[11].encode(_fetch_response([FileRegion(5)]))
    with pytest.raises(ValueError, match="sendfile"):
        joined([b"x", FileRegion(5)])
