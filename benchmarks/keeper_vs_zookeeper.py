"""keeper against Apache ZooKeeper 3.8: the same kazoo workload on 3 servers of each, in one run.

Each kind gets a fresh 3-server ensemble on this machine from the same zoo.cfg
(ZooKeeper's defaults, so every write is fsynced before it is acknowledged).
Client processes, each with one kazoo session on its own server (writes from
followers are forwarded, as ZooKeeper does), go through three phases
together: create, set and get of 100-byte znodes, keeping a window of async
requests in flight so that a client round trip does not set the pace; an
unreported warm-up phase comes first, so ZooKeeper's JIT is not measured. A
phase's rate is its operations over the time from the first client's start to
the last client's end; latencies are per request, from submission to reply,
so they include waiting in the window. Every reply is checked (a get must
return what the set wrote): a failed request ends the benchmark.

This machine has 2 cores shared by clients and servers, so CPU time per side
is printed too: when the machine is full, the rates say what a server does
with what the clients leave it, not what it could do alone.

    python -m benchmarks keeper_vs_zookeeper [--clients=N] [--in-flight=N] [--operations=N] [--smoke] [--kinds=K,...]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import psutil
from kazoo.client import KazooClient

from benchmarks._table import print_table
from cluster.deploy.keeper_ensemble import KINDS, KeeperEnsemble, Kind

NODE_BYTES = 100
SERVERS = 3
PHASES = ("create", "set", "get")
WARM_UP = "warm-up"
"""An unreported first phase (creates, sets and gets of other znodes): ZooKeeper's JIT compiles while
it runs, so the first measured phase is not also a measure of the JVM starting up."""
WARM_UP_SHARE = 0.2
WRITE_GOAL = 0.5
READ_GOAL = 0.8
ROOT = "/bench"
PHASE_TIMEOUT = 300


@dataclass(frozen=True)
class ClientReport:
    """One client's phase: when it ran (CLOCK_MONOTONIC is shared by processes), its latencies and CPU."""

    phase: str
    started: float
    ended: float
    latencies: list[float]
    cpu_seconds: float


@dataclass(frozen=True)
class PhaseResult:
    kind: Kind
    phase: str
    operations: int
    seconds: float
    latencies: list[float]
    client_cpu: float
    server_cpu: float
    machine_cpu: float

    @property
    def rate(self) -> float:
        return self.operations / self.seconds

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return 1e3 * ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]

    def cores(self, cpu_seconds: float) -> float:
        return cpu_seconds / self.seconds


def main(argv: list[str]) -> None:
    options = _parse(argv)
    print(
        f"{psutil.cpu_count()} cores shared by clients and servers, load average {_load()} at start; "
        f"{options.clients} client processes x {options.in_flight} requests in flight, "
        f"{options.operations:,} operations per client per phase, {NODE_BYTES}-byte znodes, {SERVERS} servers, fsync on"
    )
    results: list[PhaseResult] = []
    for kind in options.kinds:
        with tempfile.TemporaryDirectory(prefix=f"bench-{kind}-") as workdir:
            results += _run_kind(kind, Path(workdir), options)
    print(f"load average {_load()} at end (1, 5, 15 min)")
    _print_results(results)
    _print_ratios(results)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks keeper_vs_zookeeper")
    parser.add_argument("--clients", type=int, default=4, help="client processes, one kazoo session each (default 4)")
    parser.add_argument("--in-flight", type=int, default=8, help="async requests each client keeps in flight (default 8)")
    parser.add_argument("--operations", type=int, default=2_500, help="operations per client per phase (default 2,500)")
    parser.add_argument("--smoke", action="store_true", help="a quick run: 200 operations per client per phase")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"which servers, in order (default {','.join(KINDS)})")
    options = parser.parse_args(argv)
    if options.smoke:
        options.operations = 200
    if min(options.clients, options.in_flight, options.operations) < 1:
        parser.error("--clients, --in-flight and --operations must be positive")
    options.kinds = [kind.strip() for kind in options.kinds.split(",")]
    unknown = [kind for kind in options.kinds if kind not in KINDS]
    if unknown:
        parser.error(f"unknown kind(s) {', '.join(unknown)}: choose from {', '.join(KINDS)}")
    return options


def _load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def _run_kind(kind: Kind, workdir: Path, options: argparse.Namespace) -> list[PhaseResult]:
    with KeeperEnsemble(kind, SERVERS, workdir) as ensemble:
        print(f"{kind}: serving at {ensemble.connect_string}, leader is server {ensemble.leader().node_id}", flush=True)
        servers = [psutil.Process(node.pid) for node in ensemble.nodes if node.pid is not None]
        setup = KazooClient(hosts=ensemble.connect_string)
        setup.start(timeout=30)
        setup.create(ROOT)
        setup.stop()
        setup.close()
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(options.clients + 1)
        reports: multiprocessing.Queue[ClientReport] = context.Queue()
        clients = [
            context.Process(
                target=_client,
                args=(ensemble.nodes[n % SERVERS].address, n, options.operations, options.in_flight, barrier, reports),
                daemon=True,
            )
            for n in range(options.clients)
        ]
        for client in clients:
            client.start()
        try:
            _phase(kind, WARM_UP, barrier, reports, servers, options)
            return [_phase(kind, phase, barrier, reports, servers, options) for phase in PHASES]
        finally:
            barrier.abort()
            for client in clients:
                client.join(timeout=30)
                if client.is_alive():
                    client.kill()


