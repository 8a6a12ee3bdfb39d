"""`logquake check` on synthetic queue runs of a given size: seconds per stage, time to the verdict, peak memory.

For every size (--ops) a correct run is generated (benchmarks._queue_history) and checked twice, each
check in a fresh process (benchmarks._check_child): with the plots, the timeline and the report, and
with --no-plots. Runs with one injected anomaly each (a lost acknowledged write, a duplicate, a
reorder) are checked without plots at the smallest size (--verdicts every: at every size; none: never):
the benchmark fails loudly if a verdict is not the one expected. --code DIR measures another checkout
(e.g. an older version, for before/after figures) with the same histories; an older logquake that
logs no stages shows only its total. The goals are issue 18's: a 1,000,000-op history decided in at
most 30 s with at most 1 GiB of memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._queue_history import ANOMALIES, write_run
from benchmarks._table import print_table

CHILD = Path(__file__).with_name("_check_child.py")
STAGES = ("read", "queue", "stats", "availability", "faults", "disk", "perf", "clock", "timeline", "report")
GOAL_OPS, GOAL_S, GOAL_MIB = 1_000_000, 30.0, 1024.0


def machine() -> str:
    memory_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal:"))
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {platform.machine()}, {os.cpu_count()} cores, "
            f"{memory_kib / (1 << 20):.0f} GiB; Python {platform.python_version()}; load average {load}")


def check(run_dir: Path, plots: bool, code: Path) -> dict[str, Any]:
    """One check in a child process whose PYTHONPATH is `code`; its own figures, as _check_child prints them."""
    command = [sys.executable, str(CHILD), str(run_dir), *([] if plots else ["--no-plots"])]
    done = subprocess.run(command, env={**os.environ, "PYTHONPATH": str(code)}, cwd=code, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.splitlines()[-1])


def timing_row(ops: int, history: Path, mode: str, figures: dict[str, Any]) -> list[object]:
    stages = figures["stages"]
    cells = [f"{stages[name]:.1f}" if name in stages else "" for name in STAGES]
    return [f"{ops:,}", f"{history.stat().st_size / 1e6:.0f}", mode, *cells, f"{figures['verdict_s']:.1f}",
            f"{figures['total_s']:.1f}", f"{figures['peak_mib']:.0f}"]


def verdict_row(ops: int, anomaly: str | None, figures: dict[str, Any]) -> list[object]:
    expected = ANOMALIES.get(anomaly or "")
    right = (figures["valid"] is True and not figures["anomalies"] and figures["exit_code"] == 0) if expected is None \
        else (figures["valid"] is False and expected in figures["anomalies"] and figures["exit_code"] == 1)
    found = ", ".join(f"{name} {count}" for name, count in sorted(figures["anomalies"].items())) or "none"
    return [f"{ops:,}", anomaly or "none", expected or "valid", str(figures["valid"]), found,
            "as expected" if right else "WRONG"]


def goal_line(rows: list[tuple[int, dict[str, Any]]]) -> str:
    at_goal = [figures for ops, figures in rows if ops >= GOAL_OPS]
    if not at_goal:
        return f"goal ({GOAL_OPS:,} ops decided in <= {GOAL_S:.0f} s, <= {GOAL_MIB:.0f} MiB): not measured (--ops)"
    worst_s = max(f["verdict_s"] for f in at_goal)
    worst_mib = max(f["peak_mib"] for f in at_goal)
    met = worst_s <= GOAL_S and worst_mib <= GOAL_MIB
    return (f"goal at >= {GOAL_OPS:,} ops: verdict in {worst_s:.1f} s (<= {GOAL_S:.0f}), peak {worst_mib:.0f} MiB "
            f"(<= {GOAL_MIB:.0f}): {'met' if met else 'NOT met'}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks check_scale")
    parser.add_argument("--ops", default="100000,1000000", help="comma-separated sizes, in client operations")
    parser.add_argument("--code", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the checkout whose logquake is measured (default: this one)")
    parser.add_argument("--plots-only", action="store_true", help="skip the --no-plots checks (an older logquake)")
    parser.add_argument("--verdicts", choices=("smallest", "every", "none"), default="smallest",
                        help="at which sizes the runs with injected anomalies are checked")
    parser.add_argument("--dir", type=Path, default=None, help="where the runs are written (default: a temporary "
                                                                "directory, removed afterwards)")
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.ops.split(","))
    work = args.dir or Path(tempfile.mkdtemp(prefix="check-scale-"))
    print(f"{machine()}; code {args.code}", flush=True)
    timings, goal_rows, verdicts = [], [], []
    try:
        for ops in sizes:
            injected = args.verdicts == "every" or (args.verdicts == "smallest" and ops == sizes[0])
            kinds = [None, *ANOMALIES] if injected else [None]
            for anomaly in kinds:
                run_dir = write_run(work / f"{ops}-{anomaly or 'valid'}", ops, anomaly)
                modes = [("plots", True)] if anomaly is None or args.plots_only else []
                modes += [] if args.plots_only else [("no-plots", False)]
                for mode, plots in modes:
                    figures = check(run_dir, plots, args.code)
                    if anomaly is None:
                        timings.append(timing_row(ops, run_dir / "history.jsonl", mode, figures))
                        goal_rows.append((ops, figures))
                    if not plots or args.plots_only:
                        verdicts.append(verdict_row(ops, anomaly, figures))
                shutil.rmtree(run_dir)
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    print_table(["ops", "MB", "mode", *STAGES, "verdict at s", "total s", "peak MiB"], timings)
    print()
    print_table(["ops", "injected", "expected", "verdict", "anomalies found", ""], verdicts)
    print(f"\n{goal_line(goal_rows)}")
    if any(row[-1] == "WRONG" for row in verdicts):
        raise SystemExit("a verdict is wrong")
