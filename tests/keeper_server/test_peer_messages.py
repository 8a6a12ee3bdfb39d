"""The peer wire format: every message round-trips, and garbage raises PeerMessageError only."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.keeper.raft import EMPTY_SNAPSHOT, Entry, Message, MessageType, Snapshot
from cluster.keeper.server.peer_messages import (
    Forward,
    Hello,
    PeerMessage,
    PeerMessageError,
    Refuse,
    RequestId,
    Touch,
    decode,
    encode,
)

U63 = st.integers(0, 2**63 - 1)
U31 = st.integers(1, 2**31 - 1)

snapshots = st.one_of(
    st.just(EMPTY_SNAPSHOT), st.builds(Snapshot, st.integers(1, 2**63), U63, st.binary(max_size=40))
)
raft_messages = st.builds(
    Message,
    type=st.sampled_from(list(MessageType)),
    src=U31,
    dst=U31,
    term=U63,
    log_term=U63,
    index=U63,
    entries=st.lists(st.builds(Entry, U63, U63, st.binary(max_size=30)), max_size=4).map(tuple),
    commit=U63,
    reject=st.booleans(),
    reject_hint=U63,
    snapshot=snapshots,
    context=st.binary(max_size=20),
    force=st.booleans(),
)
request_ids = st.builds(RequestId, U31, U63, U63)
messages: st.SearchStrategy[PeerMessage] = st.one_of(
    raft_messages,
    st.builds(Hello, U31),
    st.builds(Forward, request_ids, U63, st.binary(max_size=50), st.integers(0, 2**31)),
    st.builds(Refuse, request_ids),
    st.builds(Touch, st.lists(U63, max_size=5).map(tuple)),
)


@settings(max_examples=300, deadline=None)
@given(message=messages)
def test_every_peer_message_round_trips(message: PeerMessage) -> None:
    frame = encode(message)
    assert struct.unpack(">I", frame[:4])[0] == len(frame) - 4
    assert decode(frame[4:]) == message


@settings(max_examples=300, deadline=None)
@given(message=messages, data=st.data())
def test_truncated_or_corrupted_messages_raise_only_peer_message_errors(message: PeerMessage, data: st.DataObject) -> None:
    payload = bytearray(encode(message)[4:])
    if data.draw(st.booleans()):
        del payload[data.draw(st.integers(0, len(payload))):]
    elif payload:
        position = data.draw(st.integers(0, len(payload) - 1))
        payload[position] = data.draw(st.integers(0, 255))
    try:
        decode(bytes(payload))
    except PeerMessageError:
        pass


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(PeerMessageError, match="unknown peer message kind"):
        decode(b"Z123")
