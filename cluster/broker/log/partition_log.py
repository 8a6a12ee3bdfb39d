"""A partition's log as the broker uses it (Kafka's UnifiedLog): appends, reads, leader epochs, retention.

Used from one thread (the broker's event loop), with time injected as a
clock returning epoch milliseconds, so the simulator can drive it
deterministically. Batches are stored exactly as they travel; the only bytes
the log ever changes inside a batch are baseOffset and partitionLeaderEpoch,
which lie outside the CRC, and, for a LogAppendTime topic, the leader's
timestamp type and max timestamp (with the CRC made anew), as Kafka's
LogValidator does. The work is split as Kafka splits it: loader opens
and recovers the segments, segment_list writes and reads them, retention cuts
them; this class checks appends and keeps the leader epochs beside them.

I/O errors become the log's own (errors.storage_error): a full disk undoes
the operation and raises LogDirFullError; any other error takes the log
offline for good (every later call raises LogDirFailedError, so nothing it
may have torn is ever served) and is reported to `on_failure` first, which
is how a broker learns that its log dir failed.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple, TypeVar

from cluster import durable_file
from cluster.broker.log import loader, retention, snapshot_files
from cluster.broker.log.batch_scan import BatchRejected, check_batches, stamp_batches
from cluster.broker.log.clock import Clock, wall_clock_ms
from cluster.broker.log.config import LogConfig, TimestampType
from cluster.broker.log.epoch_cache import LeaderEpochCache
from cluster.broker.log.errors import (
    BatchTooLargeError,
    Corruption,
    InvalidBatchError,
    LogDirFailedError,
    NonContiguousAppendError,
    StorageError,
    storage_error,
)
from cluster.broker.log.producer_snapshot import ProducerSnapshot
from cluster.broker.log.region import FileRegion
from cluster.broker.log.retention import DeletedSegment
from cluster.broker.log.segment import Placement
from cluster.broker.log.segment_list import SegmentList
from cluster.broker.protocol.record_batch import BatchHeader, CorruptBatchError, validate

Batches = bytes | bytearray | memoryview

_log = logging.getLogger(__name__)


class AppendInfo(NamedTuple):
    first_offset: int
    last_offset: int
    max_timestamp: int
    log_append_time: int = -1
    """The time a LogAppendTime log stamped the batches with; -1 for CreateTime (Kafka's LogAppendInfo)."""


_append_info = functools.partial(tuple.__new__, AppendInfo)
"""AppendInfo from a tuple without NamedTuple's Python-level __new__: made on every append."""

OnFailure = Callable[[LogDirFailedError], None]
"""Told of an I/O error that took a log offline, before it is raised (a broker halts there)."""

Method = TypeVar("Method", bound=Callable[..., Any])


def _touches_disk(doing: str) -> Callable[[Method], Method]:
    """Refuses the call on an offline log, and turns the OSErrors it raises into the log's errors."""

    def wrap(method: Method) -> Method:
        @functools.wraps(method)
        def guarded(self: PartitionLog, *args: Any, **kwargs: Any) -> Any:
            if self.failure is not None:
                raise self._offline()
            try:
                return method(self, *args, **kwargs)
            except OSError as error:
                raise self._storage_error(error, doing) from error

        return guarded  # type: ignore[return-value]

    return wrap


class PartitionLog:
    """One partition's replica of the log: its segments and the leader epochs of their batches."""

    def __init__(self, segments: SegmentList, epoch_cache: LeaderEpochCache, on_failure: OnFailure | None = None) -> None:
        self._segments = segments
        self.epoch_cache = epoch_cache
        self._on_failure = on_failure
        self.failure: LogDirFailedError | None = None
        """The I/O error that took the log offline, if one did."""

    @classmethod
    def open(
        cls, directory: str | os.PathLike[str], config: LogConfig | None = None, clock: Clock = wall_clock_ms,
        on_failure: OnFailure | None = None,
    ) -> PartitionLog:
        """Opens (or creates, durably) the log in `directory`, checking every batch and cutting it at the first bad one."""
        path = Path(directory)
        try:
            durable_file.make_directory(path)
            return cls(*loader.load(path, config or LogConfig(), clock), on_failure)
        except OSError as error:
            failure = storage_error(path, "opening the log", error)
            if isinstance(failure, LogDirFailedError) and on_failure is not None:
                on_failure(failure)
            raise failure from error

    @property
    def directory(self) -> Path:
        return self._segments.directory

    def _offline(self) -> LogDirFailedError:
        assert self.failure is not None
        return LogDirFailedError(self.failure.directory, f"{self.failure.doing} (earlier)", self.failure.error)

    def _storage_error(self, error: OSError, doing: str) -> StorageError:
        failure = storage_error(self.directory, doing, error)
        if isinstance(failure, LogDirFailedError):
            self.failure = failure
            if self._on_failure is not None:
                self._on_failure(failure)
        return failure

    # --- offsets -------------------------------------------------------------------------------

    @property
    def log_start_offset(self) -> int:
        return self._segments.log_start_offset

    @property
    def log_end_offset(self) -> int:
        return self._segments.log_end_offset

    @property
    def recovery_point(self) -> int:
        """Everything below it is fsynced."""
        return self._segments.recovery_point

    @property
    def corruption(self) -> Corruption | None:
        """The first stored batch that failed validation; reads at or beyond its offset raise CorruptLogError."""
        return self._segments.corruption

    @property
    def size(self) -> int:
        return self._segments.size

    @property
    def segment_base_offsets(self) -> list[int]:
        return self._segments.base_offsets

    @property
    def active_base_offset(self) -> int:
        """Where the segment being written starts: it moves when the log rolls."""
        return self._segments.active.base_offset

    @property
    def timestamp_type(self) -> TimestampType:
        return self._segments.config.timestamp_type

    # --- appending -----------------------------------------------------------------------------

    def append(self, batches: Batches, leader_epoch: int) -> AppendInfo:
        """Appends one or more producer batches as the leader: assigns offsets and stamps the epoch
        (and, under LogAppendTime, the clock's time: a clock that went back stamps an earlier time).

        A bytearray (or writable memoryview) is stamped in place; immutable
        bytes are copied once. Nothing is written unless every batch is valid.
        (The hot path: it does _touches_disk's work inline.)
        """
        if self.failure is not None:
            raise self._offline()
        if leader_epoch < 0:
            raise ValueError(f"leader epoch must be non-negative, got {leader_epoch}")
        view = memoryview(
            batches if isinstance(batches, bytearray) or (isinstance(batches, memoryview) and not batches.readonly) else bytearray(batches)
        )
        segments = self._segments
        first_offset = segments.active.next_offset
        max_batch_bytes = segments.config.max_message_bytes
        append_time = segments.clock() if segments.config.timestamp_type is TimestampType.LOG_APPEND_TIME else -1
        try:
            placed, next_offset, max_timestamp = stamp_batches(
                _nonempty(view), first_offset, leader_epoch, max_batch_bytes, append_time)
        except BatchRejected as rejected:
            raise _why_rejected(view, rejected.args[0], max_batch_bytes) from None
        try:
            segments.write(view, placed, max_timestamp)
            if leader_epoch != self.epoch_cache.latest_epoch:
                self.epoch_cache.assign(leader_epoch, first_offset)
        except OSError as error:
            raise self._storage_error(error, "appending") from error
        return _append_info((first_offset, next_offset - 1, max_timestamp, append_time))

    @_touches_disk("appending as follower")
    def append_as_follower(self, batches: Batches) -> AppendInfo:
        """Appends batches fetched from the leader, keeping their offsets and epochs."""
        view = memoryview(batches)
        max_batch_bytes = self._segments.config.max_message_bytes
        try:
            found = check_batches(_nonempty(view), max_batch_bytes)
        except BatchRejected as rejected:
            raise _why_rejected(view, rejected.args[0], max_batch_bytes) from None
        first_offset = expected = self._segments.log_end_offset
        placed: list[Placement] = []
        for position, base_offset, last_offset, _, max_timestamp, size in found:
            if base_offset != expected:
                raise NonContiguousAppendError(f"batch at offset {base_offset} does not continue the log, which ends at {expected}")
            expected = last_offset + 1
            placed.append((position, last_offset, max_timestamp, size))
        max_timestamp = max(placement[2] for placement in placed)
        self._segments.write(view, placed, max_timestamp)
        self.epoch_cache.assign_all((epoch, base_offset) for _, base_offset, _, epoch, _, _ in found if epoch >= 0)
        return AppendInfo(first_offset, expected - 1, max_timestamp)

    @_touches_disk("rolling a segment")
    def roll(self) -> None:
        self._segments.roll()

    # --- durability ----------------------------------------------------------------------------

    @_touches_disk("flushing")
    def maybe_flush(self) -> None:
        """Flushes if the flush policy says so, and writes checkpoints a full disk refused earlier."""
        self._segments.maybe_flush()
        self.epoch_cache.retry()

    @_touches_disk("flushing")
    def flush(self) -> None:
        self._segments.flush()

    def close(self) -> None:
        """Flushes and closes the files; an offline log only closes them."""
        if self.failure is not None:
            self._segments.close_files()
            return
        try:
            self._segments.close()
        except OSError as error:
            self._segments.close_files()
            raise self._storage_error(error, "closing") from error

    # --- reading -------------------------------------------------------------------------------

    def read(self, offset: int, max_bytes: int, upper_bound: int | None = None) -> FileRegion:
        """(The hot path: it does _touches_disk's work inline.)"""
        if self.failure is not None:
            raise self._offline()
        try:
            return self._segments.read(offset, max_bytes, upper_bound)
        except OSError as error:
            raise self._storage_error(error, "reading") from error

    @_touches_disk("finding an offset by timestamp")
    def offset_for_timestamp(self, timestamp: int) -> int | None:
        return self._segments.offset_for_timestamp(timestamp)

    def batch_headers(self, start: int = 0) -> Iterator[BatchHeader]:
        """The stored batches' headers from `start` (a batch boundary, such as a snapshot's offset)."""
        try:
            yield from self._segments.batch_headers(start)
        except OSError as error:
            raise self._storage_error(error, "reading batch headers") from error

    @_touches_disk("reading a stored batch")
    def stored_batch(self, header: BatchHeader) -> bytes:
        """The bytes of a batch batch_headers gave, wherever it lies (below the log start too)."""
        return self._segments.stored_batch(header)

    # --- producer snapshots --------------------------------------------------------------------

    def write_producer_snapshot(self, snapshot: ProducerSnapshot) -> None:
        """Stores the producer state at `snapshot.offset`, which must not be past the log end.

        Best effort: a snapshot only shortens the next open's scan, so one that cannot be written (a
        full disk, a failing one) is logged and skipped rather than failing the append or the close
        that took it; the next I/O on the log meets a failing disk anyway. An offline log writes none.
        """
        if self.failure is not None:
            return
        try:
            snapshot_files.write(self.directory, snapshot, self._segments.base_offsets)
        except OSError as error:
            _log.warning("%s: producer snapshot at offset %d not written (%s); the next open scans more batches",
                         self.directory, snapshot.offset, error)

    @_touches_disk("reading producer snapshots")
    def producer_snapshot(self) -> ProducerSnapshot | None:
        """The newest intact snapshot that the log's batches go on from: between the first segment's base
        and the log end (the loader and every cut keep only those, but a damaged one is passed over)."""
        return snapshot_files.newest(self.directory, self._segments.segments[0].base_offset, self.log_end_offset)

    # --- leader epochs -------------------------------------------------------------------------

    def end_offset_for_epoch(self, epoch: int) -> tuple[int, int]:
        """OffsetForLeaderEpoch: (largest epoch <= `epoch`, its end offset), or (-1, -1)."""
        return self.epoch_cache.end_offset_for_epoch(epoch, self.log_end_offset)

    # --- retention and truncation --------------------------------------------------------------

    @_touches_disk("applying retention")
    def apply_retention(self, high_watermark: int | None = None) -> list[DeletedSegment]:
        """Deletes the segments retention.ms (by the log's clock) or retention.bytes no longer keeps,
        only below `high_watermark` (None: the log end)."""
        return retention.apply_retention(self._segments, self.epoch_cache, high_watermark)

    @_touches_disk("truncating")
    def truncate_to(self, offset: int) -> None:
        retention.truncate_to(self._segments, self.epoch_cache, offset)

    @_touches_disk("restarting the log")
    def truncate_fully_and_start_at(self, offset: int) -> None:
        retention.truncate_fully_and_start_at(self._segments, self.epoch_cache, offset)

    @_touches_disk("advancing the log start")
    def advance_log_start(self, offset: int) -> None:
        retention.advance_log_start(self._segments, self.epoch_cache, offset)


def checked_batch(buffer: memoryview, position: int, max_batch_bytes: int) -> BatchHeader:
    """The header of the batch at `position` if it is valid and within max.message.bytes, else the log's error."""
    try:
        header = validate(buffer, position)
    except CorruptBatchError as error:
        raise InvalidBatchError(str(error)) from None
    if header.size > max_batch_bytes:
        raise BatchTooLargeError(f"batch at byte {position} is {header.size} bytes, over max.message.bytes {max_batch_bytes}")
    return header


def _nonempty(buffer: memoryview) -> memoryview:
    if not len(buffer):
        raise InvalidBatchError("an append needs at least one batch")
    return buffer


def _why_rejected(buffer: memoryview, position: int, max_batch_bytes: int) -> InvalidBatchError | BatchTooLargeError:
    """The log's error for the batch that batch_scan rejected at `position`.

    The compiled scan only says where; validate(), the reference for the rules,
    says why, so every message has one source. Only a failing append pays for it.
    """
    try:
        checked_batch(buffer, position, max_batch_bytes)
    except (InvalidBatchError, BatchTooLargeError) as error:
        return error
    raise AssertionError(f"batch_scan rejected the batch at byte {position}, which validate() accepts")
