"""Availability: per fault and per partition, how long writes went unacknowledged, and how soon they came back.

Safety is half of a replication claim; the other half is that the cluster keeps taking writes
through the faults it is built to survive (RF 3 and min ISR 2 lose one broker and stay writable
after a leader election). Measured on a workload's partition writes (ops whose value names a
"partition": the queue's sends, the log's appends), for every fault interval (checkers.faults):

- The fault starts when its start op is invoked and has surely taken effect when that op
  completes. A send "answers" for a partition when it was invoked at or after the fault's start
  and acknowledged (ok) at or after the fault took effect: an acknowledgement that came before
  the fault took hold says nothing about the fault.
- The unavailability window of a partition is the time from the fault's start to the first
  answering acknowledgement on that partition. It is never zero: a partition that kept taking
  sends shows the start op's own duration plus about one send's latency (a few milliseconds for
  a kill). For isolate-leader, whose start op pauses the followers and waits out the election,
  the window covers that whole op.
- Recovery is the time from the fault's end (its stop op's completion) to the first
  acknowledgement of a send on the partition invoked at or after that end.

Each partition's outcome says what the numbers mean:
- "recovered": an answering acknowledgement came; window_s is as above.
- "never-recovered": sends were tried after the start, none answered before the history ended;
  window_s runs to the end of the history (a lower bound).
- "no-sends": no send on the partition was invoked after the start: nothing to measure (window_s
  null). Partitions of the topic that never had a send at all are reported so too.
recovery_s is null when the fault never stopped (the history ended first) or no acknowledgement
came after its end; "recovery" says which ("recovered", "never-recovered", "no-sends",
"not-stopped").

An availability claim (`max_unavailable` seconds, optional) holds the faults a configuration
should survive to that bound: a process fault (kill, pause, restart) or isolate-leader that hit
only brokers, fewer than half of them, on a topic with replication factor at least 3 and
min.insync.replicas at most RF - 1. A longer window (never-recovered included) on such a fault
makes the run invalid; whole-tier faults, faults on a majority or on keepers, network, disk and
clock faults are measured but never judged.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from checkers.claim import Claim
from checkers.faults import FaultInterval, fault_intervals
from checkers.stats import quantile
from harness.history import NEMESIS, Op

SURVIVABLE_FAULTS = ("kill", "pause", "restart", "isolate-leader")
"""Faults that take nodes down: survived, given enough replicas, by electing a leader elsewhere."""

RECOVERED, NEVER_RECOVERED, NO_SENDS, NOT_STOPPED = "recovered", "never-recovered", "no-sends", "not-stopped"


@dataclass(frozen=True)
class Window:
    """One partition under one fault: its unavailability window and its recovery, in nanoseconds."""

    interval: FaultInterval
    partition: int
    outcome: str
    window_ns: int | None
    recovery: str
    recovery_ns: int | None

    @property
    def start(self) -> int:
        return self.interval.start

    @property
    def closes_at(self) -> int | None:
        """When the window closed (or where the history ended, if it never did); None: nothing to measure."""
        return None if self.window_ns is None else self.interval.start + self.window_ns


def partition_windows(test: dict[str, Any], ops: list[Op], writes: str) -> list[Window]:
    """Every fault's window on every partition: the topic's (the test's "partitions") and any a send names; `ops`
    is the paired history (harness.history.pair)."""
    partitions = test.get("partitions") if isinstance(test.get("partitions"), int) else 0
    sends: dict[int, list[Op]] = defaultdict(list)
    for op in ops:
        asked = op.invoke_value if op.f == writes and op.process != NEMESIS else None
        if isinstance(asked, dict):
            partition = asked.get("partition")
            if isinstance(partition, int):
                sends[partition].append(op)
    every = sorted(set(sends) | set(range(partitions)))
    history_end = max((op.start if op.end is None else op.end for op in ops), default=0)
    by_start = {partition: _Sends(sorted(sends.get(partition, []), key=lambda op: op.start)) for partition in every}
    return [_window(interval, by_start[partition], history_end, partition)
            for interval in fault_intervals(ops) for partition in every]


class _Sends:
    """One partition's sends by invocation time: the first acknowledgement after a moment is found without scanning
    them all for every fault."""

    def __init__(self, ops: list[Op]) -> None:
        self.ops = ops
        self.starts = [op.start for op in ops]

    def first_ack(self, since: int, not_before: int) -> tuple[bool, int | None]:
        """Whether a send was invoked at or after `since`, and the earliest acknowledgement, at or after `not_before`,
        of one of them. The scan stops at a send invoked after the earliest found: its acknowledgement comes later."""
        first = bisect.bisect_left(self.starts, since)
        earliest: int | None = None
        for position in range(first, len(self.ops)):  # by index: islice would step through the first `first` too
            op = self.ops[position]
            if earliest is not None and op.start > earliest:
                break
            end = op.end
            if op.type == "ok" and end is not None and end >= not_before and (earliest is None or end < earliest):
                earliest = end
        return first < len(self.ops), earliest


def _window(interval: FaultInterval, sends: _Sends, history_end: int, partition: int) -> Window:
    effect = interval.opened_by.end if interval.opened_by.end is not None else interval.start
    tried, ack = sends.first_ack(interval.start, effect)
    if ack is not None:
        outcome, window = RECOVERED, ack - interval.start
    elif tried:
        outcome, window = NEVER_RECOVERED, history_end - interval.start
    else:
        outcome, window = NO_SENDS, None
    recovery, recovery_ns = _recovery(interval.end, sends)
    return Window(interval, partition, outcome, window, recovery, recovery_ns)


def _recovery(end: int | None, sends: _Sends) -> tuple[str, int | None]:
    if end is None:
        return NOT_STOPPED, None
    after, ack = sends.first_ack(end, end)
    if ack is not None:
        return RECOVERED, ack - end
    return (NEVER_RECOVERED if after else NO_SENDS), None


def survivable(interval: FaultInterval, test: dict[str, Any]) -> bool:
    """A fault the configuration should ride out: see the module's docstring."""
    claim = Claim.from_test(test)
    detail = interval.detail if isinstance(interval.detail, dict) else {}
    nodes = detail.get("nodes")
    if interval.fault not in SURVIVABLE_FAULTS or not isinstance(nodes, list) or not nodes:
        return False
    brokers = claim.node_names("broker")
    replicated = claim.replicas >= 3 and int(test.get("min_insync", 1)) <= claim.replicas - 1
    return replicated and set(nodes) <= brokers and 2 * len(nodes) < len(brokers)


def check_availability(test: dict[str, Any], windows: list[Window], writes: str) -> dict[str, Any]:
    """{"valid", "writes", "max_unavailable_s", "faults": [...], "by_fault": {...}, "violations": [...], "reasons"}.

    `windows` are partition_windows' of the history of sends named `writes`; the timeline draws the same ones.
    """
    limit = test.get("max_unavailable")
    by_interval: dict[int, list[Window]] = defaultdict(list)
    for window in windows:
        by_interval[id(window.interval)].append(window)
    faults = [_fault(found[0].interval, found, survivable(found[0].interval, test)) for found in by_interval.values()]
    violations = [] if limit is None else [
        {"fault": fault["label"], "partition": int(p), "window_s": row["window_s"], "outcome": row["outcome"]}
        for fault in faults if fault["survivable"]
        for p, row in fault["partitions"].items() if row["window_s"] is not None and row["window_s"] > limit]
    reasons = [f"availability: partition {v['partition']} unavailable for {v['window_s']:.2f} s "
               f"({v['outcome']}) under {v['fault']}, more than --max-unavailable {limit:g} s" for v in violations]
    return {"valid": not violations, "writes": writes, "max_unavailable_s": limit, "faults": faults,
            "by_fault": _by_fault(windows), "violations": violations, "reasons": reasons}


def _fault(interval: FaultInterval, windows: list[Window], judged: bool) -> dict[str, Any]:
    return {"fault": interval.fault, "label": interval.label, "survivable": judged,
            "start_s": _seconds(interval.start), "end_s": _seconds(interval.end),
            "partitions": {str(w.partition): {"outcome": w.outcome, "window_s": _seconds(w.window_ns),
                                              "recovery": w.recovery, "recovery_s": _seconds(w.recovery_ns)}
                           for w in windows}}


def _by_fault(windows: list[Window]) -> dict[str, dict[str, Any]]:
    """Per fault kind: how many intervals, p50 and max of windows and recoveries, and the outcomes counted."""
    kinds: dict[str, list[Window]] = defaultdict(list)
    for window in windows:
        kinds[window.interval.fault].append(window)
    summary = {}
    for kind, found in sorted(kinds.items()):
        measured = sorted(_seconds(w.window_ns) for w in found if w.window_ns is not None)
        recoveries = sorted(_seconds(w.recovery_ns) for w in found if w.recovery_ns is not None)
        summary[kind] = {"faults": len({id(w.interval) for w in found}),
                         "window_s": {"p50": quantile(measured, 0.5), "max": quantile(measured, 1.0)},
                         "recovery_s": {"p50": quantile(recoveries, 0.5), "max": quantile(recoveries, 1.0)},
                         "never_recovered": sum(w.outcome == NEVER_RECOVERED for w in found),
                         "no_sends": sum(w.outcome == NO_SENDS for w in found)}
    return summary


def _seconds(ns: int | None) -> Any:
    """Seconds to the microsecond (Any: a float here whenever ns is an int)."""
    return None if ns is None else round(ns / 1e9, 6)
