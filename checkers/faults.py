"""Fault intervals from the nemesis's ops, so plots and the timeline can show when faults were on.

A start op's value names the nodes it acted on ("nodes") and, for faults with settings, those
settings ("parameters", e.g. a latency and its jitter), which the label shows beside the fault.
An interval runs from the invoke of start-<fault> (it may take effect any time after) to the
completion of the next stop-<fault> (it is surely over then), or to the end of the history when
no stop came. A start that definitely failed opened nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.history import NEMESIS, Op

COLOURS = {"kill": "#E9A4A0", "pause": "#A0B1E9", "restart": "#C9A0E9", "partition": "#E9DCA0",
           "clock-bump": "#4DB6AC", "clock-strobe": "#F06292", "clock-skew": "#9575CD",
           "slow-disk": "#9FD8A4", "disk-error": "#D9822B", "disk-full": "#8C6D46", "lose-unsynced": "#6A5ACD",
           "torn-write": "#C2185B", "corrupt-file": "#2E7D7D",
           "latency": "#F4B183", "bandwidth": "#B4C7E7", "slow-close": "#C5E0B4", "reset": "#FF8080",
           "timeout": "#7F7F7F", "flaky": "#FFD966",
           "packet-loss": "#B0BEC5", "packet-delay": "#FFB74D", "packet-duplicate": "#81C784",
           "packet-reorder": "#BA68C8", "packet-corrupt": "#E57373"}
OTHER_COLOUR = "#CCCCCC"


@dataclass(frozen=True)
class FaultInterval:
    fault: str
    start: int
    end: int | None
    target: Any
    detail: Any
    opened_by: Op
    """The start op: its completion says when the fault had surely taken effect, and on which nodes."""

    @property
    def colour(self) -> str:
        return COLOURS.get(self.fault, OTHER_COLOUR)

    @property
    def label(self) -> str:
        """The fault, its nodes and its parameters, e.g. "latency b1,b2 (latency_ms=500, jitter_ms=50)"."""
        detail = self.detail if isinstance(self.detail, dict) else {}
        nodes = detail.get("nodes")
        if nodes:
            label = f"{self.fault} {','.join(map(str, nodes))}"
        else:
            label = self.fault if self.target is None else f"{self.fault} {self.target}"
        parameters = detail.get("parameters")
        if isinstance(parameters, dict) and parameters:
            label += f" ({', '.join(f'{key}={value}' for key, value in parameters.items())})"
        return label


def fault_intervals(ops: list[Op]) -> list[FaultInterval]:
    opened: dict[str, list[Op]] = {}
    intervals = []
    for op in ops:
        if op.process != NEMESIS or "-" not in op.f:
            continue
        action, fault = op.f.split("-", 1)
        if action == "start" and op.type != "fail":
            opened.setdefault(fault, []).append(op)
        elif action == "stop" and op.type != "fail":
            for start in opened.pop(fault, []):
                intervals.append(_interval(fault, start, op.end))
    for fault, starts in opened.items():
        intervals.extend(_interval(fault, start, None) for start in starts)
    return sorted(intervals, key=lambda interval: interval.start)


def _interval(fault: str, start: Op, end: int | None) -> FaultInterval:
    return FaultInterval(fault, start.start, end, start.invoke_value, start.value, start)
