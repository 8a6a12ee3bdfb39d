"""A transaction of micro-operations, as the transactional checker reads it from a history op.

The format is Jepsen's Kafka test's (docs/txn-checker.md has it in full). An op with f "txn"
invokes a list of micro-ops, ["send", key, value] and ["poll"]; an ok completion gives each one's
result in the same order, ["send", key, [offset, value]] and ["poll", {"<key>": [[offset, value],
...]}]. Keys name partitions (integers; JSON writes a poll's keys as text), values are unique per
key. ok means the transaction committed, fail that it surely did not (it was aborted), info that
nobody knows. A failed or unknown transaction's sends are read from its invocation: those are the
values it may have written, and the only ones a reader could have seen from it.

A history that breaks the format gets a HistoryError naming the op, never a crash inside a check.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from checkers.queue_ops import record_value
from harness.history import HistoryError, Op

TXN = "txn"
"""The f of a transaction op; the checker passes over every other op (assign, subscribe, the nemesis's)."""

MICRO_OPS = ("send", "poll")
Key = int
Value = int | str
Record = tuple[int, Value]
"""A record a poll read: (offset, value)."""


@dataclass(frozen=True, slots=True)
class Sent:
    """One send of a transaction: its key and value, and the offset an acknowledgement gave it (None: unknown)."""

    key: Key
    value: Value
    offset: int | None


@dataclass(slots=True)
class Txn:
    """One transaction: the op, its sends in order, and what its polls read (each poll's records by key, in order)."""

    id: int
    """Its position among the history's transactions: the graph's name for it."""
    op: Op
    sends: list[Sent] = field(default_factory=list)
    polls: list[dict[Key, list[Record]]] = field(default_factory=list)

    @property
    def status(self) -> str:
        """ok (committed), fail (aborted) or info (unknown)."""
        return self.op.type

    def reads(self) -> Iterator[tuple[Key, int, Value]]:
        """Every record its polls read, as (key, offset, value), in the order read."""
        for poll in self.polls:
            for key, records in poll.items():
                for offset, value in records:
                    yield key, offset, value

    def last_reads(self) -> dict[Key, Record]:
        """Per key, the record of highest offset it read: what its reads of that key depend on (the ones before
        follow from the log's order)."""
        last: dict[Key, Record] = {}
        for key, offset, value in self.reads():
            if key not in last or offset > last[key][0]:
                last[key] = (offset, value)
        return last

    def ref(self) -> dict[str, Any]:
        return {"txn": self.id, **self.op.ref()}


def parse_txns(ops: list[Op]) -> list[Txn]:
    """The history's transactions, in invocation order."""
    return [parse_txn(number, op) for number, op in enumerate(op for op in ops if op.f == TXN)]


def parse_txn(id_: int, op: Op) -> Txn:
    asked = op.invoke_value
    if not isinstance(asked, list) or not all(isinstance(mop, list) and mop and mop[0] in MICRO_OPS for mop in asked):
        raise HistoryError(f"op {op.invoke_index}: a txn's value must be a list of micro-ops, not {asked!r:.80}")
    txn = Txn(id_, op)
    if op.type != "ok":
        txn.sends = [_asked_send(mop, op) for mop in asked if mop[0] == "send"]
        return txn
    done = op.value
    if not isinstance(done, list) or len(done) != len(asked):
        raise HistoryError(f"op {op.index}: an ok txn's value must list the result of each of its {len(asked)} "
                           f"micro-ops, not {done!r:.80}")
    for mop in done:
        if not isinstance(mop, list) or not mop or mop[0] not in MICRO_OPS:
            raise HistoryError(f"op {op.index}: unknown micro-op {mop!r:.80}")
        if mop[0] == "send":
            txn.sends.append(_done_send(mop, op))
        else:
            txn.polls.append(_poll(mop, op))
    return txn


def _asked_send(mop: list[Any], op: Op) -> Sent:
    if len(mop) != 3:
        raise HistoryError(f"op {op.invoke_index}: a send must be [\"send\", key, value], not {mop!r:.80}")
    return Sent(_key(mop[1], op), _value(mop[2], op), None)


def _done_send(mop: list[Any], op: Op) -> Sent:
    if len(mop) != 3 or not isinstance(mop[2], list) or len(mop[2]) != 2:
        raise HistoryError(f"op {op.index}: an ok send must be [\"send\", key, [offset, value]], not {mop!r:.80}")
    offset = mop[2][0]
    if offset is not None:
        offset = _offset(offset, op)
    return Sent(_key(mop[1], op), _value(mop[2][1], op), offset if offset is None or offset >= 0 else None)


def _poll(mop: list[Any], op: Op) -> dict[Key, list[Record]]:
    if len(mop) != 2 or not isinstance(mop[1], dict):
        raise HistoryError(f"op {op.index}: an ok poll must be [\"poll\", {{key: [[offset, value], ...]}}], "
                           f"not {mop!r:.80}")
    reads: dict[Key, list[Record]] = {}
    for key, records in mop[1].items():
        if not isinstance(records, list) or not all(isinstance(r, list) and len(r) == 2 for r in records):
            raise HistoryError(f"op {op.index}: key {key!r} must hold [[offset, value], ...]")
        reads[_key(key, op)] = [(_offset(offset, op), _value(value, op)) for offset, value in records]
    return reads


def _key(key: Any, op: Op) -> Key:
    if isinstance(key, bool):
        raise HistoryError(f"op {op.index}: key {key!r} is not an integer")
    try:
        return int(key)
    except (TypeError, ValueError):
        raise HistoryError(f"op {op.index}: key {key!r} is not an integer") from None


def _offset(offset: Any, op: Op) -> int:
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise HistoryError(f"op {op.index}: offset {offset!r} is not an integer")
    return offset


def _value(value: Any, op: Op) -> Value:
    found = record_value(value)
    if found is None:
        raise HistoryError(f"op {op.index}: value {value!r:.80} is neither an integer nor text")
    return found
