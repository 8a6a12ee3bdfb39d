"""timeline.html: every operation as a bar from invoke to completion, one row per process, coloured
by outcome, with the op in a tooltip and the nemesis's fault intervals as bands behind. Above the
processes, one row per partition shows its unavailability windows (checkers.availability): a bar
from a fault's start to the first acknowledged write that answered it, hatched when none did.

Bounded at any size: beyond DETAILED_UP_TO ops the processes' rows give way to a summary, one row
per worker thread counting its ops per time bucket, and below it the real ops around each fault's
start and each fail and info op, at most DETAIL_CAP of them; a timeline stays within a few MB.

Self-contained (inline CSS, no scripts, no external files) so it opens from a copied store
directory. Time runs left to right at a scale that keeps a 60 s run about 30,000 px wide.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from checkers.availability import NEVER_RECOVERED, Window
from checkers.faults import fault_intervals
from checkers.timeline_summary import Cell, around_trouble, cells, worker_of
from harness.history import NEMESIS, Event, Op, Process, last_time, pair

PX_PER_S = 500.0
MAX_WIDTH_PX = 60_000
MIN_WIDTH_PX = 1_200
ROW_PX = 18
LABEL_PX = 90
AXIS_PX = 40
TOOLTIP_CHARS = 240
DETAILED_UP_TO = 3_000
"""Histories of up to this many ops are drawn one bar per op; larger ones are summarised (_summary)."""
CELL_CAP = 12_000
"""At most about this many count cells (worker x time bucket) in a summarised timeline."""
MIN_CELL_PX = 4
DETAIL_CAP = 2_000
"""At most this many ops drawn one by one in a summarised timeline: with CELL_CAP, a few MB at most."""
CONTEXT = 5
"""Ops invoked on either side of a fault's start or of a fail or info op that are drawn with it."""

Drawer = Callable[[int], list[str]]
"""What draws a row's contents at a height."""
Row = tuple[str, Drawer]

_STYLE = """
body { font: 12px sans-serif; margin: 8px; }
.lane { position: relative; }
.label { position: absolute; left: 0; width: 86px; height: 16px; overflow: hidden; font-weight: bold; }
.op { position: absolute; height: 14px; min-width: 2px; border-radius: 2px; opacity: 0.85; }
.op:hover { outline: 2px solid #000; opacity: 1; }
.ok { background: #4C9A2A; } .fail { background: #D1495B; } .info { background: #EDAE49; }
.open { background: repeating-linear-gradient(45deg, #EDAE49, #EDAE49 4px, #fff 4px, #fff 8px); }
.fault { position: absolute; opacity: 0.35; }
.faultlabel { position: absolute; font-size: 10px; white-space: nowrap; color: #444; }
.tick { position: absolute; border-left: 1px solid #bbb; font-size: 10px; padding-left: 2px; color: #666; }
.window { position: absolute; height: 14px; min-width: 2px; border: 1px solid #7a1f1f; background: #D1495B;
  opacity: 0.6; }
.window.never-recovered { background: repeating-linear-gradient(45deg, #D1495B, #D1495B 4px, #fff 4px, #fff 8px); }
.cell { position: absolute; height: 14px; opacity: 0.85; }
.cell:hover { outline: 2px solid #000; opacity: 1; }
.section { position: absolute; left: 0; font-style: italic; white-space: nowrap; color: #444; }
.legend span { display: inline-block; padding: 1px 6px; margin-right: 6px; color: #fff; border-radius: 2px; }
"""


def write_timeline(test: dict[str, Any], history: list[Event], out_dir: Path,
                   windows: Sequence[Window] = ()) -> Path:
    path = out_dir / "timeline.html"
    path.write_text(render_timeline(test, history, windows), encoding="utf-8")
    return path


