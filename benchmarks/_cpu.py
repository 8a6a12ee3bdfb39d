"""CPU accounting for the benchmarks: who spent the machine's CPU while a phase ran.

Clients, servers and whatever else runs share the machine's cores, so a rate alone cannot say whether a
phase was computing or waiting, nor on whom. A phase is accounted three ways: the client (this process),
the server's processes, and the whole machine; the busiest thread of each side shows which one saturated.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

import psutil

SATURATED = 0.85
"""A thread above this share of one core is taken to be the bottleneck."""

T = TypeVar("T")


@dataclass(frozen=True)
class Usage:
    """CPU seconds spent while one phase ran, split by who spent them."""

    seconds: float
    client: float
    client_peak: float
    server: float
    server_peak: float
    machine: float

    @property
    def others(self) -> float:
        return max(self.machine - self.client - self.server, 0.0)

    def cores(self, cpu_seconds: float) -> float:
        return cpu_seconds / self.seconds

    def limit(self) -> str:
        """Which side held the rate back, with the figure that says so."""
        client, server = self.cores(self.client_peak), self.cores(self.server_peak)
        if max(client, server) >= SATURATED:
            side, peak = ("client", client) if client >= server else ("server", server)
            return f"{side}-bound (a {side} thread at {peak:.2f} cores)"
        if self.cores(self.machine) >= SATURATED * (psutil.cpu_count() or 1):
            side = "client" if self.client >= self.server else "server"
            return f"{side}-bound on a full machine (the {side} costs more CPU per message)"
        return "waiting (no thread or machine saturated)"


def measured(server: list[psutil.Process], work: Callable[[], T]) -> tuple[T, Usage]:
    """Run work and account the CPU time it caused: this process, the server's processes, and the whole machine.

    Totals come from the processes (they keep the time of threads that ended); the busiest thread comes from
    threads alive at the end, so callers keep their client objects, and so their threads, alive around work."""
    client = [psutil.Process()]
    before = CpuSnapshot.of(client), CpuSnapshot.of(server), machine_busy()
    started = time.perf_counter()
    value = work()
    seconds = time.perf_counter() - started
    after = CpuSnapshot.of(client), CpuSnapshot.of(server), machine_busy()
    client_total, client_peak = after[0].spent_since(before[0])
    server_total, server_peak = after[1].spent_since(before[1])
    return value, Usage(seconds, client_total, client_peak, server_total, server_peak, after[2] - before[2])


@dataclass(frozen=True)
class CpuSnapshot:
    processes: dict[int, float]
    """CPU seconds per process, including its threads that have ended."""
    threads: dict[tuple[int, int], float]
    """CPU seconds per live thread, keyed by (pid, tid): threads, not processes, show which side saturates."""

    @classmethod
    def of(cls, processes: list[psutil.Process]) -> CpuSnapshot:
        totals: dict[int, float] = {}
        threads: dict[tuple[int, int], float] = {}
        for process in processes:
            try:
                times = process.cpu_times()
                totals[process.pid] = times.user + times.system
                for thread in process.threads():
                    threads[process.pid, thread.id] = thread.user_time + thread.system_time
            except psutil.NoSuchProcess:
                continue
        return cls(totals, threads)

    @property
    def total(self) -> float:
        return sum(self.processes.values())

    def spent_since(self, before: CpuSnapshot) -> tuple[float, float]:
        """Total and busiest thread's CPU seconds since `before` (the kernel counts both in 10 ms ticks, so a
        thread can appear to outspend its process by a tick: it is capped at the process total)."""
        total = sum(seconds - before.processes.get(pid, 0.0) for pid, seconds in self.processes.items())
        peak = max((seconds - before.threads.get(key, 0.0) for key, seconds in self.threads.items()), default=0.0)
        return total, min(peak, total)


def machine_busy() -> float:
    """CPU seconds every process on the machine spent (guest time is inside user time already)."""
    times = psutil.cpu_times()
    return times.user + times.nice + times.system + times.irq + times.softirq + times.steal


def load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())
