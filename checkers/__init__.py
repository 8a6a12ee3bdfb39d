"""Checkers for a run's history: the workload's safety checker, stats, perf plots and the timeline.

`run_checks` composes them as Jepsen's checker/compose does: the run is invalid if any checker
says so, unknown if none does and one cannot tell, valid otherwise. A checker that crashes is
"unknown" with its error recorded; it never hides the others' results.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from checkers.log import check_log
from checkers.perf import plot_perf
from checkers.queue import check_queue
from checkers.register import check_register
from checkers.stats import check_stats
from checkers.timeline import write_timeline

WorkloadChecker = Callable[[dict[str, Any], list[dict[str, Any]], Path], dict[str, Any]]
"""(test, history, the run directory for any file it writes) -> its results, with "valid"."""


def _queue(test: dict[str, Any], history: list[dict[str, Any]], _out_dir: Path) -> dict[str, Any]:
    return check_queue(test, history)


WORKLOAD_CHECKERS: dict[str, WorkloadChecker] = {
    "queue": _queue,
    "register": check_register,
    "log": check_log,
}


def run_checks(test: dict[str, Any], history: list[dict[str, Any]], out_dir: Path) -> dict[str, Any]:
    """{"valid", workload name: {...}, "stats": {...}, "files": [names written in out_dir], "errors"?}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    workload = str(test.get("workload", "queue"))
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}
    checker = WORKLOAD_CHECKERS.get(workload)
    if checker is None:
        results[workload] = {"valid": "unknown", "error": f"no checker for workload {workload!r}"}
    else:
        results[workload] = _guarded(workload, errors, lambda: checker(test, history, out_dir))
    results["stats"] = _guarded("stats", errors, lambda: check_stats(history))
    files: list[Path] = []
    _guarded("perf", errors, lambda: files.extend(plot_perf(test, history, out_dir)))
    _guarded("timeline", errors, lambda: files.append(write_timeline(test, history, out_dir)))
    visualization = results[workload].get("visualization")
    if visualization:
        files.append(out_dir / visualization)
    composed: dict[str, Any] = {"valid": compose_validity([r["valid"] for r in results.values()]), **results,
                                "files": [path.name for path in files]}
    if errors:
        composed["errors"] = errors
    return composed


def compose_validity(verdicts: list[bool | str]) -> bool | str:
    if any(verdict is False for verdict in verdicts):
        return False
    if any(verdict is not True for verdict in verdicts):
        return "unknown"
    return True


def _guarded(name: str, errors: dict[str, str], check: Callable[[], Any]) -> Any:
    try:
        return check()
    except Exception as error:  # a broken checker must not take the other results down
        errors[name] = f"{type(error).__name__}: {error}"
        return {"valid": "unknown", "error": errors[name]}
