"""Two runs side by side: where their configurations differ, and their anomalies, op stats and availability."""

from __future__ import annotations

import json
from typing import Any

Row = tuple[str, Any, Any]


def compare(tests: tuple[dict[str, Any], dict[str, Any]], results: tuple[dict[str, Any], dict[str, Any]]
            ) -> dict[str, list[Row]]:
    """Sections of (label, first run's value, second run's value) rows; configuration rows are every key."""
    return {
        "configuration": _pairs(*(({k: json.dumps(v, sort_keys=True) for k, v in t.items()}) for t in tests)),
        "anomalies": _pairs(*(_anomalies(test, result) for test, result in zip(tests, results))),
        "operations": _pairs(*(_operations(result) for result in results)),
        "availability": _pairs(*(_availability(result) for result in results)),
    }


def _pairs(first: dict[str, Any], second: dict[str, Any]) -> list[Row]:
    return [(key, first.get(key, ""), second.get(key, "")) for key in sorted({*first, *second})]


def _section(data: Any, *keys: str) -> dict[str, Any]:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def _anomalies(test: dict[str, Any], results: dict[str, Any]) -> dict[str, str]:
    anomalies = _section(results, str(test.get("workload", "queue")), "anomalies")
    return {name: f"{a.get('count', 0)} ({a.get('forbidden', 0)} forbidden)" for name, a in anomalies.items()
            if isinstance(a, dict)}


def _operations(results: dict[str, Any]) -> dict[str, str]:
    stats = _section(results, "stats")
    rows = {**_section(stats, "by_f"), "all client ops": _section(stats, "total")}
    return {f: (f"{s.get('count', 0)} ops: ok {s.get('ok', 0)}, fail {s.get('fail', 0)}, info {s.get('info', 0)}; "
                f"p50 {_ms(s, 'p50')}, p99 {_ms(s, 'p99')}") for f, s in rows.items() if s}


def _ms(stats: dict[str, Any], quantile: str) -> str:
    value = _section(stats, "latency_ms").get(quantile)
    return f"{value:.1f} ms" if isinstance(value, (int, float)) else "-"


def _availability(results: dict[str, Any]) -> dict[str, str]:
    by_fault = _section(results, "availability", "by_fault")
    return {kind: (f"window p50 {_s(s, 'window_s', 'p50')} max {_s(s, 'window_s', 'max')}; "
                   f"recovery p50 {_s(s, 'recovery_s', 'p50')} max {_s(s, 'recovery_s', 'max')}")
            for kind, s in by_fault.items() if isinstance(s, dict)}


def _s(stats: dict[str, Any], key: str, quantile: str) -> str:
    value = _section(stats, key).get(quantile)
    return f"{value:.1f} s" if isinstance(value, (int, float)) else "-"
