"""Hostile or broken bytes: JuteError and nothing else, quickly, and the frame decoder's limits."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.keeper.jute import JUTE_MAXBUFFER, FrameDecoder, JuteError, OpCode, decode_connect_request, decode_request
from cluster.keeper.jute.messages import REQUEST_RECORDS
from cluster.keeper.jute.records import CreateRequest, GetChildrenResponse, RequestHeader, SetWatches
from cluster.keeper.jute.wire import decode, encode
from tests.keeper.test_jute_records import ALL_RECORDS, values_of

INT_MAX = b"\x7f\xff\xff\xff"


def _request(op: int, body: bytes) -> bytes:
    return encode(RequestHeader(1, op)) + body


@settings(max_examples=300)
@given(payload=st.binary(max_size=200))
def test_random_bytes_as_a_request_raise_only_jute_error(payload: bytes) -> None:
    try:
        decode_request(payload)
    except JuteError:
        pass


@given(op=st.sampled_from(sorted(REQUEST_RECORDS)), body=st.binary(max_size=120))
def test_random_bodies_under_every_op_code_raise_only_jute_error(op: int, body: bytes) -> None:
    try:
        decode_request(_request(op, body))
    except JuteError:
        pass


@given(payload=st.binary(max_size=80))
def test_random_bytes_as_a_connect_request_raise_only_jute_error(payload: bytes) -> None:
    try:
        decode_connect_request(payload)
    except JuteError:
        pass


@pytest.mark.parametrize("cls", ALL_RECORDS, ids=lambda cls: cls.__name__)
@settings(max_examples=15)
@given(data=st.data())
def test_every_truncation_of_every_record_raises_jute_error(cls: type, data: st.DataObject) -> None:
    """Cutting a record short always fails (ConnectRequest/Response cut before their optional flag do not)."""
    wire = encode(data.draw(values_of(cls)))
    for end in range(len(wire)):
        try:
            decode(cls, wire[:end])
        except JuteError:
            continue
        assert cls.__name__.startswith("Connect") and end == len(wire) - 1


@given(data=st.data(), position=st.integers(0, 10_000), byte=st.integers(0, 255))
def test_a_corrupted_byte_decodes_or_raises_jute_error(data: st.DataObject, position: int, byte: int) -> None:
    cls = data.draw(st.sampled_from(ALL_RECORDS))
    wire = bytearray(encode(data.draw(values_of(cls))))
    if wire:
        wire[position % len(wire)] = byte
    try:
        decode(cls, bytes(wire))
    except JuteError:
        pass


@pytest.mark.parametrize(
    "cls, payload, reason",
    [
        (GetChildrenResponse, INT_MAX, "count 2147483647 cannot fit the 0 bytes left"),
        (GetChildrenResponse, b"\xff\xff\xff\xfe", "invalid count -2"),
        (SetWatches, bytes(8) + INT_MAX + bytes(8), "count 2147483647 cannot fit"),
        (CreateRequest, INT_MAX + b"/a", "length 2147483647 cannot fit the 2 bytes left"),
        (CreateRequest, b"\x80\x00\x00\x00", "invalid length -2147483648"),
        (CreateRequest, b"\x00\x00\x00\x02\xff\xfe", "not UTF-8"),
        (CreateRequest, b"\x00\x00\x00\x03\xed\xa0\xbd", "not UTF-8"),  # a lone surrogate
        (CreateRequest, b"\x00\x00\x00\x01/\x00\x00\x00\x00" + INT_MAX, "acl: count 2147483647"),
    ],
)
def test_impossible_lengths_and_counts_fail_at_once_naming_the_field(cls: type, payload: bytes, reason: str) -> None:
    started = time.perf_counter()
    with pytest.raises(JuteError, match=reason) as caught:
        decode(cls, payload)
    assert time.perf_counter() - started < 0.1
    assert str(caught.value).startswith(f"malformed {cls.__name__}")


def test_a_count_of_records_is_bounded_by_their_smallest_size() -> None:
    """Ten ACLs need at least 120 bytes (perms and two null-able ustrings each)."""
    body = b"\x00\x00\x00\x01/" + b"\xff\xff\xff\xff" + b"\x00\x00\x00\x0a" + bytes(119)
    with pytest.raises(JuteError, match="count 10 cannot fit the 119 bytes left"):
        decode_request(_request(OpCode.CREATE, body))


def test_a_multi_request_of_endless_headers_fails_when_the_bytes_end() -> None:
    delete = b"\x00\x00\x00\x02\x00\xff\xff\xff\xff" + b"\x00\x00\x00\x01/" + b"\x00\x00\x00\x00"
    with pytest.raises(JuteError, match="truncated"):
        decode_request(_request(OpCode.MULTI, delete * 10_000))


def test_a_truncated_request_header_is_a_jute_error() -> None:
    with pytest.raises(JuteError, match="RequestHeader"):
        decode_request(b"\x00\x00\x00\x01\x00")


# The frame decoder


def test_frames_come_out_whole_however_the_bytes_are_split() -> None:
    stream = b"".join(len(payload).to_bytes(4, "big") + payload for payload in [b"abc", b"", b"x" * 300])
    decoder = FrameDecoder()
    frames = []
    for index in range(len(stream)):
        frames += decoder.feed(stream[index : index + 1])
    assert frames == [b"abc", b"", b"x" * 300]
    assert decoder.buffered == 0


def test_several_frames_in_one_read() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"\x00\x00\x00\x01a\x00\x00\x00\x02bc\x00\x00") == [b"a", b"bc"]
    assert decoder.buffered == 2


def test_the_default_limit_is_jute_maxbuffer() -> None:
    assert FrameDecoder().max_packet_size == JUTE_MAXBUFFER == 1024 * 1024 - 1


def test_a_frame_of_exactly_the_limit_is_accepted() -> None:
    decoder = FrameDecoder(max_packet_size=10)
    assert decoder.feed(b"\x00\x00\x00\x0a" + bytes(10)) == [bytes(10)]


def test_an_oversized_length_is_refused_before_its_bytes_arrive() -> None:
    decoder = FrameDecoder()
    with pytest.raises(JuteError, match="1048576 bytes exceeds jute.maxbuffer=1048575"):
        decoder.feed((JUTE_MAXBUFFER + 1).to_bytes(4, "big"))


def test_a_negative_length_is_refused() -> None:
    with pytest.raises(JuteError, match="negative packet length -1"):
        FrameDecoder().feed(b"\xff\xff\xff\xff")


def test_after_a_bad_length_the_decoder_keeps_refusing() -> None:
    decoder = FrameDecoder(max_packet_size=4)
    with pytest.raises(JuteError):
        decoder.feed(b"\x00\x00\x00\x05")
    with pytest.raises(JuteError, match="exceeds"):
        decoder.feed(b"\x00\x00\x00\x01a")


@given(stream=st.binary(max_size=300))
def test_random_streams_yield_frames_or_jute_error(stream: bytes) -> None:
    decoder = FrameDecoder(max_packet_size=64)
    try:
        frames = decoder.feed(stream)
    except JuteError:
        return
    assert all(len(frame) <= 64 for frame in frames)
    assert sum(4 + len(frame) for frame in frames) + decoder.buffered == len(stream)
