"""How long a partition takes to rebuild its producer state when it opens: from its producer snapshot,
and by replaying every batch header as it did before snapshots.

Writes --batches one-record idempotent batches from 100 producers into a log with 64 MiB segments,
closes it cleanly (a snapshot at the log end), then opens it twice: as it is, and with every
.snapshot file removed. Opening the log itself (checking every batch's CRC) is timed apart, as it
costs the same either way.

    python -m benchmarks producer_state_rebuild [--batches=1000000] [--dir=PATH]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks._table import print_table
from cluster.broker.log import LogConfig, PartitionLog
from cluster.broker.partition import Partition
from cluster.broker.protocol.records import Record, build_batch

PRODUCERS = 100
CONFIG = LogConfig(segment_bytes=64 << 20)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="producer_state_rebuild")
    parser.add_argument("--batches", type=int, default=1_000_000)
    parser.add_argument("--dir", default=None, help="where the log is written (default: the temp directory)")
    options = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="logquake-bench-", dir=options.dir))
    try:
        size = _written(work / "t-0", options.batches)
        print(f"{options.batches:,} batches, {size / 1e6:,.0f} MB in {work}")
        with_snapshot = _opened(work / "t-0")
        for snapshot in (work / "t-0").glob("*.snapshot"):
            snapshot.unlink()
        full_scan = _opened(work / "t-0")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_table(["producer state from", "log open s", "producer state s"],
                [["the shutdown's snapshot", *with_snapshot], ["every batch header", *full_scan]])


def _written(directory: Path, batches: int) -> int:
    partition = Partition("t", 0, PartitionLog.open(directory, CONFIG), broker_id=0)
    for i in range(batches):
        record = Record(offset=0, timestamp=1_700_000_000_000, value=b"x" * 20)
        partition.append_as_leader(build_batch([record], producer_id=i % PRODUCERS, producer_epoch=0,
                                               base_sequence=i // PRODUCERS), leader_epoch=0)
    size = partition.log.size
    partition.close()
    return size


def _opened(directory: Path) -> tuple[float, float]:
    """(seconds to open the log, seconds to rebuild the producer state), closing cleanly after."""
    started = time.perf_counter()
    log = PartitionLog.open(directory, CONFIG)
    opened = time.perf_counter()
    partition = Partition("t", 0, log, broker_id=0)
    rebuilt = time.perf_counter()
    partition.close()
    return round(opened - started, 2), round(rebuilt - opened, 3)
