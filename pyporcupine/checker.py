"""Check a whole history: split it into partitions, search them side by side, bound time and memory.

Partitions are searched round-robin in one thread, a slice at a time, and the first one found not
linearizable ends the check. This matters: some partitions of a non-linearizable history are
practically unsearchable (kv/c50-bad has two), and a one-after-another loop would hang on them
while another partition holds the answer. Running out of time or of the memory budget ends the
check with UNKNOWN: "no violation found", never a pass.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from typing import Sequence

from pyporcupine.history import Event, MalformedHistory, Operation, events_to_operations
from pyporcupine.model import Model
from pyporcupine.search import PartitionSearch

DEFAULT_MEMORY_LIMIT = 1 << 30
"""Bytes the searches may hold in total (cache, interned states, memoized steps) before the
check gives up: 1 GiB. The accounting errs high: Python's own peak stays below it."""


class CheckResult(enum.Enum):
    OK = "ok"
    ILLEGAL = "illegal"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PartitionInfo:
    """What the search learned about one partition.

    `result` is UNKNOWN when the search of this partition was stopped before it finished (the
    deadline, the memory budget, or another partition already proved the history illegal).
    `longest[i]` is the longest linearizable prefix found that contains operation i, as indices
    into `operations`.
    """

    operations: list[Operation]
    result: CheckResult
    longest: list[tuple[int, ...]]

    def partial_linearizations(self) -> list[tuple[int, ...]]:
        """The distinct longest prefixes, longest first (Porcupine's PartialLinearizations)."""
        return sorted({prefix for prefix in self.longest if prefix}, key=lambda prefix: (-len(prefix), prefix))

    def longest_linearization(self) -> tuple[int, ...]:
        return max(self.longest, key=len, default=())


@dataclass(frozen=True)
class LinearizationInfo:
    partitions: list[PartitionInfo]


def check_operations(model: Model, history: Sequence[Operation], timeout: float | None = None,
                     memory_limit: int = DEFAULT_MEMORY_LIMIT, compiled: bool = True) -> CheckResult:
    """Is this history linearizable with respect to the model? `timeout` is in seconds.

    The built-in models are searched by the compiled walk unless `compiled` is False; the Python
    walk, the reference, makes the same moves and reaches the same verdict, only slower.
    """
    return _check(model, _operation_partitions(model, history), timeout, memory_limit, False, compiled)[0]


def check_operations_verbose(model: Model, history: Sequence[Operation], timeout: float | None = None,
                             memory_limit: int = DEFAULT_MEMORY_LIMIT,
                             compiled: bool = True) -> tuple[CheckResult, LinearizationInfo]:
    """Like check_operations, also returning the longest partial linearizations per partition.

    Unlike Porcupine, this too stops at the first illegal partition (a hard partition could
    otherwise run to the time limit); partitions stopped early report what they had found, with
    result UNKNOWN.
    """
    return _check(model, _operation_partitions(model, history), timeout, memory_limit, True, compiled)


def check_events(model: Model, history: Sequence[Event], timeout: float | None = None,
                 memory_limit: int = DEFAULT_MEMORY_LIMIT, compiled: bool = True) -> CheckResult:
    """Is this event history linearizable? Each event's position in the list is its time."""
    return _check(model, _event_partitions(model, history), timeout, memory_limit, False, compiled)[0]


def check_events_verbose(model: Model, history: Sequence[Event], timeout: float | None = None,
                         memory_limit: int = DEFAULT_MEMORY_LIMIT,
                         compiled: bool = True) -> tuple[CheckResult, LinearizationInfo]:
    return _check(model, _event_partitions(model, history), timeout, memory_limit, True, compiled)


def _operation_partitions(model: Model, history: Sequence[Operation]) -> list[list[Operation]]:
    history = list(history)
    for i, op in enumerate(history):
        if op.return_time is not None and op.return_time < op.call:
            raise MalformedHistory(f"operation {i} returns at {op.return_time}, before its call at {op.call}")
    return model.partition(history)


def _event_partitions(model: Model, history: Sequence[Event]) -> list[list[Operation]]:
    return [events_to_operations(part) for part in model.partition_event(history)]


def _check(model: Model, partitions: list[list[Operation]], timeout: float | None, memory_limit: int,
           keep_longest: bool, compiled: bool) -> tuple[CheckResult, LinearizationInfo]:
    deadline = None if timeout is None else time.monotonic() + timeout
    searches = [PartitionSearch(model, ops, keep_longest, compiled) for ops in partitions]
    results = [CheckResult.UNKNOWN] * len(searches)
    verdict = _run_side_by_side(searches, results, deadline, memory_limit)
    info = LinearizationInfo([
        PartitionInfo(search.operations, result, search.longest or [])
        for search, result in zip(searches, results)
    ])
    return verdict, info


def _run_side_by_side(searches: list[PartitionSearch], results: list[CheckResult], deadline: float | None,
                      memory_limit: int) -> CheckResult:
    """Give each unfinished search a slice in turn; fill in `results` as they finish."""
    running = {index: search.run() for index, search in enumerate(searches)}
    held = dict.fromkeys(running, 0)
    total_held = 0
    try:
        while running:
            for index, slices in list(running.items()):
                try:
                    now_held = next(slices)
                except StopIteration as finished:
                    del running[index]
                    total_held -= held.pop(index)
                    results[index] = CheckResult.OK if finished.value else CheckResult.ILLEGAL
                    if not finished.value:
                        return CheckResult.ILLEGAL
                    continue
                total_held += now_held - held[index]
                held[index] = now_held
                if total_held > memory_limit or (deadline is not None and time.monotonic() > deadline):
                    return CheckResult.UNKNOWN
        return CheckResult.OK
    finally:
        for slices in running.values():
            slices.close()
