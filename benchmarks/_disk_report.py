"""The disk_faults benchmark's tables: mounted against plain, what each side spent, what bounds the mounted side,
the latency of one fsynced write, and the goal.

Rates pool a configuration's rounds (all its messages over all its seconds); the per-round ratios show how far
the machine's other work moved them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields

import psutil

from benchmarks._bare_mount import PROBE_BYTES, FsyncLatencies
from benchmarks._cpu import SATURATED, Usage
from benchmarks._disk_sides import MOUNTED, PLAIN, Phase
from benchmarks._fuse_daemon import NOTHING, DaemonCost
from benchmarks._fuse_requests import KINDS
from benchmarks._table import print_table
from benchmarks._thread_states import NONE as NO_STATES
from benchmarks._thread_states import ThreadStates

RATIO_GOAL = 0.3


@dataclass(frozen=True)
class Pooled:
    """One configuration's rounds on one side, taken together."""

    phases: list[Phase]

    @property
    def messages(self) -> int:
        return sum(p.messages for p in self.phases)

    @property
    def usage(self) -> Usage:
        return Usage(*(sum(getattr(p.usage, name) for p in self.phases) for name in (f.name for f in fields(Usage))))

    @property
    def daemon(self) -> DaemonCost:
        return sum((p.daemon for p in self.phases), NOTHING)

    @property
    def rate(self) -> float:
        return self.messages / self.usage.seconds

    @property
    def states(self) -> ThreadStates:
        return sum((p.states for p in self.phases), NO_STATES)

    @property
    def log_bytes(self) -> int:
        return sum(p.log_bytes for p in self.phases)

    def requests(self) -> dict[str, int] | None:
        counts = [p.requests for p in self.phases]
        if any(c is None for c in counts):
            return None
        return {kind: sum(c[kind] for c in counts if c is not None) for kind in KINDS}

    def limit(self) -> str:
        return _limit(self.usage, self.daemon, self.states)

    def percentile(self, fraction: float) -> float:
        return _percentile(sorted(latency for p in self.phases for latency in p.latencies), fraction)


@dataclass(frozen=True)
class Results:
    phases: list[Phase]
    """Every measured produce phase, in the order run (warm-ups left out)."""
    sequential: dict[tuple[str, str], list[float]]
    """(workload, side): seconds per message sent one at a time, sorted."""
    fsync: FsyncLatencies


def print_report(results: Results) -> None:
    pooled: dict[tuple[str, str], dict[str, Pooled]] = defaultdict(dict)
    grouped: dict[tuple[str, str, str], list[Phase]] = defaultdict(list)
    for phase in results.phases:
        grouped[phase.setup, phase.workload, phase.side].append(phase)
    for (setup, workload, side), group in grouped.items():
        pooled[setup, workload][side] = Pooled(group)
    _print_rates(pooled)
    _print_spent(pooled)
    _print_requests(pooled)
    _print_latencies(results.sequential, results.fsync)
    _print_goal(pooled)


def _print_rates(pooled: dict[tuple[str, str], dict[str, Pooled]]) -> None:
    print("produce, acks=all: msg/s over all rounds, p50/p99 of produce()-to-delivery in ms, mounted/plain")
    rows: list[list[object]] = []
    for (setup, workload), sides in pooled.items():
        plain, mounted = sides[PLAIN], sides[MOUNTED]
        rows.append([setup, workload, round(plain.rate), round(mounted.rate), f"{mounted.rate / plain.rate:.2f}x",
                     _round_ratios(plain, mounted), plain.percentile(0.5), plain.percentile(0.99),
                     mounted.percentile(0.5), mounted.percentile(0.99)])
    print_table(["setup", "workload", "plain msg/s", "mounted msg/s", "ratio", "per round: median (range)",
                 "plain p50", "p99", "mounted p50", "p99"], rows)


def _round_ratios(plain: Pooled, mounted: Pooled) -> str:
    """The median and the range of the rounds' ratios."""
    ratios = sorted(m.rate / p.rate for p, m in zip(plain.phases, mounted.phases))
    return f"{ratios[len(ratios) // 2]:.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})"


def _print_spent(pooled: dict[tuple[str, str], dict[str, Pooled]]) -> None:
    print(f"CPU while the phases ran, in cores of the {psutil.cpu_count()} here (busiest: the busiest thread; the "
          f"daemons serve the mounted side's data directories; per message in us), and where the brokers' serving "
          f"threads spent the time (% of samples: running or runnable, waiting for the FUSE daemon, for the disk)")
    rows: list[list[object]] = []
    for (setup, workload), sides in pooled.items():
        for name in (PLAIN, MOUNTED):
            side = sides[name]
            u, d, states = side.usage, side.daemon, side.states
            rows.append([setup, workload, name, u.cores(u.client_peak), u.cores(u.server), u.cores(u.server_peak),
                         u.cores(d.cpu), u.cores(d.peak_thread), u.cores(u.machine), 1e6 * u.server / side.messages,
                         1e6 * d.cpu / side.messages,
                         *(f"{100 * states.share(state):.0f}" for state in ("running", "fuse", "disk")), side.limit()])
    print_table(["setup", "workload", "side", "client busiest", "brokers", "busiest", "daemons", "busiest", "machine",
                 "broker us/msg", "daemon us/msg", "run %", "FUSE %", "disk %", "limit"], rows)


