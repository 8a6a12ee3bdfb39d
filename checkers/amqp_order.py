"""Per-producer order of an AMQP queue: a message first delivered after a later message of the same producer.

A queue hands out its head: if producer P's message a was confirmed before P published b, a sat
ahead of b, so once b has been delivered a must have been delivered already, unless a went back
to the queue (a delivery whose ack was lost requeues it). A delivery the history shows twice is a
redelivery, so only first deliveries count here; but a get whose answer was lost with its
connection (a dequeue ending info with no message, or a drain ending info) is a delivery nobody
saw, which may have requeued any message: a late first delivery that completed after such a get
began is excused. What remains is **reordered**: a got after b, both P's, a confirmed before b was
published, b's first delivery completed before a's began, and no unseen delivery could explain it.
A drain's messages are compared with other ops' as one op (its own list is not taken as an order).
Sorting once per producer keeps it O(n log n).
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import dataclass

from harness.history import Op


@dataclass(frozen=True)
class Delivery:
    start: int
    end: int


def first_deliveries(ops: list[Op], got: dict[int, list[int]]) -> dict[int, Delivery]:
    """When each message was first delivered: `got` maps an op's index to the messages it got."""
    first: dict[int, Delivery] = {}
    for op in sorted((op for op in ops if op.index in got and op.end is not None), key=lambda op: op.end or 0):
        for value in got[op.index]:
            first.setdefault(value, Delivery(op.start, op.end or op.start))
    return first


def unseen_gets_from(ops: list[Op]) -> float:
    """When the earliest get whose answer may have been lost began (infinity when none)."""
    return min((op.start for op in ops if op.type == "info" and (op.f == "drain" or
                                                                  (op.f == "dequeue" and op.value is None))),
               default=math.inf)


def reordered(ops: list[Op], got: dict[int, list[int]]) -> set[int]:
    """The messages first delivered after a later message of their producer, unexcused (see the module)."""
    first = first_deliveries(ops, got)
    unseen_from = unseen_gets_from(ops)
    by_producer: dict[object, list[Op]] = defaultdict(list)
    for op in ops:
        if op.f == "enqueue" and op.type == "ok" and op.end is not None:
            by_producer[op.process].append(op)
    late: set[int] = set()
    for published in by_producer.values():
        published.sort(key=lambda op: op.start)
        starts = [op.start for op in published]
        ends = [first[op.invoke_value].end if op.invoke_value in first else math.inf for op in published]
        earliest_after = list(ends)
        for i in range(len(ends) - 2, -1, -1):
            earliest_after[i] = min(ends[i], earliest_after[i + 1])
        for op in published:
            delivery = first.get(op.invoke_value)
            later = bisect.bisect_right(starts, op.end or 0)
            if delivery is None or later == len(published) or delivery.end > unseen_from:
                continue
            if earliest_after[later] < delivery.start:
                late.add(op.invoke_value)
    return late
