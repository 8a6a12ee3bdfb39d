"""What the packet handler does to one packet, decided apart from any socket so that it can be tested as logic.

netem is missing from this kernel, so packet faults other than loss come from user space: iptables hands
the packets to an NFQUEUE handler (handler.py), which asks `PacketFault.handling` what to do with each
one: hold it before accepting it (delay, jitter, reorder), send a copy after it (duplicate), or flip one
bit past its IP header (corrupt: the TCP or UDP checksum then fails and the receiver drops the packet,
as with netem's corrupt, while the IP header stays routable). `HeldPackets` releases held packets in the
order their holds end, arrivals first among equals, so a delay without jitter never reorders.
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field
from typing import Generic, TypeVar

KINDS = ("delay", "duplicate", "reorder", "corrupt")

T = TypeVar("T")


@dataclass(frozen=True)
class Handling:
    """One packet's fate: held `hold` seconds before it is accepted, then `copies` more of it sent; with
    `flip_bit`, that bit of its transport segment (the bytes past the IP header) flipped first."""

    hold: float = 0.0
    copies: int = 0
    flip_bit: int | None = None


@dataclass(frozen=True)
class PacketFault:
    """A fault's settings, as the handler receives them on its command line."""

    kind: str
    probability: float = 1.0
    """The share of packets the fault touches: duplicated, reordered or corrupted (a delay touches all)."""
    delay_ms: float = 0.0
    """delay: every packet's hold; reorder: the hold of the packets that the later ones overtake."""
    jitter_ms: float = 0.0
    """delay: each hold is drawn uniformly within delay_ms ± jitter_ms (never below 0), so packets reorder."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown packet fault {self.kind!r}: choose one of {', '.join(KINDS)}")
        if not 0 <= self.probability <= 1:
            raise ValueError(f"probability must be between 0 and 1, not {self.probability}")
        if self.delay_ms < 0 or self.jitter_ms < 0:
            raise ValueError("delay_ms and jitter_ms must not be negative")

    def handling(self, rng: random.Random, segment_bits: int) -> Handling:
        """What to do with the next packet, whose transport segment holds `segment_bits` bits."""
        if self.kind == "delay":
            held = self.delay_ms + rng.uniform(-self.jitter_ms, self.jitter_ms) if self.jitter_ms else self.delay_ms
            return Handling(hold=max(0.0, held) / 1000)
        if rng.random() >= self.probability:
            return Handling()
        if self.kind == "reorder":
            return Handling(hold=self.delay_ms / 1000)
        if self.kind == "duplicate":
            return Handling(copies=1)
        return Handling(flip_bit=rng.randrange(segment_bits)) if segment_bits else Handling()

    def arguments(self) -> list[str]:
        """The handler's command-line arguments for these settings (handler.py reads them back)."""
        return ["--fault", self.kind, "--probability", repr(self.probability), "--delay-ms", repr(self.delay_ms),
                "--jitter-ms", repr(self.jitter_ms)]


def ip_header_length(packet: bytes) -> int:
    """IPv4's header length (IHL, in 32-bit words); the whole packet when it is too short to say."""
    if not packet:
        return 0
    return min(len(packet), (packet[0] & 0x0F) * 4)


def segment_bits(packet: bytes) -> int:
    return (len(packet) - ip_header_length(packet)) * 8


def flip_bit(packet: bytes, bit: int) -> bytes:
    """The packet with bit `bit` of its transport segment flipped (bit 0 is the segment's first byte's top bit)."""
    offset = ip_header_length(packet) + bit // 8
    if not 0 <= bit < segment_bits(packet):
        raise ValueError(f"bit {bit} is outside the {segment_bits(packet)}-bit transport segment")
    flipped = bytearray(packet)
    flipped[offset] ^= 0x80 >> (bit % 8)
    return bytes(flipped)


@dataclass
class HeldPackets(Generic[T]):
    """Packets held until their time: released in the order their holds end, ties in arrival order."""

    _heap: list[tuple[float, int, T]] = field(default_factory=list)
    _arrivals: itertools.count = field(default_factory=itertools.count)

    def hold(self, packet: T, until: float) -> None:
        heapq.heappush(self._heap, (until, next(self._arrivals), packet))

    def due(self, now: float) -> list[T]:
        """The packets whose hold has ended by `now`, in release order; they are no longer held."""
        released = []
        while self._heap and self._heap[0][0] <= now:
            released.append(heapq.heappop(self._heap)[2])
        return released

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def release_all(self) -> list[T]:
        return self.due(float("inf"))

    def __len__(self) -> int:
        return len(self._heap)
