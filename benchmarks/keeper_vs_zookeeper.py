"""keeper against Apache ZooKeeper 3.8: the same kazoo workload on 3 servers of each, in one run.

Both kinds run side by side as fresh 3-server ensembles on this machine from
the same zoo.cfg (ZooKeeper's defaults, so every write is fsynced before it is
acknowledged). Each kind has its own client processes, each with one kazoo
session on its own server (writes from followers are forwarded, as ZooKeeper
does). The clients of one kind go through a phase together: create, set or get
of 100-byte znodes, keeping a window of async requests in flight so that a
client round trip does not set the pace. Phases alternate between the kinds
(create on ZooKeeper, create on keeper, set on ZooKeeper, ...) for several
rounds, so a change in the machine's load falls on both, and the idle kind
costs next to nothing meanwhile. An unreported warm-up phase comes first, so
ZooKeeper's JIT is not measured.

A phase's rate is its operations over the time from the first client's start
to the last client's end; the table gives all rounds together and the range of
the per-round rates. Latencies are per request, from submission to reply, so
they include waiting in the window. Every reply is checked (a get must return
what the set wrote): a failed request ends the benchmark.

Clients, servers and whatever else runs share the machine's cores, so CPU
time per side is printed too: when the machine is full, the rates say what a
server does with what is left to it, not what it could do alone.

    python -m benchmarks keeper_vs_zookeeper [--clients=N] [--in-flight=N] [--operations=N] [--rounds=N] [--smoke] [--kinds=K,...]
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any, Callable, Iterator

import psutil
from kazoo.client import KazooClient

from benchmarks._cpu import CpuSnapshot, load_average, machine_busy
from benchmarks._table import print_table
from cluster.deploy.keeper_ensemble import KINDS, KeeperEnsemble, Kind

NODE_BYTES = 100
SERVERS = 3
PHASES = ("create", "set", "get")
WARM_UP = "warm-up"
WARM_UP_SHARE = 0.2
"""Warm-up operations per client, as a share of a phase's."""
WRITE_GOAL = 0.5
READ_GOAL = 0.8
ROOT = "/bench"
PHASE_TIMEOUT = 300


@dataclass(frozen=True)
class ClientReport:
    """One client's phase: when it ran (CLOCK_MONOTONIC is shared by processes), its latencies and its CPU."""

    phase: str
    started: float
    ended: float
    latencies: list[float]
    cpu_seconds: float


@dataclass(frozen=True)
class PhaseResult:
    """One phase on one kind: a single round, or several rounds added together."""

    kind: Kind
    phase: str
    operations: int
    seconds: float
    latencies: list[float]
    client_cpu: float
    server_cpu: float
    machine_cpu: float
    round_rates: tuple[float, ...]

    @property
    def rate(self) -> float:
        return self.operations / self.seconds

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return 1e3 * ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]

    def cores(self, cpu_seconds: float) -> float:
        return cpu_seconds / self.seconds

    def rate_range(self) -> str:
        return f"{min(self.round_rates):,.0f}-{max(self.round_rates):,.0f}"


def combined(rounds: list[PhaseResult]) -> PhaseResult:
    first = rounds[0]
    return PhaseResult(
        first.kind, first.phase,
        sum(r.operations for r in rounds), sum(r.seconds for r in rounds),
        [latency for r in rounds for latency in r.latencies],
        sum(r.client_cpu for r in rounds), sum(r.server_cpu for r in rounds), sum(r.machine_cpu for r in rounds),
        tuple(rate for r in rounds for rate in r.round_rates),
    )


class Side:
    """One kind: its ensemble, its client processes, and the barrier that starts them on each phase together."""

    def __init__(self, ensemble: KeeperEnsemble, options: argparse.Namespace) -> None:
        self.kind = ensemble.kind
        self.servers = [psutil.Process(node.pid) for node in ensemble.nodes if node.pid is not None]
        self.clients_count = options.clients
        context = multiprocessing.get_context("spawn")
        self.barrier = context.Barrier(options.clients + 1)
        self.reports: Any = context.Queue()
        self.clients: list[SpawnProcess] = [
            context.Process(
                target=_client,
                args=(ensemble.nodes[n % SERVERS].address, n, options, self.barrier, self.reports),
                daemon=True,
            )
            for n in range(options.clients)
        ]
        for client in self.clients:
            client.start()

    def run(self, phase: str) -> PhaseResult:
        """Starts a phase on every client at once and gathers their reports; phase names keep the clients in step."""
        server_before, machine_before = CpuSnapshot.of(self.servers).total, machine_busy()
        self.barrier.wait(timeout=PHASE_TIMEOUT)
        reports: list[ClientReport] = [self.reports.get(timeout=PHASE_TIMEOUT) for _ in range(self.clients_count)]
        server_after, machine_after = CpuSnapshot.of(self.servers).total, machine_busy()
        if any(report.phase != phase for report in reports):
            raise RuntimeError(f"{self.kind} clients out of step: expected {phase}, got {[r.phase for r in reports]}")
        seconds = max(r.ended for r in reports) - min(r.started for r in reports)
        operations = sum(len(report.latencies) for report in reports)
        print(f"  {self.kind} {phase}: {operations / seconds:,.0f} ops/s", flush=True)
        return PhaseResult(
            self.kind, phase, operations, seconds,
            [latency for report in reports for latency in report.latencies],
            sum(report.cpu_seconds for report in reports), server_after - server_before, machine_after - machine_before,
            (operations / seconds,),
        )

    def close(self) -> None:
        self.barrier.abort()
        for client in self.clients:
            client.join(timeout=30)
            if client.is_alive():
                client.kill()


