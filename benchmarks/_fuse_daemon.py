"""What the fault filesystem's daemons spent while a phase ran: CPU time and read syscalls.

A mounted node's writes cost CPU in a second process, the daemon serving its mount, which the broker's own figures
do not show. The daemon reads each FUSE request from /dev/fuse with one read(2) (libfuse3 splices nothing unless
asked), so while it only serves writes its read syscalls count the requests: measured through a bare mount
(2026-12-07), 2,000 4-KiB writes cost it 1.0005 read(2) calls each, an 8-MiB write 8. Its reads of the files it
serves count too, and so does each copy_file_range of an fsync (the kernel counts it as a read and a write): the
FUSE requests of a whole phase are counted by benchmarks._fuse_requests instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

import psutil

from benchmarks._cpu import CpuSnapshot
from cluster.faultfs.record import PID_NAME

T = TypeVar("T")


@dataclass(frozen=True)
class DaemonCost:
    """What the daemons of one side spent during one phase; all zero for a side with no mount."""

    cpu: float
    """CPU seconds, every daemon and thread together."""
    peak_thread: float
    """CPU seconds of the busiest daemon thread alive at the end (summed when phases are taken together, as
    benchmarks._cpu's busiest threads are, so that over their seconds it is the busiest thread's mean share)."""
    reads: int
    """read(2) calls (and copy_file_range calls) of the daemons."""

    def __add__(self, other: DaemonCost) -> DaemonCost:
        return DaemonCost(self.cpu + other.cpu, self.peak_thread + other.peak_thread, self.reads + other.reads)


NOTHING = DaemonCost(0.0, 0.0, 0)


def daemon_of(state_dir: Path) -> psutil.Process:
    """The daemon serving the mount whose state directory this is (its pid file, docs/faultfs.md)."""
    return psutil.Process(int((state_dir / PID_NAME).read_text()))


def daemon_cost(daemons: list[psutil.Process], work: Callable[[], T]) -> tuple[T, DaemonCost]:
    """Run work and account what the daemons spent meanwhile."""
    cpu_before, reads_before = CpuSnapshot.of(daemons), _reads(daemons)
    value = work()
    cpu_after, reads_after = CpuSnapshot.of(daemons), _reads(daemons)
    total, peak = cpu_after.spent_since(cpu_before)
    return value, DaemonCost(total, peak, reads_after - reads_before)


def _reads(daemons: list[psutil.Process]) -> int:
    return sum(daemon.io_counters().read_count for daemon in daemons)
