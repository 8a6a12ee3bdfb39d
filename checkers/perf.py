"""Performance plots (PNG): latency of every op, latency quantiles and throughput over time, with
the nemesis's fault intervals shaded and named on each, as in Jepsen's perf checker.

Bounded at any size: the latency scatter draws every op up to RAW_OK_CAP ok ops and, beyond, a
sample spread over time plus every fail and info op (its title says how many of how many); the
quantile and rate plots bucket time, from columns built in one pass over the ops.

Uses matplotlib's object API with the Agg canvas directly, so importing this never changes the
process-wide backend and nothing needs a display.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from checkers.faults import FaultInterval, fault_intervals
from checkers.sampling import stratified_sample
from checkers.stats import QUANTILES, quantile
from harness.history import NEMESIS, Event, Op, last_time, pair

OUTCOME_COLOURS = {"ok": "#4C9A2A", "fail": "#D1495B", "info": "#EDAE49"}
OUTCOMES = tuple(OUTCOME_COLOURS)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")
LINE_STYLES = {"p50": ":", "p95": "-.", "p99": "--", "max": "-"}
BUCKETS = 60
"""Quantile and rate plots divide the run into about this many windows (at least 1 s each)."""

RAW_OK_CAP = 20_000
"""The latency scatter draws about this many ok ops at most, sampled over time, each f its share
but at least a twentieth (so a rare f stays visible); beyond a few thousand points a scatter shows
density, not ops, and matplotlib's time grows with every point."""
RAW_FAILED_CAP = 100_000
"""Fail and info ops are all drawn up to this many, so a pathological history stays bounded too."""
SEED = 0
"""The sample is seeded: the same history gives the same plot."""

FILES = ("latency-raw.png", "latency-quantiles.png", "rate.png")


def plot_perf(test: dict[str, Any], history: list[Event], out_dir: Path) -> list[Path]:
    ops = pair(history)
    client = [op for op in ops if op.process != NEMESIS]
    faults = fault_intervals(ops)
    end_s = last_time(ops) / 1e9
    bucket_s = max(1.0, end_s / BUCKETS)
    name = test.get("name", "run")
    fs = sorted({op.f for op in client})
    done = Completed.of(client, fs)
    paths = []
    plots: tuple[Callable[[Axes], tuple[bool, str]], ...] = (
        lambda ax: latency_raw(ax, done, fs),
        lambda ax: _latency_quantiles(ax, done, fs, bucket_s),
        lambda ax: _rate(ax, done, fs, bucket_s),
    )
    for file, draw in zip(FILES, plots):
        figure = Figure(figsize=(11, 5), dpi=100)
        figure.subplots_adjust(left=0.07, right=0.84, top=0.92, bottom=0.1)
        FigureCanvasAgg(figure)
        ax = figure.add_subplot()
        drew, title = draw(ax)
        shade_faults(ax, faults, end_s)
        ax.set_xlim(0, max(end_s, 1e-3))
        ax.set_xlabel("time since start (s)")
        ax.set_title(f"{name}: {title}", fontsize="medium")
        handles = ax.get_legend_handles_labels()[0] + fault_legend(faults)
        if handles:
            ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
        if not drew:
            ax.text(0.5, 0.5, "no completed client operations", transform=ax.transAxes, ha="center")
        path = out_dir / file
        figure.savefig(path)
        paths.append(path)
    return paths


@dataclass(frozen=True)
class Completed:
    """The completed client ops as columns, built in one pass: each plot selects and buckets them
    with array operations instead of rescanning the ops per f and outcome."""

    start_s: np.ndarray
    end_s: np.ndarray
    latency_ms: np.ndarray
    f: np.ndarray
    """Positions in the plot's sorted list of fs."""
    outcome: np.ndarray
    """Positions in OUTCOMES."""

    @staticmethod
    def of(ops: list[Op], fs: list[str]) -> Completed:
        f_code = {f: code for code, f in enumerate(fs)}
        outcome_code = {outcome: code for code, outcome in enumerate(OUTCOMES)}
        rows = np.array([(op.start, op.end, f_code[op.f], outcome_code[op.type]) for op in ops if op.end is not None],
                        dtype=np.int64).reshape(-1, 4)
        latency_ms = np.maximum((rows[:, 1] - rows[:, 0]) / 1e6, 1e-3)
        return Completed(rows[:, 0] / 1e9, rows[:, 1] / 1e9, latency_ms, rows[:, 2], rows[:, 3])

    def where(self, f: int, outcome: int | None = None) -> np.ndarray:
        chosen = self.f == f
        return chosen if outcome is None else chosen & (self.outcome == outcome)


