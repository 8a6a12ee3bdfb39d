"""Jute's length-prefixed packets: the shared decoder bound by jute.maxbuffer, and the prefix for outgoing ones.

Every jute packet after the TCP handshake is an int32 length and that many bytes; a length above
`max_packet_size` (ZooKeeper's jute.maxbuffer) is refused before its bytes are buffered.
"""

from __future__ import annotations

from cluster.framing import LENGTH, LengthPrefixedDecoder, Refusal
from cluster.keeper.jute.errors import JuteError

JUTE_MAXBUFFER = 0xFFFFF
"""jute.maxbuffer's default: 1 MiB less one byte."""

REFUSAL = Refusal("packet", "length", "jute.maxbuffer", JuteError)


class FrameDecoder(LengthPrefixedDecoder):
    """Jute's packets; a bad length is a JuteError."""

    def __init__(self, max_packet_size: int = JUTE_MAXBUFFER) -> None:
        super().__init__(max_packet_size, REFUSAL)

    @property
    def max_packet_size(self) -> int:
        return self.max_length


def frame(payload: bytes) -> bytes:
    """Prefixes a payload with its int32 length."""
    return LENGTH.pack(len(payload)) + payload
