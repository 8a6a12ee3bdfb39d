"""A partition replica on this broker: its log, its idempotence state, its replication core and driver.

The core (cluster/broker/replication/) decides: who leads, the ISR, the high watermark,
when an acks=all write is done. Its driver (replica_driver.py) carries out what it decides on
this class, the `ReplicaLog` it writes, which keeps the producer-state table in step with every
change to the log, leader or follower, so a follower that becomes leader recognises the retries
of batches its predecessor took. It snapshots that state into its log where Kafka does, at each
segment roll and at a clean shutdown, and rebuilds it from the newest snapshot at an open or a
truncation (producer_snapshots.py).
"""

from __future__ import annotations

import logging
from typing import Iterable, Iterator

from cluster.broker import producer_snapshots
from cluster.broker.log.config import TimestampType
from cluster.broker.log.partition_log import PartitionLog
from cluster.broker.log.region import FileRegion
from cluster.broker.producer_snapshots import PartitionState
from cluster.broker.protocol.record_batch import BatchHeader, iter_batches, validate
from cluster.broker.replica_driver import AppendResult, ReplicaDriver
from cluster.broker.replication import PartitionLogPositions, PartitionReplica, ReplicationConfig
from cluster.broker.transactions import txn_index
from cluster.broker.transactions.markers import read_marker

REPLAY_CHUNK_BYTES = 1 << 20

_log = logging.getLogger(__name__)


class SingleBatchRequired(ValueError):
    """Produce v3+ carries exactly one batch per partition (Kafka INVALID_RECORD, 87)."""


