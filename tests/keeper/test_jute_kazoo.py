"""kazoo's own serializers against ours, both ways, for every op kazoo speaks.

Requests go out through kazoo's real `ConnectionHandler._submit` (its
framing, xids and op codes) into our FrameDecoder and decoders; our replies
go into kazoo's ReplyHeader and response deserializers. kazoo writes an
empty string as a null ustring, so "" is expected back as None.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kazoo.exceptions import EXCEPTIONS, NoNodeError, RolledBackError, RuntimeInconsistency
from kazoo.protocol import serialization as kz
from kazoo.protocol.connection import AUTH_XID, PING_XID, WATCH_XID, ConnectionHandler
from kazoo.protocol.states import ZnodeStat
from kazoo.security import ACL as KazooACL
from kazoo.security import Id as KazooId

from cluster.keeper.jute import (
    ErrorCode,
    FrameDecoder,
    MultiOp,
    MultiResponse,
    OpCode,
    decode_connect_request,
    decode_request,
    encode_connect_response,
    encode_notification,
    encode_reply,
)
from cluster.keeper.jute.records import (
    ACL,
    AuthPacket,
    CheckVersionRequest,
    ConnectRequest,
    ConnectResponse,
    Create2Response,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    ErrorResponse,
    ExistsRequest,
    ExistsResponse,
    GetACLRequest,
    GetACLResponse,
    GetChildren2Request,
    GetChildren2Response,
    GetChildrenRequest,
    GetChildrenResponse,
    GetDataRequest,
    GetDataResponse,
    GetSASLRequest,
    Id,
    ReconfigRequest,
    SetACLRequest,
    SetACLResponse,
    SetDataRequest,
    SetDataResponse,
    SetSASLResponse,
    Stat,
    SyncRequest,
    SyncResponse,
    WatcherEvent,
)
from tests.keeper.test_jute_records import INT32, INT64, values_of


class CapturingConnection(ConnectionHandler):
    """kazoo's connection with the socket write replaced by a list."""

    def __init__(self) -> None:
        self.logger = logging.getLogger("kazoo-capture")
        self.sent: list[bytes] = []

    def _write(self, msg: bytes, timeout: float) -> None:
        self.sent.append(bytes(msg))


def kazoo_sends(request: Any, xid: int | None) -> bytes:
    """The single frame payload kazoo writes for `request`, split out by our frame decoder."""
    connection = CapturingConnection()
    connection._submit(request, 10.0, xid)
    (payload,) = FrameDecoder().feed(b"".join(connection.sent))
    return payload


def kazoo_reads_reply(frame: bytes) -> tuple[kz.ReplyHeader, bytes]:
    """kazoo's view of a reply frame: its header, and the payload its deserializers read from offset 16."""
    assert int.from_bytes(frame[:4], "big") == len(frame) - 4
    payload = frame[4:]
    header, offset = kz.ReplyHeader.deserialize(payload, 0)
    assert offset == 16
    return header, payload


def as_kazoo_stat(stat: Stat) -> ZnodeStat:
    """Matched by name, so a field out of place on either side shows."""
    return ZnodeStat(
        czxid=stat.czxid,
        mzxid=stat.mzxid,
        ctime=stat.ctime,
        mtime=stat.mtime,
        version=stat.version,
        cversion=stat.cversion,
        aversion=stat.aversion,
        ephemeralOwner=stat.ephemeral_owner,
        dataLength=stat.data_length,
        numChildren=stat.num_children,
        pzxid=stat.pzxid,
    )


texts = st.text(max_size=12)
paths = st.text(min_size=1, max_size=12)
xids = st.integers(1, 2**31 - 1)
datas = st.none() | st.binary(max_size=20)
kazoo_acls = st.lists(st.builds(KazooACL, INT32, st.builds(KazooId, texts, texts)), max_size=3)
stats = values_of(Stat)


def ours(acls: list[KazooACL]) -> list[ACL]:
    return [ACL(acl.perms, Id(acl.id.scheme or None, acl.id.id or None)) for acl in acls]


def _watcher(watch: bool) -> Any:
    return (lambda event: None) if watch else None


