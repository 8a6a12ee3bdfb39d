"""One self-contained HTML page per check: each partition's operations on a time axis, the longest
linearization the search found, and the operation it could not get past.

Everything (CSS, SVG, a few lines of JS for hover highlighting) is inline, so the file opens from
a disk, a CI artifact or a mail attachment with no network. Times are compressed to their rank:
what matters to a reader is which operations overlap, not how long the gaps were.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from pathlib import Path

from pyporcupine.checker import CheckResult, LinearizationInfo, PartitionInfo
from pyporcupine.history import Operation
from pyporcupine.model import Model

STEP_PX = 14
LANE_PX = 22
LABEL_PX = 90
BAR_PX = 16
MAX_EMBEDDED_STEPS = 200_000
"""Operation indices embedded for the click-an-operation view, per partition."""

_VERDICTS = {
    CheckResult.OK: "linearizable",
    CheckResult.ILLEGAL: "not linearizable",
    CheckResult.UNKNOWN: "unknown",
}

_SECTION_ORDER = {CheckResult.ILLEGAL: 0, CheckResult.UNKNOWN: 1, CheckResult.OK: 2}
"""Illegal partitions first: they are what the reader opened the page for."""

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
.ok { color: #1a7f37; } .illegal { color: #cf222e; } .unknown { color: #9a6700; }
.scroll { overflow-x: auto; border: 1px solid #ddd; padding: 4px; }
svg text { font: 11px monospace; }
rect.op { stroke: #555; stroke-width: 1; }
rect.linearized { fill: #b4e5bd; } rect.pending { fill: #e8e8e8; } rect.breaks { fill: #ffb3b8; }
rect.open-ended { stroke-dasharray: 4 3; }
g.hot rect { stroke: #0969da; stroke-width: 3; } tr.hot, p.hot { outline: 2px solid #0969da; }
table { border-collapse: collapse; margin-top: .8em; }
td, th { border: 1px solid #ddd; padding: 2px 8px; text-align: left; font-family: monospace; }
.note { background: #fff8c5; padding: .5em .8em; border-left: 4px solid #d4a72c; }
g[data-op] { cursor: pointer; } g.chosen rect { stroke: #8250df; stroke-width: 3; }
.pick { font-family: monospace; color: #555; }
"""

_SCRIPT = """
document.querySelectorAll('g[data-op]').forEach(function (el) {
  el.addEventListener('click', function () {
    var at = el.dataset.op.split('-'), part = at[0], op = +at[1];
    var data = document.getElementById('data-' + part);
    if (!data) { return; }
    data = JSON.parse(data.textContent);
    var sequence = data.of[op] < 0 ? [] : data.sequences[data.of[op]];
    document.querySelectorAll('g[data-op^="' + part + '-"]').forEach(function (g) {
      g.classList.toggle('chosen', sequence.indexOf(+g.dataset.op.split('-')[1]) >= 0);
    });
    document.getElementById('pick-' + part).textContent = sequence.length
      ? 'Longest linearization found with operation ' + op + ' (' + sequence.length + ' steps): ' + sequence.join(' \u2192 ')
      : 'Operation ' + op + ' was never linearized.';
  });
});
document.querySelectorAll('[data-op]').forEach(function (el) {
  function mark(on) {
    document.querySelectorAll('[data-op="' + el.dataset.op + '"]').forEach(function (other) {
      other.classList.toggle('hot', on);
    });
  }
  el.addEventListener('mouseenter', function () { mark(true); });
  el.addEventListener('mouseleave', function () { mark(false); });
});
"""


@dataclass(frozen=True)
class _Step:
    position: int
    op: int
    state: str


def render_html(model: Model, result: CheckResult, info: LinearizationInfo, title: str = "pyporcupine") -> str:
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}: <span class='{result.value}'>{_VERDICTS[result]}</span></h1>",
        f"<p>{len(info.partitions)} partition(s). Green: in the longest linearization found (numbered in "
        "order); red: the operation it could not get past; grey: not reached. A dashed end means the "
        "outcome is unknown (open to the end of the history). Hover to match bars and rows; click an "
        "operation to see the longest linearization found that contains it.</p>",
    ]
    worst_first = sorted(enumerate(info.partitions), key=lambda item: _SECTION_ORDER[item[1].result])
    parts += [_partition_html(model, index, partition) for index, partition in worst_first]
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    return "".join(parts)


def write_html(model: Model, result: CheckResult, info: LinearizationInfo, path: str | Path,
               title: str = "pyporcupine") -> None:
    Path(path).write_text(render_html(model, result, info, title), encoding="utf-8")


def _partition_html(model: Model, index: int, partition: PartitionInfo) -> str:
    ops = partition.operations
    steps = _replay(model, ops, partition.longest_linearization())
    placed = {step.op for step in steps}
    breaking = _breaking_operation(partition, placed)
    verdict = _VERDICTS[partition.result]
    out = [
        f"<h2>Partition {index}: <span class='{partition.result.value}'>{verdict}</span> "
        f"({len(ops)} operations, longest linearization {len(steps)})</h2>",
    ]
    if partition.result is CheckResult.UNKNOWN:
        out.append("<p class='note'>The search of this partition was stopped before it finished "
                   "(time or memory limit, or another partition was already proven illegal).</p>")
    out.append(_timeline_svg(model, index, ops, steps, breaking))
    out.append(_per_operation_linearizations(index, partition))
    out.append(_steps_table(model, index, ops, steps))
    if breaking is not None:
        state = steps[-1].state if steps else model.describe_state(model.init())
        op = ops[breaking]
        out.append(f"<p class='note' data-op='{index}-{breaking}'>Stuck after step {len(steps)}, in state "
                   f"<code>{html.escape(state)}</code>: operation {breaking} "
                   f"<code>{html.escape(model.describe_operation(op.input, op.output))}</code> (client "
                   f"{op.client_id}) must take effect by its return, but no order of the operations before "
                   "it leads to a state that allows it.</p>")
    return "".join(out)


