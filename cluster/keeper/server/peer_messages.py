"""What keeper servers say to each other on the peer port, and its binary encoding.

Besides Raft's own messages, a follower forwards the writes its clients send
(the leader alone prepares txns) and the sessions its clients kept alive (the
leader alone expires sessions); the leader refuses a forward it cannot take, so
the follower can drop the client instead of leaving it waiting. Frames are an
int32 length and a payload whose first byte names the kind. Peers are trusted
servers of the same ensemble, yet a malformed frame raises PeerMessageError,
never anything else, so a bad peer costs only its own connection.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Union

from cluster.keeper.raft import EMPTY_SNAPSHOT, Entry, Message, MessageType, Snapshot

MAX_FRAME = 1 << 30


class PeerMessageError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Hello:
    """The first frame on a connection: who is calling."""

    server_id: int


@dataclass(frozen=True, slots=True)
class RequestId:
    """Names one client request across the ensemble: the server holding the connection, its
    incarnation (a restart must not match requests proposed before it) and a counter."""

    origin: int
    incarnation: int
    number: int


@dataclass(frozen=True, slots=True)
class Forward:
    """A write to prepare: `payload` is the client's jute request (header included), or, when
    `create_session_ms` is set, a new session with that negotiated timeout."""

    request: RequestId
    session_id: int
    payload: bytes
    create_session_ms: int = 0


@dataclass(frozen=True, slots=True)
class Refuse:
    request: RequestId


@dataclass(frozen=True, slots=True)
class Touch:
    session_ids: tuple[int, ...]


PeerMessage = Union[Hello, Message, Forward, Refuse, Touch]

_TYPES = list(MessageType)
_TYPE_NUMBER = {message_type: number for number, message_type in enumerate(_TYPES)}
_LENGTH = struct.Struct(">I")
_RAFT = struct.Struct(">BQQQQQQQ??I")  # type, src, dst, term, log_term, index, commit, reject_hint, reject, force, entries
_ENTRY = struct.Struct(">QQ")
_SNAPSHOT = struct.Struct(">QQ")
_REQUEST = struct.Struct(">IQQ")
_FORWARD = struct.Struct(">IQQQQ")  # origin, incarnation, number, session, create_session_ms
_U64 = struct.Struct(">Q")


def encode(message: PeerMessage) -> bytes:
    """A whole frame, length prefix included."""
    out = bytearray(_LENGTH.size)
    if isinstance(message, Message):
        out += b"R"
        _encode_raft(message, out)
    elif isinstance(message, Forward):
        request = message.request
        out += b"F"
        out += _FORWARD.pack(request.origin, request.incarnation, request.number, message.session_id,
                             message.create_session_ms)
        out += message.payload
    elif isinstance(message, Refuse):
        out += b"X" + _REQUEST.pack(message.request.origin, message.request.incarnation, message.request.number)
    elif isinstance(message, Touch):
        out += b"T" + b"".join(_U64.pack(session) for session in message.session_ids)
    else:
        out += b"H" + _U64.pack(message.server_id)
    _LENGTH.pack_into(out, 0, len(out) - _LENGTH.size)
    return bytes(out)


def _encode_raft(m: Message, out: bytearray) -> None:
    out += _RAFT.pack(_TYPE_NUMBER[m.type], m.src, m.dst, m.term, m.log_term, m.index, m.commit, m.reject_hint,
                      m.reject, m.force, len(m.entries))
    _put_bytes(out, m.context)
    out += _SNAPSHOT.pack(m.snapshot.index, m.snapshot.term)
    _put_bytes(out, m.snapshot.data)
    for entry in m.entries:
        out += _ENTRY.pack(entry.term, entry.index)
        _put_bytes(out, entry.data)


def _put_bytes(out: bytearray, data: bytes) -> None:
    out += _LENGTH.pack(len(data))
    out += data


def decode(payload: bytes) -> PeerMessage:
    """One frame's payload (without its length)."""
    try:
        return _decode(memoryview(payload))
    except (struct.error, IndexError, ValueError) as error:
        raise PeerMessageError(f"malformed peer message: {error}") from None


def _decode(view: memoryview) -> PeerMessage:
    kind, body = bytes(view[:1]), view[1:]
    if kind == b"R":
        return _decode_raft(body)
    if kind == b"F":
        origin, incarnation, number, session_id, create_ms = _FORWARD.unpack_from(body)
        return Forward(RequestId(origin, incarnation, number), session_id, bytes(body[_FORWARD.size :]), create_ms)
    if kind == b"X":
        _exact(body, _REQUEST.size)
        return Refuse(RequestId(*_REQUEST.unpack(body)))
    if kind == b"T":
        if len(body) % _U64.size:
            raise PeerMessageError("touch is not a whole number of session ids")
        return Touch(tuple(session for (session,) in _U64.iter_unpack(body)))
    if kind == b"H":
        _exact(body, _U64.size)
        return Hello(_U64.unpack(body)[0])
    raise PeerMessageError(f"unknown peer message kind {kind!r}")


def _exact(body: memoryview, size: int) -> None:
    if len(body) != size:
        raise PeerMessageError(f"expected {size} bytes, got {len(body)}")


class _Cursor:
    def __init__(self, view: memoryview) -> None:
        self.view = view
        self.position = 0

    def unpack(self, codec: struct.Struct) -> tuple:
        values = codec.unpack_from(self.view, self.position)
        self.position += codec.size
        return values

    def take_bytes(self) -> bytes:
        (length,) = self.unpack(_LENGTH)
        end = self.position + length
        if end > len(self.view):
            raise PeerMessageError(f"a {length}-byte field runs past the end of the message")
        data = bytes(self.view[self.position : end])
        self.position = end
        return data


def _decode_raft(body: memoryview) -> Message:
    cursor = _Cursor(body)
    type_number, src, dst, term, log_term, index, commit, hint, reject, force, count = cursor.unpack(_RAFT)
    context = cursor.take_bytes()
    snapshot_index, snapshot_term = cursor.unpack(_SNAPSHOT)
    snapshot_data = cursor.take_bytes()
    entries = []
    for _ in range(count):
        entry_term, entry_index = cursor.unpack(_ENTRY)
        entries.append(Entry(entry_term, entry_index, cursor.take_bytes()))
    if cursor.position != len(body):
        raise PeerMessageError(f"{len(body) - cursor.position} bytes after a raft message")
    snapshot = Snapshot(snapshot_index, snapshot_term, snapshot_data) if snapshot_index else EMPTY_SNAPSHOT
    return Message(_TYPES[type_number], src, dst, term, log_term, index, tuple(entries), commit, reject, hint,
                   snapshot, context, force)
