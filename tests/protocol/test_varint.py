import pytest
from hypothesis import given
from hypothesis import strategies as st
from kafka.record import util as kafka_util

from cluster.broker.protocol.varint import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    VarintError,
    decode_varint,
    decode_varlong,
    encode_varint,
    encode_varlong,
)

int64s = st.integers(INT64_MIN, INT64_MAX)
int32s = st.integers(INT32_MIN, INT32_MAX)


def kafka_python_encoding(value: int) -> bytes:
    out = bytearray()
    kafka_util.encode_varint(value, out.append)
    return bytes(out)


@given(value=int64s, prefix=st.binary(max_size=3), suffix=st.binary(max_size=3))
def test_varlong_round_trips_the_whole_int64_range_at_any_position(value, prefix, suffix):
    encoded = encode_varlong(value)
    assert decode_varlong(prefix + encoded + suffix, len(prefix)) == (value, len(prefix) + len(encoded))


@given(value=int32s)
def test_varint_round_trips_the_whole_int32_range(value):
    encoded = encode_varint(value)
    assert len(encoded) <= 5
    assert decode_varint(encoded) == (value, len(encoded))


@given(value=int64s)
def test_encoding_is_byte_identical_to_kafka_python(value):
    assert encode_varlong(value) == kafka_python_encoding(value)
    assert kafka_util.decode_varint(encode_varlong(value)) == (value, len(encode_varlong(value)))


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(0, b"\x00"), (-1, b"\x01"), (1, b"\x02"), (63, b"\x7e"), (-64, b"\x7f"), (64, b"\x80\x01"), (-65, b"\x81\x01")],
)
def test_zigzag_examples_from_the_protobuf_spec(value, encoded):
    assert encode_varint(value) == encode_varlong(value) == encoded


def test_extremes_take_the_maximum_width():
    assert len(encode_varlong(INT64_MIN)) == len(encode_varlong(INT64_MAX)) == 10
    assert len(encode_varint(INT32_MIN)) == len(encode_varint(INT32_MAX)) == 5


def test_values_outside_the_width_are_refused_on_encode():
    with pytest.raises(ValueError, match="int32"):
        encode_varint(INT32_MAX + 1)
    with pytest.raises(ValueError, match="int64"):
        encode_varlong(INT64_MIN - 1)


def test_wider_values_are_refused_on_decode():
    with pytest.raises(VarintError, match="32 bits"):
        decode_varint(encode_varlong(INT32_MAX + 1))
    with pytest.raises(VarintError, match="longer than 5"):
        decode_varint(b"\x80" * 5 + b"\x00")
    with pytest.raises(VarintError, match="longer than 10"):
        decode_varlong(b"\xff" * 11)
    with pytest.raises(VarintError, match="64 bits"):
        decode_varlong(b"\xff" * 9 + b"\x7f")


@given(data=st.binary(max_size=12), position=st.integers(0, 12))
def test_arbitrary_bytes_decode_or_raise_varint_error(data, position):
    for decode in (decode_varint, decode_varlong):
        try:
            value, end = decode(data, position)
        except VarintError as error:
            assert error.position == position
        else:
            assert position < end <= len(data)
            assert decode(encode_varlong(value)) == (value, len(encode_varlong(value)))


def test_truncation_is_reported_with_its_position():
    with pytest.raises(VarintError, match="at byte 2: truncated"):
        decode_varlong(b"\x00\x00\x80\x80", 2)
    with pytest.raises(VarintError, match="truncated"):
        decode_varint(b"", 0)
