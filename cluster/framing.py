"""Length-prefixed frames, sans-IO: the one decoder under Kafka's protocol and ZooKeeper's jute.

Both protocols send every message as a big-endian int32 length and then that many bytes, and both
bound the length by a setting (Kafka's socket.request.max.bytes, ZooKeeper's jute.maxbuffer). The
decoder judges a length as soon as its four bytes arrive, so a broken or hostile peer cannot make a
server buffer more than that limit before it is refused. What differs between the protocols is only
how a refusal is worded and which error carries it: a `Refusal`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

LENGTH = struct.Struct(">i")
"""The prefix: a signed int32, so a peer can send a negative length, which is refused."""


@dataclass(frozen=True)
class Refusal:
    """How a protocol words the refusal of a bad length prefix, and the error that carries it."""

    frame: str
    """What the protocol calls a frame ("frame", "packet")."""
    length: str
    """What it calls the prefix ("size", "length")."""
    limit: str
    """The setting that bounds a frame's length, as users know it."""
    error: Callable[[str], Exception]

    def negative(self, length: int) -> Exception:
        return self.error(f"negative {self.frame} {self.length} {length}")

    def oversized(self, length: int, max_length: int) -> Exception:
        return self.error(f"{self.frame} of {length} bytes exceeds {self.limit}={max_length}")


class LengthPrefixedDecoder:
    """Turns a byte stream into frame payloads. After it raises, the stream has lost its framing: close it."""

    def __init__(self, max_length: int, refusal: Refusal) -> None:
        self.max_length = max_length
        self._refusal = refusal
        self._buffer = bytearray()
        self._failure: Exception | None = None

    @property
    def buffered(self) -> int:
        """Bytes received that do not yet make a whole frame."""
        return len(self._buffer)

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytearray]:
        """Adds received bytes; returns the payload of every frame they complete, without the prefix.

        Payloads are writable, so Kafka's log can stamp offsets into a Produce request's batches
        where they lie instead of copying them first. A bad length ends the stream: the frames
        completed before it are still returned, to be answered (as the peer sent them first), and
        its refusal is raised by `check()` and by every later feed; with no frame before it, at once.
        """
        self.check()
        buffer = self._buffer
        buffer += data
        frames: list[bytearray] = []
        position = 0
        while len(buffer) - position >= LENGTH.size:
            length = LENGTH.unpack_from(buffer, position)[0]
            self._failure = self._refusal_of(length)
            if self._failure is not None:
                if not frames:
                    raise self._failure
                break
            start = position + LENGTH.size
            if len(buffer) - start < length:
                break
            frames.append(buffer[start : start + length])
            position = start + length
        del buffer[:position]
        return frames

    def check(self) -> None:
        """Raises the refusal of a bad length the stream has shown, once the frames before it are handled."""
        if self._failure is not None:
            raise self._failure

    def _refusal_of(self, length: int) -> Exception | None:
        if length < 0:
            return self._refusal.negative(length)
        if length > self.max_length:
            return self._refusal.oversized(length, self.max_length)
        return None
