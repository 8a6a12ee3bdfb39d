"""The history: every operation of a run, in order; the one format the runner writes and every checker reads.

history.jsonl holds one event a line: {index, time, process, type, f, value, error?}. `type` is
invoke, or the completion ok (it happened), fail (it surely did not) or info (nobody knows:
"may or may not have happened", never counted as either). Process "nemesis" is the fault
injector; client processes are numbers. The writer flushes every line, so a crash of the harness
loses at most the line being written, and the reader tolerates exactly that: a torn last line.

Checkers reason about operations, not events: `pair` joins each invoke with its process's next
completion into an `Op`. Each process has at most one operation in flight; an invoke that never
completed (the run was interrupted) is an `Op` without a completion, whose outcome is unknown.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

Event = dict[str, Any]
"""One line of a history: an invocation or a completion."""
Process = int | str
NEMESIS = "nemesis"
"""The process name of the fault injector's operations."""
COMPLETIONS = ("ok", "fail", "info")
TYPES = ("invoke", *COMPLETIONS)
FIELDS = ("index", "time", "process", "type", "f")
"""What every event carries (with "value", and "error" on some completions)."""


class HistoryError(ValueError):
    """A history that breaks the format: damaged JSON before its last line, or events that pair up wrongly."""


def check_event(event: Any, where: str) -> Event:
    """The event, if it has the format's shape; `where` names it in the error ("line 3", "history entry 3")."""
    if not isinstance(event, dict):
        raise HistoryError(f"{where} is not an object: {event!r:.80}")
    missing = [key for key in FIELDS if key not in event]
    if missing:
        raise HistoryError(f"{where} lacks {', '.join(missing)}")
    if event["type"] not in TYPES:
        raise HistoryError(f"{where}: unknown type {event['type']!r}")
    return event


class HistoryWriter:
    """Numbers, timestamps and appends events from any thread; one lock keeps index and time in order."""

    def __init__(self, path: Path, clock: Callable[[], int] = time.monotonic_ns) -> None:
        self.path = path
        self._clock = clock
        self._start = clock()
        self._file: IO[str] = open(path, "a", encoding="utf-8")
        self._lock = threading.Lock()
        self._count = 0
        self._listeners: list[Callable[[Event], None]] = []

    def elapsed_ns(self) -> int:
        """Monotonic nanoseconds since the run started: the clock of the history's "time" field."""
        return self._clock() - self._start

    def subscribe(self, listener: Callable[[Event], None]) -> None:
        """Called with every event after it is on disk (the progress line counts from here)."""
        self._listeners.append(listener)

    def append(self, process: Process, type_: str, f: str, value: Any, error: str | None = None) -> Event:
        if type_ not in TYPES:
            raise ValueError(f"op type must be one of {TYPES}, not {type_!r}")
        with self._lock:
            event: Event = {"index": self._count, "time": self.elapsed_ns(), "process": process, "type": type_,
                            "f": f, "value": value}
            if error is not None:
                event["error"] = error
            self._file.write(json.dumps(event, separators=(",", ":")) + "\n")
            self._file.flush()
            self._count += 1
            for listener in self._listeners:
                listener(event)
        return event

    def close(self) -> None:
        """Flushed and fsynced: per-line flushing survives a harness crash, the fsync a machine's."""
        with self._lock:
            if not self._file.closed:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()


def read_history(path: Path) -> list[Event]:
    """All events of a history file; a torn last line (the harness died mid-write) is dropped."""
    return list(iter_history(path))


def iter_history(path: Path) -> Iterator[Event]:
    with open(path, encoding="utf-8") as lines:
        pending: tuple[int, str] | None = None
        for number, line in enumerate(lines, start=1):
            if pending is not None:
                yield _parse(*pending)
            pending = (number, line)
        if pending is None:
            return
        number, line = pending
        try:
            yield _parse(number, line)
        except HistoryError:
            if line.endswith("\n"):
                raise


def _parse(number: int, line: str) -> Event:
    try:
        event = json.loads(line)
    except json.JSONDecodeError as error:
        raise HistoryError(f"line {number}: not JSON ({error.msg})") from None
    return check_event(event, f"line {number}")


@dataclass(frozen=True)
class Op:
    """One operation: its invocation and its completion (None when the history ends first)."""

    invoke: Event
    completion: Event | None

    @property
    def process(self) -> Process:
        return self.invoke["process"]

    @property
    def f(self) -> str:
        return self.invoke["f"]

    @property
    def type(self) -> str:
        return "info" if self.completion is None else self.completion["type"]

    @property
    def index(self) -> int:
        """The completion's index (where the result is), or the invoke's when there is none."""
        return (self.completion or self.invoke)["index"]

    @property
    def start(self) -> int:
        return self.invoke["time"]

    @property
    def end(self) -> int | None:
        return None if self.completion is None else self.completion["time"]

    @property
    def error(self) -> str | None:
        return None if self.completion is None else self.completion.get("error")

    def ref(self) -> dict[str, Any]:
        """A short reference for anomaly examples and reports."""
        return {"index": self.index, "process": self.process, "f": self.f, "type": self.type}


def pair(history: list[Event]) -> list[Op]:
    """Operations in invocation order. Raises HistoryError on events that cannot pair up."""
    pending: dict[Process, Event] = {}
    ops: dict[int, Op] = {}
    for position, event in enumerate(history):
        check_event(event, f"history entry {position}")
        process = event["process"]
        if event["type"] == "invoke":
            if process in pending:
                raise HistoryError(f"op {event['index']}: process {process} invokes while op "
                                   f"{pending[process]['index']} is still in flight")
            pending[process] = event
            continue
        invoke = pending.pop(process, None)
        if invoke is None:
            raise HistoryError(f"op {event['index']}: {event['type']} of process {process} completes nothing")
        if invoke["f"] != event["f"]:
            raise HistoryError(f"op {event['index']}: completes f={event['f']!r} but process {process} "
                               f"invoked f={invoke['f']!r} (op {invoke['index']})")
        ops[invoke["index"]] = Op(invoke, event)
    for invoke in pending.values():
        ops[invoke["index"]] = Op(invoke, None)
    return [ops[index] for index in sorted(ops)]
