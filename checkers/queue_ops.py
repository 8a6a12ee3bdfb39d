"""The queue workload's ops as the checker reads them: sends, polls and log starts, checked for shape.

A history that breaks the shapes the queue client writes gets a HistoryError naming the op, not
a crash somewhere inside a check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any

from harness.history import HistoryError, Op


@dataclass(frozen=True, slots=True)
class Send:
    op: Op
    partition: int
    value: Any
    offset: int | None
    """Known only for acknowledged sends the broker gave an offset (acks=0 gives none)."""


Record = Sequence[Any]
"""A record a poll read: (offset, value)."""


@dataclass(frozen=True, slots=True)
class Poll:
    op: Op
    reads: dict[int, list[Record]]


def parse_send(op: Op) -> Send:
    asked = op.invoke_value
    if not isinstance(asked, dict) or "partition" not in asked or "value" not in asked:
        raise HistoryError(f"op {op.invoke_index}: a send's value must be {{partition, value}}, not {asked!r:.80}")
    offset = None
    if op.type == "ok":
        done = op.value
        if not isinstance(done, dict):
            raise HistoryError(f"op {op.index}: an ok send's value must be {{partition, offset, value}}")
        asked = {**asked, **{k: v for k, v in done.items() if v is not None}}
        offset = _offset(done.get("offset"), op)
    return Send(op, _partition(asked["partition"], op), _value(asked["value"]), offset)


def parse_poll(op: Op) -> Poll:
    value = op.value
    if value is None:
        return Poll(op, {})
    if not isinstance(value, dict):
        raise HistoryError(f"op {op.index}: an ok poll's value must map partitions to [[offset, value], ...]")
    reads: dict[int, list[Record]] = {}
    for partition, records in value.items():
        if _plain(records):
            reads[_partition(partition, op)] = records
            continue
        if not isinstance(records, list) or not all(isinstance(r, (list, tuple)) and len(r) == 2 for r in records):
            raise HistoryError(f"op {op.index}: partition {partition!r} must hold [[offset, value], ...]")
        reads[_partition(partition, op)] = [(_known_offset(o, op), _value(v)) for o, v in records]
    return Poll(op, reads)


def _plain(records: Any) -> bool:
    """Whether the records are a list of [int offset, int value] already, as they are used: the usual case,
    checked in one quick pass (a long history's polls hold millions of records)."""
    if type(records) is not list:
        return False
    for record in records:
        if type(record) is not list or len(record) != 2 or type(record[0]) is not int or type(record[1]) is not int:
            return False
    return True


def parse_log_starts(op: Op) -> dict[int, int]:
    """An ok log-starts op's {"<partition>": offset}, by partition."""
    value = op.value
    if not isinstance(value, dict):
        raise HistoryError(f"op {op.index}: an ok log-starts' value must map partitions to offsets, not {value!r:.80}")
    starts = {}
    for partition, offset in value.items():
        known = _known_offset(offset, op)
        if known < 0:
            raise HistoryError(f"op {op.index}: partition {partition}'s log start {offset} is negative")
        starts[_partition(partition, op)] = known
    return starts


def _partition(partition: Any, op: Op) -> int:
    try:
        return int(partition)
    except (TypeError, ValueError):
        raise HistoryError(f"op {op.index}: partition {partition!r} is not an integer") from None


def _offset(offset: Any, op: Op) -> int | None:
    """An acknowledgement's offset; None or negative (acks=0 gets -1) means the broker gave none."""
    if offset is None:
        return None
    known = _known_offset(offset, op)
    return known if known >= 0 else None


def _known_offset(offset: Any, op: Op) -> int:
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise HistoryError(f"op {op.index}: offset {offset!r} is not an integer")
    return offset


def record_value(value: Any) -> int | str | None:
    """Values are unique ints; records carry them as decimal text, which reads back as the int. Other
    text stays text; None for anything else (a bool, a list, an object), which each checker judges."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value
    return None


def _value(value: Any) -> Any:
    """A value that is no int or text still compares, as its JSON."""
    found = record_value(value)
    return json.dumps(value, sort_keys=True) if found is None else found
