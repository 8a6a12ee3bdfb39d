"""Batches for log tests, and the crash a kill -9 leaves behind."""

from __future__ import annotations

import os
from pathlib import Path

from cluster.broker.protocol.record_batch import BatchHeader
from cluster.broker.protocol.records import Record, build_batch


def make_batch(records: int, timestamp: int, value_size: int = 20, fill: int = 0x61) -> bytearray:
    """A producer-style batch (offsets from 0, unstamped) of `records` records at `timestamp`.."""
    return build_batch(
        [Record(i, timestamp + i, key=b"k%d" % i, value=bytes([fill]) * value_size) for i in range(records)]
    )


def stamped(batch: bytes | bytearray, base_offset: int, leader_epoch: int) -> bytes:
    """The bytes the log should store for `batch`: only baseOffset and partitionLeaderEpoch differ."""
    out = bytearray(batch)
    out[0:8] = base_offset.to_bytes(8, "big", signed=True)
    out[12:16] = leader_epoch.to_bytes(4, "big", signed=True)
    return bytes(out)


def split_batches(data: bytes) -> list[bytes]:
    found, position = [], 0
    while position < len(data):
        size = BatchHeader.parse(data, position).size
        found.append(data[position : position + size])
        position += size
    return found


def kill_process_files(directory: Path) -> None:
    """What the kernel does to a killed process's files: closes them, nothing more.

    The log object is abandoned without close(): no flush, no index files
    written, no clean-shutdown marker; the bytes already written stay.
    """
    prefix = str(directory.resolve())
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
        if target.startswith(prefix):
            os.close(int(name))


def read_all(log, start: int | None = None, max_bytes: int = 1000) -> bytes:
    """Everything from `start` (default: log start) to the log end, through read()."""
    offset = log.log_start_offset if start is None else start
    parts = []
    while offset < log.log_end_offset:
        region = log.read(offset, max_bytes)
        assert region.length > 0, f"empty read at {offset} below the log end {log.log_end_offset}"
        parts.append(region.read_bytes())
        offset = region.next_offset
    return b"".join(parts)


def segment_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.log"))
