"""The fault filesystem without a broker: write+fsync latency through a bare mount beside a plain directory on the
same disk, and the size of the FUSE write requests the kernel cuts a large write into (its max_write).

Both files are appended to in blocks taken in turn, so that whatever else the machine does falls on both alike.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from benchmarks._fuse_daemon import NOTHING, DaemonCost, daemon_cost, daemon_of
from cluster.faultfs import FaultMount

BLOCK = 100
"""write+fsync pairs taken on one side before the other side's turn."""
PROBE_BYTES = 8 << 20


@dataclass(frozen=True)
class FsyncLatencies:
    write_bytes: int
    plain: list[float]
    mounted: list[float]
    """Seconds per write+fsync pair, sorted."""
    daemon: DaemonCost
    """What the daemon spent on the mounted pairs."""
    request_bytes: float
    """The mean size of the FUSE requests one PROBE_BYTES write through the mount became."""


def measure(pairs: int, write_bytes: int = 4096) -> FsyncLatencies:
    with tempfile.TemporaryDirectory(prefix="logquake-bench-fsync-") as work:
        plain = Path(work) / "plain"
        plain.mkdir()
        mount = FaultMount(Path(work) / "node" / "data", Path(work) / "node" / "faultfs", owner="benchmark")
        mount.mount()
        try:
            daemon = [daemon_of(mount.state_dir)]
            latencies, cost = _interleaved(plain / "log", mount.mountpoint / "log", daemon, pairs, write_bytes)
            request_bytes = _request_bytes(mount.mountpoint / "probe", daemon)
        finally:
            mount.unmount()
    return FsyncLatencies(write_bytes, sorted(latencies[0]), sorted(latencies[1]), cost, request_bytes)


def _interleaved(plain: Path, mounted: Path, daemon: list[psutil.Process], pairs: int,
                 write_bytes: int) -> tuple[tuple[list[float], list[float]], DaemonCost]:
    data = os.urandom(write_bytes)
    results: tuple[list[float], list[float]] = ([], [])
    cost = NOTHING
    fds = [os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) for path in (plain, mounted)]
    try:
        for start in range(0, pairs, BLOCK):
            count = min(BLOCK, pairs - start)
            results[0].extend(_pairs(fds[0], data, count))
            block, spent = daemon_cost(daemon, lambda: _pairs(fds[1], data, count))
            results[1].extend(block)
            cost += spent
    finally:
        for fd in fds:
            os.close(fd)
    return results, cost


def _pairs(fd: int, data: bytes, count: int) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        os.write(fd, data)
        os.fsync(fd)
        latencies.append(time.perf_counter() - started)
    return latencies


def _request_bytes(path: Path, daemon: list[psutil.Process]) -> float:
    """One write(2) of PROBE_BYTES to a file opened beforehand (an open and a close are requests of their own).

    The buffer is written to first: the kernel cuts a request short at a page of the buffer that is not yet mapped
    (bytes(n) of fresh memory, 2 KiB a request measured), and a broker's buffers are in use."""
    data = os.urandom(PROBE_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        written, cost = daemon_cost(daemon, lambda: os.write(fd, data))
    finally:
        os.close(fd)
    if written != PROBE_BYTES or cost.reads < 1:
        raise RuntimeError(f"probe: {written:,} of {PROBE_BYTES:,} bytes written in {cost.reads} FUSE requests")
    return PROBE_BYTES / cost.reads
