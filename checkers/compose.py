"""A run's checks composed as Jepsen's checker/compose does: the workload's checker, stats, perf plots, the timeline,
and the clock plot when clock faults ran. Which of the named faults ran goes along (under "faults"), what disk faults
did to the nodes' files (under "disk") when there were any, and, for a workload that writes to partitions, the
partitions' availability under each fault (under "availability", drawn on the timeline), whose optional claim (the
test's max_unavailable) takes part in the verdict.

The run is invalid if any checker says so, unknown if none does and one cannot tell, valid
otherwise. A checker that crashes is "unknown" with its error recorded; it never hides the
others' results.

The verdict comes first (check_verdict), the drawings after it (draw: perf and clock plots, the
timeline): a caller can store and announce the verdict before the slow part, or skip the drawings.
The history is paired once for stats, availability and fault coverage. Every stage logs its
duration at debug level (the check_scale benchmark reads them).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checkers.availability import Window, check_availability, partition_windows
from checkers.disk import disk_effects
from checkers.fault_coverage import fault_coverage
from checkers.stats import check_stats
from harness.history import Event, pair

WorkloadChecker = Callable[[dict[str, Any], list[Event], Path], dict[str, Any]]
"""(test, history, the run directory for any file it writes) -> its results, with "valid"."""

_log = logging.getLogger(__name__)


@dataclass
class Checked:
    """The verdict's results (as results.json holds them) and what the drawings reuse."""

    results: dict[str, Any]
    windows: list[Window] = field(default_factory=list)


def run_checks(test: dict[str, Any], history: list[Event], out_dir: Path, name: str,
               checker: WorkloadChecker, writes: str | None = None) -> dict[str, Any]:
    """The verdict and every drawing: check_verdict's results, then draw's files listed under "files"."""
    checked = check_verdict(test, history, out_dir, name, checker, writes)
    draw(test, history, out_dir, checked)
    return checked.results


def check_verdict(test: dict[str, Any], history: list[Event], out_dir: Path, name: str,
                  checker: WorkloadChecker, writes: str | None = None) -> Checked:
    """{"valid", name: {...}, "stats": {...}, "availability"?, "faults"?, "disk"?, "files", "errors"?}.

    `name` is the workload's: its checker's results are filed under it. `writes` is the f of its partition
    writes (the workload's `partition_writes`); without one there is no availability section. "files" lists
    what the checker wrote in out_dir (its visualization), until draw adds the plots.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    errors: dict[str, str] = {}
    paired = functools.cache(lambda: pair(history))
    results: dict[str, Any] = {name: _guarded(name, errors, lambda: checker(test, history, out_dir)),
                               "stats": _guarded("stats", errors, lambda: check_stats(paired()))}
    checked = Checked(results)
    if writes is not None:
        def availability() -> dict[str, Any]:
            checked.windows.extend(partition_windows(test, paired(), writes))
            return check_availability(test, checked.windows, writes)

        results["availability"] = _guarded("availability", errors, availability)
    visualization = results[name].get("visualization")
    composed: dict[str, Any] = {"valid": compose_validity([r["valid"] for r in results.values()]), **results,
                                "files": [visualization] if visualization else []}
    if test.get("nemesis"):
        composed["faults"] = _guarded("faults", errors, lambda: fault_coverage(test, paired()))
    disk = _guarded("disk", errors, lambda: disk_effects(history))
    if any(disk.get(kind) for kind in ("corrupted", "power_losses")):
        composed["disk"] = disk
    if errors:
        composed["errors"] = errors
    checked.results = composed
    return checked


def draw(test: dict[str, Any], history: list[Event], out_dir: Path, checked: Checked) -> None:
    """The perf and clock plots and the timeline, listed first under the results' "files"; a drawing that crashes
    is recorded under "errors" and leaves the others (and the verdict) alone."""
    # Imported here: the drawings bring in matplotlib, a second of a check's start-up that a verdict never needs.
    from checkers.clock import plot_clock
    from checkers.perf import plot_perf
    from checkers.timeline import write_timeline

    out_dir = Path(out_dir)
    errors: dict[str, str] = {}
    files: list[Path] = []
    _guarded("perf", errors, lambda: files.extend(plot_perf(test, history, out_dir)))
    _guarded("clock", errors, lambda: files.extend(plot_clock(test, history, out_dir)))
    _guarded("timeline", errors, lambda: files.append(write_timeline(test, history, out_dir, checked.windows)))
    results = checked.results
    results["files"] = [path.name for path in files] + results["files"]
    if errors:
        results["errors"] = {**results.get("errors", {}), **errors}


def compose_validity(verdicts: list[bool | str]) -> bool | str:
    if any(verdict is False for verdict in verdicts):
        return False
    if any(verdict is not True for verdict in verdicts):
        return "unknown"
    return True


def _guarded(name: str, errors: dict[str, str], check: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    try:
        return check()
    except Exception as error:  # a broken checker must not take the other results down
        errors[name] = f"{type(error).__name__}: {error}"
        return {"valid": "unknown", "error": errors[name]}
    finally:
        _log.debug("check stage %s took %.3f s", name, time.perf_counter() - started)