def latency_raw(ax: Axes, done: Completed, fs: list[str]) -> tuple[bool, str]:
    """Every op up to the caps; beyond, a sample spread over time, with fail and info ops kept
    (sampled only past their own, larger cap) since they are where a run went wrong."""
    ok = done.outcome == OUTCOMES.index("ok")
    total_ok = max(1, int(ok.sum()))
    parts = [_sample(~ok, RAW_FAILED_CAP, done)]
    for code in range(len(fs)):
        chosen = ok & done.where(code)
        parts.append(_sample(chosen, max(RAW_OK_CAP * int(chosen.sum()) // total_ok, RAW_OK_CAP // 20), done))
    shown = np.concatenate(parts)
    drew = False
    for code, (f, marker) in enumerate(zip(fs, cycle(MARKERS))):
        for outcome, colour in OUTCOME_COLOURS.items():
            total = int(done.where(code, OUTCOMES.index(outcome)).sum())
            chosen = shown[done.where(code, OUTCOMES.index(outcome))[shown]]
            if total:
                label = f"{f} {outcome}" + (f"\n{len(chosen):,} of {total:,}" if len(chosen) < total else "")
                ax.scatter(done.start_s[chosen], done.latency_ms[chosen], s=6, marker=marker, color=colour,
                           alpha=0.6, linewidths=0, label=label)
                drew = True
    _log_latency_axis(ax, drew)
    if len(shown) == len(done.f):
        return drew, "latency of every operation"
    kept = ("every fail and info op kept" if (~ok).sum() <= RAW_FAILED_CAP
            else f"fail and info ops sampled too, being over {RAW_FAILED_CAP:,}")
    return drew, f"latency of {len(shown):,} of {len(done.f):,} operations (sampled over time; {kept})"


def _sample(chosen: np.ndarray, cap: int, done: Completed) -> np.ndarray:
    return np.flatnonzero(chosen)[stratified_sample(done.start_s[chosen], cap, SEED)]


def _latency_quantiles(ax: Axes, done: Completed, fs: list[str], bucket_s: float) -> tuple[bool, str]:
    """Sorted once by (bucket, latency): each bucket's quantiles are then positions in its slice."""
    drew = False
    for code, (f, colour) in enumerate(zip(fs, cycle(PALETTE))):
        chosen = done.where(code)
        if not chosen.any():
            continue
        drew = True
        buckets = (done.start_s[chosen] // bucket_s).astype(np.int64)
        latencies = done.latency_ms[chosen]
        order = np.lexsort((latencies, buckets))
        keys, firsts = np.unique(buckets[order], return_index=True)
        ordered = latencies[order].tolist()
        slices = [ordered[first:last] for first, last in zip(firsts, [*firsts[1:], len(ordered)])]
        times = (keys + 0.5) * bucket_s
        for name, q in QUANTILES.items():
            ax.plot(times, [quantile(values, q) for values in slices], LINE_STYLES[name], color=colour, marker=".",
                    label=f"{f} {name}")
    _log_latency_axis(ax, drew)
    return drew, f"latency quantiles per {bucket_s:.3g} s"


def _rate(ax: Axes, done: Completed, fs: list[str], bucket_s: float) -> tuple[bool, str]:
    drew = False
    for code, (f, marker) in enumerate(zip(fs, cycle(MARKERS))):
        for outcome, colour in OUTCOME_COLOURS.items():
            chosen = done.where(code, OUTCOMES.index(outcome))
            if chosen.any():
                drew = True
                counts = np.bincount((done.end_s[chosen] // bucket_s).astype(np.int64))
                ax.plot((np.arange(len(counts)) + 0.5) * bucket_s, counts / bucket_s, marker=marker, markersize=3,
                        color=colour, label=f"{f} {outcome}")
    ax.set_ylabel("completions per second")
    ax.set_ylim(bottom=0)
    return drew, f"throughput per {bucket_s:.3g} s"


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
