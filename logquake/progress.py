"""What the terminal shows while a run goes, and the summary at its end.

A status line once a second (rewritten in place on a terminal, a plain line every ten seconds
otherwise): phase, elapsed of the time limit, client ops/s, ok/fail/info counts, active faults.
"""

from __future__ import annotations

import collections
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any


class Progress:
    def __init__(self, time_limit: float, active_faults: Callable[[], list[str]],
                 stream: IO[str] = sys.stderr) -> None:
        self.time_limit = time_limit
        self.phase = "setup"
        self._active_faults = active_faults
        self._stream = stream
        self._interactive = stream.isatty()
        self._counts: collections.Counter[tuple[str, str]] = collections.Counter()
        self._recent: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)

    def observe(self, op: dict[str, Any]) -> None:
        """A history listener: counts client completions."""
        if op["type"] == "invoke" or op["process"] == "nemesis":
            return
        with self._lock:
            self._counts[(op["f"], op["type"])] += 1
            self._recent.append(time.monotonic())

    def start(self) -> None:
        self._started = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if self._interactive:
            self._stream.write("\n")
            self._stream.flush()

    def say(self, message: str) -> None:
        """A line of its own (phase changes), not overwritten by the status line."""
        prefix = "\r\033[K" if self._interactive else ""
        self._stream.write(f"{prefix}{message}\n")
        self._stream.flush()

    def status(self) -> str:
        now = time.monotonic()
        with self._lock:
            while self._recent and self._recent[0] < now - 1:
                self._recent.popleft()
            rate = len(self._recent)
            totals: collections.Counter[str] = collections.Counter()
            for (_, type_), count in self._counts.items():
                totals[type_] += count
        faults = self._active_faults()
        limit = f" of {self.time_limit:g}s" if self.phase == "main" else ""
        return (f"[{self.phase}] {now - self._started:5.1f}s{limit}  {rate:4d} ops/s  "
                f"ok {totals['ok']}  fail {totals['fail']}  info {totals['info']}  "
                f"faults: {', '.join(faults) if faults else 'none'}")

    def _loop(self) -> None:
        every = 1.0 if self._interactive else 10.0
        while not self._stop.wait(every):
            try:
                line = self.status()
            except Exception as error:  # the progress line must never take the run down
                line = f"[{self.phase}] (status unavailable: {error})"
            if self._interactive:
                self._stream.write(f"\r\033[K{line}")
            else:
                self._stream.write(line + "\n")
            self._stream.flush()


def fault_summary(faults: Any) -> list[str]:
    """Per named fault, how its starts ended and the nodes it hit; then the named faults that never ran."""
    if not isinstance(faults, dict) or not faults.get("by_fault"):
        return []
    rows = [[fault, int(s["ok"]), int(s["fail"]), int(s["info"]), ",".join(s["nodes"]) or "-"]
            for fault, s in faults["by_fault"].items()]
    lines = ["faults started:", table(["fault", "ok", "fail", "info", "nodes hit"], rows)]
    if faults.get("not_run"):
        lines.append(f"never started: {', '.join(faults['not_run'])} (the run says nothing about them)")
    return lines


def availability_summary(availability: Any) -> list[str]:
    """Per fault kind, p50 and max of the partitions' unavailability windows and recoveries; then any violations."""
    if not isinstance(availability, dict) or not availability.get("by_fault"):
        return []
    rows = [[kind, int(s["faults"]), _seconds(s["window_s"]["p50"]), _seconds(s["window_s"]["max"]),
             _seconds(s["recovery_s"]["p50"]), _seconds(s["recovery_s"]["max"]), int(s["never_recovered"])]
            for kind, s in availability["by_fault"].items()]
    headers = ["fault", "faults", "window p50 s", "window max s", "recovery p50 s", "recovery max s",
               "never recovered"]
    return [f"availability of {availability.get('writes')}s per partition:", table(headers, rows),
            *availability.get("reasons", [])]


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [headers] + [[f"{c:,}" if isinstance(c, int) else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
