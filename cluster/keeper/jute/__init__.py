"""ZooKeeper's jute wire protocol for the keeper server, sans-IO: bytes in, typed records out, and back.

Modules: `wire` (jute's encoding and the @record machinery), `records`
(zookeeper.jute's client records), `multi` (multi requests and results),
`codes` (op codes, error codes, create modes, event types, keeper states),
`framing` (length-prefixed frames with jute.maxbuffer), `messages` (what a
server reads and writes on a connection) and `errors` (JuteError).
"""

from cluster.keeper.jute.codes import (
    AddWatchMode,
    CreateMode,
    ErrorCode,
    EventType,
    KeeperState,
    OpCode,
    Perms,
    WatcherType,
    Xid,
)
from cluster.keeper.jute.errors import JuteError, UnsupportedOperation
from cluster.keeper.jute.framing import JUTE_MAXBUFFER, FrameDecoder
from cluster.keeper.jute.messages import (
    decode_connect_request,
    decode_request,
    encode_connect_response,
    encode_notification,
    encode_reply,
)
from cluster.keeper.jute.multi import MultiOp, MultiRequest, MultiResponse

__all__ = [
    "AddWatchMode",
    "CreateMode",
    "ErrorCode",
    "EventType",
    "FrameDecoder",
    "JUTE_MAXBUFFER",
    "JuteError",
    "KeeperState",
    "MultiOp",
    "MultiRequest",
    "MultiResponse",
    "OpCode",
    "Perms",
    "UnsupportedOperation",
    "WatcherType",
    "Xid",
    "decode_connect_request",
    "decode_request",
    "encode_connect_response",
    "encode_notification",
    "encode_reply",
]
