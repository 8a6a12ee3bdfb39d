"""Size-prefixed frames: a sans-IO decoder fed bytes, and the prefix for outgoing frames.

Every Kafka message travels as an int32 size followed by that many bytes. The
decoder judges the size as soon as its four bytes arrive, so a hostile or
broken peer cannot make the broker buffer more than `max_frame_size`
(Kafka's socket.request.max.bytes) before it is refused.
"""

from __future__ import annotations

from typing import Sequence

from cluster.broker.protocol.errors import ProtocolError
from cluster.broker.protocol.primitives import I32, Region
from cluster.broker.protocol.schema import wire_size

DEFAULT_MAX_FRAME_SIZE = 104_857_600
"""socket.request.max.bytes: Kafka's default limit on a request's size."""


class FrameDecoder:
    """Turns a byte stream into frames. After it raises, the stream has lost its framing: close it."""

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        self.max_frame_size = max_frame_size
        self._buffer = bytearray()
        self._failure: ProtocolError | None = None

    @property
    def buffered(self) -> int:
        """Bytes received that do not yet form a whole frame."""
        return len(self._buffer)

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytearray]:
        """Adds received bytes; returns every frame they complete (payloads, without the size).

        Frames are writable, so the log can stamp offsets into a Produce request's
        batches where they lie instead of copying them first.
        """
        if self._failure is not None:
            raise self._failure
        buffer = self._buffer
        buffer += data
        frames: list[bytearray] = []
        position = 0
        while len(buffer) - position >= I32.size:
            size = self._check(I32.unpack_from(buffer, position)[0])
            start = position + I32.size
            if len(buffer) - start < size:
                break
            frames.append(buffer[start : start + size])
            position = start + size
        del buffer[:position]
        return frames

    def _check(self, size: int) -> int:
        if size < 0:
            self._failure = ProtocolError("frame", "size", f"negative frame size {size}")
        elif size > self.max_frame_size:
            self._failure = ProtocolError(
                "frame", "size", f"frame of {size} bytes exceeds socket.request.max.bytes={self.max_frame_size}"
            )
        if self._failure is not None:
            raise self._failure
        return size


def frame(parts: Sequence[bytes | Region]) -> list[bytes | Region]:
    """Prefixes a message's parts with its int32 size."""
    return [I32.pack(wire_size(parts)), *parts]
