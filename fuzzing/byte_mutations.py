"""Byte-level mutations of one length-prefixed frame (Kafka and jute frame alike: an int32 size first).

Each mutation says whether the result is still *framed*: its size prefix counts exactly the
bytes that follow. A framed result may be followed by more frames on the same connection; an
unframed one (a lying size, a cut without a fixed size) leaves the server's framing wherever
the lie puts it, so the harness ends the connection's input after it.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass
from typing import Callable

SIZE = struct.Struct(">i")
INTERESTING_SIZES = (-(2**31), -2, -1, 0, 1, 3, 7, 8, 0x7FFFFFFF, 104_857_601)
"""Sizes a lying prefix takes besides near misses: negative, tiny, and beyond any frame limit."""


@dataclass(frozen=True)
class Mutated:
    kind: str
    data: bytes
    framed: bool


def framed(payload: bytes) -> bytes:
    return SIZE.pack(len(payload)) + payload


def _flip_bits(payload: bytes, rng: random.Random) -> bytes:
    out = bytearray(payload)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def _set_bytes(payload: bytes, rng: random.Random) -> bytes:
    """Overwrites a few bytes with the values that change a length or a count the most."""
    out = bytearray(payload)
    for _ in range(rng.randint(1, 4)):
        if out:
            out[rng.randrange(len(out))] = rng.choice((0x00, 0x7F, 0x80, 0xFF, rng.randrange(256)))
    return bytes(out)


def _truncate(payload: bytes, rng: random.Random) -> bytes:
    return payload[: rng.randrange(len(payload) + 1)]


def _random_tail(payload: bytes, rng: random.Random) -> bytes:
    return payload + rng.randbytes(rng.choice((1, 2, 4, rng.randint(1, 64))))


def _cut_middle(payload: bytes, rng: random.Random) -> bytes:
    start = rng.randrange(len(payload) + 1)
    return payload[:start] + payload[start + rng.randint(1, 16):]


def _insert_middle(payload: bytes, rng: random.Random) -> bytes:
    start = rng.randrange(len(payload) + 1)
    return payload[:start] + rng.randbytes(rng.randint(1, 16)) + payload[start:]


def _api_key_and_version(payload: bytes, rng: random.Random) -> bytes:
    """The first four bytes are (api key, version) in Kafka's header; (xid's high half) in jute's."""
    key, version = rng.choice((rng.randint(-5, 70), -1, 0x7FFF, -0x8000)), rng.randint(-2, 20)
    return struct.pack(">hh", key, version) + payload[4:]


def _random_payload(payload: bytes, rng: random.Random) -> bytes:
    return rng.randbytes(rng.choice((0, 1, 4, 8, 12, rng.randint(0, 300))))


FRAMED_MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "bit-flips": _flip_bits,
    "set-bytes": _set_bytes,
    "truncate": _truncate,
    "random-tail": _random_tail,
    "cut-middle": _cut_middle,
    "insert-middle": _insert_middle,
    "api-key-version": _api_key_and_version,
    "random-payload": _random_payload,
}
"""Mutations of the payload after which the size prefix is made true again."""


def mutate(frame: bytes, rng: random.Random) -> Mutated:
    """One mutation of `frame` (size prefix included), chosen by `rng`; most keep the framing true."""
    payload = frame[4:]
    roll = rng.random()
    if roll < 0.06:
        return Mutated("lying-size", _lying_size(payload, rng) + payload, False)
    if roll < 0.09:
        return Mutated("cut-frame", frame[: rng.randrange(len(frame))], False)
    if roll < 0.11:
        return Mutated("raw-random-bytes", rng.randbytes(rng.randint(1, 64)), False)
    kind = rng.choice(sorted(FRAMED_MUTATIONS))
    mutated = FRAMED_MUTATIONS[kind](payload, rng)
    if rng.random() < 0.2:
        mutated = _flip_bits(mutated, rng) if mutated else mutated
        kind += "+bit-flips"
    return Mutated(kind, framed(mutated), True)


def _lying_size(payload: bytes, rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        return SIZE.pack(rng.choice(INTERESTING_SIZES))
    return SIZE.pack(max(-(2**31), min(2**31 - 1, len(payload) + rng.choice((-4, -1, 1, 4, 1000)))))


def is_framed(data: bytes) -> bool:
    """Whether `data` is exactly one frame whose size prefix counts its payload."""
    return len(data) >= 4 and SIZE.unpack_from(data)[0] == len(data) - 4
