"""`logquake check` on synthetic queue runs of a given size: seconds per stage, time to the verdict, peak memory.

For every size (--ops) a correct run is generated (benchmarks._queue_history) and checked twice, each
check in a fresh process (benchmarks._check_child): with the plots, the timeline and the report, and
with --no-plots (above --plots-up-to ops, only with --no-plots). Runs with one injected anomaly each (a lost acknowledged write, a duplicate, a
reorder) are checked without plots at the smallest size (--verdicts every: at every size; none: never):
the benchmark fails loudly if a verdict is not the one expected. --code DIR measures another checkout
(e.g. an older version, for before/after figures) with the same histories; an older logquake that
logs no stages shows only its total. The goals are issue 18's: a 1,000,000-op history decided in at
most 30 s with at most 1 GiB of memory, and a 10,000,000-op one in at most 5 minutes without running
out of memory. Each row also gives the CPU seconds of the check's process: on a machine shared with
other work they move much less than the wall clock, which the goals are stated in.
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
GOALS = {1_000_000: (30.0, 1024.0), 10_000_000: (300.0, None)}
"""Ops -> (seconds to the verdict, peak MiB or None for "without running out of memory")."""


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
    cpu = f"{figures['cpu_s']:.1f}" if "cpu_s" in figures else ""
    return [f"{ops:,}", f"{history.stat().st_size / 1e6:.0f}", mode, *cells, f"{figures['verdict_s']:.1f}",
            f"{figures['total_s']:.1f}", cpu, f"{figures['peak_mib']:.0f}"]


def verdict_row(ops: int, anomaly: str | None, figures: dict[str, Any]) -> list[object]:
    expected = ANOMALIES.get(anomaly or "")
    right = (figures["valid"] is True and not figures["anomalies"] and figures["exit_code"] == 0) if expected is None \
        else (figures["valid"] is False and expected in figures["anomalies"] and figures["exit_code"] == 1)
    found = ", ".join(f"{name} {count}" for name, count in sorted(figures["anomalies"].items())) or "none"
    return [f"{ops:,}", anomaly or "none", expected or "valid", str(figures["valid"]), found,
            "as expected" if right else "WRONG"]


def goal_lines(rows: list[tuple[int, dict[str, Any]]]) -> list[str]:
    """Per goal, whether the runs of its size met it (worst wall-clock verdict, worst peak)."""
    lines = []
    for goal_ops, (goal_s, goal_mib) in GOALS.items():
        bound = f"<= {goal_mib:.0f} MiB" if goal_mib is not None else "finished"
        at_goal = [figures for ops, figures in rows if ops == goal_ops]
        if not at_goal:
            lines.append(f"goal ({goal_ops:,} ops decided in <= {goal_s:.0f} s, {bound}): not measured (--ops)")
            continue
        worst_s = max(f["verdict_s"] for f in at_goal)
        worst_cpu = max(f.get("cpu_s", 0.0) for f in at_goal)
        worst_mib = max(f["peak_mib"] for f in at_goal)
        met = worst_s <= goal_s and (goal_mib is None or worst_mib <= goal_mib)
        lines.append(f"goal at {goal_ops:,} ops: verdict in {worst_s:.1f} s (<= {goal_s:.0f}; {worst_cpu:.1f} CPU "
                     f"s), peak {worst_mib:.0f} MiB ({bound}): {'met' if met else 'NOT met'}")
    return lines


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks check_scale")
    parser.add_argument("--ops", default="100000,1000000", help="comma-separated sizes, in client operations")
    parser.add_argument("--code", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the checkout whose logquake is measured (default: this one)")
    parser.add_argument("--plots-only", action="store_true", help="skip the --no-plots checks (an older logquake)")
    parser.add_argument("--plots-up-to", type=int, default=1_000_000,
                        help="the largest size also checked with the plots (larger ones: --no-plots only)")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another checkout whose check of each correct run follows this one's, on the same "
                             "history, for ratios on a shared machine (the mode column says which)")
    parser.add_argument("--baseline-up-to", type=int, default=1_000_000,
                        help="the largest size the baseline checks (today's reader needs about 4 GiB a million ops)")
    parser.add_argument("--verdicts", choices=("smallest", "every", "none"), default="smallest",
                        help="at which sizes the runs with injected anomalies are checked")
    parser.add_argument("--dir", type=Path, default=None, help="where the runs are written (default: a temporary "
                                                                "directory, removed afterwards)")
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.ops.split(","))
    work = args.dir or Path(tempfile.mkdtemp(prefix="check-scale-"))
    print(f"{machine()}; code {args.code}" + (f", baseline {args.baseline}" if args.baseline else ""), flush=True)
    timings, goal_rows, verdicts = [], [], []
    try:
        for ops in sizes:
            injected = args.verdicts == "every" or (args.verdicts == "smallest" and ops == sizes[0])
            kinds = [None, *ANOMALIES] if injected else [None]
            for anomaly in kinds:
                run_dir = write_run(work / f"{ops}-{anomaly or 'valid'}", ops, anomaly)
                drawn = anomaly is None and ops <= args.plots_up_to
                modes = [("plots", True)] if drawn or args.plots_only else []
                modes += [] if args.plots_only else [("no-plots", False)]
                for mode, plots in modes:
                    figures = check(run_dir, plots, args.code)
                    if anomaly is None:
                        timings.append(timing_row(ops, run_dir / "history.jsonl", mode, figures))
                        goal_rows.append((ops, figures))
                        print(" | ".join(map(str, timings[-1])), flush=True)
                        if args.baseline is not None and ops <= args.baseline_up_to:
                            base = check(run_dir, plots, args.baseline)
                            timings.append(timing_row(ops, run_dir / "history.jsonl", f"{mode}, baseline", base))
                            print(" | ".join(map(str, timings[-1])), flush=True)
                    if not plots or args.plots_only:
                        verdicts.append(verdict_row(ops, anomaly, figures))
                shutil.rmtree(run_dir)
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    print_table(["ops", "MB", "mode", *STAGES, "verdict at s", "total s", "CPU s", "peak MiB"], timings)
    print()
    print_table(["ops", "injected", "expected", "verdict", "anomalies found", ""], verdicts)
    print("\n" + "\n".join(goal_lines(goal_rows)))
    if any(row[-1] == "WRONG" for row in verdicts):
        raise SystemExit("a verdict is wrong")
