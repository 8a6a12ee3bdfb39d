"""What a keeper server reads and writes on a client connection, one frame at a time.

The first frame is a bare ConnectRequest; every later one is a RequestHeader
and the record its type names (ping, closeSession and whoAmI have none).
Replies are a ReplyHeader and, when the server has one, a record: ZooKeeper
sends none with an error, except that a multi reply always carries its
results. Watch notifications are replies with xid -1 and a WatcherEvent.

Decoders take frame payloads (see framing.FrameDecoder); encoders return
whole frames, length prefix included, ready for the socket.
"""

from __future__ import annotations

from typing import Any, Mapping

from cluster.keeper.jute.codes import OpCode, Xid
from cluster.keeper.jute.errors import JuteError, UnsupportedOperation
from cluster.keeper.jute.framing import frame
from cluster.keeper.jute.multi import MultiRequest
from cluster.keeper.jute.records import (
    AddWatchRequest,
    AuthPacket,
    CheckVersionRequest,
    CheckWatchesRequest,
    ConnectRequest,
    ConnectResponse,
    CreateRequest,
    CreateTTLRequest,
    DeleteRequest,
    ExistsRequest,
    GetACLRequest,
    GetAllChildrenNumberRequest,
    GetChildren2Request,
    GetChildrenRequest,
    GetDataRequest,
    GetEphemeralsRequest,
    GetSASLRequest,
    ReconfigRequest,
    RemoveWatchesRequest,
    ReplyHeader,
    RequestHeader,
    SetACLRequest,
    SetDataRequest,
    SetWatches,
    SetWatches2,
    SyncRequest,
    WatcherEvent,
)
from cluster.keeper.jute.wire import BytesLike, decode, encode

REQUEST_RECORDS: Mapping[int, type | None] = {
    OpCode.CREATE: CreateRequest,
    OpCode.DELETE: DeleteRequest,
    OpCode.EXISTS: ExistsRequest,
    OpCode.GET_DATA: GetDataRequest,
    OpCode.SET_DATA: SetDataRequest,
    OpCode.GET_ACL: GetACLRequest,
    OpCode.SET_ACL: SetACLRequest,
    OpCode.GET_CHILDREN: GetChildrenRequest,
    OpCode.SYNC: SyncRequest,
    OpCode.PING: None,
    OpCode.GET_CHILDREN2: GetChildren2Request,
    OpCode.CHECK: CheckVersionRequest,
    OpCode.MULTI: MultiRequest,
    OpCode.CREATE2: CreateRequest,
    OpCode.RECONFIG: ReconfigRequest,
    OpCode.CHECK_WATCHES: CheckWatchesRequest,
    OpCode.REMOVE_WATCHES: RemoveWatchesRequest,
    OpCode.CREATE_CONTAINER: CreateRequest,
    OpCode.CREATE_TTL: CreateTTLRequest,
    OpCode.MULTI_READ: MultiRequest,
    OpCode.AUTH: AuthPacket,
    OpCode.SET_WATCHES: SetWatches,
    OpCode.SASL: GetSASLRequest,
    OpCode.GET_EPHEMERALS: GetEphemeralsRequest,
    OpCode.GET_ALL_CHILDREN_NUMBER: GetAllChildrenNumberRequest,
    OpCode.SET_WATCHES2: SetWatches2,
    OpCode.ADD_WATCH: AddWatchRequest,
    OpCode.WHO_AM_I: None,
    OpCode.CLOSE_SESSION: None,
}
"""The record after the RequestHeader, by its type; None for requests that are a header alone.

deleteContainer, createSession, notification and error are op codes the
server uses internally: no client sends them.
"""

_REQUEST_HEADER_SIZE = 8


def decode_connect_request(payload: BytesLike) -> ConnectRequest:
    return decode(ConnectRequest, payload)


def encode_connect_response(response: ConnectResponse) -> bytes:
    """Answer an old client (request.read_only None) with read_only None: it would misread the extra byte."""
    return frame(encode(response))


def decode_request(payload: BytesLike) -> tuple[RequestHeader, Any]:
    """The header and the record its type names (None for header-only requests).

    Raises UnsupportedOperation, a JuteError carrying the xid, for a type
    this codec cannot read: ZooKeeper answers those with UNIMPLEMENTED.
    """
    view = memoryview(payload)
    header = decode(RequestHeader, view[:_REQUEST_HEADER_SIZE])
    if header.type not in REQUEST_RECORDS:
        raise UnsupportedOperation(header.xid, header.type)
    cls = REQUEST_RECORDS[header.type]
    body = view[_REQUEST_HEADER_SIZE:]
    if cls is None:
        if len(body):
            raise JuteError(f"{len(body)} bytes after a {OpCode(header.type).name} header, which has no record")
        return header, None
    return header, decode(cls, body)


def encode_reply(xid: int, zxid: int, err: int, record: Any = None) -> bytes:
    header = encode(ReplyHeader(xid, zxid, err))
    return frame(header if record is None else header + encode(record))


def encode_notification(event: WatcherEvent, zxid: int = -1) -> bytes:
    """ZooKeeper 3.8 stamps notifications with zxid -1; later versions send the change's zxid."""
    return encode_reply(Xid.NOTIFICATION, zxid, 0, event)