def _limit(usage: Usage, daemon: DaemonCost, states: ThreadStates) -> str:
    """A thread near a full core; else, on a full machine, the process kind spending the most CPU; else waiting. Then
    how busy the brokers' serving threads were, and on what they waited: a thread blocked in a write is not free to
    take the next request, and that wait is nobody's CPU time."""
    threads = {"client": usage.client_peak, "broker": usage.server_peak, "daemon": daemon.peak_thread}
    name, peak = max(threads.items(), key=lambda item: item[1])
    if usage.cores(peak) >= SATURATED:
        cpu = f"{name} thread at {usage.cores(peak):.2f} cores"
    elif usage.cores(usage.machine) >= SATURATED * (psutil.cpu_count() or 1):
        spent = {"client": usage.client, "brokers": usage.server, "daemons": daemon.cpu,
                 "others": max(usage.others - daemon.cpu, 0.0)}
        name = max(spent, key=lambda kind: spent[kind])
        cpu = f"full machine, {name} most ({usage.cores(spent[name]):.2f} cores)"
    else:
        cpu = "no thread or machine saturated"
    waits = [f"{100 * states.share(state):.0f}% {what}"
             for state, what in (("fuse", "on the daemon"), ("disk", "on the disk")) if states.share(state) >= 0.05]
    return f"{cpu}; broker thread {100 * states.busy:.0f}% busy" + (f", {', '.join(waits)}" if waits else "")


def _print_requests(pooled: dict[tuple[str, str], dict[str, Pooled]]) -> None:
    rows: list[list[object]] = []
    for (setup, workload), sides in pooled.items():
        mounted = sides[MOUNTED]
        requests, d = mounted.requests(), mounted.daemon
        stored = f"{mounted.log_bytes / mounted.messages:.0f}"
        per_mb = 1e3 * d.cpu / (mounted.log_bytes / 1e6) if mounted.log_bytes else "-"
        if requests is None:
            rows.append([setup, workload, stored, per_mb, *["n/a"] * 7])
            continue
        per_k = {kind: 1e3 * count / mounted.messages for kind, count in requests.items()}
        rows.append([setup, workload, stored, per_mb, per_k["all"], per_k["write"], per_k["fsync"], per_k["lookup"],
                     per_k["all"] - per_k["write"] - per_k["fsync"] - per_k["lookup"],
                     round(mounted.log_bytes / requests["write"]) if requests["write"] else "-",
                     1e6 * d.cpu / requests["all"] if requests["all"] else "-"])
    print("the mounted side's FUSE requests (all brokers' mounts), per 1,000 messages; bytes stored per message "
          "(all replicas); daemon CPU per MB stored and per request")
    print_table(["setup", "workload", "bytes/msg", "daemon ms/MB", "requests", "write", "fsync", "lookup", "other",
                 "bytes/write", "daemon us/request"], rows)


def _print_latencies(sequential: dict[tuple[str, str], list[float]], fsync: FsyncLatencies) -> None:
    print("one write at a time, in ms: a message acknowledged (acks=all) before the next is sent, 1 broker; and "
          f"{fsync.write_bytes:,}-byte write+fsync pairs through a bare mount and in a plain directory")
    rows: list[list[object]] = []
    for workload in dict.fromkeys(workload for workload, _ in sequential):
        plain, mounted = sequential[workload, PLAIN], sequential[workload, MOUNTED]
        rows.append([f"produce, {workload}", *_quantiles(plain), *_quantiles(mounted),
                     f"{_percentile(mounted, 0.5) / _percentile(plain, 0.5):.2f}x"])
    rows.append(["write+fsync", *_quantiles(fsync.plain), *_quantiles(fsync.mounted),
                 f"{_percentile(fsync.mounted, 0.5) / _percentile(fsync.plain, 0.5):.2f}x"])
    print_table(["what", "plain p50", "p99", "mounted p50", "p99", "p50 ratio"], rows)
    pairs = len(fsync.mounted)
    print(f"the daemon spent {1e6 * fsync.daemon.cpu / pairs:.1f} us of CPU per write+fsync pair; a "
          f"{PROBE_BYTES >> 20}-MiB write(2) reached it as FUSE write requests of "
          f"{fsync.request_bytes / 1024:,.0f} KiB (max_write)")


def _quantiles(latencies: list[float]) -> list[float]:
    return [_percentile(latencies, 0.5), _percentile(latencies, 0.99)]


def _percentile(latencies: list[float], fraction: float) -> float:
    return 1e3 * latencies[min(int(len(latencies) * fraction), len(latencies) - 1)]


def _print_goal(pooled: dict[tuple[str, str], dict[str, Pooled]]) -> None:
    rows: list[list[object]] = []
    for (setup, workload), sides in pooled.items():
        plain, mounted = sides[PLAIN], sides[MOUNTED]
        ratio = mounted.rate / plain.rate
        rows.append([f"{setup}, {workload}: mounted / plain msg/s", f"{ratio:.2f}x", f">= {RATIO_GOAL}x",
                     "yes" if ratio >= RATIO_GOAL else "NO", f"{round(mounted.rate):,} / {round(plain.rate):,}",
                     mounted.limit()])
    print_table(["goal", "measured", "target", "met", "msg/s", "the mounted side's bound"], rows)
