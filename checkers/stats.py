"""Counts and rates of client operations per f and outcome, and their latencies.

Like Jepsen's stats checker, a run in which some kind of client operation never succeeded says
little about safety, so it is "unknown" rather than valid.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from operator import attrgetter
from typing import Any

from harness.history import COMPLETIONS, NEMESIS, Op

QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99, "max": 1.0}


def check_stats(ops: list[Op]) -> dict[str, Any]:
    """{"valid", "duration_s", "total": {...}, "by_f": {f: {...}}, "nemesis": {f: {outcome: n}}}, from the paired
    history (harness.history.pair)."""
    duration_s = _duration_s(ops)
    client = [op for op in ops if op.process != NEMESIS]
    by_f: dict[str, list[Op]] = defaultdict(list)
    for op in client:
        by_f[op.f].append(op)
    nemesis: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COMPLETIONS, 0))
    for op in ops:
        if op.process == NEMESIS:
            nemesis[op.f][op.type] += 1
    never_ok = sorted(f for f, f_ops in by_f.items() if not any(op.type == "ok" for op in f_ops))
    result: dict[str, Any] = {
        "valid": "unknown" if never_ok or not client else True,
        "duration_s": duration_s,
        "total": _summary(client, duration_s),
        "by_f": {f: _summary(by_f[f], duration_s) for f in sorted(by_f)},
        "nemesis": {f: nemesis[f] for f in sorted(nemesis)},
    }
    if never_ok:
        result["reason"] = f"no {', '.join(never_ok)} ever succeeded"
    elif not client:
        result["reason"] = "no client operations"
    return result


def _duration_s(ops: list[Op]) -> float:
    """From the first invocation to the last event (an invocation without a completion counts)."""
    if not ops:
        return 0.0
    last = max(op.start if op.end is None else op.end for op in ops)
    return (last - min(op.start for op in ops)) / 1e9


def _summary(ops: list[Op], duration_s: float) -> dict[str, Any]:
    types = Counter(map(attrgetter("type"), ops))
    counts = {outcome: types[outcome] for outcome in COMPLETIONS}
    latencies = sorted((op.end - op.start) / 1e6 for op in ops if op.end is not None)
    return {
        "count": len(ops), **counts,
        "rate_per_s": len(ops) / duration_s if duration_s else None,
        "ok_rate_per_s": counts["ok"] / duration_s if duration_s else None,
        "latency_ms": {name: quantile(latencies, q) for name, q in QUANTILES.items()},
    }


def quantile(ordered: list[float], q: float) -> float | None:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]
