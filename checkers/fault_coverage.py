"""Which of the faults a run named actually ran, and on which nodes.

A run that names a fault but never managed to start it says nothing about that fault, however valid
its verdict: so the results list, per named fault, how often its start ended ok, failed or unknown,
the nodes it hit, and the named faults that never started at all.
"""

from __future__ import annotations

from typing import Any

from harness.history import COMPLETIONS, NEMESIS, Op

START = "start-"


def fault_coverage(test: dict[str, Any], ops: list[Op]) -> dict[str, Any]:
    """{"named": [...], "by_fault": {fault: {"ok", "fail", "info", "nodes"}}, "not_run": [...]}, from the paired
    history (harness.history.pair)."""
    named = [str(fault) for fault in test.get("nemesis") or ()]
    by_fault = {fault: _tally() for fault in named}
    for op in ops:
        if op.process != NEMESIS or not op.f.startswith(START) or op.type not in COMPLETIONS:
            continue
        counts = by_fault.setdefault(op.f.removeprefix(START), _tally())
        counts[op.type] += 1
        value = op.value if op.type == "ok" else None
        if isinstance(value, dict) and isinstance(value.get("nodes"), list):
            counts["nodes"].update(map(str, value["nodes"]))
    return {"named": named,
            "by_fault": {fault: {**counts, "nodes": sorted(counts["nodes"])} for fault, counts in by_fault.items()},
            "not_run": [fault for fault in named if not by_fault[fault]["ok"]]}


def _tally() -> dict[str, Any]:
    """One fault's starts by outcome, and the nodes they hit."""
    return {**dict.fromkeys(COMPLETIONS, 0), "nodes": set()}
