"""The history: every operation of a run, in order; the one format the runner writes and every checker reads.

history.jsonl holds one event a line: {index, time, process, type, f, value, error?}. `type` is
invoke, or the completion ok (it happened), fail (it surely did not) or info (nobody knows:
"may or may not have happened", never counted as either). Process "nemesis" is the fault
injector; client processes are numbers. The writer flushes every line, so a crash of the harness
loses at most the line being written, and the reader tolerates exactly that: a torn last line.

Checkers reason about operations, not events: `pair` joins each invoke with its process's next
completion into an `Op`. Each process has at most one operation in flight; an invoke that never
completed (the run was interrupted) is an `Op` without a completion, whose outcome is unknown.
`load_history` reads a file straight into a `History`, its ops paired once and kept compact, for
checking a long run: a million-op queue check peaks at about 650 MB, where a list of event dicts took 4 GB.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import orjson

Event = dict[str, Any]
"""One line of a history: an invocation or a completion."""
Process = int | str
NEMESIS = "nemesis"
"""The process name of the fault injector's operations."""
COMPLETIONS = ("ok", "fail", "info")
TYPES = ("invoke", *COMPLETIONS)
FIELDS = ("index", "time", "process", "type", "f")
"""What every event carries (with "value", and "error" on some completions)."""
_REQUIRED = frozenset(FIELDS)


class HistoryError(ValueError):
    """A history that breaks the format: damaged JSON before its last line, or events that pair up wrongly."""


def check_event(event: Any, where: str) -> Event:
    """The event, if it has the format's shape; `where` names it in the error ("line 3", "history entry 3")."""
    if isinstance(event, dict) and event.keys() >= _REQUIRED and event["type"] in TYPES:
        return event
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


def load_history(path: Path) -> History:
    """The history file parsed and paired in one pass, holding only its ops (see History)."""
    with collector_paused():
        return History(iter_history(path), checked=True, pack=_packed)


def iter_history(path: Path) -> Iterator[Event]:
    with open(path, "rb") as lines:
        pending: bytes | None = None
        number = 0
        for number, line in enumerate(lines, start=1):
            if pending is not None:
                yield _parse(number - 1, pending)
            pending = line
        if pending is None:
            return
        try:
            yield _parse(number, pending)
        except HistoryError:
            if pending.endswith(b"\n"):
                raise


def _parse(number: int, line: bytes) -> Event:
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        try:
            event = json.loads(line, object_hook=_Unusual)
        except json.JSONDecodeError as error:
            raise HistoryError(f"line {number}: not JSON ({error.msg})") from None
    return check_event(event, f"line {number}")


class _Unusual(dict):  # type: ignore[type-arg]
    """An object of a line that only the standard reader reads: integers beyond 64 bits, NaN or Infinity, which
    the writer (json.dumps) writes and the fast reader refuses. Its values are kept as they are, never packed:
    the fast writer would change them."""


@contextmanager
def collector_paused() -> Iterator[None]:
    """Reading and checking a history allocate millions of objects that stay alive and form no cycles: every
    pass of the garbage collector over them finds nothing, and reading a million-op history into dicts took
    five times as long with it running. Nests; the collector runs again afterwards if it ran before."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _packed(value: Any) -> Any:
    """A list or an object decoded from JSON as its JSON text again, which decodes to an equal value (Op.value);
    the values of an _Unusual event are kept as they are. Copied: the writer's own bytes keep a kilobyte of room
    each."""
    return bytes(memoryview(orjson.dumps(value))) if isinstance(value, (list, dict)) and value else value


def _as_it_is(value: Any) -> Any:
    return value


def _unpacked(value: Any) -> Any:
    """No JSON value decodes to bytes: bytes are a packed value's text."""
    return orjson.loads(value) if type(value) is bytes else value


