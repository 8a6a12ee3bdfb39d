"""Byte compatibility with a real client: kafka-python 3.x encodes requests we decode, decodes responses we encode."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.broker.protocol.apis import ApiKey
from tests.protocol import kafka_python
from tests.protocol.catalogue import CODECS, codec_of, schema_of
from tests.protocol.strategies import message

REQUESTS = [p for p in CODECS if p.values[2] == "request" and kafka_python.knows(p.values[0].key, p.values[1], "request")]
RESPONSES = [p for p in CODECS if p.values[2] == "response" and kafka_python.knows(p.values[0].key, p.values[1], "response")]


def test_kafka_python_covers_every_api_we_speak():
    assert {p.values[0].key for p in REQUESTS} == set(ApiKey)
    assert {p.values[0].key for p in RESPONSES} == set(ApiKey)


@pytest.mark.parametrize("api, version, direction", REQUESTS)
@settings(max_examples=10)
@given(data=st.data())
def test_we_decode_what_kafka_python_encodes(api, version, direction, data):
    value = data.draw(message(schema_of(api, direction), version))
    encoded = kafka_python.encode_request(api.key, version, value)
    assert codec_of(api, version, direction).decode(encoded) == value


def _successful_if_api_versions(api, value):
    """kafka-python reads any failed ApiVersions response as v0 (see test_negotiation for that path)."""
    return dataclasses.replace(value, error_code=0) if api.key == ApiKey.API_VERSIONS else value


@pytest.mark.parametrize("api, version, direction", RESPONSES)
@settings(max_examples=10)
@given(data=st.data())
def test_kafka_python_decodes_what_we_encode(api, version, direction, data):
    schema = schema_of(api, direction)
    value = _successful_if_api_versions(api, data.draw(message(schema, version)))
    encoded = codec_of(api, version, direction).encode(value)
    decoded, reencoded = kafka_python.decode_response(api.key, version, encoded)
    assert decoded == kafka_python.as_plain(value, schema, version)
    assert reencoded == encoded
