"""pyporcupine's check time on Porcupine's vectors and on a million-operation register history, next to
Porcupine's own (Go) time, with both of pyporcupine's walks side by side.

Vector rows: every etcd history (the slowest first; the rest summed), the etcd set in total, and every
kv history. Each is checked by the compiled walk (what the built-in models get) and by the Python
walk (the reference, and what any other model gets), each time the best of --repeat runs, wall clock
and CPU seconds (parse excluded). The Go figures are Porcupine v1.3.0's own benchmark times on the
same histories, recorded once on a quiet machine rather than run here (there is no Go toolchain):
on a machine shared with other work the wall clock includes waiting for a core, so the ratio to Go
is given for CPU seconds too, and the ratio between the walks, measured side by side, is the one
figure load does not skew. Goal (issue 18): every vector set within 2x of Go.

Scale rows: a CAS-register history of --scale-ops operations over --keys keys
(benchmarks/_register_history.py), correct and with one impossible read, checked whole as
Independent(CasRegisterModel()); the verdicts must be OK and ILLEGAL. Goal: decided within 60 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from benchmarks._register_history import register_history
from benchmarks._table import print_table
from pyporcupine import CheckResult, Operation, check_operations
from pyporcupine.formats import load_history
from pyporcupine.model import Model
from pyporcupine.models import CasRegisterModel, Independent
from tests.pyporcupine import vectors

DECIDE_WITHIN_S = 10.0
GOAL_RATIO = 2.0
SCALE_GOAL_S = 60.0
SCALE_TIMEOUT_S = 600.0
GO_ETCD_TOTAL_S = 0.350
GO_SECONDS = {
    "etcd_002": 0.1348, "etcd_007": 0.0883, "etcd_099": 0.0413, "etcd_057": 0.0400, "etcd_075": 0.0138,
    "etcd_080": 0.0092, "etcd_040": 0.0071, "etcd_085": 0.0027, "etcd_053": 0.0018, "etcd_097": 0.0017,
    "kv c50-ok": 0.1140, "kv c50-bad": 0.0175,
}
"""Porcupine's times for the kv c01 and c10 histories were not recorded: those rows have no ratio."""
SHOWN_ETCD = 10
WALKS = {"compiled": True, "python": False}


@dataclass
class Timing:
    wall: float = float("inf")
    cpu: float = float("inf")
    result: CheckResult = CheckResult.UNKNOWN


@dataclass
class Case:
    name: str
    model: Model
    history: list[Operation]
    expected: CheckResult
    timings: dict[str, Timing] = field(default_factory=dict)

    def right(self) -> bool:
        return all(t.result is self.expected for t in self.timings.values())


def vector_cases() -> tuple[list[Case], list[Case]]:
    etcd = []
    for number in vectors.ETCD_NUMBERS:
        model, history = load_history(vectors.etcd_path(number), "jepsen-log", "cas-register")
        ok = vectors.etcd_is_linearizable(number)
        etcd.append(Case(f"etcd_{number}", model, history, CheckResult.OK if ok else CheckResult.ILLEGAL))
    kv = []
    for name in vectors.KV_NAMES:
        model, history = load_history(vectors.kv_path(name), "edn-kv", "kv")
        ok = vectors.kv_is_linearizable(name)
        kv.append(Case(f"kv {name}", model, history, CheckResult.OK if ok else CheckResult.ILLEGAL))
    return etcd, kv


def time_case(case: Case, walk: str, repeat: int, timeout: float = DECIDE_WITHIN_S) -> None:
    """Best wall and best CPU of `repeat` checks (each the best of its own kind)."""
    timing = case.timings.setdefault(walk, Timing())
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        timing.result = check_operations(case.model, case.history, timeout=timeout, compiled=WALKS[walk])
        timing.wall = min(timing.wall, time.perf_counter() - wall)
        timing.cpu = min(timing.cpu, time.process_time() - cpu)


def total(group: list[Case], walk: str) -> Timing:
    return Timing(sum(c.timings[walk].wall for c in group), sum(c.timings[walk].cpu for c in group))


def ratio(seconds: float, baseline: float | None) -> str:
    return f"{seconds / baseline:.1f}x" if baseline else ""


def row(name: str, compiled: Timing, python: Timing, go: float | None, verdict: str) -> list[object]:
    return [name, f"{compiled.wall * 1000:.1f}", f"{compiled.cpu * 1000:.1f}", f"{python.wall * 1000:.1f}",
            ratio(python.wall, compiled.wall), f"{go * 1000:.1f}" if go else "", ratio(compiled.wall, go),
            ratio(compiled.cpu, go), verdict]


