"""ZigZag varints, the integer encoding inside RecordBatch v2 records.

Kafka writes every record field as a protobuf-style base-128 varint of the
ZigZag-mapped value, so small magnitudes of either sign take one byte. Kafka
distinguishes a `varint` (int32, at most 5 bytes) from a `varlong` (int64, at
most 10 bytes); a decoder that accepted longer or wider encodings would let a
corrupt record smuggle in values no real client can write.
"""

from __future__ import annotations

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


class VarintError(ValueError):
    """The bytes at `position` are not a valid varint of the expected width."""

    def __init__(self, reason: str, position: int) -> None:
        super().__init__(f"bad varint at byte {position}: {reason}")
        self.reason = reason
        self.position = position


_ONE_BYTE = [bytes((n,)) for n in range(0x80)]


def encode_unsigned_varint(n: int) -> bytes:
    """Base-128, least significant group first: the unsigned form of the flexible protocol's tag sections."""
    if n < 0x80:
        return _ONE_BYTE[n]
    if n < 0x4000:  # fast path: two bytes cover most lengths and deltas in real batches
        return bytes((n & 0x7F | 0x80, n >> 7))
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def encode_varlong(n: int) -> bytes:
    """ZigZag-encodes a signed 64-bit integer."""
    if not INT64_MIN <= n <= INT64_MAX:
        raise ValueError(f"{n} does not fit a varlong (int64)")
    return encode_unsigned_varint((n << 1) ^ (n >> 63))


def encode_varint(n: int) -> bytes:
    """ZigZag-encodes a signed 32-bit integer."""
    if not INT32_MIN <= n <= INT32_MAX:
        raise ValueError(f"{n} does not fit a varint (int32)")
    return encode_unsigned_varint((n << 1) ^ (n >> 31))


def _decode(buf: bytes | bytearray | memoryview, position: int, max_bytes: int, bits: int) -> tuple[int, int]:
    if position + 1 < len(buf):  # fast paths: record fields are almost always one or two bytes
        first = buf[position]
        if first < 0x80:
            return (first >> 1) ^ -(first & 1), position + 1
        second = buf[position + 1]
        if second < 0x80:
            raw = (first & 0x7F) | second << 7
            return (raw >> 1) ^ -(raw & 1), position + 2
    raw, end = _decode_unsigned(buf, position, max_bytes, bits)
    return (raw >> 1) ^ -(raw & 1), end


def _decode_unsigned(buf: bytes | bytearray | memoryview, position: int, max_bytes: int, bits: int) -> tuple[int, int]:
    result = shift = 0
    for index in range(position, min(len(buf), position + max_bytes)):
        byte = buf[index]
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            if result >> bits:
                raise VarintError(f"value does not fit {bits} bits", position)
            return result, index + 1
        shift += 7
    if len(buf) < position + max_bytes:
        raise VarintError("truncated", position)
    raise VarintError(f"longer than {max_bytes} bytes", position)


def decode_unsigned_varint(buf: bytes | bytearray | memoryview, position: int = 0) -> tuple[int, int]:
    """Reads an unsigned 32-bit varint at `position`; returns (value, position after it)."""
    return _decode_unsigned(buf, position, 5, 32)


def decode_varint(buf: bytes | bytearray | memoryview, position: int = 0) -> tuple[int, int]:
    """Reads a varint (int32) at `position`; returns (value, position after it)."""
    return _decode(buf, position, 5, 32)


def decode_varlong(buf: bytes | bytearray | memoryview, position: int = 0) -> tuple[int, int]:
    """Reads a varlong (int64) at `position`; returns (value, position after it)."""
    return _decode(buf, position, 10, 64)