class Partition:
    def __init__(self, topic: str, index: int, log: PartitionLog, broker_id: int,
                 replication: ReplicationConfig = ReplicationConfig()) -> None:
        self.topic = topic
        self.index = index
        self.log = log
        self.replica = PartitionReplica(broker_id, PartitionLogPositions(log), replication)
        self.driver = ReplicaDriver(self.name, self.replica, self)
        self.producers, self.transactions = producer_snapshots.recover(log)
        self._active_base = log.active_base_offset
        """The active segment's base when the state last caught up with the log: a roll moves it."""

    @property
    def name(self) -> str:
        return f"{self.topic}-{self.index}"

    @property
    def key(self) -> tuple[str, int]:
        return self.topic, self.index

    @property
    def high_watermark(self) -> int:
        return self.replica.high_watermark

    @property
    def last_stable_offset(self) -> int:
        """Where read-committed consumers stop: below every transaction not yet surely ended."""
        return self.transactions.last_stable_offset(self.high_watermark)

    @property
    def leader_epoch(self) -> int:
        return self.replica.leader_epoch

    def append_as_leader(self, records: bytes | bytearray | memoryview, leader_epoch: int) -> AppendResult:
        """Appends one producer batch as leader; a retried idempotent batch is not written twice.

        Kafka takes exactly one batch per partition from Produce v3 on, which
        is what makes the retry check well defined. A retry of a LogAppendTime
        batch is answered with the time the original was stamped with. Raises the log's errors
        (invalid batch, too large), SingleBatchRequired, and SequenceError for
        idempotence violations; nothing is written then. The CRC is checked once:
        by the log as it appends, or here for a duplicate, which is answered
        only if intact (Kafka validates a batch before looking it up).
        """
        headers = [header for _, header in iter_batches(records, check_crc=False)]
        if len(headers) != 1:
            raise SingleBatchRequired(f"{self.name}: a produce request carries {len(headers)} batches, expected 1")
        header = headers[0]
        marker = read_marker(records) if header.is_control else None
        duplicate = self.producers.check(header, marker[1] if marker else -1)
        if duplicate is not None:
            validate(records)
            _log.debug("%s: duplicate of offsets %d-%d", self.name, duplicate.first_offset, duplicate.last_offset)
            append_time = duplicate.max_timestamp if self.log.timestamp_type is TimestampType.LOG_APPEND_TIME else -1
            return AppendResult(duplicate.first_offset, duplicate.last_offset, duplicate=True, log_append_time=append_time)
        info = self.log.append(records, leader_epoch)
        stored = header._replace(base_offset=info.first_offset, max_timestamp=info.max_timestamp)
        self._record_all([(stored, marker)])
        return AppendResult(info.first_offset, info.last_offset, log_append_time=info.log_append_time)

    def append_as_follower(self, records: bytes | bytearray | memoryview) -> None:
        """Appends the leader's batches as they are, remembering idempotent producers' batches too."""
        self.log.append_as_follower(records)
        self._record_all(
            (header, read_marker(records[position:position + header.size]) if header.is_control else None)
            for position, header in iter_batches(records, check_crc=False)  # the log has checked them
        )

    def truncate_to(self, offset: int) -> None:
        """The state is rebuilt from the newest snapshot the truncation left and the batches after it."""
        self.log.truncate_to(offset)
        self._recover()

    def truncate_fully_and_start_at(self, offset: int) -> None:
        self.log.truncate_fully_and_start_at(offset)
        self._recover()

    def close(self) -> None:
        """A clean shutdown: the state is snapshotted at the log end, so the next open replays nothing."""
        self._snapshot(self.log.log_end_offset)
        self.log.close()

    def advance_log_start(self, offset: int) -> None:
        self.log.advance_log_start(offset)
        self.transactions.forget_below(self.log.log_start_offset)
        txn_index.store(self.log.directory, self.log.segment_base_offsets, self.transactions.aborted)

    def read(self, offset: int, max_bytes: int, upper_bound: int | None) -> FileRegion:
        """Whole batches from `offset`, none reaching `upper_bound` (the HW, for consumers)."""
        return self.log.read(offset, max_bytes, upper_bound)

    def batches(self, start: int | None = None) -> Iterator[tuple[bytes, BatchHeader]]:
        """(bytes, header) of every stored batch from `start`, for replaying internal topics."""
        offset = self.log.log_start_offset if start is None else start
        while offset < self.log.log_end_offset:
            region = self.log.read(offset, REPLAY_CHUNK_BYTES)
            if region.length == 0:
                return
            data = region.read_bytes()
            for position, header in iter_batches(data):
                yield data[position : position + header.size], header
            offset = region.next_offset

    def _record_all(self, appended: Iterable[tuple[BatchHeader, tuple[bool, int] | None]]) -> None:
        """Records batches just appended, in order; where the append rolled the log, the state at the new
        segment's base is snapshotted first."""
        rolled_to = self._new_segment_bases()
        for header, marker in appended:
            if header.base_offset in rolled_to:
                self._snapshot(header.base_offset)
            self._record(header, marker)

    def _new_segment_bases(self) -> list[int]:
        """The bases of the segments rolled to since the state last caught up (usually none)."""
        if self.log.active_base_offset == self._active_base:
            return []
        bases = [base for base in self.log.segment_base_offsets if base > self._active_base]
        self._active_base = self.log.active_base_offset
        return bases

    def _snapshot(self, offset: int) -> None:
        self.log.write_producer_snapshot(producer_snapshots.snapshot_of(offset, PartitionState(self.producers,
                                                                                             self.transactions)))

    def _recover(self) -> None:
        self.producers, self.transactions = producer_snapshots.recover(self.log)
        self._active_base = self.log.active_base_offset

    def _record(self, header: BatchHeader, marker: tuple[bool, int] | None) -> None:
        """A batch just appended (`marker`: commits? and coordinator epoch, for a control batch); an abort
        goes into the active segment's .txnindex."""
        self.producers.record(header, marker[1] if marker else -1)
        aborted = self.transactions.record(header, marker[0] if marker else None)
        if aborted is not None:
            txn_index.append(self.log.directory, self.log.segment_base_offsets[-1], aborted)
