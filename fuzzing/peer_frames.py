"""Frames for a keeper's peer port, built through the server's own encoding, and what it must do with them.

Peers are servers of the same ensemble and trusted with what they say: a well-formed Raft message
of a current term is obeyed (it may depose a leader or append entries), so the fuzzer never sends
one; a structure-aware mutation that happens to decode as one is not sent, and counted. What it
sends are the frames a peer is not trusted with, and the server must refuse without harm: Raft
messages of term 0, older than any term an ensemble serves in (a stale leader's or candidate's),
touches, refusals, hellos, forwards of writes (a forward may write: its batch skips the digest),
every field plausible or one made hurtful, and byte-level mutations of them. Frames it cannot
read cost the connection, and nothing else.

Which frames the server reads, and how, is decided the way the server decides it: its framing (an
unsigned length, at most MAX_FRAME) and its `decode`, over exactly the bytes a case sends.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from cluster.keeper.raft import EMPTY_SNAPSHOT, Entry, Message, MessageType, Snapshot
from cluster.keeper.server.peer_messages import (MAX_FRAME, Forward, Hello, PeerMessage, PeerMessageError, Refuse,
                                                 RequestId, Touch, decode, encode)
from fuzzing import jute_requests

_U64_MAX = 2**64 - 1
_U32_MAX = 2**32 - 1


@dataclass(frozen=True)
class Reading:
    """What the server makes of a case's bytes, read alone from a frame boundary."""

    messages: tuple[PeerMessage, ...]
    """The frames it decodes, in order, up to the first it cannot."""
    refused: str | None
    """Why it closes the connection (a frame it cannot decode, or too long), or None."""
    incomplete: bool
    """Bytes of a frame are left waiting for the rest: nothing may follow on the connection."""

    @property
    def trusted(self) -> bool:
        """A Raft message of a current term is in it: a peer's word, obeyed, so never sent."""
        return any(isinstance(message, Message) and message.term != 0 for message in self.messages)

    @property
    def forwards(self) -> bool:
        return any(isinstance(message, Forward) for message in self.messages)


def read_as_server(data: bytes, hello_from: frozenset[int] | None = None) -> Reading:
    """`hello_from`: the first frame must be a hello from one of these ids (a connection's first frame)."""
    messages: list[PeerMessage] = []
    at = 0
    while len(data) - at >= 4:
        length = int.from_bytes(data[at : at + 4], "big")
        if length > MAX_FRAME:
            return Reading(tuple(messages), f"a {length}-byte frame", False)
        if len(data) - at - 4 < length:
            break
        try:
            message = decode(data[at + 4 : at + 4 + length])
        except PeerMessageError as error:
            return Reading(tuple(messages), str(error), False)
        if hello_from is not None and not messages and not (isinstance(message, Hello) and message.server_id in hello_from):
            return Reading((message,), "no hello from a configured peer first", False)
        messages.append(message)
        at += 4 + length
    return Reading(tuple(messages), None, at < len(data))


def build_hello(rng: random.Random, peer_ids: tuple[int, ...], mutate_field: bool) -> tuple[bytes, str]:
    if not mutate_field:
        return encode(Hello(rng.choice(peer_ids))), "hello"
    return encode(Hello(rng.choice((0, 3, 99, _U64_MAX, *peer_ids)))), "hello field server_id"


def build_message(rng: random.Random, node_ids: tuple[int, ...], mutate_field: bool) -> tuple[bytes, str]:
    """A frame of a kind a peer is not trusted with, every field plausible or (`mutate_field`) one hurtful."""
    kind = rng.choice(("raft", "raft", "raft", "raft", "forward", "refuse", "touch", "hello"))
    values = _Values(rng, node_ids, mutate_field)
    if kind == "raft":
        message: PeerMessage = _raft(rng, values)
        label = f"raft {message.type.value}"
    elif kind == "forward":
        message = Forward(_request_id(values), values.u64("session_id", 0), _forwarded_write(rng, values),
                          values.u64("create_session_ms", rng.choice((0, 0, 2000))))
        label = "forward"
    elif kind == "refuse":
        message, label = Refuse(_request_id(values)), "refuse"
    elif kind == "touch":
        message, label = Touch(tuple(values.u64("session_id", rng.getrandbits(64)) for _ in range(values.count()))), "touch"
    else:
        message, label = Hello(values.u64("server_id", rng.choice(node_ids))), "hello again"
    return encode(message), label + (f" field {values.hurt}" if values.hurt else "")


class _Values:
    """Plausible field values, except for the one field (chosen as fields are asked for) made hurtful."""

    def __init__(self, rng: random.Random, node_ids: tuple[int, ...], mutate_field: bool) -> None:
        self.rng = rng
        self.node_ids = node_ids
        self._hurt_left = mutate_field
        self.hurt: str | None = None

    def hurts(self, name: str) -> bool:
        if self._hurt_left and self.rng.random() < 0.3:
            self._hurt_left, self.hurt = False, name
            return True
        return False

    def u64(self, name: str, plausible: int) -> int:
        if self.hurts(name):
            return self.rng.choice((0, 1, 2**63 - 1, 2**63, _U64_MAX, self.rng.getrandbits(64)))
        return plausible

    def node(self, name: str) -> int:
        return self.u64(name, self.rng.choice(self.node_ids))

    def count(self) -> int:
        return self.rng.choice((200, 1000)) if self.hurts("count") else self.rng.randint(0, 3)

    def data(self, name: str) -> bytes:
        if self.hurts(name):
            return self.rng.choice((b"", self.rng.randbytes(1 << 20), b"\xff" * 64))
        return self.rng.randbytes(self.rng.randint(0, 24))


def _raft(rng: random.Random, values: _Values) -> Message:
    """Term 0: older than any term an ensemble serves in, so a stale leader's, candidate's or voter's word."""
    entries = tuple(Entry(values.u64("entry term", rng.randint(0, 3)), values.u64("entry index", rng.randint(0, 50)),
                          values.data("entry data")) for _ in range(values.count()))
    snapshot = EMPTY_SNAPSHOT
    if rng.random() < 0.2:
        snapshot = Snapshot(values.u64("snapshot index", rng.randint(1, 50)), values.u64("snapshot term", 1),
                            values.data("snapshot data"))
    return Message(rng.choice(list(MessageType)), values.node("src"), values.node("dst"), 0,
                   values.u64("log_term", rng.randint(0, 3)), values.u64("index", rng.randint(0, 50)), entries,
                   values.u64("commit", rng.randint(0, 50)), bool(rng.getrandbits(1)),
                   values.u64("reject_hint", rng.randint(0, 50)), snapshot, values.data("context"),
                   bool(rng.getrandbits(1)))


def _request_id(values: _Values) -> RequestId:
    origin = values.u64("origin", values.rng.choice(values.node_ids))
    return RequestId(origin % (_U32_MAX + 1), values.u64("incarnation", values.rng.getrandbits(32)),
                     values.u64("number", values.rng.randint(0, 100)))


def _forwarded_write(rng: random.Random, values: _Values) -> bytes:
    """A client's jute request, header included, as a follower forwards it (or bytes that are none)."""
    if values.hurts("payload"):
        return rng.randbytes(rng.randint(0, 64))
    return jute_requests.build_request(rng.randint(1, 1000), rng, mutate_field=rng.random() < 0.3).frame[4:]