REQUESTS = st.one_of(
    st.builds(
        lambda p, d, a, f: (kz.Create(p, d, a, f), OpCode.CREATE, CreateRequest(p or None, d, ours(a), f)),
        texts, datas, kazoo_acls, INT32,
    ),
    st.builds(
        lambda p, d, a, f: (kz.Create2(p, d, a, f), OpCode.CREATE2, CreateRequest(p or None, d, ours(a), f)),
        texts, datas, kazoo_acls, INT32,
    ),
    st.builds(lambda p, v: (kz.Delete(p, v), OpCode.DELETE, DeleteRequest(p or None, v)), texts, INT32),
    st.builds(
        lambda p, w: (kz.Exists(p, _watcher(w)), OpCode.EXISTS, ExistsRequest(p or None, w)), texts, st.booleans()
    ),
    st.builds(
        lambda p, w: (kz.GetData(p, _watcher(w)), OpCode.GET_DATA, GetDataRequest(p or None, w)), texts, st.booleans()
    ),
    st.builds(
        lambda p, d, v: (kz.SetData(p, d, v), OpCode.SET_DATA, SetDataRequest(p or None, d, v)),
        texts, datas, INT32,
    ),
    st.builds(lambda p: (kz.GetACL(p), OpCode.GET_ACL, GetACLRequest(p or None)), texts),
    st.builds(
        lambda p, a, v: (kz.SetACL(p, a, v), OpCode.SET_ACL, SetACLRequest(p or None, ours(a), v)),
        texts, kazoo_acls, INT32,
    ),
    st.builds(
        lambda p, w: (kz.GetChildren(p, _watcher(w)), OpCode.GET_CHILDREN, GetChildrenRequest(p or None, w)),
        texts, st.booleans(),
    ),
    st.builds(
        lambda p, w: (kz.GetChildren2(p, _watcher(w)), OpCode.GET_CHILDREN2, GetChildren2Request(p or None, w)),
        texts, st.booleans(),
    ),
    st.builds(lambda p: (kz.Sync(p), OpCode.SYNC, SyncRequest(p or None)), texts),
    st.builds(
        lambda j, l, n, c: (
            kz.Reconfig(j, l, n, c), OpCode.RECONFIG, ReconfigRequest(j or None, l or None, n or None, c)
        ),
        texts, texts, texts, INT64,
    ),
    st.builds(lambda t: (kz.SASL(t), OpCode.SASL, GetSASLRequest(t)), st.binary(max_size=20)),
)  # fmt: skip
"""(kazoo request, the op code it must carry, the record we must decode from it)."""

TRANSACTION_OPS = st.one_of(
    st.builds(
        lambda p, d, a, f: (kz.Create(p, d, a, f), MultiOp(OpCode.CREATE, CreateRequest(p or None, d, ours(a), f))),
        texts, st.binary(max_size=20), kazoo_acls, INT32,
    ),
    st.builds(
        lambda p, d, a, f: (kz.Create2(p, d, a, f), MultiOp(OpCode.CREATE2, CreateRequest(p or None, d, ours(a), f))),
        texts, st.binary(max_size=20), kazoo_acls, INT32,
    ),
    st.builds(lambda p, v: (kz.Delete(p, v), MultiOp(OpCode.DELETE, DeleteRequest(p or None, v))), texts, INT32),
    st.builds(
        lambda p, d, v: (kz.SetData(p, d, v), MultiOp(OpCode.SET_DATA, SetDataRequest(p or None, d, v))),
        texts, st.binary(max_size=20), INT32,
    ),
    st.builds(
        lambda p, v: (kz.CheckVersion(p, v), MultiOp(OpCode.CHECK, CheckVersionRequest(p or None, v))), texts, INT32
    ),
)  # fmt: skip


@given(case=REQUESTS, xid=xids)
def test_we_decode_what_kazoo_sends(case: tuple[Any, OpCode, Any], xid: int) -> None:
    request, op_code, expected = case
    header, record = decode_request(kazoo_sends(request, xid))
    assert (header.xid, header.type, record) == (xid, op_code, expected)


@given(ops=st.lists(TRANSACTION_OPS, max_size=5), xid=xids)
def test_we_decode_kazoo_transactions(ops: list[tuple[Any, MultiOp]], xid: int) -> None:
    header, record = decode_request(kazoo_sends(kz.Transaction([op for op, _ in ops]), xid))
    assert (header.xid, header.type) == (xid, OpCode.MULTI)
    assert record.ops == [expected for _, expected in ops]


