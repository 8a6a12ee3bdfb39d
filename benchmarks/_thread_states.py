"""Where the brokers' threads spend a phase: running, waiting for the FUSE daemon, waiting for the disk, or idle.

CPU time alone cannot show what bounds a broker whose writes go through FUSE: a write(2) blocks its thread while the
daemon serves it, and that wait is neither the broker's CPU nor the daemon's. So a separate process (not a thread of
the client, whose GIL it would take) samples every thread's state and wait channel from /proc every SAMPLE_EVERY
seconds: R is running or runnable, a sleep in the kernel's FUSE request wait (request_wait_answer, fuse_*) is waiting
for the daemon, any other D is waiting for the disk, any other sleep is idle. The thread that was least idle is the
one serving the clients.

    python -m benchmarks._thread_states PID ...   (samples until a line arrives on stdin, then prints JSON)
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")

SAMPLE_EVERY = 0.002
_SOURCE_ROOT = str(Path(__file__).resolve().parents[1])
STATES = ("running", "fuse", "disk", "idle")


@dataclass(frozen=True)
class ThreadStates:
    """Samples per state of each process's least idle thread, summed over the processes."""

    counts: dict[str, int]

    def __add__(self, other: ThreadStates) -> ThreadStates:
        return ThreadStates({state: self.counts.get(state, 0) + other.counts.get(state, 0) for state in STATES})

    def share(self, state: str) -> float:
        total = sum(self.counts.values())
        return self.counts.get(state, 0) / total if total else 0.0

    @property
    def busy(self) -> float:
        """The share of the time the thread could not take new work: running or waiting for a write to finish."""
        return 1.0 - self.share("idle")


NONE = ThreadStates({state: 0 for state in STATES})


def sampled(pids: list[int], work: Callable[[], T]) -> tuple[T, ThreadStates]:
    """Run work while the sampler process watches these processes' threads."""
    sampler = subprocess.Popen([sys.executable, "-m", "benchmarks._thread_states", *map(str, pids)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": _SOURCE_ROOT})
    try:
        if sampler.stdout is None or sampler.stdout.readline().strip() != "sampling":
            raise RuntimeError("the thread state sampler did not start")
        value = work()
        output, _ = sampler.communicate("stop\n", timeout=30)
    finally:
        if sampler.poll() is None:
            sampler.kill()
            sampler.wait()
    return value, _least_idle(json.loads(output))


def _least_idle(samples: dict[str, dict[str, dict[str, int]]]) -> ThreadStates:
    total = NONE
    for threads in samples.values():
        if threads:
            busiest = min(threads.values(), key=lambda counts: counts.get("idle", 0) / max(sum(counts.values()), 1))
            total += ThreadStates(busiest)
    return total


def _sample(pids: list[int]) -> dict[str, dict[str, dict[str, int]]]:
    counts: dict[int, dict[str, Counter]] = {pid: {} for pid in pids}
    print("sampling", flush=True)
    while not select.select([sys.stdin], [], [], SAMPLE_EVERY)[0]:
        for pid in pids:
            for tid in _threads(pid):
                state = _state(pid, tid)
                if state is not None:
                    counts[pid].setdefault(tid, Counter())[state] += 1
    return {str(pid): {tid: dict(c) for tid, c in threads.items()} for pid, threads in counts.items()}


def _threads(pid: int) -> list[str]:
    try:
        return os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []


def _state(pid: int, tid: str) -> str | None:
    try:
        with open(f"/proc/{pid}/task/{tid}/stat") as stat, open(f"/proc/{pid}/task/{tid}/wchan") as wchan:
            letter, channel = stat.read().rsplit(")", 1)[1].split()[0], wchan.read()
    except OSError:
        return None
    if letter == "R":
        return "running"
    if channel == "request_wait_answer" or channel.startswith("fuse_"):
        return "fuse"
    return "disk" if letter == "D" else "idle"


if __name__ == "__main__":
    print(json.dumps(_sample([int(pid) for pid in sys.argv[1:]])), flush=True)