def main(argv: list[str]) -> None:
    options = _parse(argv)
    print(
        f"{psutil.cpu_count()} cores shared by clients and servers, load average {load_average()} at start; "
        f"{options.clients} client processes per kind x {options.in_flight} requests in flight, "
        f"{options.operations:,} operations per client per phase, {options.rounds} rounds, "
        f"{NODE_BYTES}-byte znodes, {SERVERS} servers per kind, fsync on"
    )
    with _sides(options) as sides:
        for side in sides:
            side.run(WARM_UP)
        rounds = [side.run(phase) for _ in range(options.rounds) for phase in PHASES for side in sides]
    print(f"load average {load_average()} at end (1, 5, 15 min)")
    results = [
        combined([r for r in rounds if (r.kind, r.phase) == (side_kind, phase)])
        for side_kind in options.kinds for phase in PHASES
    ]
    _print_results(results)
    _print_ratios(results)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks keeper_vs_zookeeper")
    parser.add_argument("--clients", type=int, default=4, help="client processes per kind, one kazoo session each (default 4)")
    parser.add_argument("--in-flight", type=int, default=8, help="async requests each client keeps in flight (default 8)")
    parser.add_argument("--operations", type=int, default=1_500, help="operations per client per phase and round (default 1,500)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of create, set, get on each kind in turn (default 3)")
    parser.add_argument("--smoke", action="store_true", help="a quick run: 200 operations per client, 1 round")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"which servers, in order (default {','.join(KINDS)})")
    options = parser.parse_args(argv)
    if options.smoke:
        options.operations, options.rounds = 200, 1
    if min(options.clients, options.in_flight, options.operations, options.rounds) < 1:
        parser.error("--clients, --in-flight, --operations and --rounds must be positive")
    options.kinds = [kind.strip() for kind in options.kinds.split(",")]
    unknown = [kind for kind in options.kinds if kind not in KINDS]
    if unknown:
        parser.error(f"unknown kind(s) {', '.join(unknown)}: choose from {', '.join(KINDS)}")
    return options


@contextlib.contextmanager
def _sides(options: argparse.Namespace) -> Iterator[list[Side]]:
    """Every kind's ensemble and clients, all torn down on the way out, also after a failure."""
    with contextlib.ExitStack() as stack:
        sides = []
        for kind in options.kinds:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"bench-{kind}-")))
            ensemble = stack.enter_context(KeeperEnsemble(kind, SERVERS, workdir))
            print(f"{kind}: serving at {ensemble.connect_string}, leader is server {ensemble.leader().node_id}", flush=True)
            _create_root(ensemble.connect_string)
            side = Side(ensemble, options)
            stack.callback(side.close)
            sides.append(side)
        yield sides


def _create_root(hosts: str) -> None:
    client = KazooClient(hosts=hosts)
    client.start(timeout=30)
    try:
        client.create(ROOT)
    finally:
        client.stop()
        client.close()


def _client(server: str, number: int, options: argparse.Namespace, barrier: Barrier, reports: Any) -> None:
    """One client process: its own session on one server, its own subtree, each phase in step with its kind's others."""
    client = KazooClient(hosts=server, timeout=30)
    client.start(timeout=60)
    written = os.urandom(NODE_BYTES)

    def warm_up(path: str) -> Any:
        client.create(path, written)
        client.set(path, written)
        return client.get_async(path)

    calls: dict[str, Callable[[str], Any]] = {
        WARM_UP: warm_up,
        "create": lambda path: client.create_async(path, os.urandom(NODE_BYTES)),
        "set": lambda path: client.set_async(path, written),
        "get": client.get_async,
    }
    prefix = f"{ROOT}/client-{number}"
    client.create(prefix)
    warm_up_count = max(1, int(options.operations * WARM_UP_SHARE))
    schedule = [(WARM_UP, [f"{prefix}/warm-up-{n:06}" for n in range(warm_up_count)])] + [
        (phase, [f"{prefix}/round-{round_}-{n:06}" for n in range(options.operations)])
        for round_ in range(options.rounds) for phase in PHASES
    ]
    try:
        for phase, paths in schedule:
            barrier.wait(timeout=PHASE_TIMEOUT)
            cpu, started = time.process_time(), time.monotonic()
            expected = written if phase in ("get", WARM_UP) else None
            latencies = _windowed(calls[phase], paths, options.in_flight, expected)
            reports.put(ClientReport(phase, started, time.monotonic(), latencies, time.process_time() - cpu))
    finally:
        client.stop()
        client.close()


def _windowed(call: Callable[[str], Any], paths: list[str], in_flight: int, expected: bytes | None) -> list[float]:
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
        ["system", "phase", "ops", "ops/s", "rounds' ops/s", "p50 ms", "p99 ms", "client cores", "server cores", "other cores"],
        [
            [
                r.kind, r.phase, r.operations, round(r.rate), r.rate_range(), r.percentile_ms(0.5), r.percentile_ms(0.99),
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
