"""The clock plot (clock.png): each node's wall-clock offset from true time over the run, as Jepsen's clock plot.

Drawn from the history alone: every ok op of the nemesis that carries "clocks" (the clock faults'
starts and stops, and the heal's clock-reset) gives every node's clock right after it. Between two
such ops a node's offset moves at its rate (flat at rate 1, a slope under clock-skew), and a
strobing clock is a band between its offset and its offset plus the strobe's delta while the strobe
lasts. Every clock starts the run at true time. A history without clock ops gets no plot.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import cycle
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from checkers.faults import fault_intervals
from checkers.perf import PALETTE, fault_legend, shade_faults
from harness.history import NEMESIS, Event, Op, last_time, pair

FILE = "clock.png"


@dataclass(frozen=True)
class Reading:
    """One node's clock right after a nemesis op, at `time_s` into the run."""

    time_s: float
    offset_ms: float
    rate: float
    strobe: dict[str, Any] | None

    def offset_at(self, time_s: float) -> float:
        """The offset (ms) at a later time, before the next reading: it drifts at the clock's rate."""
        return self.offset_ms + (self.rate - 1.0) * (time_s - self.time_s) * 1000.0


def clock_readings(history: list[Event]) -> dict[str, list[Reading]]:
    """Each node's readings in time order, from the nemesis ops that carry "clocks"."""
    readings: dict[str, list[Reading]] = {}
    for op in pair(history):
        if op.process != NEMESIS or op.type != "ok" or op.end is None:
            continue
        for clocks in _clocks_of(op):
            for node, clock in clocks.items():
                readings.setdefault(node, []).append(Reading(op.end / 1e9, float(clock["offset_ms"]),
                                                             float(clock["rate"]), clock.get("strobe")))
    return {node: sorted(found, key=lambda reading: reading.time_s) for node, found in sorted(readings.items())}


def _clocks_of(op: Op) -> list[dict[str, Any]]:
    """The "clocks" of an op's value, or of each item of a heal's list."""
    value = op.value
    values = value if isinstance(value, list) else [value]
    return [item["clocks"] for item in values if isinstance(item, dict) and isinstance(item.get("clocks"), dict)]


def plot_clock(test: dict[str, Any], history: list[Event], out_dir: Path) -> list[Path]:
    """[clock.png] when the history has clock ops, else []."""
    readings = clock_readings(history)
    if not readings:
        return []
    end_s = max(last_time(pair(history)) / 1e9,
                max(found[-1].time_s for found in readings.values()))
    figure = Figure(figsize=(11, 5), dpi=100)
    figure.subplots_adjust(left=0.08, right=0.84, top=0.92, bottom=0.1)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    faults = [interval for interval in fault_intervals(pair(history)) if interval.fault.startswith("clock-")]
    shade_faults(ax, faults, end_s)
    for (node, found), colour in zip(readings.items(), cycle(PALETTE)):
        _draw_node(ax, node, found, end_s, colour)
    ax.axhline(0, color="#999999", linewidth=0.8)
    ax.set_xlim(0, max(end_s, 1e-3))
    ax.set_xlabel("time since start (s)")
    ax.set_ylabel("wall clock - true time (s)")
    ax.set_title(f"{test.get('name', 'run')}: clock offsets")
    ax.legend(handles=ax.get_legend_handles_labels()[0] + fault_legend(faults), loc="upper left",
              bbox_to_anchor=(1.01, 1), fontsize="small")
    path = out_dir / FILE
    figure.savefig(path)
    return [path]


def _draw_node(ax: Axes, node: str, readings: list[Reading], end_s: float, colour: str) -> None:
    """The node's offset in seconds: true time until its first reading, then each reading until the next."""
    times, offsets = [0.0, readings[0].time_s], [0.0, 0.0]
    for reading, until in zip(readings, [r.time_s for r in readings[1:]] + [end_s]):
        times += [reading.time_s, until]
        offsets += [reading.offset_ms / 1000, reading.offset_at(until) / 1000]
        if reading.strobe:
            _draw_strobe(ax, reading, until, colour)
    ax.plot(times, offsets, color=colour, linewidth=1.5, label=node)


def _draw_strobe(ax: Axes, reading: Reading, until: float, colour: str) -> None:
    assert reading.strobe is not None
    remaining = reading.strobe.get("remaining_ms")
    stop = until if remaining is None else min(until, reading.time_s + remaining / 1000)
    if stop <= reading.time_s:
        return
    low = [reading.offset_ms / 1000, reading.offset_at(stop) / 1000]
    high = [value + reading.strobe["delta_ms"] / 1000 for value in low]
    ax.fill_between([reading.time_s, stop], low, high, color=colour, alpha=0.3, linewidth=0)