def _per_operation_linearizations(index: int, partition: PartitionInfo) -> str:
    """For a click on an operation: the longest linearization found that contains it (Porcupine's
    view), as JSON the script reads. Left out when it would make the page huge."""
    sequences = partition.partial_linearizations()
    if sum(map(len, sequences)) > MAX_EMBEDDED_STEPS:
        return "<p class='pick'>(Too many partial linearizations to embed for clicking.)</p>"
    position = {sequence: k for k, sequence in enumerate(sequences)}
    data = {"sequences": sequences, "of": [position.get(prefix, -1) for prefix in partition.longest]}
    return (f"<p class='pick' id='pick-{index}'>Click an operation to see the longest linearization "
            f"found that contains it.</p><script type='application/json' id='data-{index}'>"
            f"{json.dumps(data, separators=(',', ':'))}</script>")


def _replay(model: Model, ops: list[Operation], order: tuple[int, ...]) -> list[_Step]:
    """States after each step of a linearization, as the model describes them."""
    state = model.init()
    steps = []
    for position, i in enumerate(order, start=1):
        ok, state = model.step(state, ops[i].input, ops[i].output)
        if not ok:
            break
        steps.append(_Step(position, i, model.describe_state(state)))
    return steps


def _breaking_operation(partition: PartitionInfo, placed: set[int]) -> int | None:
    """The operation the longest linearization could not reach: the earliest return not in it."""
    if partition.result is not CheckResult.ILLEGAL:
        return None
    missing = [i for i in range(len(partition.operations)) if i not in placed]
    return min(missing, key=lambda i: _end(partition.operations[i]), default=None)


def _end(op: Operation) -> float:
    return math.inf if op.return_time is None else op.return_time


def _timeline_svg(model: Model, index: int, ops: list[Operation], steps: list[_Step], breaking: int | None) -> str:
    times = sorted({op.call for op in ops} | {op.return_time for op in ops if op.return_time is not None})
    rank = {t: r for r, t in enumerate(times)}
    end_rank = len(times)
    lanes, lane_clients = _lanes(ops)
    position = {step.op: step.position for step in steps}
    width = LABEL_PX + (end_rank + 2) * STEP_PX
    height = len(lane_clients) * LANE_PX + 8
    out = [f"<div class='scroll'><svg width='{width}' height='{height}' xmlns='http://www.w3.org/2000/svg'>"]
    out += [f"<text x='2' y='{lane * LANE_PX + 16}'>client {html.escape(str(client))}</text>"
            for lane, client in enumerate(lane_clients)]
    for i, op in enumerate(ops):
        y = lanes[i] * LANE_PX + 4
        x1 = LABEL_PX + rank[op.call] * STEP_PX
        x2 = LABEL_PX + (end_rank + 1 if op.return_time is None else rank[op.return_time]) * STEP_PX + STEP_PX // 2
        kind = "linearized" if i in position else ("breaks" if i == breaking else "pending")
        open_ended = " open-ended" if op.return_time is None else ""
        description = html.escape(model.describe_operation(op.input, op.output))
        tooltip = f"op {i}: {description}" + (f" (step {position[i]})" if i in position else "")
        out.append(f"<g data-op='{index}-{i}'><title>{tooltip}</title>"
                   f"<rect class='op {kind}{open_ended}' x='{x1}' y='{y}' width='{max(x2 - x1, 4)}' "
                   f"height='{BAR_PX}' rx='3'/>")
        if i in position:
            out.append(f"<text x='{x1 + 3}' y='{y + 12}'>{position[i]}</text>")
        out.append("</g>")
    out.append("</svg></div>")
    return "".join(out)


def _lanes(ops: list[Operation]) -> tuple[dict[int, int], list[object]]:
    """The lane of each operation, and the client of each lane: one lane per client, plus extra
    lanes where a client's operations overlap (an unknown outcome stays open while it carries on)."""
    lanes: dict[int, int] = {}
    lane_clients: list[object] = []
    for client in _sorted_clients({op.client_id for op in ops}):
        ends: list[float] = []
        mine = sorted((i for i, op in enumerate(ops) if op.client_id == client), key=lambda i: ops[i].call)
        for i in mine:
            free = next((lane for lane, end in enumerate(ends) if end < ops[i].call), None)
            if free is None:
                free = len(ends)
                ends.append(0)
            ends[free] = _end(ops[i])
            lanes[i] = len(lane_clients) + free
        lane_clients += [client] * len(ends)
    return lanes, lane_clients


def _sorted_clients(clients: set[object]) -> list[object]:
    try:
        return sorted(clients)  # type: ignore[type-var]
    except TypeError:
        return sorted(clients, key=str)


def _steps_table(model: Model, index: int, ops: list[Operation], steps: list[_Step]) -> str:
    rows = "".join(
        f"<tr data-op='{index}-{step.op}'><td>{step.position}</td><td>{step.op}</td>"
        f"<td>{html.escape(str(ops[step.op].client_id))}</td>"
        f"<td>{html.escape(model.describe_operation(ops[step.op].input, ops[step.op].output))}</td>"
        f"<td>{html.escape(step.state)}</td></tr>"
        for step in steps
    )
    return ("<table><tr><th>step</th><th>op</th><th>client</th><th>operation</th><th>state after</th></tr>"
            f"{rows}</table>")
