"""The frame decoder: frames out of any chunking, and early refusal of bad sizes."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.broker.protocol.errors import ProtocolError
from cluster.broker.protocol.framing import DEFAULT_MAX_FRAME_SIZE, FrameDecoder, frame


def framed(payloads: list[bytes]) -> bytes:
    return b"".join(b"".join(frame([p])) for p in payloads)


@given(payloads=st.lists(st.binary(max_size=50), max_size=6), data=st.data())
def test_frames_come_out_whole_however_the_stream_is_cut(payloads, data):
    stream = framed(payloads)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    decoder = FrameDecoder()
    received = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)]):
        received += decoder.feed(stream[start:end])
    assert received == payloads
    assert decoder.buffered == 0


def test_default_limit_is_socket_request_max_bytes():
    assert FrameDecoder().max_frame_size == DEFAULT_MAX_FRAME_SIZE == 104857600


def test_oversized_frame_is_refused_from_its_size_alone():
    decoder = FrameDecoder(max_frame_size=100)
    with pytest.raises(ProtocolError, match="101 bytes exceeds socket.request.max.bytes=100"):
        decoder.feed(struct.pack(">i", 101))


def test_frame_at_the_limit_is_accepted():
    assert FrameDecoder(max_frame_size=3).feed(struct.pack(">i", 3) + b"abc") == [b"abc"]


def test_negative_size_is_refused():
    with pytest.raises(ProtocolError, match="negative frame size -5"):
        FrameDecoder().feed(struct.pack(">i", -5))


def test_a_refused_stream_stays_refused():
    decoder = FrameDecoder(max_frame_size=10)
    with pytest.raises(ProtocolError):
        decoder.feed(struct.pack(">i", 11))
    with pytest.raises(ProtocolError):
        decoder.feed(struct.pack(">i", 1) + b"x")



def test_frames_before_a_bad_size_come_out_and_the_size_is_refused_after_them():
    """The fuzzer's finding: a pipelined request followed, in the same read, by a negative size lost its answer."""
    decoder = FrameDecoder(max_frame_size=10)
    assert decoder.feed(struct.pack(">i", 1) + b"x" + struct.pack(">i", 2) + b"yz" + struct.pack(">i", -2)) == [b"x", b"yz"]
    with pytest.raises(ProtocolError, match="negative frame size -2"):
        decoder.check()
    with pytest.raises(ProtocolError, match="negative frame size -2"):
        decoder.feed(b"")
