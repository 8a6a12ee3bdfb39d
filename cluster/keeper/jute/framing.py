"""Length-prefixed frames: a sans-IO decoder fed bytes, and the prefix for outgoing ones.

Every jute packet after the TCP handshake is an int32 length and that many
bytes. The decoder judges the length as soon as its four bytes arrive, so a
broken or hostile peer cannot make the server buffer more than
`max_packet_size` (ZooKeeper's jute.maxbuffer) before it is refused.
"""

from __future__ import annotations

import struct

from cluster.keeper.jute.errors import JuteError

JUTE_MAXBUFFER = 0xFFFFF
"""jute.maxbuffer's default: 1 MiB less one byte."""

_LENGTH = struct.Struct(">i")


class FrameDecoder:
    """Splits a byte stream into frame payloads. After it raises, the stream has lost its framing: close it."""

    def __init__(self, max_packet_size: int = JUTE_MAXBUFFER) -> None:
        self.max_packet_size = max_packet_size
        self._buffer = bytearray()
        self._failure: JuteError | None = None

    @property
    def buffered(self) -> int:
        """Bytes received that do not yet make a whole frame."""
        return len(self._buffer)

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        """Adds received bytes; returns the payload of every frame they complete."""
        if self._failure is not None:
            raise self._failure
        buffer = self._buffer
        buffer += data
        frames: list[bytes] = []
        position = 0
        while len(buffer) - position >= _LENGTH.size:
            length = self._checked(_LENGTH.unpack_from(buffer, position)[0])
            start = position + _LENGTH.size
            if len(buffer) - start < length:
                break
            frames.append(bytes(buffer[start : start + length]))
            position = start + length
        del buffer[:position]
        return frames

    def _checked(self, length: int) -> int:
        if length < 0:
            self._failure = JuteError(f"negative packet length {length}")
        elif length > self.max_packet_size:
            self._failure = JuteError(f"packet of {length} bytes exceeds jute.maxbuffer={self.max_packet_size}")
        if self._failure is not None:
            raise self._failure
        return length


def frame(payload: bytes) -> bytes:
    """Prefixes a payload with its int32 length."""
    return _LENGTH.pack(len(payload)) + payload
