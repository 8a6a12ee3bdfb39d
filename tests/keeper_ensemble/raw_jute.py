"""ZooKeeper's wire format built by hand with struct, independently of keeper's own jute codec.

A 4-byte big-endian length before every frame; a ConnectRequest first, then
RequestHeader(xid, type) plus the op's record; ReplyHeader(xid, zxid, err)
before every answer, xid -1 for a watch notification. Tests use it for what
kazoo cannot or will not send: malformed frames, and setWatches.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

CREATE, EXISTS, GET_DATA, SET_WATCHES = 1, 3, 4, 101
NOTIFICATION_XID = -1
SET_WATCHES_XID = -8
"""The xid ZooKeeper's Java client sends setWatches with."""
NODE_CREATED, NODE_DATA_CHANGED = 1, 3
NO_NODE = -101
SYNC_CONNECTED = 3
OPEN_ACL = struct.pack(">ii", 1, 31) + struct.pack(">i", 5) + b"world" + struct.pack(">i", 6) + b"anyone"


def frame(body: bytes) -> bytes:
    return struct.pack(">i", len(body)) + body


def ustring(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">i", len(data)) + data


def strings(texts: list[str]) -> bytes:
    return struct.pack(">i", len(texts)) + b"".join(ustring(text) for text in texts)


def connect_request(session_id: int = 0, password: bytes = bytes(16), last_zxid_seen: int = 0) -> bytes:
    """protocolVersion, lastZxidSeen, timeOut (ms), sessionId, passwd, readOnly."""
    return frame(struct.pack(">iqiqi", 0, last_zxid_seen, 10_000, session_id, len(password)) + password + b"\x00")


def request(xid: int, op: int, record: bytes) -> bytes:
    return frame(struct.pack(">ii", xid, op) + record)


def read_exactly(sock: socket.socket, size: int) -> bytes | None:
    """The next `size` bytes, or None when the server closed the connection first."""
    data = b""
    while len(data) < size:
        try:
            chunk = sock.recv(size - len(data))
        except ConnectionResetError:
            return None
        if not chunk:
            return None
        data += chunk
    return data


def read_frame(sock: socket.socket) -> bytes | None:
    length = read_exactly(sock, 4)
    return None if length is None else read_exactly(sock, struct.unpack(">i", length)[0])


@dataclass(frozen=True)
class Session:
    session_id: int
    password: bytes


def handshake(sock: socket.socket, resumed: Session | None = None, last_zxid_seen: int = 0) -> Session:
    """Opens a new session, or resumes one; fails the test when the server refuses."""
    if resumed is None:
        sock.sendall(connect_request())
    else:
        sock.sendall(connect_request(resumed.session_id, resumed.password, last_zxid_seen))
    body = read_frame(sock)
    assert body is not None, "the server closed a well-formed connect"
    _protocol, timeout, session_id, password_length = struct.unpack(">iiqi", body[:20])
    assert timeout > 0 and session_id != 0, "the connect got no session (expired or refused)"
    return Session(session_id, body[20 : 20 + password_length])


@dataclass(frozen=True)
class Reply:
    xid: int
    zxid: int
    error: int
    body: bytes


def read_reply(sock: socket.socket) -> Reply | None:
    """The next reply or notification; None when the connection closed."""
    body = read_frame(sock)
    if body is None:
        return None
    xid, zxid, error = struct.unpack(">iqi", body[:16])
    return Reply(xid, zxid, error, body[16:])


def notification_path(reply: Reply) -> tuple[int, str]:
    """A WatcherEvent's (type, path); its state must be SyncConnected."""
    event_type, state, length = struct.unpack(">iii", reply.body[:12])
    assert state == SYNC_CONNECTED
    return event_type, reply.body[12 : 12 + length].decode()