@given(version=INT32, zxid=INT64, timeout=INT32, session=INT64, passwd=st.binary(max_size=16), read_only=st.booleans())
def test_we_decode_kazoos_connect_request(
    version: int, zxid: int, timeout: int, session: int, passwd: bytes, read_only: bool
) -> None:
    connect = kz.Connect(version, zxid, timeout, session, passwd, read_only)
    assert decode_connect_request(kazoo_sends(connect, None)) == ConnectRequest(
        version, zxid, timeout, session, passwd, read_only
    )


def test_we_decode_kazoos_header_only_requests() -> None:
    assert decode_request(kazoo_sends(kz.PingInstance, PING_XID))[1] is None
    assert decode_request(kazoo_sends(kz.PingInstance, PING_XID))[0].type == OpCode.PING
    header, record = decode_request(kazoo_sends(kz.CloseInstance, 7))
    assert (header.xid, header.type, record) == (7, OpCode.CLOSE_SESSION, None)


@given(scheme=texts, credential=texts)
def test_we_decode_kazoos_auth_packet(scheme: str, credential: str) -> None:
    header, record = decode_request(kazoo_sends(kz.Auth(0, scheme, credential), AUTH_XID))
    assert (header.xid, header.type) == (AUTH_XID, OpCode.AUTH)
    assert record == AuthPacket(0, scheme or None, credential.encode() or None)


@given(version=INT32, timeout=INT32, session=INT64, passwd=st.none() | st.binary(max_size=16), read_only=st.booleans())
def test_kazoo_reads_our_connect_response(
    version: int, timeout: int, session: int, passwd: bytes | None, read_only: bool
) -> None:
    frame = encode_connect_response(ConnectResponse(version, timeout, session, passwd, read_only))
    connect, offset = kz.Connect.deserialize(frame[4:], 0)
    assert connect == kz.Connect(version, 0, timeout, session, passwd, read_only)
    assert offset == len(frame) - 4


def test_kazoo_reads_a_connect_response_without_the_read_only_byte_as_read_write() -> None:
    frame = encode_connect_response(ConnectResponse(0, 30000, 5, b"p" * 16))
    connect, _ = kz.Connect.deserialize(frame[4:], 0)
    assert (connect.session_id, connect.read_only) == (5, False)


def _kazoo_stat_or_none(stat: Stat) -> ZnodeStat | None:
    """kazoo's Exists reads a stat whose czxid is -1 as "no node"."""
    return None if stat.czxid == -1 else as_kazoo_stat(stat)


def _kazoo_acls(acls: list[ACL]) -> list[KazooACL]:
    return [KazooACL(acl.perms, KazooId(acl.id.scheme, acl.id.id)) for acl in acls]


not_null_acls = st.lists(values_of(ACL), max_size=3)
not_null_children = st.lists(st.none() | texts, max_size=4)

RESPONSES = st.one_of(
    st.builds(lambda p: (kz.Create, CreateResponse(p), p), st.none() | texts),
    st.builds(lambda p, s: (kz.Create2, Create2Response(p, s), (p, as_kazoo_stat(s))), st.none() | texts, stats),
    st.builds(lambda s: (kz.Exists, ExistsResponse(s), _kazoo_stat_or_none(s)), stats),
    st.builds(
        lambda d, s: (kz.GetData, GetDataResponse(d, s), (d, as_kazoo_stat(s))), datas, stats
    ),
    st.builds(lambda s: (kz.SetData, SetDataResponse(s), as_kazoo_stat(s)), stats),
    st.builds(
        lambda a, s: (kz.GetACL, GetACLResponse(a, s), (_kazoo_acls(a), as_kazoo_stat(s))), not_null_acls, stats
    ),
    st.builds(lambda s: (kz.SetACL, SetACLResponse(s), as_kazoo_stat(s)), stats),
    st.builds(lambda c: (kz.GetChildren, GetChildrenResponse(c), c or []), st.none() | not_null_children),
    st.builds(
        lambda c, s: (kz.GetChildren2, GetChildren2Response(c, s), (c, as_kazoo_stat(s))), not_null_children, stats
    ),
    st.builds(lambda p: (kz.Sync, SyncResponse(p), p), st.none() | texts),
    st.builds(
        lambda d, s: (kz.Reconfig, GetDataResponse(d, s), (d, as_kazoo_stat(s))), datas, stats
    ),
)  # fmt: skip
"""(kazoo request class, our response record, what kazoo's deserializer must return)."""