def render_timeline(test: dict[str, Any], history: list[Event], windows: Sequence[Window] = ()) -> str:
    """`windows`: the partitions' unavailability windows, one row per partition above the processes."""
    ops = pair(history)
    end_ns = last_time(ops)
    scale = _px_per_ns(end_ns)
    partitions = sorted({window.partition for window in windows})
    rows: list[Row] = [(f"partition {partition}", _windows_drawer([w for w in windows if w.partition == partition
                                                                      and w.closes_at is not None], scale))
                       for partition in partitions]
    if len(ops) <= DETAILED_UP_TO:
        rows += [(_process_name(process), _bars_drawer(lane_ops, scale, end_ns)) for process, lane_ops in _lanes(ops)]
        summary = ""
    else:
        summary, summary_rows = _summary(test, history, ops, scale, end_ns)
        rows += summary_rows
    top = AXIS_PX
    height = top + len(rows) * ROW_PX
    width = LABEL_PX + end_ns * scale + 20
    title = html.escape(f"{test.get('name', 'run')}: timeline of {len(ops)} operations")
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{title}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{title}</h1>",
        "<p class='legend'><span class='ok'>ok</span><span class='fail'>fail</span><span class='info'>info "
        "(unknown outcome)</span><span class='open'>&nbsp;never completed&nbsp;</span> "
        "Hover over a bar for the operation; shaded bands are faults"
        + ("; red bars in the partition rows are unavailability windows (hatched: never recovered)" if windows else "")
        + ".</p>" + summary,
        f"<div class='lane' style='width:{width:.0f}px;height:{height}px'>",
    ]
    parts += _ticks(end_ns, scale, height)
    for interval in fault_intervals(ops):
        left = LABEL_PX + interval.start * scale
        right = LABEL_PX + (end_ns if interval.end is None else interval.end) * scale
        parts.append(f"<div class='fault' style='left:{left:.1f}px;width:{max(right - left, 2):.1f}px;top:{top}px;"
                     f"height:{height - top}px;background:{interval.colour}'></div>")
        parts.append(f"<div class='faultlabel' style='left:{left:.1f}px;top:{top - 12}px'>"
                     f"{html.escape(interval.label)}</div>")
    for row, (label, draw) in enumerate(rows):
        y = top + row * ROW_PX
        if label:
            parts.append(f"<div class='label' style='top:{y}px'>{html.escape(label)}</div>")
        parts += draw(y)
    parts.append("</div></body></html>")
    return "\n".join(parts)


def _windows_drawer(windows: list[Window], scale: float) -> Drawer:
    return lambda y: [_window_bar(window, y, scale) for window in windows]


def _bars_drawer(ops: list[Op], scale: float, end_ns: int) -> Drawer:
    return lambda y: [_bar(op, y, scale, end_ns) for op in ops]


