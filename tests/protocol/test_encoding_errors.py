"""Values a field cannot carry are refused with a ProtocolError naming the field, on the way out too."""

from __future__ import annotations

import pytest

from cluster.broker.protocol.apis.heartbeat import HEARTBEAT, HeartbeatRequest, HeartbeatResponse
from cluster.broker.protocol.apis.metadata import METADATA, MetadataResponse, MetadataResponsePartition, MetadataResponseTopic
from cluster.broker.protocol.errors import ProtocolError


def test_a_string_longer_than_its_int16_length_is_refused():
    request = HeartbeatRequest(group_id="g" * 40000, generation_id=1, member_id="m")
    with pytest.raises(ProtocolError, match="Heartbeat v0 request, field group_id: 40000 bytes"):
        HEARTBEAT.request_codecs[0].encode(request)


def test_none_in_a_field_not_nullable_in_that_version_is_refused():
    request = HeartbeatRequest(group_id="g", generation_id=1, member_id=None)
    with pytest.raises(ProtocolError, match="field member_id: None given"):
        HEARTBEAT.request_codecs[3].encode(request)


def test_a_number_outside_its_width_names_its_field():
    with pytest.raises(ProtocolError, match="field error_code: cannot encode 40000"):
        HEARTBEAT.response_codecs[1].encode(HeartbeatResponse(throttle_time_ms=0, error_code=40000))


def test_a_bad_number_in_an_int32_array_names_the_array():
    partition = MetadataResponsePartition(replica_nodes=[1, 2**40])
    response = MetadataResponse(topics=[MetadataResponseTopic(name="t", partitions=[partition])])
    with pytest.raises(ProtocolError, match=r"field topics\[\]\.partitions\[\]\.replica_nodes\[\]"):
        METADATA.response_codecs[8].encode(response)


def test_a_short_fixed_run_names_the_first_field_cut_off():
    encoded = HEARTBEAT.request_codecs[0].encode(HeartbeatRequest(group_id="g", generation_id=7, member_id="m"))
    with pytest.raises(ProtocolError, match="field generation_id: needs 4 bytes, 2 left"):
        HEARTBEAT.request_codecs[0].decode(encoded[:5])
