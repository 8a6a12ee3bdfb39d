"""The server's view of a connection: the handshake, requests by op code, replies and notifications."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.keeper.jute import (
    ErrorCode,
    EventType,
    JuteError,
    KeeperState,
    MultiOp,
    MultiRequest,
    MultiResponse,
    OpCode,
    UnsupportedOperation,
    Xid,
    decode_connect_request,
    decode_request,
    encode_connect_response,
    encode_notification,
    encode_reply,
)
from cluster.keeper.jute.messages import REQUEST_RECORDS
from cluster.keeper.jute.records import (
    ACL,
    ConnectRequest,
    ConnectResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    ErrorResponse,
    GetDataRequest,
    Id,
    ReplyHeader,
    RequestHeader,
    SetDataResponse,
    Stat,
    SyncResponse,
    WatcherEvent,
)
from cluster.keeper.jute.wire import decode, encode
from tests.keeper.test_jute_records import INT32, values_of

OPEN_ACL = [ACL(31, Id("world", "anyone"))]
STAT = Stat(5, 6, 1700000000000, 1700000000001, 1, 0, 0, 0, 3, 0, 5)

CONNECT_WITHOUT_READ_ONLY = bytes.fromhex(
    "00000000"  # protocolVersion
    "0000000000000010"  # lastZxidSeen
    "00007530"  # timeOut 30000
    "0000000000000000"  # sessionId
    "00000010" + "00" * 16  # passwd
)


def test_an_old_clients_connect_request_has_no_read_only_flag() -> None:
    request = decode_connect_request(CONNECT_WITHOUT_READ_ONLY)
    assert request == ConnectRequest(0, 16, 30000, 0, bytes(16), None)


@pytest.mark.parametrize("flag, read_only", [(b"\x00", False), (b"\x01", True)])
def test_a_newer_clients_connect_request_ends_with_the_read_only_flag(flag: bytes, read_only: bool) -> None:
    assert decode_connect_request(CONNECT_WITHOUT_READ_ONLY + flag).read_only is read_only


def test_a_connect_request_longer_than_the_flag_is_refused() -> None:
    with pytest.raises(JuteError, match="left over"):
        decode_connect_request(CONNECT_WITHOUT_READ_ONLY + b"\x01\x00")


def test_the_connect_response_carries_the_flag_only_when_given_one() -> None:
    old = encode_connect_response(ConnectResponse(0, 30000, 0x1234, b"s" * 16))
    new = encode_connect_response(ConnectResponse(0, 30000, 0x1234, b"s" * 16, False))
    assert len(old) == 4 + 4 + 4 + 8 + 4 + 16
    assert new == (len(old) - 3).to_bytes(4, "big") + old[4:] + b"\x00"


@given(request=values_of(ConnectRequest))
def test_connect_requests_decode_to_what_was_sent(request: ConnectRequest) -> None:
    assert decode_connect_request(encode(request)) == request


def _request(xid: int, op: int, record: object = None) -> bytes:
    body = b"" if record is None else encode(record)
    return encode(RequestHeader(xid, op)) + body


@given(xid=INT32, op=st.sampled_from(sorted(REQUEST_RECORDS)), data=st.data())
def test_every_request_decodes_to_its_header_and_the_record_its_type_names(
    xid: int, op: int, data: st.DataObject
) -> None:
    cls = REQUEST_RECORDS[op]
    record = None if cls is None else data.draw(values_of(cls))
    assert decode_request(_request(xid, op, record)) == (RequestHeader(xid, op), record)


def test_a_ping_is_a_bare_header_with_xid_minus_two() -> None:
    assert decode_request(bytes.fromhex("fffffffe0000000b")) == (RequestHeader(Xid.PING, OpCode.PING), None)


def test_bytes_after_a_header_only_request_are_refused() -> None:
    with pytest.raises(JuteError, match="PING"):
        decode_request(_request(Xid.PING, OpCode.PING) + b"\x00")


@pytest.mark.parametrize("op", [OpCode.NOTIFICATION, OpCode.CREATE_SESSION, OpCode.DELETE_CONTAINER, 10, 999, -99])
def test_an_op_code_clients_do_not_send_raises_unsupported_operation_with_the_xid(op: int) -> None:
    with pytest.raises(UnsupportedOperation) as caught:
        decode_request(_request(41, op) + b"anything")
    assert (caught.value.xid, caught.value.op_code) == (41, op)
    assert isinstance(caught.value, JuteError)


def test_a_multi_request_decodes_to_its_ops_in_order() -> None:
    ops = [
        MultiOp(OpCode.CREATE, CreateRequest("/a", b"1", OPEN_ACL, 0)),
        MultiOp(OpCode.DELETE, DeleteRequest("/b", -1)),
    ]
    header, record = decode_request(_request(3, OpCode.MULTI, MultiRequest(ops)))
    assert (header, record) == (RequestHeader(3, OpCode.MULTI), MultiRequest(ops))


def test_a_multi_request_wire_format_is_headers_records_and_a_done_header() -> None:
    body = encode(MultiRequest([MultiOp(OpCode.DELETE, DeleteRequest("/b", 7))]))
    assert body == (
        bytes.fromhex("00000002" "00" "ffffffff")  # MultiHeader(delete, done=false, err=-1)
        + bytes.fromhex("00000002") + b"/b" + bytes.fromhex("00000007")  # DeleteRequest
        + bytes.fromhex("ffffffff" "01" "ffffffff")  # MultiHeader(-1, done=true, -1)
    )  # fmt: skip


def test_a_read_op_inside_a_multi_read_request() -> None:
    ops = [MultiOp(OpCode.GET_DATA, GetDataRequest("/a", False))]
    assert decode_request(_request(4, OpCode.MULTI_READ, MultiRequest(ops)))[1] == MultiRequest(ops)


def test_an_op_that_cannot_appear_in_a_multi_is_refused() -> None:
    body = bytes.fromhex("00000003" "00" "ffffffff") + encode(GetDataRequest("/a", True))  # exists (3)
    with pytest.raises(JuteError, match="op code 3 cannot appear"):
        decode_request(encode(RequestHeader(1, OpCode.MULTI)) + body)


def test_a_multi_without_its_done_header_is_refused() -> None:
    body = encode(MultiRequest([MultiOp(OpCode.DELETE, DeleteRequest("/b", 7))]))[:-9]
    with pytest.raises(JuteError, match=r"ops\[1\]"):
        decode_request(encode(RequestHeader(1, OpCode.MULTI)) + body)


def _reply(frame: bytes) -> tuple[ReplyHeader, bytes]:
    assert int.from_bytes(frame[:4], "big") == len(frame) - 4
    return decode(ReplyHeader, frame[4:20]), frame[20:]


def test_a_successful_multi_reply_carries_each_ops_result() -> None:
    results = MultiResponse(
        [
            MultiOp(OpCode.CREATE, CreateResponse("/a")),
            MultiOp(OpCode.DELETE, None),
            MultiOp(OpCode.SET_DATA, SetDataResponse(STAT)),
            MultiOp(OpCode.CHECK, None),
        ]
    )
    header, body = _reply(encode_reply(9, 77, ErrorCode.OK, results))
    assert header == ReplyHeader(9, 77, 0)
    assert decode(MultiResponse, body) == results


def test_a_failed_multi_reply_has_one_error_result_per_op_and_err_in_each_header() -> None:
    results = MultiResponse(
        [
            MultiOp(OpCode.ERROR, ErrorResponse(ErrorCode.OK)),
            MultiOp(OpCode.ERROR, ErrorResponse(ErrorCode.BADVERSION)),
        ]
    )
    header, body = _reply(encode_reply(9, 77, ErrorCode.OK, results))
    assert body == (
        bytes.fromhex("ffffffff" "00" "00000000" "00000000")  # error result, OK
        + bytes.fromhex("ffffffff" "00" "ffffff99" "ffffff99")  # error result, BADVERSION (-103) twice
        + bytes.fromhex("ffffffff" "01" "ffffffff")
    )  # fmt: skip
    assert decode(MultiResponse, body) == results


def test_a_multi_result_of_the_wrong_record_type_is_refused_on_encode() -> None:
    with pytest.raises(JuteError, match="SetDataResponse"):
        encode_reply(1, 1, 0, MultiResponse([MultiOp(OpCode.CREATE, SetDataResponse(STAT))]))
    with pytest.raises(JuteError, match="carries no record"):
        encode_reply(1, 1, 0, MultiResponse([MultiOp(OpCode.DELETE, CreateResponse("/a"))]))


def test_an_error_reply_is_the_header_alone() -> None:
    frame = encode_reply(12, 100, ErrorCode.NONODE)
    assert frame == bytes.fromhex("00000010" "0000000c" "0000000000000064" "ffffff9b")


def test_a_ping_reply() -> None:
    assert _reply(encode_reply(Xid.PING, 100, 0)) == (ReplyHeader(-2, 100, 0), b"")


def test_a_notification_is_a_reply_with_xid_minus_one_and_a_watcher_event() -> None:
    event = WatcherEvent(EventType.NODE_DATA_CHANGED, KeeperState.SYNC_CONNECTED, "/a")
    header, body = _reply(encode_notification(event))
    assert header == ReplyHeader(-1, -1, 0)
    assert body == bytes.fromhex("00000003" "00000003" "00000002") + b"/a"
    assert _reply(encode_notification(event, zxid=88))[0] == ReplyHeader(-1, 88, 0)


def test_unencodable_values_raise_jute_error_naming_the_field() -> None:
    with pytest.raises(JuteError, match=r"ReplyHeader\.zxid"):
        encode_reply(1, 2**63, 0)
    with pytest.raises(JuteError, match=r"CreateRequest\.path"):
        encode(CreateRequest(b"/not-text", None, [], 0))  # type: ignore[arg-type]
    with pytest.raises(JuteError, match=r"CreateRequest\.acl\[0\]"):
        encode(CreateRequest("/a", None, ["world:anyone"], 0))  # type: ignore[list-item]
    with pytest.raises(JuteError, match=r"SyncResponse\.path"):
        encode(SyncResponse("\ud800"))