def _phase(
    kind: Kind, phase: str, barrier: Barrier, reports: "multiprocessing.Queue[ClientReport]",
    servers: list[psutil.Process], options: argparse.Namespace,
) -> PhaseResult:
    """Starts a phase on every client at once and gathers their reports; phase names keep the clients in step."""
    server_before, machine_before = _cpu(servers), _machine_busy()
    barrier.wait(timeout=PHASE_TIMEOUT)
    phase_reports = [reports.get(timeout=PHASE_TIMEOUT) for _ in range(options.clients)]
    server_after, machine_after = _cpu(servers), _machine_busy()
    assert all(report.phase == phase for report in phase_reports), "clients out of step"
    seconds = max(r.ended for r in phase_reports) - min(r.started for r in phase_reports)
    result = PhaseResult(
        kind, phase, sum(len(report.latencies) for report in phase_reports), seconds,
        [latency for report in phase_reports for latency in report.latencies],
        sum(report.cpu_seconds for report in phase_reports), server_after - server_before, machine_after - machine_before,
    )
    print(f"  {phase}: {result.rate:,.0f} ops/s", flush=True)
    return result


def _cpu(processes: list[psutil.Process]) -> float:
    return sum(sum(process.cpu_times()[:2]) for process in processes)


def _machine_busy() -> float:
    """CPU seconds every process on the machine spent (guest time is inside user time already)."""
    times = psutil.cpu_times()
    return sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq"))


def _client(
    server: str, number: int, operations: int, in_flight: int, barrier: Barrier, reports: "multiprocessing.Queue[ClientReport]"
) -> None:
    """One client process: its own session on one server, its own subtree, the phases in step with the others."""
    client = KazooClient(hosts=server, timeout=30)
    client.start(timeout=60)
    prefix = f"{ROOT}/client-{number}"
    client.create(prefix)
    paths = [f"{prefix}/node-{n:06}" for n in range(operations)]
    warm_up_paths = [f"{prefix}/warm-up-{n:06}" for n in range(max(1, int(operations * WARM_UP_SHARE)))]
    written = os.urandom(NODE_BYTES)

    def warm_up(path: str) -> Any:
        client.create(path, written)
        client.set(path, written)
        return client.get_async(path)

    calls: dict[str, Any] = {
        WARM_UP: warm_up,
        "create": lambda path: client.create_async(path, os.urandom(NODE_BYTES)),
        "set": lambda path: client.set_async(path, written),
        "get": client.get_async,
    }
    try:
        for phase in (WARM_UP, *PHASES):
            barrier.wait(timeout=PHASE_TIMEOUT)
            cpu, started = time.process_time(), time.monotonic()
            expected = written if phase in ("get", WARM_UP) else None
            latencies = _windowed(calls[phase], warm_up_paths if phase == WARM_UP else paths, in_flight, expected)
            reports.put(ClientReport(phase, started, time.monotonic(), latencies, time.process_time() - cpu))
    finally:
        client.stop()
        client.close()


def _windowed(call: Any, paths: list[str], in_flight: int, expected: bytes | None) -> list[float]:
    """Submits one request per path, `in_flight` at a time; a session answers in order, so the oldest ends first."""
    window: deque[tuple[float, Any]] = deque()
    latencies: list[float] = []

    def finish_oldest() -> None:
        submitted, pending = window.popleft()
        value = pending.get(timeout=PHASE_TIMEOUT)
        latencies.append(time.monotonic() - submitted)
        if expected is not None and value[0] != expected:
            raise AssertionError(f"get returned {value[0][:16]!r}..., not what the set phase wrote")

    for path in paths:
        if len(window) >= in_flight:
            finish_oldest()
        window.append((time.monotonic(), call(path)))
    while window:
        finish_oldest()
    return latencies


def _print_results(results: list[PhaseResult]) -> None:
    print_table(
        ["system", "phase", "ops", "ops/s", "p50 ms", "p99 ms", "client cores", "server cores", "other cores"],
        [
            [
                r.kind, r.phase, r.operations, round(r.rate), r.percentile_ms(0.5), r.percentile_ms(0.99),
                r.cores(r.client_cpu), r.cores(r.server_cpu), r.cores(max(r.machine_cpu - r.client_cpu - r.server_cpu, 0.0)),
            ]
            for r in results
        ],
    )


def _print_ratios(results: list[PhaseResult]) -> None:
    by_kind = {(r.kind, r.phase): r for r in results}
    if not all((kind, phase) in by_kind for kind in KINDS for phase in PHASES):
        return
    rows: list[list[object]] = []
    for phase in PHASES:
        keeper, zookeeper = by_kind["keeper", phase], by_kind["zookeeper", phase]
        goal = READ_GOAL if phase == "get" else WRITE_GOAL
        ratio = keeper.rate / zookeeper.rate
        rows.append([
            phase, f"{ratio:.0%}", f">= {goal:.0%}", "yes" if ratio >= goal else "no",
            f"{keeper.percentile_ms(0.99) / zookeeper.percentile_ms(0.99):.2f}x",
        ])
    print_table(["phase", "keeper/zookeeper ops/s", "goal", "met", "keeper/zookeeper p99"], rows)
