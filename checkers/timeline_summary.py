"""What a timeline of a large history shows instead of every op: counts per worker and time
bucket, and the real ops where things went wrong.

A worker thread runs one op at a time and continues as a fresh process after an `info`
(logquake.interpreter.ProcessTable: process p runs on thread p mod concurrency), so rows per
worker stay few however long the run, where rows per process would grow with every timeout.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.history import NEMESIS, Event, Op, Process

SEVERITY = ("ok", "fail", "info")
"""Worst last: info, an unknown outcome, is the one a checker can say least about."""


@dataclass
class Cell:
    """The ops of one worker invoked within one time bucket."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITY, 0))

    @property
    def worst(self) -> str:
        return next(outcome for outcome in reversed(SEVERITY) if self.counts[outcome])


def worker_of(test: dict[str, Any], history: list[Event]) -> Callable[[Process], Process]:
    """The worker thread running a process: the run's concurrency when test.json names it, else the
    most client ops ever in flight at once (a thread has at most one)."""
    threads = test.get("concurrency")
    if not isinstance(threads, int) or threads < 1:
        threads = max(1, _most_in_flight(history))
    return lambda process: process % threads if isinstance(process, int) else process


def _most_in_flight(history: list[Event]) -> int:
    in_flight = most = 0
    for event in history:
        if event["process"] != NEMESIS:
            in_flight += 1 if event["type"] == "invoke" else -1
            most = max(most, in_flight)
    return most


def cells(ops: list[Op], worker: Callable[[Process], Process], bucket_ns: float) -> dict[tuple[Process, int], Cell]:
    """Client ops counted per (worker, bucket of their invocation) in one pass. The counting keys are
    plain ints: a container per op would wake the garbage collector to rescan a big history's events."""
    lanes: dict[Process, int] = {}
    counted: Counter[int] = Counter()
    outcomes = {outcome: code for code, outcome in enumerate(SEVERITY)}
    for op in ops:
        process = op.process
        if process != NEMESIS:
            lane = lanes.setdefault(worker(process), len(lanes))
            counted[(int(op.start // bucket_ns) * len(SEVERITY) + outcomes[op.type]) * (1 << 20) + lane] += 1
    names = {code: lane for lane, code in lanes.items()}
    result: dict[tuple[Process, int], Cell] = {}
    for key, count in counted.items():
        rest, lane = divmod(key, 1 << 20)
        bucket, outcome = divmod(rest, len(SEVERITY))
        result.setdefault((names[lane], bucket), Cell()).counts[SEVERITY[outcome]] += count
    return result


def around_trouble(ops: list[Op], cap: int, context: int) -> list[Op]:
    """At most `cap` client ops, in invocation order: the ops invoked around each fault's start, and
    each fail and info op with the ops invoked around it. When they are too many, the fail and info
    ops are taken evenly over the run, and the context around every anchor widens one op at a time
    until the cap, so each anchor is shown before any gets its wide context."""
    client = [op for op in ops if op.process != NEMESIS]
    starts = [op.start for op in client]
    faults = [bisect_left(starts, op.start) for op in ops
              if op.process == NEMESIS and op.f.startswith("start-")]
    failed = [position for position, op in enumerate(client) if op.type != "ok"]
    anchors = faults + _evenly(failed, max(0, cap - len(faults)))
    chosen: set[int] = set()
    for distance in range(context + 1):
        for anchor in anchors:
            for position in {anchor - distance, anchor + distance}:
                if len(chosen) >= cap:
                    return [client[p] for p in sorted(chosen)]
                if 0 <= position < len(client):
                    chosen.add(position)
    return [client[p] for p in sorted(chosen)]


def _evenly(items: list[int], count: int) -> list[int]:
    if len(items) <= count:
        return items
    return [items[i * len(items) // count] for i in range(count)]
