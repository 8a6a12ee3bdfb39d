"""The toxics' behaviour, without sockets or clocks: what each does to the bytes of one direction of a connection.

A toxic type is a frozen dataclass of its attributes (Toxiproxy's names and units: milliseconds,
KB/s, bytes; the slicer's delay in microseconds). `effect()` makes its state on one link (one
direction of one connection). An effect turns a chunk read at time `at` into events: bytes to
deliver at a time, the end of the stream (EOF) at a time, or the connection cut (closed or reset)
at a time. The pipes (pipes.py) carry the events out in order; here everything is a pure function
of the attributes, the arrival times and a random source, so it can be tested without a network.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Deliver:
    """Bytes to write to the other side, not before `at` (seconds on the pipe's clock)."""
    at: float
    data: bytes


@dataclass(frozen=True)
class Finish:
    """The sender closed its side: pass the EOF on, not before `at`."""
    at: float


@dataclass(frozen=True)
class Cut:
    """End the whole connection at `at`: both sockets closed, or reset (RST) if `reset`."""
    at: float
    reset: bool


Event = Deliver | Finish | Cut


class Effect:
    """A toxic's state on one link. The defaults pass everything through untouched, so an effect
    overrides only what its toxic changes; it is also what a toxic is on a link that its toxicity left out."""

    holds: bool = False
    """While True, the link reads nothing more: the data waits in the socket buffers."""

    def feed(self, chunk: Deliver) -> list[Event]:
        return [chunk]

    def finish(self, end: Finish) -> list[Event]:
        return [end]

    def deadline(self) -> Cut | None:
        """A cut the effect schedules by itself, with or without data (the timeout toxic's)."""
        return None


def _seconds(milliseconds: float) -> float:
    return milliseconds / 1000.0


@dataclass(frozen=True)
class Latency:
    """Every chunk arrives `latency` ms (± up to `jitter` ms) after it was read; order is kept."""
    latency: int = 0
    jitter: int = 0

    def effect(self, now: float, rng: random.Random) -> Effect:
        return _LatencyEffect(self, rng)


@dataclass
class _LatencyEffect(Effect):
    toxic: Latency
    rng: random.Random

    def feed(self, chunk: Deliver) -> list[Event]:
        jitter = self.rng.uniform(-self.toxic.jitter, self.toxic.jitter) if self.toxic.jitter else 0.0
        return [Deliver(chunk.at + _seconds(max(0.0, self.toxic.latency + jitter)), chunk.data)]


BANDWIDTH_SLICE_SECONDS = 0.1
"""A bandwidth-limited chunk leaves in slices of this much transfer time, so the reader sees a steady
flow rather than one burst per read."""


@dataclass(frozen=True)
class Bandwidth:
    """At most `rate` KB/s (1 KB = 1000 bytes, as Toxiproxy counts); 0 means unlimited."""
    rate: int = 0

    def effect(self, now: float, rng: random.Random) -> Effect:
        return _BandwidthEffect(self) if self.rate else Effect()


@dataclass
class _BandwidthEffect(Effect):
    toxic: Bandwidth
    free_at: float = float("-inf")

    def feed(self, chunk: Deliver) -> list[Event]:
        bytes_per_second = self.toxic.rate * 1000.0
        step = max(1, int(bytes_per_second * BANDWIDTH_SLICE_SECONDS))
        start = max(chunk.at, self.free_at)
        events: list[Event] = []
        for offset in range(0, len(chunk.data), step):
            piece = chunk.data[offset:offset + step]
            start += len(piece) / bytes_per_second
            events.append(Deliver(start, piece))
        self.free_at = start
        return events


@dataclass(frozen=True)
class SlowClose:
    """The end of the stream is passed on `delay` ms after it came."""
    delay: int = 0

    def effect(self, now: float, rng: random.Random) -> Effect:
        return _SlowCloseEffect(self)


@dataclass
class _SlowCloseEffect(Effect):
    toxic: SlowClose

    def finish(self, end: Finish) -> list[Event]:
        return [Finish(end.at + _seconds(self.toxic.delay))]


@dataclass(frozen=True)
class Timeout:
    """Nothing passes; the connection is closed `timeout` ms after the toxic took hold of it, or,
    with 0, held open until the toxic is removed. Held data is delivered then, as a network
    partition's retransmissions would be (Toxiproxy drops it, breaking the stream's framing)."""
    timeout: int = 0

    def effect(self, now: float, rng: random.Random) -> Effect:
        return _TimeoutEffect(Cut(now + _seconds(self.timeout), reset=False) if self.timeout else None)


@dataclass
class _TimeoutEffect(Effect):
    cut: Cut | None
    holds: bool = True

    def deadline(self) -> Cut | None:
        return self.cut


@dataclass(frozen=True)
class ResetPeer:
    """The first data to come resets the connection (TCP RST to both peers), `timeout` ms later;
    that data and anything after it is dropped."""
    timeout: int = 0

    def effect(self, now: float, rng: random.Random) -> Effect:
        return _ResetPeerEffect(self)


@dataclass
class _ResetPeerEffect(Effect):
    toxic: ResetPeer
    triggered: bool = False

    def feed(self, chunk: Deliver) -> list[Event]:
        if self.triggered:
            return []
        self.triggered = True
        return [Cut(chunk.at + _seconds(self.toxic.timeout), reset=True)]


@dataclass(frozen=True)
class Slicer:
    """Chunks are cut into pieces of about `average_size` bytes (± `size_variation`), each `delay`
    microseconds after the one before."""
    average_size: int = 0
    size_variation: int = 0
    delay: int = 0

    def validate(self) -> None:
        if self.average_size < 1:
            raise ValueError("average_size must be at least 1")
        if self.size_variation >= self.average_size:
            raise ValueError("size_variation must be smaller than average_size")

    def effect(self, now: float, rng: random.Random) -> Effect:
        return _SlicerEffect(self, rng)


def slice_sizes(total: int, average: int, variation: int, rng: random.Random) -> list[int]:
    """Piece sizes that add up to `total`, each between 1 and average + variation, most of them
    within average ± variation (the last takes what is left)."""
    sizes = []
    left = total
    while left > average + variation:
        size = average + rng.randint(-variation, variation)
        sizes.append(size)
        left -= size
    if left:
        sizes.append(left)
    return sizes


@dataclass
class _SlicerEffect(Effect):
    toxic: Slicer
    rng: random.Random

    def feed(self, chunk: Deliver) -> list[Event]:
        events: list[Event] = []
        offset = 0
        sizes = slice_sizes(len(chunk.data), self.toxic.average_size, self.toxic.size_variation, self.rng)
        for index, size in enumerate(sizes):
            events.append(Deliver(chunk.at + index * self.toxic.delay / 1e6, chunk.data[offset:offset + size]))
            offset += size
        return events


@dataclass(frozen=True)
class LimitData:
    """The connection is closed once `bytes` bytes have passed in this direction."""
    bytes: int = 0

    def effect(self, now: float, rng: random.Random) -> Effect:
        return _LimitDataEffect(self)


@dataclass
class _LimitDataEffect(Effect):
    toxic: LimitData
    passed: int = 0
    cut: bool = field(default=False)

    def feed(self, chunk: Deliver) -> list[Event]:
        if self.cut:
            return []
        allowed = chunk.data[:max(0, self.toxic.bytes - self.passed)]
        self.passed += len(allowed)
        events: list[Event] = [Deliver(chunk.at, allowed)] if allowed else []
        if self.passed >= self.toxic.bytes:
            self.cut = True
            events.append(Cut(chunk.at, reset=False))
        return events


ToxicModel = Latency | Bandwidth | SlowClose | Timeout | ResetPeer | Slicer | LimitData

TOXIC_TYPES: dict[str, type[ToxicModel]] = {
    "latency": Latency,
    "bandwidth": Bandwidth,
    "slow_close": SlowClose,
    "timeout": Timeout,
    "reset_peer": ResetPeer,
    "slicer": Slicer,
    "limit_data": LimitData,
}
"""Toxiproxy's type names, the only ones the API accepts."""
