"""Kafka requests of every API and version the broker speaks, built through its own schemas.

A request is a walk over the schema of (api, version): every field gets a plausible value
(a topic that exists, partition 0, a short wait, a CRC-valid record batch), except, in a
field-level mutation, one field chosen at random that gets a value picked to hurt: an
integer's extremes, an empty or huge or null array, an odd string, a corrupt record batch.
The value is encoded with the schema's own encoder, so the frame is well formed around it.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cluster.broker.protocol.apis import APIS
from cluster.broker.protocol.errors import ProtocolError
from cluster.broker.protocol.headers import REQUEST_HEADER_V1, RequestHeader
from cluster.broker.protocol.primitives import BYTES, RECORDS, STRING, Array, Fixed, LengthPrefixed, TaggedFields
from cluster.broker.protocol.record_batch import Compression
from cluster.broker.protocol.records import Record, build_batch
from cluster.broker.protocol.schema import Api, Struct
from fuzzing.byte_mutations import framed

EXPIRING_TOPIC = "fuzz-expiring"
"""Its data expires within a second or two (retention.ms), so its partitions keep becoming empty, freshly
rolled logs: where a lookup by timestamp once read past the end of a segment."""
TOPICS = ("fuzz-0", "fuzz-1", EXPIRING_TOPIC)
"""Topics the fuzzed broker holds (two partitions each); requests name them, or one that does not exist."""
GROUPS = ("fuzz-group-0", "fuzz-group-1")
RECORD_TIME_MS = 1_780_000_000_000
"""Records' timestamps lie around this fixed time (mid-2026), not the clock's, so a seed makes the same frames."""
MAX_PLAUSIBLE_WAIT_MS = 50
"""Waits (fetch max wait, rebalance timeouts) a plausible request asks for: the broker may take them."""

_INT_RANGES = {"b": (-(2**7), 2**7 - 1), "h": (-(2**15), 2**15 - 1), "i": (-(2**31), 2**31 - 1), "q": (-(2**63), 2**63 - 1)}
_ODD_STRINGS = ("", ".", "..", "__consumer_offsets", "a" * 250, "b" * 3000, "ü/é\x00", "topic with spaces", "../etc")


@dataclass(frozen=True)
class BuiltRequest:
    api: Api
    version: int
    correlation_id: int
    frame: bytes
    mutated_field: str | None
    """The dotted path of the field given a hurtful value, or None for a plausible request."""


def apis_and_versions() -> list[tuple[Api, int]]:
    return [(api, version) for api in APIS.values() for version in range(api.min_version, api.max_version + 1)]


Choices = Mapping[str, Sequence[Any]]
"""Plausible values of integer and string fields by field name, where a target knows better ones (a real
leader epoch, the topics it replicates)."""


def build(api: Api, version: int, correlation_id: int, rng: random.Random, mutate_field: bool,
          choices: Choices | None = None) -> BuiltRequest:
    """A request frame; with `mutate_field`, one field (leaf or container) holds a hurtful value."""
    paths = _field_paths(api.request, version, "") if mutate_field else []
    target = rng.choice(paths) if paths else None
    choices = choices or {}
    for _ in range(4):
        body = _struct_value(api.request, version, rng, "", target, choices)
        try:
            encoded = api.request_codecs[version].encode(body)
            break
        except (ProtocolError, struct.error, ValueError):
            continue  # the hurtful value does not fit the field's wire type (a null where none is allowed)
    else:
        target = None
        encoded = api.request_codecs[version].encode(_struct_value(api.request, version, rng, "", None, choices))
    frame = framed_body(api, version, correlation_id, encoded, rng.choice(("fuzzer", "", None)))
    return BuiltRequest(api, version, correlation_id, frame, target)


def framed_request(api: Api, version: int, correlation_id: int, body: Any) -> bytes:
    return framed_body(api, version, correlation_id, api.request_codecs[version].encode(body), "fuzzer")


def framed_body(api: Api, version: int, correlation_id: int, encoded: bytes, client_id: str | None) -> bytes:
    header = REQUEST_HEADER_V1.encode(RequestHeader(
        request_api_key=api.key, request_api_version=version, correlation_id=correlation_id, client_id=client_id,
    ))
    return framed(header + encoded)


def _field_paths(schema: Struct, version: int, prefix: str) -> list[str]:
    paths = []
    for field in schema.fields_in(version):
        path = f"{prefix}{field.name}"
        paths.append(path)
        element = field.type.element if isinstance(field.type, Array) else field.type
        if isinstance(element, Struct):
            paths += _field_paths(element, version, path + ".")
    return paths


def _struct_value(schema: Struct, version: int, rng: random.Random, prefix: str, target: str | None,
                  choices: Choices) -> Any:
    values = {}
    for field in schema.fields_in(version):
        path = f"{prefix}{field.name}"
        if path == target:
            values[field.name] = _hurtful(field.type, field.name, version, rng, field.nullable_in(version), choices)
        else:
            values[field.name] = _plausible(field.type, field.name, version, rng, path, target, choices)
    return schema(**values)


def _plausible(wire: Any, name: str, version: int, rng: random.Random, path: str, target: str | None,
               choices: Choices) -> Any:
    if isinstance(wire, Fixed):
        return bool(rng.getrandbits(1)) if wire.format == "?" else _plausible_int(name, rng, choices)
    if isinstance(wire, Struct):
        return _struct_value(wire, version, rng, path + ".", target, choices)
    if isinstance(wire, Array):
        count = rng.choice((1, 1, 1, 2))
        if isinstance(wire.element, Fixed):
            return [_plausible_int(name, rng, choices) for _ in range(count)]
        if isinstance(wire.element, Struct):
            return [_struct_value(wire.element, version, rng, path + ".", target, choices) for _ in range(count)]
        return [_plausible_text(name, rng, choices) for _ in range(count)]
    if isinstance(wire, TaggedFields):
        return {}
    if wire is RECORDS:
        return bytes(_valid_batch(rng))
    if wire is BYTES:
        return rng.randbytes(rng.randint(0, 16))
    return _plausible_text(name, rng, choices)


def _plausible_int(name: str, rng: random.Random, choices: Choices) -> int:
    """Values a client would send for a field of this name; waits stay short so answers come fast."""
    if name in choices:
        return rng.choice(choices[name])
    if "partition" in name or name == "index":
        return rng.choice((0, 0, 1, 2))
    if name == "acks":
        return rng.choice((-1, -1, 1, 0))
    if "wait" in name or "rebalance_timeout" in name:
        return rng.randint(0, MAX_PLAUSIBLE_WAIT_MS)
    if "session_timeout" in name:
        return rng.choice((100, 6000, 10_000))
    if name.endswith("timeout_ms"):
        return rng.choice((0, 100, 1000))
    if name == "replica_id":
        return rng.choice((-1, -1, -1, 0, 1))
    if name == "timestamp":
        return rng.choice((-1, -2, -3, 0, RECORD_TIME_MS, rng.randint(-100, 2**42)))
    if "bytes" in name:
        return rng.choice((1 << 20, 1, 0))
    if "offset" in name:
        return rng.randint(-1, 10)
    if name in ("num_partitions", "replication_factor"):
        return rng.choice((1, 1, 2, -1))
    return rng.choice((0, 1, -1))


def _plausible_text(name: str, rng: random.Random, choices: Choices) -> str:
    if name in choices:
        return rng.choice(choices[name])
    if "group" in name:
        return rng.choice(GROUPS)
    if "member" in name:
        return rng.choice(("", "fuzzer-member"))
    if "name" in name or "topic" in name:
        return rng.choice((*TOPICS, "fuzz-missing"))
    return rng.choice(("", "fuzzer", "range"))


def _hurtful(wire: Any, name: str, version: int, rng: random.Random, nullable: bool, choices: Choices) -> Any:
    if isinstance(wire, Fixed):
        if wire.format == "?":
            return bool(rng.getrandbits(1))
        low, high = _INT_RANGES[wire.format]
        return rng.choice((low, high, low + 1, high - 1, -1, 0, 1, rng.randint(low, high)))
    if isinstance(wire, Array):
        choice = rng.random()
        if choice < 0.3 and nullable:
            return None
        if choice < 0.6:
            return []
        element = wire.element
        count = rng.choice((20, 200))
        if isinstance(element, Fixed):
            low, high = _INT_RANGES[element.format]
            return [rng.randint(low, high) for _ in range(count)]
        if isinstance(element, Struct):
            return [_struct_value(element, version, rng, "", None, choices) for _ in range(count)]
        return [rng.choice(_ODD_STRINGS) for _ in range(count)]
    if isinstance(wire, Struct):
        return _struct_value(wire, version, rng, "", None, choices)
    if isinstance(wire, TaggedFields):
        return {rng.randint(0, 5): rng.randbytes(rng.randint(0, 8))}
    if wire is RECORDS:
        return _hurtful_records(rng, nullable)
    if isinstance(wire, LengthPrefixed) and rng.random() < 0.2:
        return None
    if wire is BYTES:
        return rng.randbytes(rng.choice((0, 1, 5000)))
    assert wire is STRING
    return rng.choice(_ODD_STRINGS)


def _valid_batch(rng: random.Random, count: int | None = None) -> bytearray:
    records = [
        Record(i, RECORD_TIME_MS + rng.randint(-1000, 1000), key=rng.choice((None, b"k")), value=rng.randbytes(rng.randint(0, 40)))
        for i in range(count or rng.randint(1, 3))
    ]
    return build_batch(records, compression=rng.choice(list(Compression)))


def _hurtful_records(rng: random.Random, nullable: bool) -> Any:
    """Record batches that must be refused (or, for the few that are valid, stored) without harm."""
    batch = _valid_batch(rng)
    choice = rng.randrange(9)
    if choice == 0 and nullable:
        return None
    if choice == 1:
        return b""
    if choice == 2:
        batch[rng.randrange(len(batch))] ^= 1 << rng.randrange(8)  # the CRC no longer matches, or the framing lies
        return bytes(batch)
    if choice == 3:
        return bytes(batch[: rng.randrange(len(batch))])
    if choice == 4:
        return bytes(batch + rng.randbytes(rng.randint(1, 30)))
    if choice == 5:
        struct.pack_into(">i", batch, 8, rng.choice((-1, 0, 10, 2**31 - 1)))  # batchLength
        return bytes(batch)
    if choice == 6:
        batch[16] = rng.choice((0, 1, 3, 0xFF))  # magic
        return bytes(batch)
    if choice == 7:
        return bytes(_valid_batch(rng) + _valid_batch(rng))
    return bytes(_valid_batch(rng, count=rng.choice((50, 500))))