@given(case=RESPONSES, xid=xids, zxid=INT64)
def test_kazoo_reads_our_replies(case: tuple[Any, Any, Any], xid: int, zxid: int) -> None:
    kazoo_request, record, expected = case
    header, payload = kazoo_reads_reply(encode_reply(xid, zxid, 0, record))
    assert header == kz.ReplyHeader(xid, zxid, 0)
    assert kazoo_request.deserialize(payload, 16) == expected


@given(token=datas, xid=xids)
def test_kazoo_reads_our_sasl_reply(token: bytes | None, xid: int) -> None:
    _, payload = kazoo_reads_reply(encode_reply(xid, 0, 0, SetSASLResponse(token)))
    assert kz.SASL.deserialize(payload, 16) == (token, len(payload))


KAZOO_CODES = sorted(code for code in EXCEPTIONS if code != 0)

MULTI_RESULTS = st.one_of(
    st.builds(lambda p: (MultiOp(OpCode.CREATE, CreateResponse(p)), p), paths),
    st.just((MultiOp(OpCode.DELETE, None), True)),
    st.builds(lambda s: (MultiOp(OpCode.SET_DATA, SetDataResponse(s)), as_kazoo_stat(s)), stats),
    st.just((MultiOp(OpCode.CHECK, None), True)),
)
"""Results kazoo's Transaction reads (it skips a create result whose path is empty, so paths are not)."""


@given(results=st.lists(MULTI_RESULTS, max_size=5), xid=xids)
def test_kazoo_reads_our_successful_multi_reply(results: list[tuple[MultiOp, Any]], xid: int) -> None:
    _, payload = kazoo_reads_reply(encode_reply(xid, 9, 0, MultiResponse([result for result, _ in results])))
    assert kz.Transaction.deserialize(payload, 16) == [expected for _, expected in results]


@pytest.mark.parametrize("failing", [ErrorCode.NONODE, ErrorCode.BADVERSION, ErrorCode.NODEEXISTS, ErrorCode.NOTEMPTY])
def test_kazoo_reads_our_failed_multi_reply(failing: ErrorCode) -> None:
    """ZooKeeper's shape: ops before the failure report OK (rolled back), after it RUNTIMEINCONSISTENCY."""
    results = [
        MultiOp(OpCode.ERROR, ErrorResponse(ErrorCode.OK)),
        MultiOp(OpCode.ERROR, ErrorResponse(failing)),
        MultiOp(OpCode.ERROR, ErrorResponse(ErrorCode.RUNTIMEINCONSISTENCY)),
    ]
    header, payload = kazoo_reads_reply(encode_reply(12, 40, ErrorCode.OK, MultiResponse(results)))
    assert header.err == 0
    read = kz.Transaction.deserialize(payload, 16)
    assert [type(result) for result in read] == [RolledBackError, EXCEPTIONS[failing], RuntimeInconsistency]


@given(err=st.sampled_from(KAZOO_CODES), xid=xids, zxid=INT64)
def test_kazoo_reads_our_error_replies(err: int, xid: int, zxid: int) -> None:
    header, payload = kazoo_reads_reply(encode_reply(xid, zxid, err))
    assert header == kz.ReplyHeader(xid, zxid, err)
    assert len(payload) == 16


def test_every_error_code_kazoo_knows_has_our_number() -> None:
    assert set(KAZOO_CODES) - set(ErrorCode) == set()
    assert EXCEPTIONS[ErrorCode.NONODE] is NoNodeError


@given(event=values_of(WatcherEvent))
def test_kazoo_reads_our_watch_notifications(event: WatcherEvent) -> None:
    header, payload = kazoo_reads_reply(encode_notification(event))
    assert (header.xid, header.zxid, header.err) == (WATCH_XID, -1, 0)
    watch, offset = kz.Watch.deserialize(payload, 16)
    assert watch == kz.Watch(event.type, event.state, event.path)
    assert offset == len(payload)
