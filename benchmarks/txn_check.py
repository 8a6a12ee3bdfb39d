"""The transactional checker's time on a synthetic history of --txns transactions, next to the queue checker's on
the same sends and polls.

benchmarks/_txn_history.py writes a correct run and its queue-shaped twin (one op per micro-op); each is
read as `logquake check` reads it (harness.history.load_history) and checked, the transactional one by
checkers.txn with process and real-time order, the twin by the queue checker: the baseline, measured
in the same run on the same machine, so the ratio says what the cycle analysis costs over the queue
analysis of the same records. Then a run with an aborted read and circular information flow injected:
its verdict must be invalid with both found, or the benchmark says WRONG. Wall clock and CPU seconds
are both given: on a machine shared with other work the CPU seconds move much less. Goal (issue 21):
100,000 transactions decided within 60 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from benchmarks._table import print_table
from benchmarks._txn_history import INJECTED, write_runs
from checkers.queue import check_queue
from checkers.txn.checker import check_txn
from harness.history import collector_paused, load_history

GOAL_S = 60.0


def timed(work: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = work()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def check(run_dir: Path, checker: Callable[..., dict[str, Any]]) -> tuple[dict[str, Any], list[float]]:
    """The checker's results on a stored run, and the seconds (wall, CPU) to read it and to check it."""
    test = orjson.loads((run_dir / "test.json").read_bytes())
    history, read_wall, read_cpu = timed(lambda: load_history(run_dir / "history.jsonl"))
    with collector_paused():
        results, check_wall, check_cpu = timed(lambda: checker(test, history))
    return results, [read_wall, read_cpu, check_wall, check_cpu]


def verdict(results: dict[str, Any], injected: bool) -> str:
    forbidden = sorted(name for name, a in results["anomalies"].items() if a["forbidden"])
    if injected:
        right = results["valid"] is False and set(INJECTED) <= set(forbidden)
    else:
        right = results["valid"] is True
    return f"{results['valid']}{' (' + ', '.join(forbidden) + ')' if forbidden else ''}: " + \
        ("as expected" if right else "WRONG")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks txn_check")
    parser.add_argument("--txns", type=int, default=100_000, help="transactions in the synthetic history")
    parser.add_argument("--dir", type=Path, help="keep the runs here (default: a temporary directory)")
    args = parser.parse_args(argv)
    print(f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at the start")
    rows: list[list[object]] = []
    goal = ""
    with tempfile.TemporaryDirectory() as scratch:
        base = args.dir or Path(scratch)
        for injected in (False, True):
            txn_dir, queue_dir = write_runs(base / ("injected" if injected else "correct"), args.txns, inject=injected)
            size = (txn_dir / "history.jsonl").stat().st_size / 1e6
            results, seconds = check(txn_dir, lambda test, history: check_txn(test, history, txn_dir))
            name = f"{args.txns:,} txns ({size:.0f} MB){', injected' if injected else ''}"
            edges = sum(results["summary"]["edges"].values())
            rows.append([name, "transactional", *seconds, sum(seconds[::2]), f"{edges:,} edges",
                         verdict(results, injected)])
            if not injected:
                wall, cpu = sum(seconds[::2]), sum(seconds[1::2])
                goal = (f"{args.txns:,} transactions decided in {wall:.1f} s wall, {cpu:.1f} s CPU "
                        f"(goal <= {GOAL_S:.0f} s: {'met' if wall <= GOAL_S else 'NOT met'})")
                baseline, queue_seconds = check(queue_dir, check_queue)
                rows.append([name, "queue (baseline)", *queue_seconds, sum(queue_seconds[::2]), "",
                             verdict(baseline, False)])
                goal += (f"; the transactional check took {seconds[3] / queue_seconds[3]:.1f}x the queue checker's "
                         "CPU on the same records")
    print_table(["history", "checker", "read s", "read CPU s", "check s", "check CPU s", "total s", "graph",
                 "verdict"], rows)
    print(goal)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"load average {os.getloadavg()[0]:.1f} at the end; the benchmark's peak RSS {peak:.0f} MiB")