def _summary(test: dict[str, Any], history: list[Event], ops: list[Op], scale: float,
             end_ns: int) -> tuple[str, list[Row]]:
    """Beyond DETAILED_UP_TO ops, bars per op would outgrow any browser: the nemesis's ops as bars,
    then per worker thread the count of ops per time bucket, then the real ops around faults and
    failures (checkers.timeline_summary), at most DETAIL_CAP of them."""
    worker = worker_of(test, history)
    threads = len({worker(process) for process in {op.process for op in ops} if process != NEMESIS})
    buckets = max(1, min(int(end_ns * scale / MIN_CELL_PX), CELL_CAP // max(1, threads)))
    bucket_ns = max(end_ns, 1) / buckets
    counted: dict[Process, list[tuple[int, Cell]]] = {}
    for (lane, bucket), cell in cells(ops, worker, bucket_ns).items():
        counted.setdefault(lane, []).append((bucket, cell))
    workers = sorted(counted, key=_lane_key)
    detail = around_trouble(ops, DETAIL_CAP, CONTEXT)
    detailed: dict[Process, list[Op]] = {}
    for op in detail:
        detailed.setdefault(worker(op.process), []).append(op)
    nemesis = [op for op in ops if op.process == NEMESIS]
    rows: list[Row] = [(NEMESIS, _bars_drawer(nemesis, scale, end_ns))] if nemesis else []
    rows.append(("", _section(f"all {len(ops) - len(nemesis):,} client operations, counted per worker and "
                              f"{bucket_ns / 1e9:.3g} s (hover for the counts)")))
    rows += [(_worker_name(lane), _cells_drawer(lane, counted.get(lane, []), bucket_ns, scale)) for lane in workers]
    rows.append(("", _section(f"{len(detail):,} operations around fault starts and fail and info operations "
                              "(hover for the operation)")))
    rows += [(_worker_name(lane), _bars_drawer(detailed[lane], scale, end_ns)) for lane in workers if lane in detailed]
    summary = (f"<p>{len(ops):,} operations are more than the {DETAILED_UP_TO:,} drawn one by one, so the rows "
               f"count each worker's operations per {bucket_ns / 1e9:.3g} s, coloured by the worst outcome among "
               f"them (info, then fail, then ok), and below them {len(detail):,} operations are drawn one by one: "
               f"those invoked around each fault's start and around fail and info operations (at most "
               f"{DETAIL_CAP:,}). history.jsonl has every operation.</p>")
    return summary, rows


def _section(text: str) -> Drawer:
    return lambda y: [f"<div class='section' style='top:{y}px'>{html.escape(text)}</div>"]


def _cells_drawer(lane: Process, counted: list[tuple[int, Cell]], bucket_ns: float, scale: float) -> Drawer:
    def draw(y: int) -> list[str]:
        parts = []
        for bucket, cell in counted:
            start = bucket * bucket_ns
            counts = ", ".join(f"{count} {outcome}" for outcome, count in cell.counts.items())
            tip = f"{_worker_name(lane)}, {start / 1e9:.3f}-{(start + bucket_ns) / 1e9:.3f} s: {counts}"
            parts.append(f"<div class='cell {cell.worst}' style='left:{LABEL_PX + start * scale:.1f}px;top:{y + 1}px;"
                         f"width:{bucket_ns * scale:.1f}px' title='{html.escape(tip, quote=True)}'></div>")
        return parts
    return draw


def _worker_name(lane: Process) -> str:
    return f"worker {lane}" if isinstance(lane, int) else str(lane)


def _px_per_ns(end_ns: int) -> float:
    seconds = end_ns / 1e9
    width = min(max(seconds * PX_PER_S, MIN_WIDTH_PX), MAX_WIDTH_PX)
    return width / end_ns if end_ns else 0.0


def _lanes(ops: list[Op]) -> list[tuple[Any, list[Op]]]:
    """The nemesis first, then processes in numeric order."""
    by_process: dict[Any, list[Op]] = {}
    for op in ops:
        by_process.setdefault(op.process, []).append(op)
    return [(process, by_process[process]) for process in sorted(by_process, key=_lane_key)]


def _lane_key(process: Process) -> tuple[bool, bool, Any]:
    return process != NEMESIS, not isinstance(process, int), process if isinstance(process, int) else str(process)


def _process_name(process: Any) -> str:
    return str(process) if process == NEMESIS else f"process {process}"


def _ticks(end_ns: int, scale: float, height: int) -> list[str]:
    seconds = end_ns / 1e9
    step = next((s for s in (0.1, 0.5, 1, 2, 5, 10, 30, 60) if seconds / s <= 40), 120)
    count = int(seconds / step) + 1
    return [f"<div class='tick' style='left:{LABEL_PX + i * step * 1e9 * scale:.1f}px;top:0;height:{height}px'>"
            f"{i * step:g} s</div>" for i in range(count)]


def _bar(op: Op, y: int, scale: float, end_ns: int) -> str:
    end = end_ns if op.end is None else op.end
    left = LABEL_PX + op.start * scale
    width = (end - op.start) * scale
    css = op.type if op.completed else "open"
    return (f"<div class='op {css}' style='left:{left:.1f}px;top:{y + 1}px;width:{width:.1f}px' "
            f"title='{html.escape(_tooltip(op), quote=True)}'></div>")


def _window_bar(window: Window, y: int, scale: float) -> str:
    assert window.window_ns is not None and window.closes_at is not None, "only measured windows are drawn"
    css = "window never-recovered" if window.outcome == NEVER_RECOVERED else "window"
    tip = (f"partition {window.partition} under {window.interval.label}: {window.outcome}, "
           f"unavailable {window.window_ns / 1e9:.3f} s from {window.start / 1e9:.3f} s")
    return (f"<div class='{css}' style='left:{LABEL_PX + window.start * scale:.1f}px;top:{y + 1}px;"
            f"width:{window.window_ns * scale:.1f}px' title='{html.escape(tip, quote=True)}'></div>")


def _tooltip(op: Op) -> str:
    lines = [f"op {op.invoke_index}: process {op.process} {op.f} {_short(op.invoke_value)}"]
    if op.end is None:
        lines.append("never completed: outcome unknown")
    else:
        lines.append(f"op {op.index}: {op.type} {_short(op.value)}")
        lines.append(f"latency {(op.end - op.start) / 1e6:.1f} ms, "
                     f"invoked at {op.start / 1e9:.3f} s")
        if op.error:
            lines.append(f"error: {_short(op.error)}")
    return "\n".join(lines)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= TOOLTIP_CHARS else text[:TOOLTIP_CHARS] + "…"
