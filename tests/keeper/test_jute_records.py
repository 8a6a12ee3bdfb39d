"""Every jute record survives encode then decode unchanged, whatever values its fields hold.

Forty examples a record keep the 50-odd records under ten seconds on a busy
two-core machine. The strategies are built from each record's own declaration, so a record
added to records.py is covered here without another line; other jute tests
import `values_of` and `ALL_RECORDS` from this module.
"""

from __future__ import annotations

import typing
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.keeper.jute import records
from cluster.keeper.jute.multi import MULTI_OPS, MULTI_RESULTS, MultiOp, MultiRequest, MultiResponse
from cluster.keeper.jute.wire import (
    BOOLEAN,
    BUFFER,
    INT,
    LONG,
    USTRING,
    RecordType,
    TrailingBoolean,
    VectorOf,
    decode,
    encode,
    jute_type,
)

INT32 = st.integers(-(2**31), 2**31 - 1)
INT64 = st.integers(-(2**63), 2**63 - 1)

JUTE_RECORDS = sorted(
    (value for value in vars(records).values() if isinstance(value, type) and hasattr(value, "__jute__")),
    key=lambda cls: cls.__name__,
)
ALL_RECORDS = [*JUTE_RECORDS, MultiRequest, MultiResponse]


def _field_values(jute: Any) -> st.SearchStrategy[Any]:
    if jute is INT:
        return INT32
    if jute is LONG:
        return INT64
    if jute is BOOLEAN:
        return st.booleans()
    if isinstance(jute, TrailingBoolean):
        return st.none() | st.booleans()
    if jute is BUFFER:
        return st.none() | st.binary(max_size=40)
    if jute is USTRING:
        return st.none() | st.text(max_size=12)
    if isinstance(jute, VectorOf):
        return st.none() | st.lists(_field_values(jute.element), max_size=4)
    assert isinstance(jute, RecordType), f"no strategy for {jute!r}"
    return st.builds(jute.cls, *(_field_values(field) for _, field in jute.fields))


def _multi_ops(allowed: typing.Mapping[int, type | None]) -> st.SearchStrategy[list[MultiOp]]:
    def op(op_type: int) -> st.SearchStrategy[MultiOp]:
        cls = allowed[op_type]
        record = st.none() if cls is None else values_of(cls)
        return st.builds(MultiOp, st.just(op_type), record)

    return st.lists(st.sampled_from(sorted(allowed)).flatmap(op), max_size=5)


def values_of(cls: type) -> st.SearchStrategy[Any]:
    """Any value of a record class, nulls included wherever jute allows them."""
    if cls is MultiRequest:
        return st.builds(MultiRequest, _multi_ops(MULTI_OPS))
    if cls is MultiResponse:
        return st.builds(MultiResponse, _multi_ops(MULTI_RESULTS))
    return _field_values(jute_type(cls))


@pytest.mark.parametrize("cls", ALL_RECORDS, ids=lambda cls: cls.__name__)
@settings(max_examples=40)
@given(data=st.data())
def test_every_record_round_trips(cls: type, data: st.DataObject) -> None:
    value = data.draw(values_of(cls))
    assert decode(cls, encode(value)) == value


def test_every_client_facing_record_of_zookeeper_jute_is_declared() -> None:
    """The records a client can send or receive, by zookeeper.jute's names."""
    expected = {
        "ACL", "AddWatchRequest", "AuthPacket", "CheckVersionRequest", "CheckWatchesRequest", "ClientInfo",
        "ConnectRequest", "ConnectResponse", "Create2Response", "CreateRequest", "CreateResponse",
        "CreateTTLRequest", "DeleteRequest", "ErrorResponse", "ExistsRequest", "ExistsResponse",
        "GetACLRequest", "GetACLResponse", "GetAllChildrenNumberRequest", "GetAllChildrenNumberResponse",
        "GetChildren2Request", "GetChildren2Response", "GetChildrenRequest", "GetChildrenResponse",
        "GetDataRequest", "GetDataResponse", "GetEphemeralsRequest", "GetEphemeralsResponse", "GetSASLRequest",
        "Id", "MultiHeader", "ReconfigRequest", "RemoveWatchesRequest", "ReplyHeader", "RequestHeader",
        "SetACLRequest", "SetACLResponse", "SetDataRequest", "SetDataResponse", "SetSASLResponse", "SetWatches",
        "SetWatches2", "Stat", "SyncRequest", "SyncResponse", "WatcherEvent", "WhoAmIResponse",
    }  # fmt: skip
    assert {cls.__name__ for cls in JUTE_RECORDS} == expected


def test_a_stat_is_eleven_big_endian_numbers_in_jute_order() -> None:
    stat = records.Stat(
        czxid=1, mzxid=2, ctime=3, mtime=4, version=5, cversion=6, aversion=7,
        ephemeral_owner=8, data_length=9, num_children=10, pzxid=11,
    )  # fmt: skip
    widths = [8, 8, 8, 8, 4, 4, 4, 8, 4, 4, 8]
    expected = b"".join(value.to_bytes(width, "big") for value, width in zip(range(1, 12), widths))
    assert encode(stat) == expected


def test_null_and_empty_are_different_on_the_wire() -> None:
    assert encode(records.GetDataResponse(None, records.Stat(*[0] * 11)))[:4] == b"\xff\xff\xff\xff"
    assert encode(records.GetDataResponse(b"", records.Stat(*[0] * 11)))[:4] == b"\x00\x00\x00\x00"
    assert decode(records.GetChildrenResponse, b"\xff\xff\xff\xff") == records.GetChildrenResponse(None)
    assert decode(records.GetChildrenResponse, b"\x00\x00\x00\x00") == records.GetChildrenResponse([])


def test_ustrings_are_utf8_with_a_byte_count() -> None:
    assert encode(records.SyncRequest("/é")) == b"\x00\x00\x00\x03/\xc3\xa9"


def test_booleans_read_like_java_any_nonzero_byte_is_true() -> None:
    assert decode(records.ExistsRequest, b"\x00\x00\x00\x01/\x02") == records.ExistsRequest("/", True)
    assert encode(records.ExistsRequest("/", True))[-1:] == b"\x01"


def test_java_clients_characters_beyond_the_basic_plane_read_as_the_character() -> None:
    """Jute's Java writer sends U+1F600 as the surrogates D83D DE00, three bytes each."""
    java_wire = b"\x00\x00\x00\x07/\xed\xa0\xbd\xed\xb8\x80"
    assert decode(records.SyncRequest, java_wire) == records.SyncRequest("/\U0001f600")
    assert encode(records.SyncRequest("/\U0001f600")) == b"\x00\x00\x00\x05/\xf0\x9f\x98\x80"
