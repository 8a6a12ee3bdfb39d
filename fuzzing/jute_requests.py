"""ZooKeeper client requests of every op code, built through the keeper's own jute records.

As for Kafka: a record's fields get plausible values (paths under /fuzz, a short payload, the
open ACL, version -1), except, in a field-level mutation, one field chosen at random that gets
a hurtful one: an integer's extremes, a null or oversized or non-UTF-8-safe string, a path
that is no path, a huge or null vector. Connect requests are made the same way, their session
id and password included, for a connection's first frame.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from cluster.keeper.jute.codes import OpCode
from cluster.keeper.jute.errors import JuteError
from cluster.keeper.jute.messages import REQUEST_RECORDS
from cluster.keeper.jute.multi import MULTI_OPS, MultiOp, MultiRequest
from cluster.keeper.jute.records import ACL, ConnectRequest, Id, RequestHeader
from cluster.keeper.jute.wire import BUFFER, LONG, USTRING, Boolean, Number, RecordType, TrailingBoolean, VectorOf, encode
from fuzzing.byte_mutations import framed

PATHS = ("/fuzz", "/fuzz/a", "/fuzz/b", "/fuzz/a/c", "/fuzz/missing", "/")
"""Paths plausible requests name: the fuzzer creates /fuzz at the start; the rest come and go."""
OPEN_ACL = [ACL(31, Id("world", "anyone"))]
_ODD_TEXT = ("", "fuzz", "//", "/fuzz/", "/fuzz/./a", "/fuzz/../a", "/zookeeper/quota", "/\x00", "/\ud7ff",
             "/" + "x" * 5000, "/fuzz/" + "é" * 300, "no-slash")
_OPS = sorted(REQUEST_RECORDS)


@dataclasses.dataclass(frozen=True)
class BuiltJute:
    frame: bytes
    label: str


def build_request(xid: int, rng: random.Random, mutate_field: bool) -> BuiltJute:
    op = rng.choice((*_OPS, *_OPS, rng.randint(-20, 120)))
    cls = REQUEST_RECORDS.get(op)
    label = OpCode(op).name if op in OpCode.__members__.values() else f"op {op}"
    if cls is None:
        return BuiltJute(framed(encode(RequestHeader(xid, op))), label)
    record, field = _record(cls, rng, mutate_field)
    try:
        body = encode(record)
    except JuteError:
        record, field = _record(cls, rng, False)  # the hurtful value does not fit its jute type
        body = encode(record)
    return BuiltJute(framed(encode(RequestHeader(xid, op)) + body), label + (f" field {field}" if field else ""))


def build_connect(rng: random.Random, mutate_field: bool) -> BuiltJute:
    """A connection's first frame: a new session, or (mutated) one naming a session or password it should not."""
    record, field = _record(ConnectRequest, rng, mutate_field)
    return BuiltJute(framed(encode(record)), "connect" + (f" field {field}" if field else ""))


def plausible_connect(timeout_ms: int) -> bytes:
    return framed(encode(ConnectRequest(0, 0, timeout_ms, 0, bytes(16), False)))


def _record(cls: type, rng: random.Random, mutate_field: bool) -> tuple[Any, str | None]:
    if cls is MultiRequest:
        return _multi(rng, mutate_field), None
    fields = cls.__jute__.fields  # type: ignore[attr-defined]
    target = rng.randrange(len(fields)) if mutate_field and fields else None
    values = [_hurtful(kind, rng) if at == target else _plausible(name, kind, rng) for at, (name, kind) in enumerate(fields)]
    return cls(*values), (fields[target][0] if target is not None else None)


def _multi(rng: random.Random, mutate_field: bool) -> MultiRequest:
    ops = []
    for _ in range(rng.choice((0, 1, 2, 3, 40 if mutate_field else 3))):
        op = rng.choice(sorted(MULTI_OPS))
        cls = MULTI_OPS[op]
        ops.append(MultiOp(op, None if cls is None else _record(cls, rng, mutate_field and rng.random() < 0.3)[0]))
    return MultiRequest(ops)


def _plausible(name: str, kind: Any, rng: random.Random) -> Any:
    if isinstance(kind, RecordType):
        return _record(kind.cls, rng, False)[0]
    if isinstance(kind, (Boolean, TrailingBoolean)):
        return bool(rng.getrandbits(1))
    if isinstance(kind, Number):
        return _plausible_number(name, rng)
    if kind is USTRING:
        return rng.choice(PATHS) if "path" in name else rng.choice(("", "fuzz", "world", "anyone"))
    if kind is BUFFER:
        return bytes(16) if name == "passwd" else rng.randbytes(rng.randint(0, 20))
    assert isinstance(kind, VectorOf)
    if kind.element is USTRING:
        return [rng.choice(PATHS) for _ in range(rng.randint(0, 2))]
    return OPEN_ACL if name == "acl" else [_plausible(name, kind.element, rng)]


def _plausible_number(name: str, rng: random.Random) -> int:
    if name == "version":
        return rng.choice((-1, -1, 0, 1))
    if name == "flags":
        return rng.choice((0, 0, 1, 2, 3))  # persistent, ephemeral, sequential, both
    if name in ("time_out", "ttl"):
        return rng.choice((2000, 4000))
    if name == "perms":
        return 31
    if name in ("session_id", "last_zxid_seen", "relative_zxid", "cur_config_id"):
        return 0
    return rng.choice((0, 1, 2))


def _hurtful(kind: Any, rng: random.Random) -> Any:
    if isinstance(kind, RecordType):
        return _record(kind.cls, rng, True)[0]
    if isinstance(kind, (Boolean, TrailingBoolean)):
        return rng.choice((True, False, None)) if isinstance(kind, TrailingBoolean) else bool(rng.getrandbits(1))
    if isinstance(kind, Number):
        bits = 64 if kind is LONG else 32
        low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        return rng.choice((low, high, -1, 0, 1, rng.randint(low, high)))
    if kind is USTRING:
        return rng.choice((None, *_ODD_TEXT))
    if kind is BUFFER:
        return rng.choice((None, b"", rng.randbytes(rng.choice((1, 15, 17, 1 << 20)))))
    assert isinstance(kind, VectorOf)
    if rng.random() < 0.4:
        return rng.choice((None, []))
    return [_hurtful(kind.element, rng) for _ in range(rng.choice((1, 50)))]
