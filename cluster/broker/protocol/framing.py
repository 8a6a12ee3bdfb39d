"""Kafka's size-prefixed frames: the shared decoder bound by socket.request.max.bytes, and the prefix for outgoing frames.

Every Kafka message travels as an int32 size followed by that many bytes; a size above
`max_frame_size` (Kafka's socket.request.max.bytes) is refused before its bytes are buffered.
"""

from __future__ import annotations

from typing import Sequence

from cluster.broker.protocol.errors import ProtocolError
from cluster.broker.protocol.primitives import I32, Region
from cluster.broker.protocol.schema import wire_size
from cluster.framing import LengthPrefixedDecoder, Refusal

DEFAULT_MAX_FRAME_SIZE = 104_857_600
"""socket.request.max.bytes: Kafka's default limit on a request's size."""

REFUSAL = Refusal("frame", "size", "socket.request.max.bytes", lambda message: ProtocolError("frame", "size", message))


class FrameDecoder(LengthPrefixedDecoder):
    """Kafka's frames, as writable payloads (see `LengthPrefixedDecoder.feed`); a bad size is a ProtocolError."""

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        super().__init__(max_frame_size, REFUSAL)

    @property
    def max_frame_size(self) -> int:
        return self.max_length


def frame(parts: Sequence[bytes | Region]) -> list[bytes | Region]:
    """Prefixes a message's parts with its int32 size."""
    return [I32.pack(wire_size(parts)), *parts]