def verdict_of(group: list[Case]) -> str:
    wrong = [c.name for c in group if not c.right()]
    return "as expected" if not wrong else "WRONG: " + ", ".join(wrong)


def vectors_table(etcd: list[Case], kv: list[Case]) -> list[str]:
    """Prints the vector rows; returns the goal lines."""
    slowest = sorted(etcd, key=lambda c: c.timings["compiled"].wall, reverse=True)
    shown, rest = slowest[:SHOWN_ETCD], slowest[SHOWN_ETCD:]
    go_rest = GO_ETCD_TOTAL_S - sum(GO_SECONDS.get(c.name, 0.0) for c in shown)
    rows = [row(c.name, c.timings["compiled"], c.timings["python"], GO_SECONDS.get(c.name), verdict_of([c]))
            for c in shown]
    rows.append(row(f"the other {len(rest)} etcd", total(rest, "compiled"), total(rest, "python"), go_rest,
                    verdict_of(rest)))
    etcd_compiled = total(etcd, "compiled")
    rows.append(row(f"etcd total ({len(etcd)} files)", etcd_compiled, total(etcd, "python"), GO_ETCD_TOTAL_S,
                    verdict_of(etcd)))
    rows += [row(c.name, c.timings["compiled"], c.timings["python"], GO_SECONDS.get(c.name), verdict_of([c]))
             for c in kv]
    print_table(["history", "compiled ms", "compiled CPU ms", "Python walk ms", "Python/compiled", "Go ms", "to Go",
                 "to Go (CPU)", "verdicts"], rows)
    goals = [goal_line("etcd set", etcd_compiled, GO_ETCD_TOTAL_S)]
    goals += [goal_line(c.name, c.timings["compiled"], GO_SECONDS[c.name]) for c in kv if c.name in GO_SECONDS]
    return goals


def goal_line(name: str, timing: Timing, go: float) -> str:
    wall, cpu = timing.wall / go, timing.cpu / go
    met = "met" if wall <= GOAL_RATIO else ("met in CPU seconds only" if cpu <= GOAL_RATIO else "NOT met")
    return f"{name}: {wall:.2f}x Go's {go * 1000:.1f} ms wall, {cpu:.2f}x in CPU seconds (goal <= {GOAL_RATIO:.0f}x: {met})"


def scale(operations: int, keys: int, walks: list[str]) -> list[str]:
    """Prints the scale rows; returns the goal lines."""
    model = Independent(CasRegisterModel())
    rows, goals = [], []
    for inject in (False, True):
        started = time.perf_counter()
        history = register_history(operations, keys, seed=1, inject=inject)
        generated = time.perf_counter() - started
        case = Case("one impossible read" if inject else "correct", model, history,
                    CheckResult.ILLEGAL if inject else CheckResult.OK)
        for walk in walks:
            time_case(case, walk, 1, SCALE_TIMEOUT_S)
            timing = case.timings[walk]
            rows.append([f"{operations:,} ops, {keys:,} keys, {case.name}", walk, f"{generated:.1f}",
                         f"{timing.wall:.1f}", f"{timing.cpu:.1f}", timing.result.value, verdict_of([case])])
            met = "met" if timing.wall <= SCALE_GOAL_S and case.right() else "NOT met"
            goals.append(f"{operations:,} ops {case.name}, {walk} walk: {timing.wall:.1f} s "
                         f"(goal <= {SCALE_GOAL_S:.0f} s with the right verdict: {met})")
        del history, case
    print_table(["history", "walk", "generated s", "check s", "check CPU s", "result", "verdict"], rows)
    return goals


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks porcupine_check")
    parser.add_argument("--repeat", type=int, default=3, help="runs per vector and walk; the best counts")
    parser.add_argument("--scale-ops", type=int, default=1_000_000, help="operations in the scale history (0: none)")
    parser.add_argument("--keys", type=int, default=1_000, help="keys in the scale history")
    parser.add_argument("--scale-walks", default="compiled,python", help="walks that check the scale history")
    args = parser.parse_args(argv)

    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at the start")
    etcd, kv = vector_cases()
    for case in etcd + kv:
        for walk in WALKS:
            time_case(case, walk, args.repeat)
    goals = vectors_table(etcd, kv)
    if args.scale_ops:
        print()
        goals += scale(args.scale_ops, args.keys, args.scale_walks.split(","))
    print()
    for line in goals:
        print(line)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"load average {os.getloadavg()[0]:.1f} at the end; the benchmark's peak RSS {peak:.0f} MiB")