class Op:
    """One operation: its invocation and its completion, if the history has one.

    Compact (slots, no event dicts kept) because a long run holds millions. `index`, `type`, `end`,
    `value` and `error` are the completion's: without one, the type is info (unknown outcome), the
    index the invocation's, and the rest None. `invoke_index` and `invoke_value` are the invocation's;
    `invoke` and `completion` rebuild the two events for code that reads them whole. A value read from
    a history file may be kept as its JSON text and decoded each time it is asked for: a list or an
    object costs ten times its text in memory, and most checkers never look at most values.
    """

    __slots__ = ("process", "f", "invoke_index", "start", "_invoke_value", "completed", "type", "index", "end",
                 "_value", "error")
    FIELDS = ("process", "f", "invoke_index", "start", "invoke_value", "completed", "type", "index", "end", "value",
              "error")

    def __init__(self, process: Process, f: str, invoke_index: int, start: int, invoke_value: Any) -> None:
        self.process = process
        self.f = f
        self.invoke_index = invoke_index
        self.start = start
        self._invoke_value = invoke_value
        self.completed = False
        self.type = "info"
        self.index = invoke_index
        self.end: int | None = None
        self._value: Any = None
        self.error: str | None = None

    def complete(self, type_: str, index: int, end: int, value: Any, error: str | None) -> None:
        self.completed = True
        self.type = type_
        self.index = index
        self.end = end
        self._value = value
        self.error = error

    @property
    def invoke_value(self) -> Any:
        return _unpacked(self._invoke_value)

    @property
    def value(self) -> Any:
        return _unpacked(self._value)

    @property
    def invoke(self) -> Event:
        return {"index": self.invoke_index, "time": self.start, "process": self.process, "type": "invoke",
                "f": self.f, "value": self.invoke_value}

    @property
    def completion(self) -> Event | None:
        if not self.completed:
            return None
        event = {"index": self.index, "time": self.end, "process": self.process, "type": self.type, "f": self.f,
                 "value": self.value}
        if self.error is not None:
            event["error"] = self.error
        return event

    def ref(self) -> dict[str, Any]:
        """A short reference for anomaly examples and reports."""
        return {"index": self.index, "process": self.process, "f": self.f, "type": self.type}

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.FIELDS)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Op) and self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # equal by value, and mutable while its history is read

    def __repr__(self) -> str:
        return f"Op({', '.join(f'{name}={getattr(self, name)!r}' for name in self.FIELDS)})"


class History:
    """A history as the checkers share it: its ops, paired once (`ops`, in invocation order), and nothing else.

    Built from events in one pass, keeping no event: an op holds its fields, its f and type shared with
    every op of the same name. Iterating gives the events back, rebuilt, in index order: a checker that
    takes a list of events takes a History as well, and `pair` of one is its ops. Events that cannot
    pair up are what they are for a list of them: each checker that pairs them gets the HistoryError
    (and the run's verdict is unknown); damage to the events themselves is raised at once.
    """

    def __init__(self, events: Iterable[Event], checked: bool = False, pack: Callable[[Any], Any] = _as_it_is
                 ) -> None:
        """`checked`: the events were checked already (iter_history checks every line). `pack`: how each op
        keeps a value (_packed, for values decoded from JSON)."""
        read_failures: list[HistoryError] = []
        events = _failures_noted(events, read_failures)
        self.unpaired: HistoryError | None = None
        try:
            self._ops = _pair(events, None if checked else "event", pack)
        except HistoryError as error:
            if read_failures:
                raise
            for _ in events:  # the rest is read all the same: damage later in it is still an error
                pass
            self._ops, self.unpaired = [], error

    @property
    def ops(self) -> list[Op]:
        if self.unpaired is not None:
            raise HistoryError(*self.unpaired.args)
        return self._ops

    def __len__(self) -> int:
        return sum(2 if op.completed else 1 for op in self.ops)

    def __iter__(self) -> Iterator[Event]:
        events = [event for op in self.ops for event in (op.invoke, op.completion) if event is not None]
        return iter(sorted(events, key=lambda event: event["index"]))


def _failures_noted(events: Iterable[Event], failures: list[HistoryError]) -> Iterator[Event]:
    try:
        yield from events
    except HistoryError as error:
        failures.append(error)
        raise


def pair(history: Iterable[Event] | History) -> list[Op]:
    """Operations in invocation order. Raises HistoryError on events that cannot pair up."""
    if isinstance(history, History):
        return history.ops
    return _pair(history, "history entry", _as_it_is)


def last_time(ops: list[Op]) -> int:
    """The time of the history's last event (0 for none): the end of a plot's time axis."""
    return max((op.start if op.end is None else max(op.start, op.end) for op in ops), default=0)


def _pair(events: Iterable[Event], where: str | None, pack: Callable[[Any], Any]) -> list[Op]:
    """`where` names an event in check_event's errors; None: the events are checked already."""
    pending: dict[Process, Op] = {}
    ops: list[Op] = []
    names: dict[str, str] = {}
    for position, event in enumerate(events):
        if where is not None:
            check_event(event, f"{where} {position}")
        keep = pack if type(event) is dict else _as_it_is
        process, f = event["process"], event["f"]
        if type(f) is str:
            f = names.setdefault(f, f)
        if event["type"] == "invoke":
            if process in pending:
                raise HistoryError(f"op {event['index']}: process {process} invokes while op "
                                   f"{pending[process].invoke_index} is still in flight")
            pending[process] = op = Op(process, f, event["index"], event["time"], keep(event.get("value")))
            ops.append(op)
            continue
        op = pending.pop(process, None)
        if op is None:
            raise HistoryError(f"op {event['index']}: {event['type']} of process {process} completes nothing")
        if op.f != f:
            raise HistoryError(f"op {event['index']}: completes f={f!r} but process {process} "
                               f"invoked f={op.f!r} (op {op.invoke_index})")
        op.complete(names.setdefault(event["type"], event["type"]), event["index"], event["time"],
                    keep(event.get("value")), event.get("error"))
    if any(before.invoke_index > after.invoke_index for before, after in zip(ops, ops[1:])):
        ops.sort(key=lambda op: op.invoke_index)
    return ops
