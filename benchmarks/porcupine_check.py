"""pyporcupine's check time on Porcupine's vectors, next to Porcupine's own (Go) time.

Rows: every etcd history (the slowest first; the rest summed), the etcd set in total, and kv
c50-ok and c50-bad. Each figure is the best of --repeat runs (wall clock, parse excluded); peak
memory is measured in a separate pass under tracemalloc, which slows Python down. The Go figures
are Porcupine v1.3.0's own benchmark times on the same histories, recorded once rather than run
here (docs/benchmarks.md says on what machine); the goal is within 3x of them on the etcd set,
with every file decided inside 10 s.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from dataclasses import dataclass

from benchmarks._table import print_table
from pyporcupine import CheckResult, Operation, check_operations
from pyporcupine.formats import load_history
from pyporcupine.model import Model
from tests.pyporcupine import vectors

DECIDE_WITHIN_S = 10.0
GOAL_RATIO = 3.0
GO_ETCD_TOTAL_S = 0.350
GO_SECONDS = {
    "etcd_002": 0.1348, "etcd_007": 0.0883, "etcd_099": 0.0413, "etcd_057": 0.0400, "etcd_075": 0.0138,
    "etcd_080": 0.0092, "etcd_040": 0.0071, "etcd_085": 0.0027, "etcd_053": 0.0018, "etcd_097": 0.0017,
    "kv c50-ok": 0.1140, "kv c50-bad": 0.0175,
}
SHOWN_ETCD = 10


@dataclass
class Case:
    name: str
    model: Model
    history: list[Operation]
    expected: CheckResult
    seconds: float = 0.0
    result: CheckResult = CheckResult.UNKNOWN


def cases() -> tuple[list[Case], list[Case]]:
    etcd = []
    for number in vectors.ETCD_NUMBERS:
        model, history = load_history(vectors.etcd_path(number), "jepsen-log", "cas-register")
        ok = vectors.etcd_is_linearizable(number)
        etcd.append(Case(f"etcd_{number}", model, history, CheckResult.OK if ok else CheckResult.ILLEGAL))
    kv = []
    for name in ("c50-ok", "c50-bad"):
        model, history = load_history(vectors.kv_path(name), "edn-kv", "kv")
        ok = vectors.kv_is_linearizable(name)
        kv.append(Case(f"kv {name}", model, history, CheckResult.OK if ok else CheckResult.ILLEGAL))
    return etcd, kv


def time_case(case: Case, repeat: int) -> None:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        case.result = check_operations(case.model, case.history, timeout=DECIDE_WITHIN_S)
        best = min(best, time.perf_counter() - started)
    case.seconds = best


def peak_mib(group: list[Case]) -> float:
    """The largest tracemalloc peak of any one check in the group."""
    peak = 0
    for case in group:
        tracemalloc.start()
        check_operations(case.model, case.history, timeout=DECIDE_WITHIN_S)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return peak / (1 << 20)


def row(name: str, seconds: float, go: float | None, verdict: str, peak: str = "") -> list[object]:
    ratio = f"{seconds / go:.1f}x" if go else ""
    return [name, f"{seconds * 1000:.1f}", f"{go * 1000:.1f}" if go else "", ratio, verdict, peak]


def verdict_of(group: list[Case]) -> str:
    wrong = [c.name for c in group if c.result is not c.expected]
    return "all as expected" if not wrong else "WRONG: " + ", ".join(wrong)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks porcupine_check")
    parser.add_argument("--repeat", type=int, default=3, help="runs per history; the best counts")
    args = parser.parse_args(argv)

    etcd, kv = cases()
    for case in etcd + kv:
        time_case(case, args.repeat)
    slowest = sorted(etcd, key=lambda c: c.seconds, reverse=True)
    shown, rest = slowest[:SHOWN_ETCD], slowest[SHOWN_ETCD:]
    total = sum(c.seconds for c in etcd)
    go_rest = GO_ETCD_TOTAL_S - sum(GO_SECONDS.get(c.name, 0.0) for c in shown)

    rows = [row(c.name, c.seconds, GO_SECONDS.get(c.name), c.result.value) for c in shown]
    rows.append(row(f"the other {len(rest)} etcd", sum(c.seconds for c in rest), go_rest, verdict_of(rest)))
    rows.append(row(f"etcd total ({len(etcd)} files)", total, GO_ETCD_TOTAL_S, verdict_of(etcd),
                    f"{peak_mib(etcd):.1f}"))
    rows += [row(c.name, c.seconds, GO_SECONDS[c.name], verdict_of([c]), f"{peak_mib([c]):.1f}") for c in kv]
    print_table(["history", "pyporcupine ms", "Porcupine (Go) ms", "ratio", "verdict", "peak MiB"], rows)

    ratio = total / GO_ETCD_TOTAL_S
    slowest_s = max(c.seconds for c in etcd + kv)
    undecided = [c.name for c in etcd + kv if c.result is CheckResult.UNKNOWN]
    print(f"\netcd set: {total:.3f} s = {ratio:.2f}x Porcupine's {GO_ETCD_TOTAL_S} s "
          f"(goal <= {GOAL_RATIO:.0f}x: {'met' if ratio <= GOAL_RATIO else 'NOT met'}); "
          f"slowest single check {slowest_s:.3f} s; undecided within {DECIDE_WITHIN_S:.0f} s: "
          f"{', '.join(undecided) or 'none'}")
