"""The history: every operation of a run, in order, streamed to history.jsonl as it happens.

Each line is one op: {index, time, process, type, f, value, error?}. The writer flushes every
line, so a crash of the harness loses at most the line being written, and the reader tolerates
exactly that: a torn last line. `info` means the outcome is unknown and is never a `fail`.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

Op = dict[str, Any]
Process = int | str
COMPLETIONS = ("ok", "fail", "info")
TYPES = ("invoke", *COMPLETIONS)


class HistoryError(ValueError):
    """A history file that is damaged somewhere other than its last line."""


class HistoryWriter:
    """Numbers, timestamps and appends ops from any thread; one lock keeps index and time in order."""

    def __init__(self, path: Path, clock: Callable[[], int] = time.monotonic_ns) -> None:
        self.path = path
        self._clock = clock
        self._start = clock()
        self._file: IO[str] = open(path, "a", encoding="utf-8")
        self._lock = threading.Lock()
        self._count = 0
        self._listeners: list[Callable[[Op], None]] = []

    def elapsed_ns(self) -> int:
        """Monotonic nanoseconds since the run started: the clock of the history's "time" field."""
        return self._clock() - self._start

    def subscribe(self, listener: Callable[[Op], None]) -> None:
        """Called with every op after it is on disk (the progress line counts from here)."""
        self._listeners.append(listener)

    def append(self, process: Process, type_: str, f: str, value: Any, error: str | None = None) -> Op:
        if type_ not in TYPES:
            raise ValueError(f"op type must be one of {TYPES}, not {type_!r}")
        with self._lock:
            op: Op = {
                "index": self._count,
                "time": self.elapsed_ns(),
                "process": process,
                "type": type_,
                "f": f,
                "value": value,
            }
            if error is not None:
                op["error"] = error
            self._file.write(json.dumps(op, separators=(",", ":")) + "\n")
            self._file.flush()
            self._count += 1
            for listener in self._listeners:
                listener(op)
        return op

    def sync(self) -> None:
        """Make the history durable (at the end of a run; per-op flushing already survives a harness crash)."""
        with self._lock:
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()


def read_history(path: Path) -> list[Op]:
    """All ops of a history file; a torn last line (the harness died mid-write) is dropped."""
    return list(iter_history(path))


def iter_history(path: Path) -> Iterator[Op]:
    with open(path, encoding="utf-8") as lines:
        pending: tuple[int, str] | None = None
        for number, line in enumerate(lines, start=1):
            if pending is not None:
                yield _parse(*pending)
            pending = (number, line)
        if pending is not None:
            number, line = pending
            if line.endswith("\n"):
                yield _parse(number, line)
            else:
                try:
                    yield _parse(number, line)
                except HistoryError:
                    return


def _parse(number: int, line: str) -> Op:
    try:
        op = json.loads(line)
    except json.JSONDecodeError as error:
        raise HistoryError(f"line {number}: not JSON ({error.msg})") from None
    if not isinstance(op, dict) or op.get("type") not in TYPES or "process" not in op or "f" not in op:
        raise HistoryError(f"line {number}: not a history op: {line.strip()[:200]}")
    return op


class ProcessTable:
    """Which process each worker thread currently is (Jepsen's rule).

    A thread whose op ended in `info` may still have that op in flight somewhere, so it
    continues as a fresh process: process numbers never have two ops outstanding.
    """

    def __init__(self, threads: int) -> None:
        self._threads = threads
        self._current = list(range(threads))

    def process(self, thread: int) -> int:
        return self._current[thread]

    def retire(self, thread: int) -> int:
        """The thread's next process number after an `info`."""
        self._current[thread] += self._threads
        return self._current[thread]
