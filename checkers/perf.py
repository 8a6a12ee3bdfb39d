"""Performance plots (PNG): latency of every op, latency quantiles and throughput over time, with
the nemesis's fault intervals shaded and named on each, as in Jepsen's perf checker.

Uses matplotlib's object API with the Agg canvas directly, so importing this never changes the
process-wide backend and nothing needs a display.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import cycle
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from checkers.faults import FaultInterval, fault_intervals
from harness.history import NEMESIS, Event, Op, pair
from checkers.stats import QUANTILES, quantile

OUTCOME_COLOURS = {"ok": "#4C9A2A", "fail": "#D1495B", "info": "#EDAE49"}
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")
LINE_STYLES = {"p50": ":", "p95": "-.", "p99": "--", "max": "-"}
BUCKETS = 60
"""Quantile and rate plots divide the run into about this many windows (at least 1 s each)."""

FILES = ("latency-raw.png", "latency-quantiles.png", "rate.png")


def plot_perf(test: dict[str, Any], history: list[Event], out_dir: Path) -> list[Path]:
    ops = pair(history)
    client = [op for op in ops if op.process != NEMESIS]
    faults = fault_intervals(ops)
    end_s = max((event["time"] for event in history), default=0) / 1e9
    bucket_s = max(1.0, end_s / BUCKETS)
    name = test.get("name", "run")
    fs = sorted({op.f for op in client})
    paths = []
    plots = (
        ("latency of every operation", lambda ax: _latency_raw(ax, client, fs)),
        (f"latency quantiles per {bucket_s:.3g} s", lambda ax: _latency_quantiles(ax, client, fs, bucket_s)),
        (f"throughput per {bucket_s:.3g} s", lambda ax: _rate(ax, client, fs, bucket_s)),
    )
    for file, (title, draw) in zip(FILES, plots):
        figure = Figure(figsize=(11, 5), dpi=100)
        figure.subplots_adjust(left=0.07, right=0.84, top=0.92, bottom=0.1)
        FigureCanvasAgg(figure)
        ax = figure.add_subplot()
        drew = draw(ax)
        shade_faults(ax, faults, end_s)
        ax.set_xlim(0, max(end_s, 1e-3))
        ax.set_xlabel("time since start (s)")
        ax.set_title(f"{name}: {title}")
        handles = ax.get_legend_handles_labels()[0] + fault_legend(faults)
        if handles:
            ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
        if not drew:
            ax.text(0.5, 0.5, "no completed client operations", transform=ax.transAxes, ha="center")
        path = out_dir / file
        figure.savefig(path)
        paths.append(path)
    return paths


def _latency_ms(op: Op) -> float:
    assert op.end is not None
    return max((op.end - op.start) / 1e6, 1e-3)


def _latency_raw(ax: Axes, ops: list[Op], fs: list[str]) -> bool:
    drew = False
    for f, marker in zip(fs, cycle(MARKERS)):
        for outcome, colour in OUTCOME_COLOURS.items():
            done = [op for op in ops if op.f == f and op.type == outcome and op.end is not None]
            if done:
                ax.scatter([op.start / 1e9 for op in done], [_latency_ms(op) for op in done], s=6, marker=marker,
                           color=colour, alpha=0.6, linewidths=0, label=f"{f} {outcome}")
                drew = True
    _log_latency_axis(ax, drew)
    return drew


def _latency_quantiles(ax: Axes, ops: list[Op], fs: list[str], bucket_s: float) -> bool:
    drew = False
    for f, colour in zip(fs, cycle(PALETTE)):
        buckets: dict[int, list[float]] = defaultdict(list)
        for op in ops:
            if op.f == f and op.end is not None:
                buckets[int(op.start / 1e9 // bucket_s)].append(_latency_ms(op))
        if not buckets:
            continue
        drew = True
        times = [(b + 0.5) * bucket_s for b in sorted(buckets)]
        for name, q in QUANTILES.items():
            values = [quantile(sorted(buckets[b]), q) for b in sorted(buckets)]
            ax.plot(times, values, LINE_STYLES[name], color=colour, marker=".", label=f"{f} {name}")
    _log_latency_axis(ax, drew)
    return drew


def _rate(ax: Axes, ops: list[Op], fs: list[str], bucket_s: float) -> bool:
    drew = False
    for f, marker in zip(fs, cycle(MARKERS)):
        for outcome, colour in OUTCOME_COLOURS.items():
            buckets: dict[int, int] = defaultdict(int)
            for op in ops:
                if op.f == f and op.type == outcome and op.end is not None:
                    buckets[int(op.end / 1e9 // bucket_s)] += 1
            if buckets:
                drew = True
                last = max(buckets)
                ax.plot([(b + 0.5) * bucket_s for b in range(last + 1)],
                        [buckets.get(b, 0) / bucket_s for b in range(last + 1)],
                        marker=marker, markersize=3, color=colour, label=f"{f} {outcome}")
    ax.set_ylabel("completions per second")
    ax.set_ylim(bottom=0)
    return drew


def _log_latency_axis(ax: Axes, drew: bool) -> None:
    ax.set_ylabel("latency (ms)")
    if drew:
        ax.set_yscale("log")


def shade_faults(ax: Axes, faults: list[FaultInterval], end_s: float) -> None:
    for interval in faults:
        start = interval.start / 1e9
        stop = end_s if interval.end is None else interval.end / 1e9
        ax.axvspan(start, stop, color=interval.colour, alpha=0.35, linewidth=0)
        ax.text(start, 0.99, interval.label, transform=ax.get_xaxis_transform(), rotation=90, va="top",
                ha="left", fontsize="x-small", color="#444444")


def fault_legend(faults: list[FaultInterval]) -> list[Patch]:
    colours = {interval.fault: interval.colour for interval in faults}
    return [Patch(color=colour, alpha=0.35, label=f"fault: {fault}") for fault, colour in colours.items()]
