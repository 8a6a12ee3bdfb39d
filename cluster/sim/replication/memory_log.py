"""A partition log in memory, for the simulator and the replication core's tests.

One record per batch: an offset, the leader epoch that wrote it, and the value. It satisfies the
core's `LogPositions`, with the epoch answers of Kafka's leader-epoch cache derived from the
records themselves (so an empty log knows no epoch, where Kafka's cache may keep one), and the
broker's `ReplicaLog`, so the broker's driver applies the core's actions to it.
Durability is the simulated disk's business: the broker writes `snapshot()` there when it
flushes, and a machine that loses power comes back with the last flushed one.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

from cluster.broker.replica_driver import AppendResult
from cluster.broker.replication.log_positions import UNDEFINED_EPOCH, UNDEFINED_OFFSET


@dataclass(frozen=True, slots=True)
class Record:
    offset: int
    epoch: int
    value: int


class NonContiguousAppend(ValueError):
    """Follower records that do not start at the log end."""


class MemoryLog:
    def __init__(self, log_start: int = 0, records: Iterable[Record] = ()) -> None:
        self._start = log_start
        self.records: list[Record] = []
        self._epochs: list[int] = []
        self._epoch_starts: list[int] = []
        self._add(list(records))

    @classmethod
    def restore(cls, snapshot: tuple[int, tuple[Record, ...]] | None) -> MemoryLog:
        return cls() if snapshot is None else cls(snapshot[0], snapshot[1])

    def snapshot(self) -> tuple[int, tuple[Record, ...]]:
        return self._start, tuple(self.records)

    # --- LogPositions --------------------------------------------------------------------------

    @property
    def log_start_offset(self) -> int:
        return self._start

    @property
    def log_end_offset(self) -> int:
        return self._start + len(self.records)

    @property
    def latest_epoch(self) -> int:
        return self._epochs[-1] if self._epochs else UNDEFINED_EPOCH

    def end_offset_for_epoch(self, epoch: int) -> tuple[int, int]:
        if epoch == UNDEFINED_EPOCH or not self._epochs:
            return UNDEFINED_EPOCH, UNDEFINED_OFFSET
        if epoch == self._epochs[-1]:
            return epoch, self.log_end_offset
        higher = bisect.bisect_right(self._epochs, epoch)
        if higher == len(self._epochs):
            return UNDEFINED_EPOCH, UNDEFINED_OFFSET
        if higher == 0:
            return epoch, self._epoch_starts[0]
        return self._epochs[higher - 1], self._epoch_starts[higher]

    # --- changes -------------------------------------------------------------------------------

    def append_as_leader(self, value: int, epoch: int) -> AppendResult:
        offset = self.log_end_offset
        self._add([Record(offset, epoch, value)])
        return AppendResult(offset, offset)

    def append_as_follower(self, records: Iterable[Record]) -> None:
        batch = list(records)
        if batch and batch[0].offset != self.log_end_offset:
            raise NonContiguousAppend(
                f"records from {batch[0].offset} do not continue the log ending at {self.log_end_offset}"
            )
        self._add(batch)

    def read(self, start: int, end: int) -> tuple[Record, ...]:
        """The records in [start, end) that this log holds."""
        first = max(start, self._start) - self._start
        return tuple(self.records[first : max(end - self._start, first)])

    def truncate_to(self, offset: int) -> None:
        if offset >= self.log_end_offset:
            return
        if offset <= self._start:
            self.truncate_fully_and_start_at(offset)
            return
        del self.records[offset - self._start :]
        keep = bisect.bisect_left(self._epoch_starts, offset)
        del self._epochs[keep:], self._epoch_starts[keep:]

    def advance_log_start(self, offset: int) -> None:
        """Retention: the log starts at `offset` (at most its end) and its first epoch starts there."""
        offset = min(offset, self.log_end_offset)
        if offset <= self._start:
            return
        del self.records[: offset - self._start]
        self._start = offset
        covering = bisect.bisect_right(self._epoch_starts, offset) - 1
        del self._epochs[:covering], self._epoch_starts[:covering]
        if self.records:
            self._epoch_starts[0] = offset
        else:
            self._epochs.clear()
            self._epoch_starts.clear()

    def truncate_fully_and_start_at(self, offset: int) -> None:
        self._start = offset
        self.records.clear()
        self._epochs.clear()
        self._epoch_starts.clear()

    def _add(self, records: list[Record]) -> None:
        for record in records:
            if not self._epochs or record.epoch > self._epochs[-1]:
                self._epochs.append(record.epoch)
                self._epoch_starts.append(record.offset)
            self.records.append(record)
