"""A cycle shown to a person: each edge in words with the evidence that drew it, and a small SVG drawing.

The words are Elle's kind of explanation ("T3 read T7's value 12 of key 1"), enough to find the ops
in history.jsonl; the drawing puts the cycle's transactions on a circle, its edges as labelled arrows.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path
from typing import Any

from checkers.txn.cycles import Cycle, Step
from checkers.txn.graph import KINDS, PROCESS, REALTIME, RW, WR, WW, Dependencies

SIZE = 360
RADIUS = 130
NODE = 26


def describe(cycle: Cycle, deps: Dependencies) -> dict[str, Any]:
    """The cycle as results.json holds it: its steps with refs and evidence, and the explanation in words."""
    steps = [{"from": deps.txns[s.source].ref(), "to": deps.txns[s.target].ref(), "kind": KINDS[s.kind],
              **_evidence(s, deps)} for s in cycle.steps]
    return {"name": cycle.name, "steps": steps, "explanation": explain(cycle, deps),
            "shortest": "exact" if cycle.exhaustive else "shortest found (large component: not every edge tried)"}


def explain(cycle: Cycle, deps: Dependencies) -> list[str]:
    names = ", ".join(f"T{s.source} (op {deps.txns[s.source].op.index}, process {deps.txns[s.source].op.process})"
                      for s in cycle.steps)
    lines = [f"{cycle.name}: a cycle of {len(cycle.steps)} transactions, {names}:"]
    lines += [f"  {_sentence(step, deps)}" for step in cycle.steps]
    lines.append(f"  so T{cycle.steps[0].source} must come before itself.")
    return lines


def _evidence(step: Step, deps: Dependencies) -> dict[str, Any]:
    found = deps.evidence.get((step.source, step.target, step.kind))
    if found is None:
        return {}
    key, before, after = found
    return {"key": key, "value": before} if step.kind == WR else {"key": key, "value": before, "next": after}


def _sentence(step: Step, deps: Dependencies) -> str:
    a, b = f"T{step.source}", f"T{step.target}"
    evidence = deps.evidence.get((step.source, step.target, step.kind))
    if step.kind == PROCESS:
        return f"{a} -process-> {b}: {b} is process {deps.txns[step.target].op.process}'s next transaction after {a}"
    if step.kind == REALTIME:
        return f"{a} -realtime-> {b}: {a} completed before {b} was invoked"
    assert evidence is not None, "every data edge keeps its first evidence"
    key, before, after = evidence
    if step.kind == WW:
        return f"{a} -ww-> {b}: {b} sent {after!r} to key {key} right after {a}'s {before!r}"
    if step.kind == WR:
        return f"{a} -wr-> {b}: {b}'s last read of key {key} was {a}'s {before!r}"
    assert step.kind == RW
    return f"{a} -rw-> {b}: {a}'s last read of key {key} was {before!r}, and {b} sent the next value, {after!r}"


def draw(cycle: Cycle, path: Path) -> Path:
    """The cycle as an SVG drawing at `path`."""
    count = len(cycle.steps)
    centre = SIZE / 2
    places = {step.source: (centre + RADIUS * math.sin(2 * math.pi * i / count),
                            centre - RADIUS * math.cos(2 * math.pi * i / count))
              for i, step in enumerate(cycle.steps)}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE + 30}" '
             f'font-family="sans-serif" font-size="13">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker></defs>',
             f'<text x="8" y="{SIZE + 20}">{escape(cycle.name)}</text>']
    for step in cycle.steps:
        parts += _arrow(places[step.source], places[step.target], KINDS[step.kind], count == 2)
    for txn, (x, y) in places.items():
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{NODE}" fill="#eef" stroke="#336"/>')
        parts.append(f'<text x="{x:.1f}" y="{y + 5:.1f}" text-anchor="middle">T{txn}</text>')
    parts.append("</svg>\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
    return path


def _arrow(start: tuple[float, float], end: tuple[float, float], label: str, bend: bool) -> list[str]:
    """A straight arrow between two node circles' edges (bent aside when two arrows join the same pair)."""
    (x1, y1), (x2, y2) = start, end
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    side = 18.0 if bend else 0.0
    x1, y1 = x1 + ux * NODE - uy * side / 2, y1 + uy * NODE + ux * side / 2
    x2, y2 = x2 - ux * NODE - uy * side / 2, y2 - uy * NODE + ux * side / 2
    mx, my = (x1 + x2) / 2 - uy * 10, (y1 + y2) / 2 + ux * 10
    colour = {"ww": "#444", "wr": "#1a6", "rw": "#c33"}.get(label, "#36c")
    return [f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" stroke-width="2" '
            f'marker-end="url(#arrow)"/>',
            f'<text x="{mx:.1f}" y="{my:.1f}" text-anchor="middle" fill="{colour}">{label}</text>']
