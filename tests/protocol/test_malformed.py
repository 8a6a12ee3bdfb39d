"""Malformed bodies raise ProtocolError naming message and field, never anything else, and never hang."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.broker.protocol.apis.describe_groups import DESCRIBE_GROUPS
from cluster.broker.protocol.apis.metadata import METADATA
from cluster.broker.protocol.apis.produce import PRODUCE, PartitionProduceData, ProduceRequest, TopicProduceData
from cluster.broker.protocol.errors import ProtocolError
from tests.protocol.catalogue import CODECS, codec_of, schema_of
from tests.protocol.strategies import message


def decodes_or_refuses(codec, data: bytes) -> None:
    try:
        codec.decode(data)
    except ProtocolError as exc:
        assert exc.where == codec.description


@pytest.mark.parametrize("api, version, direction", CODECS)
@settings(max_examples=10)
@given(data=st.binary(max_size=64))
def test_random_bytes_decode_or_raise_protocol_error(api, version, direction, data):
    decodes_or_refuses(codec_of(api, version, direction), data)


@pytest.mark.parametrize("api, version, direction", CODECS)
@settings(max_examples=5)
@given(data=st.data())
def test_every_truncation_raises_protocol_error(api, version, direction, data):
    codec = codec_of(api, version, direction)
    encoded = codec.encode(data.draw(message(schema_of(api, direction), version)))
    for end in range(len(encoded)):
        with pytest.raises(ProtocolError):
            codec.decode(encoded[:end])


@pytest.mark.parametrize("api, version, direction", CODECS)
@settings(max_examples=5)
@given(data=st.data())
def test_trailing_bytes_raise_protocol_error(api, version, direction, data):
    codec = codec_of(api, version, direction)
    encoded = codec.encode(data.draw(message(schema_of(api, direction), version)))
    with pytest.raises(ProtocolError, match="left over"):
        codec.decode(encoded + data.draw(st.binary(min_size=1, max_size=8)))


@pytest.mark.parametrize("api, version, direction", CODECS)
@settings(max_examples=8)
@given(data=st.data())
def test_mutated_messages_decode_or_raise_protocol_error(api, version, direction, data):
    codec = codec_of(api, version, direction)
    encoded = bytearray(codec.encode(data.draw(message(schema_of(api, direction), version))))
    if not encoded:
        return
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(encoded) - 1))
        encoded[position] = data.draw(st.sampled_from([0x00, 0x7F, 0x80, 0xFF, data.draw(st.integers(0, 255))]))
    decodes_or_refuses(codec, bytes(encoded))


def _produce_v8(records: bytes) -> bytes:
    return PRODUCE.request_codecs[8].encode(
        ProduceRequest(acks=-1, timeout_ms=1000,
                       topic_data=[TopicProduceData(name="t", partition_data=[PartitionProduceData(index=0, records=records)])])
    )


def test_huge_array_count_is_refused_before_allocating():
    body = struct.pack(">hhi", -1, 1, 1000) + struct.pack(">i", 0x7FFFFFFF)
    with pytest.raises(ProtocolError) as raised:
        PRODUCE.request_codecs[3].decode(body)
    assert raised.value.field == "topic_data"
    assert "count 2147483647" in str(raised.value)


def test_record_length_beyond_the_frame_names_the_field():
    encoded = bytearray(_produce_v8(b"abc"))
    struct.pack_into(">i", encoded, len(encoded) - 7, 1 << 30)
    with pytest.raises(ProtocolError, match=r"Produce v8 request, field topic_data\[\]\.partition_data\[\]\.records"):
        PRODUCE.request_codecs[8].decode(bytes(encoded))


@pytest.mark.parametrize("length", [-2, -32768])
def test_negative_string_lengths_other_than_null_are_refused(length):
    body = struct.pack(">i", 1) + struct.pack(">h", length)
    with pytest.raises(ProtocolError, match=f"invalid length {length}"):
        METADATA.request_codecs[1].decode(body + b"\x00" * 8)


def test_null_is_refused_where_the_field_is_not_nullable():
    body = struct.pack(">ih", 1, -1)
    with pytest.raises(ProtocolError) as raised:
        DESCRIBE_GROUPS.request_codecs[0].decode(body)
    assert raised.value.field == "groups[]"


def test_null_array_is_refused_where_only_later_versions_allow_it():
    assert METADATA.request_codecs[1].decode(struct.pack(">i", -1)).topics is None
    with pytest.raises(ProtocolError, match="invalid count -1"):
        DESCRIBE_GROUPS.request_codecs[0].decode(struct.pack(">i", -1))


def test_invalid_utf8_is_a_protocol_error():
    body = struct.pack(">ih", 1, 2) + b"\xff\xfe"
    with pytest.raises(ProtocolError, match="not UTF-8"):
        METADATA.request_codecs[1].decode(body)


def test_produce_records_are_a_view_of_the_frame_not_a_copy():
    frame = bytearray(_produce_v8(b"batch-bytes"))
    records = PRODUCE.request_codecs[8].decode(frame).topic_data[0].partition_data[0].records
    assert isinstance(records, memoryview) and records == b"batch-bytes"
    frame[-11:] = b"B" * 11
    assert records == b"B" * 11
