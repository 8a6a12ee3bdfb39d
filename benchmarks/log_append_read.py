"""Partition log throughput against the disk's own: append vs plain writes, read vs plain sendfile.

Appends 16 KiB batches up to --size (default 1 GiB) with flushing off, then
reads everything back through read() regions and os.sendfile to a socket
that another thread drains. The baselines run in the same process on the same
disk, with the same bytes: sequential os.write of the batches, and sendfile of
the segment files in the same chunk size. Goals: append >= 70% and read >= 80%
of their baseline. On a shared machine the ratio moves with everyone else's
load, so the run also prints the load average and the CPU each append and
each plain write took: the log's own cost is the difference.

    python -m benchmarks log_append_read [--size=256M] [--dir=PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from benchmarks._table import print_table
from cluster.broker.log import LogConfig, PartitionLog
from cluster.broker.protocol.records import Record, build_batch

BATCH_BYTES = 16 * 1024
READ_BYTES = 1 << 20
SLICE_BATCHES = 256
READ_ROUNDS = 3
APPEND_GOAL = 0.70
READ_GOAL = 0.80
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def main(argv: list[str]) -> None:
    options = _parse(argv)
    batch = _batch_of(BATCH_BYTES)
    count = max(options.size // len(batch), 1)
    total = count * len(batch)
    print(f"{count:,} batches of {len(batch):,} bytes = {total / (1 << 20):,.0f} MiB in {options.dir or tempfile.gettempdir()}")
    work = Path(tempfile.mkdtemp(prefix="logquake-bench-", dir=options.dir))
    load_before = os.getloadavg()[0]
    try:
        log = PartitionLog.open(work / "log", LogConfig())
        try:
            (write_seconds, write_cpu), (append_seconds, append_cpu) = _appends_against_writes(log, work / "plain.bin", batch, count)
            (work / "plain.bin").unlink()
            segments = sorted((work / "log").glob("*.log"))
            sendfile_seconds, read_seconds = _alternating(
                lambda: _drained(lambda sock: _plain_sendfile(sock, segments)),
                lambda: _drained(lambda sock: _log_sendfile(sock, log)),
            )
        finally:
            log.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = [
        _row("append (flush off)", total, append_seconds, "os.write", write_seconds, APPEND_GOAL),
        _row("read (sendfile regions)", total, read_seconds, "os.sendfile", sendfile_seconds, READ_GOAL),
    ]
    print_table(["operation", "MB/s", "baseline", "baseline MB/s", "ratio", "goal", "met"], rows)
    print(
        f"CPU per batch (user + system): append {append_cpu / count * 1e6:.1f} us, os.write {write_cpu / count * 1e6:.1f} us; "
        f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks log_append_read")
    parser.add_argument("--size", type=_byte_count, default=1 << 30, help="bytes to append, e.g. 256M or 1G (default 1G)")
    parser.add_argument("--dir", default=None, help="directory on the disk to measure (default: the temp directory)")
    return parser.parse_args(argv)


def _byte_count(text: str) -> int:
    number, unit = text.upper().rstrip("IB"), ""
    if number and number[-1] in _UNITS:
        number, unit = number[:-1], number[-1]
    try:
        value = int(number) * _UNITS[unit]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (use e.g. 256M or 1G)") from None
    if value < BATCH_BYTES:
        raise argparse.ArgumentTypeError(f"size must be at least {BATCH_BYTES} bytes")
    return value


def _batch_of(size: int) -> bytearray:
    """An uncompressed batch of 100-byte records, as close to `size` bytes as records allow."""
    records, batch = 1, bytearray()
    while True:
        candidate = build_batch([Record(i, 1_700_000_000_000, value=b"x" * 100) for i in range(records)])
        if len(candidate) > size:
            return batch
        batch, records = candidate, records + 1


def _appends_against_writes(log: PartitionLog, path: Path, batch: bytearray, count: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """(wall, CPU) seconds for plain writes and for appends, interleaved in slices (taking turns
    at going first) so both meet the same page-cache and writeback throttling as the files grow."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
    totals = {"write": (0.0, 0.0), "append": (0.0, 0.0)}
    try:
        for turn, done in enumerate(range(0, count, SLICE_BATCHES)):
            batches = min(SLICE_BATCHES, count - done)
            slices = [("write", lambda: _plain_writes(fd, batch, batches)), ("append", lambda: _log_appends(log, batch, batches))]
            for name, action in slices if turn % 2 == 0 else reversed(slices):
                wall, cpu = _measured(action)
                totals[name] = (totals[name][0] + wall, totals[name][1] + cpu)
    finally:
        os.close(fd)
    return totals["write"], totals["append"]


def _plain_writes(fd: int, batch: bytearray, count: int) -> None:
    for _ in range(count):
        os.write(fd, batch)


def _log_appends(log: PartitionLog, batch: bytearray, count: int) -> None:
    for _ in range(count):
        log.append(batch, 0)


def _alternating(baseline: Callable[[], None], measured: Callable[[], None]) -> tuple[float, float]:
    """Best of READ_ROUNDS runs of each, taken in turns, so neither gets a quieter moment."""
    baseline_seconds, measured_seconds = [], []
    for _ in range(READ_ROUNDS):
        baseline_seconds.append(_timed(baseline))
        measured_seconds.append(_timed(measured))
    return min(baseline_seconds), min(measured_seconds)


def _plain_sendfile(sock: socket.socket, files: list[Path]) -> None:
    for path in files:
        with open(path, "rb") as file:
            size, position = os.fstat(file.fileno()).st_size, 0
            while position < size:
                position += os.sendfile(sock.fileno(), file.fileno(), position, min(READ_BYTES, size - position))


def _log_sendfile(sock: socket.socket, log: PartitionLog) -> None:
    offset = log.log_start_offset
    while offset < log.log_end_offset:
        region = log.read(offset, READ_BYTES)
        sent = 0
        while sent < region.length:
            sent += os.sendfile(sock.fileno(), region.fileno(), region.position + sent, region.length - sent)
        offset = region.next_offset


def _drained(send: Callable[[socket.socket], None]) -> None:
    """Runs `send` against a socket whose other end a thread reads and discards."""
    sender, receiver = socket.socketpair()
    drainer = threading.Thread(target=_drain, args=(receiver,), daemon=True)
    drainer.start()
    try:
        send(sender)
    finally:
        sender.shutdown(socket.SHUT_WR)
        drainer.join()
        sender.close()
        receiver.close()


def _drain(sock: socket.socket) -> None:
    buffer = bytearray(READ_BYTES)
    while sock.recv_into(buffer):
        pass


def _timed(action: Callable[[], None]) -> float:
    return _measured(action)[0]


def _measured(action: Callable[[], None]) -> tuple[float, float]:
    """Wall seconds and this thread's CPU seconds (user + system) spent in `action`."""
    start, start_cpu = time.perf_counter(), time.thread_time()
    action()
    return time.perf_counter() - start, time.thread_time() - start_cpu


def _row(name: str, total: int, seconds: float, baseline: str, baseline_seconds: float, goal: float) -> list[object]:
    rate, baseline_rate = total / seconds / 1e6, total / baseline_seconds / 1e6
    ratio = rate / baseline_rate
    return [name, rate, baseline, baseline_rate, f"{ratio:.0%}", f">= {goal:.0%}", "yes" if ratio >= goal else "NO"]
