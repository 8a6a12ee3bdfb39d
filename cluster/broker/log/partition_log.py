"""A partition's log: a directory of segments that appends, serves, retains, truncates and recovers.

Used from one thread (the broker's event loop), with time injected as a
clock returning epoch milliseconds, so the simulator can drive it
deterministically. Batches are stored exactly as they travel; the only bytes
the log ever changes inside a batch are baseOffset and partitionLeaderEpoch,
which lie outside the CRC.
"""

from __future__ import annotations

import bisect
import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, NamedTuple

from cluster import durable_file
from cluster.broker.log import layout
from cluster.broker.log.batch_scan import BatchRejected, check_batches, stamp_batches
from cluster.broker.log.clock import Clock, wall_clock_ms
from cluster.broker.log.config import NEVER, UNLIMITED, LogConfig
from cluster.broker.log.epoch_cache import LeaderEpochCache
from cluster.broker.log.errors import (
    BatchTooLargeError,
    Corruption,
    CorruptLogError,
    InvalidBatchError,
    NonContiguousAppendError,
    OffsetOutOfRangeError,
)
from cluster.broker.log.index import INT32_MAX
from cluster.broker.log.region import FileRegion
from cluster.broker.log.segment import NO_TIMESTAMP, Placement, Segment
from cluster.broker.protocol.record_batch import BatchHeader, CorruptBatchError, validate
from cluster.broker.protocol.records import decode_records

Batches = bytes | bytearray | memoryview

_log = logging.getLogger(__name__)


class AppendInfo(NamedTuple):
    first_offset: int
    last_offset: int
    max_timestamp: int


_append_info = functools.partial(tuple.__new__, AppendInfo)
"""AppendInfo from a tuple without NamedTuple's Python-level __new__: made on every append."""


@dataclass(frozen=True, slots=True)
class DeletedSegment:
    base_offset: int
    next_offset: int
    size: int
    reason: str


class PartitionLog:
    """One partition's replica of the log; see the module docstring for the rules it keeps.

    Invariants: segments are contiguous and ordered, the last one is the only
    one written to, and nothing at or after `corruption.offset` is served.
    """

    def __init__(
        self, directory: Path, config: LogConfig, clock: Clock, segments: list[Segment], recovery_point: int, log_start_offset: int
    ) -> None:
        self.directory = directory
        self.config = config
        self._clock = clock
        self._segments = segments
        self._bases = [segment.base_offset for segment in segments]
        self.recovery_point = recovery_point
        self._log_start_offset = max(log_start_offset, segments[0].base_offset)
        """Below it nothing is served; inside the first segment when advance_log_start moved it there."""
        self.epoch_cache, self._epoch_checkpoint_usable = LeaderEpochCache.load(directory)
        self.corruption: Corruption | None = None
        """The first stored batch that failed validation; reads at or beyond its offset raise CorruptLogError."""
        self._last_flush_ms = clock()
        self._flushes_by_policy = config.flush_interval_messages != NEVER or config.flush_interval_ms != NEVER
        """False with Kafka's default policy (leave flushing to the OS): appends then skip maybe_flush."""

    # --- opening -------------------------------------------------------------------------------

    @classmethod
    def open(cls, directory: str | os.PathLike[str], config: LogConfig | None = None, clock: Clock = wall_clock_ms) -> PartitionLog:
        """Opens (or creates) the log in `directory`, recovering it if it was not closed cleanly."""
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        config = config or LogConfig()
        bases = layout.segment_bases(path)
        clean = layout.has_clean_shutdown_marker(path)
        now = clock()
        segments = [Segment(path, base, config.index_interval_bytes, now) for base in bases]
        if not segments:
            segments = [Segment(path, 0, config.index_interval_bytes, now)]
        log = cls(path, config, clock, segments, layout.read_recovery_point(path), layout.read_log_start_offset(path))
        log._load(clean)
        layout.remove_clean_shutdown_marker(path)
        return log

    def _load(self, clean: bool) -> None:
        first_unflushed = len(self._segments) if clean else self._segment_at(max(self.recovery_point, self.log_start_offset))
        epoch_starts: list[tuple[int, int]] = []
        for segment in self._segments[:first_unflushed]:
            if not segment.load_indexes():
                _log.warning("%s: index files of %s are missing or inconsistent; rebuilding them", self.directory, segment.name)
                self._rebuild_closed_or_recover(segment)
        at = first_unflushed
        while at < len(self._segments):
            epoch_starts += self._recover(self._segments[at])
            at += 1
        self._check_contiguity()
        if self._epoch_checkpoint_usable:
            self.epoch_cache.assign_newer(epoch_starts)
        else:
            self._rebuild_epoch_cache()
        self._truncate_epochs_to_log()
        self._keep_checkpointed_start()
        if not clean:
            self.flush()
        self._refresh_corruption()

    def _keep_checkpointed_start(self) -> None:
        """Kafka's LogLoader rule: a log that now ends before its checkpointed start (a crash lost
        the tail it had when the start advanced) restarts empty there; otherwise segments that an
        interrupted advance_log_start left wholly below the start go now."""
        if self._log_start_offset > self.log_end_offset:
            _log.warning(
                "%s: the log ends at %d, before its checkpointed start %d; it restarts empty there",
                self.directory, self.log_end_offset, self._log_start_offset,
            )
            self.truncate_fully_and_start_at(self._log_start_offset)
        else:
            self._delete_segments_below_start()

    def _rebuild_closed_or_recover(self, segment: Segment) -> None:
        """A flushed segment whose indexes failed: rebuild them; damage is reported, not cut,
        except in the last segment, where appends continue and garbage cannot stay in the middle."""
        if segment is self._active:
            self._recover(segment)
            return
        result = segment.scan()
        if result.problem:
            segment.next_offset = self._bases[self._segments.index(segment) + 1]
            self._report(result.problem)

    def _recover(self, segment: Segment) -> list[tuple[int, int]]:
        """Crash recovery of one segment: validate everything, cut at the first bad batch."""
        result = segment.scan()
        problem = result.problem
        if problem:
            _log.error(
                "%s: recovery truncates %s at byte %d, dropping offsets from %d (%d bytes): %s",
                self.directory, segment.name, problem.position, problem.offset, segment.size - problem.position, problem.reason,
            )
            segment.truncate_at(problem.position)
            segment.corruption = None
            segment.next_offset = problem.offset
            self._delete_after(segment, "after a truncated segment")
        return result.epoch_starts

    def _check_contiguity(self) -> None:
        for before, after in zip(self._segments, self._segments[1:]):
            if before.corruption is None and before.next_offset != after.base_offset:
                before.corruption = Corruption(
                    before.name, before.size, before.next_offset,
                    f"segment ends at offset {before.next_offset} but the next one starts at {after.base_offset}",
                )
                self._report(before.corruption)

    def _rebuild_epoch_cache(self) -> None:
        self.epoch_cache.clear()
        self.epoch_cache.assign_newer((header.partition_leader_epoch, header.base_offset) for header in self.batch_headers())

    def batch_headers(self) -> Iterator[BatchHeader]:
        """Every stored batch's header, read by hopping over batch lengths without touching records:
        what rebuilding the epoch cache or a leader's producer state needs."""
        for segment in self._segments:
            yield from segment.headers()

    # --- offsets -------------------------------------------------------------------------------

    @property
    def log_start_offset(self) -> int:
        return self._log_start_offset

    @property
    def log_end_offset(self) -> int:
        return self._segments[-1].next_offset

    @property
    def size(self) -> int:
        return sum(segment.size for segment in self._segments)

    @property
    def segment_base_offsets(self) -> list[int]:
        return list(self._bases)

    @property
    def _active(self) -> Segment:
        return self._segments[-1]

    def _segment_at(self, offset: int) -> int:
        return max(bisect.bisect_right(self._bases, offset) - 1, 0)

    # --- appending -----------------------------------------------------------------------------

    def append(self, batches: Batches, leader_epoch: int) -> AppendInfo:
        """Appends one or more producer batches as the leader: assigns offsets and stamps the epoch.

        A bytearray (or writable memoryview) is stamped in place; immutable
        bytes are copied once. Nothing is written unless every batch is valid.
        """
        if leader_epoch < 0:
            raise ValueError(f"leader epoch must be non-negative, got {leader_epoch}")
        view = memoryview(
            batches if isinstance(batches, bytearray) or (isinstance(batches, memoryview) and not batches.readonly) else bytearray(batches)
        )
        first_offset = self._segments[-1].next_offset
        max_batch_bytes = self.config.max_message_bytes
        try:
            placed, next_offset, max_timestamp = stamp_batches(_nonempty(view), first_offset, leader_epoch, max_batch_bytes)
        except BatchRejected as rejected:
            raise _why_rejected(view, rejected.args[0], max_batch_bytes) from None
        self._write(view, placed, max_timestamp)
        if leader_epoch != self.epoch_cache.latest_epoch:
            self.epoch_cache.assign(leader_epoch, first_offset)
        return _append_info((first_offset, next_offset - 1, max_timestamp))

    def append_as_follower(self, batches: Batches) -> AppendInfo:
        """Appends batches fetched from the leader, keeping their offsets and epochs."""
        view = memoryview(batches)
        max_batch_bytes = self.config.max_message_bytes
        try:
            found = check_batches(_nonempty(view), max_batch_bytes)
        except BatchRejected as rejected:
            raise _why_rejected(view, rejected.args[0], max_batch_bytes) from None
        first_offset = expected = self._segments[-1].next_offset
        placed: list[Placement] = []
        for position, base_offset, last_offset, _, max_timestamp, size in found:
            if base_offset != expected:
                raise NonContiguousAppendError(f"batch at offset {base_offset} does not continue the log, which ends at {expected}")
            expected = last_offset + 1
            placed.append((position, last_offset, max_timestamp, size))
        max_timestamp = max(placement[2] for placement in placed)
        self._write(view, placed, max_timestamp)
        self.epoch_cache.assign_all((epoch, base_offset) for _, base_offset, _, epoch, _, _ in found if epoch >= 0)
        return AppendInfo(first_offset, expected - 1, max_timestamp)

    def _write(self, data: memoryview, placed: list[Placement], max_timestamp: int) -> None:
        """Writes `data`, the batches `placed`, with one write per segment, rolling segments as needed.

        The usual append needs no roll, which one test over the whole of `data`
        shows: _needs_roll's rules applied to its size, last offset and largest
        timestamp. Only when that fails are the batches taken one by one.
        """
        active = self._segments[-1]
        if (
            active.size + len(data) <= self.config.segment_bytes
            and placed[-1][1] - active.base_offset <= INT32_MAX
            and (not active.size or self._waited_for_roll(active, max_timestamp) <= self.config.segment_ms)
        ):
            active.append(data, 0, placed)
        else:
            self._write_rolling(data, placed)
        if self._flushes_by_policy:
            self.maybe_flush()

    def _write_rolling(self, data: memoryview, placed: list[Placement]) -> None:
        first = 0
        for at, (position, last_offset, max_timestamp, size) in enumerate(placed):
            if self._needs_roll(self._segments[-1], position - placed[first][0], size, last_offset, max_timestamp):
                if at > first:
                    self._append_run(data, placed[first:at])
                self.roll()
                first = at
        self._append_run(data, placed[first:])

    def _append_run(self, data: memoryview, run: list[Placement]) -> None:
        begin = run[0][0]
        last_position, _, _, last_size = run[-1]
        self._segments[-1].append(data[begin : last_position + last_size], begin, run)

    def _needs_roll(self, active: Segment, pending_bytes: int, size: int, last_offset: int, max_timestamp: int) -> bool:
        used = active.size + pending_bytes
        if not used:
            return False
        return (
            used + size > self.config.segment_bytes
            or last_offset - active.base_offset > INT32_MAX
            or (active.size > 0 and self._waited_for_roll(active, max_timestamp) > self.config.segment_ms)
        )

    def _waited_for_roll(self, segment: Segment, batch_timestamp: int) -> int:
        """Kafka's rule: measured in record time from the segment's first batch, else in wall time."""
        first = segment.first_batch_timestamp
        if first is not None and first >= 0:
            return batch_timestamp - first
        return self._clock() - segment.created_ms

    def roll(self) -> None:
        """Closes the active segment (flushing it, as Kafka does) and starts a new one at the log end."""
        active = self._active
        if active.is_empty:
            return
        active.finish_time_index()
        active.flush()
        segment = Segment(self.directory, active.next_offset, self.config.index_interval_bytes, self._clock())
        self._segments.append(segment)
        self._bases.append(segment.base_offset)
        durable_file.fsync_directory(self.directory)
        self._advance_recovery_point(max(self.recovery_point, segment.base_offset))

    # --- durability ----------------------------------------------------------------------------

    def maybe_flush(self) -> None:
        """Flushes if log.flush.interval.messages or log.flush.interval.ms says it is time."""
        unflushed = self._segments[-1].next_offset - self.recovery_point
        if unflushed <= 0:
            return
        if unflushed >= self.config.flush_interval_messages or (
            self.config.flush_interval_ms != NEVER and self._clock() - self._last_flush_ms >= self.config.flush_interval_ms
        ):
            self.flush()

    def flush(self) -> None:
        """fsyncs every segment holding data past the recovery point, then moves the point to the log end."""
        for segment in self._segments[self._segment_at(self.recovery_point) :]:
            segment.flush()
        durable_file.fsync_directory(self.directory)
        self._last_flush_ms = self._clock()
        self._advance_recovery_point(self.log_end_offset)

    def _advance_recovery_point(self, offset: int) -> None:
        self.recovery_point = offset
        layout.write_recovery_point(self.directory, offset)

    def close(self) -> None:
        """Flushes everything and marks the shutdown clean, so the next open skips recovery."""
        self._active.finish_time_index()
        self.flush()
        layout.write_clean_shutdown_marker(self.directory)
        for segment in self._segments:
            segment.close()

    # --- reading -------------------------------------------------------------------------------

    def read(self, offset: int, max_bytes: int, upper_bound: int | None = None) -> FileRegion:
        """Whole batches from the one holding `offset`, within one segment (Kafka fetch semantics).

        `upper_bound` (exclusive, e.g. the high watermark) keeps out batches that
        reach it. At least one batch is returned even above max_bytes; an
        empty region means there is nothing to read yet.
        """
        start, end = self.log_start_offset, self.log_end_offset
        if not start <= offset <= end:
            raise OffsetOutOfRangeError(offset, start, end)
        limit = end if upper_bound is None else min(upper_bound, end)
        self._refuse_corrupt(offset)
        if offset >= limit:
            return FileRegion(self._active.fd, self._active.size, 0, offset)
        segment = self._segments[self._segment_at(offset)]
        self._ensure_verified(segment)
        self._refuse_corrupt(offset)
        if self.corruption is not None:
            limit = min(limit, self.corruption.offset)
        first, last, next_offset = segment.slice(offset, max_bytes, limit)
        return FileRegion(segment.fd, first, last - first, next_offset)

    def offset_for_timestamp(self, timestamp: int) -> int | None:
        """The offset of the first record whose timestamp is >= `timestamp`, or None."""
        for segment in self._segments:
            self._refuse_corrupt(segment.base_offset)
            if segment.max_timestamp < timestamp:
                continue
            self._ensure_verified(segment)
            found = self._offset_in_segment(segment, timestamp)
            if found is not None:
                return found
            self._refuse_corrupt(segment.valid_next_offset)
        return None

    def _offset_in_segment(self, segment: Segment, timestamp: int) -> int | None:
        at = segment.time_index.floor(timestamp)
        position, _ = segment.locate(segment.time_index.values[at] if at >= 0 else segment.base_offset)
        while position < segment.valid_end:
            header = segment.batch_at(position)
            if header.max_timestamp >= timestamp:
                batch = os.pread(segment.fd, header.size, position)
                try:
                    records = decode_records(batch)
                except CorruptBatchError as error:
                    raise InvalidBatchError(f"stored batch at offset {header.base_offset}: {error}") from None
                for record in records:
                    if record.timestamp >= timestamp and record.offset >= self._log_start_offset:
                        return record.offset
            position += header.size
        return None

    def _ensure_verified(self, segment: Segment) -> None:
        """Validates a segment nobody has checked since it was written, once, before serving from it."""
        if segment.verified:
            return
        result = segment.scan()
        if result.problem:
            self._report(result.problem)
        self._check_contiguity()
        self._refresh_corruption()

    def _refuse_corrupt(self, offset: int) -> None:
        if self.corruption is not None and offset >= self.corruption.offset:
            raise CorruptLogError(self.corruption)

    def _report(self, corruption: Corruption) -> None:
        _log.error(
            "%s: corrupt batch in %s at byte %d (offset %d): %s; offsets from %d are not served",
            self.directory, corruption.segment, corruption.position, corruption.offset, corruption.reason, corruption.offset,
        )

    def _refresh_corruption(self) -> None:
        self.corruption = next((segment.corruption for segment in self._segments if segment.corruption), None)

    # --- leader epochs -------------------------------------------------------------------------

    def end_offset_for_epoch(self, epoch: int) -> tuple[int, int]:
        """OffsetForLeaderEpoch: (largest epoch <= `epoch`, its end offset), or (-1, -1)."""
        return self.epoch_cache.end_offset_for_epoch(epoch, self.log_end_offset)

    # --- retention and truncation --------------------------------------------------------------

    def apply_retention(self) -> list[DeletedSegment]:
        """Deletes whole closed segments, oldest first, while retention.ms or retention.bytes is breached."""
        now = self._clock()
        excess = self.size - self.config.retention_bytes if self.config.retention_bytes != UNLIMITED else None
        deleted = []
        while len(self._segments) > 1:
            segment = self._segments[0]
            reason = self._retention_breach(segment, now, excess)
            if reason is None:
                break
            deleted.append(DeletedSegment(segment.base_offset, segment.next_offset, segment.size, reason))
            _log.info(
                "%s: retention deletes %s (offsets %d..%d, %d bytes): %s",
                self.directory, segment.name, segment.base_offset, segment.next_offset - 1, segment.size, reason,
            )
            if excess is not None:
                excess -= segment.size
            self._delete_first()
        if deleted:
            durable_file.fsync_directory(self.directory)
            self._truncate_epochs_to_log()
            self._refresh_corruption()
        return deleted

    def _retention_breach(self, segment: Segment, now: int, excess: int | None) -> str | None:
        if self.config.retention_ms != UNLIMITED:
            newest = segment.max_timestamp if segment.max_timestamp > NO_TIMESTAMP else os.stat(segment.path).st_mtime_ns // 1_000_000
            if now - newest > self.config.retention_ms:
                return f"newest timestamp {newest} is more than retention.ms {self.config.retention_ms} old"
        if excess is not None and excess - segment.size >= 0:
            return f"log exceeds retention.bytes {self.config.retention_bytes}"
        return None

    def truncate_to(self, offset: int) -> None:
        """Drops every batch that reaches `offset` (replication's divergence repair).

        The log end becomes the start of the batch holding `offset`, which is
        `offset` itself whenever `offset` is a batch boundary, as epoch ends are.
        A log start inside that batch moves back to the new end (Kafka: the
        minimum of the two).
        """
        if offset >= self.log_end_offset:
            return
        if offset <= self.log_start_offset:
            self.truncate_fully_and_start_at(offset)
            return
        if self.corruption is not None:
            offset = min(offset, self.corruption.offset)
        segment = self._segments[self._segment_at(offset)]
        self._delete_after(segment, f"truncation to offset {offset}")
        if offset < segment.valid_next_offset:
            position, end = segment.locate(offset)
        else:
            position, end = segment.valid_end, offset
        _log.info("%s: truncating %s at byte %d, log end %d -> %d", self.directory, segment.name, position, segment.next_offset, end)
        segment.truncate_at(position)
        result = segment.scan()
        segment.next_offset = end
        if result.problem:
            self._report(result.problem)
        self.epoch_cache.truncate_from_end(self.log_end_offset)
        if self._log_start_offset > self.log_end_offset:
            self._checkpoint_log_start(self.log_end_offset)
        if self.recovery_point > self.log_end_offset:
            self._advance_recovery_point(self.log_end_offset)
        self._refresh_corruption()

    def truncate_fully_and_start_at(self, offset: int) -> None:
        """Empties the log and restarts it at `offset` (a follower far behind a leader's log start)."""
        if offset < 0:
            raise ValueError(f"log start offset must be non-negative, got {offset}")
        _log.info("%s: deleting all %d segments; the log restarts at offset %d", self.directory, len(self._segments), offset)
        for segment in self._segments:
            segment.delete()
        self._segments = [Segment(self.directory, offset, self.config.index_interval_bytes, self._clock())]
        self._bases = [offset]
        durable_file.fsync_directory(self.directory)
        self._checkpoint_log_start(offset)
        self.epoch_cache.clear()
        self.corruption = None
        self._advance_recovery_point(offset)

    def advance_log_start(self, offset: int) -> None:
        """Kafka's maybeIncrementLogStartOffset, for a follower whose leader's log start moved on.

        `offset` (clamped to the log end) becomes the log start if it is
        higher: it is checkpointed before anything is deleted, so a crash
        cannot bring the records below it back; segments wholly below it go.
        """
        offset = min(offset, self.log_end_offset)
        if offset <= self._log_start_offset:
            return
        _log.info("%s: the log start advances from %d to %d", self.directory, self._log_start_offset, offset)
        self._checkpoint_log_start(offset)
        self._delete_segments_below_start()
        self._truncate_epochs_to_log()

    def _truncate_epochs_to_log(self) -> None:
        """Keeps epochs that hold records between the log start and end: a log that starts at its end has none."""
        self.epoch_cache.truncate_from_start(self._log_start_offset)
        self.epoch_cache.truncate_from_end(self.log_end_offset)

    def _checkpoint_log_start(self, offset: int) -> None:
        self._log_start_offset = offset
        layout.write_log_start_offset(self.directory, offset)

    def _delete_segments_below_start(self) -> None:
        deleted = False
        while len(self._segments) > 1 and self._bases[1] <= self._log_start_offset:
            segment = self._segments[0]
            _log.info(
                "%s: deleting %s (offsets %d..%d, %d bytes): below the log start %d",
                self.directory, segment.name, segment.base_offset, segment.next_offset - 1, segment.size, self._log_start_offset,
            )
            self._delete_first()
            deleted = True
        if deleted:
            durable_file.fsync_directory(self.directory)
            self._refresh_corruption()

    def _delete_after(self, keep: Segment, why: str) -> None:
        while self._segments[-1] is not keep:
            segment = self._segments.pop()
            self._bases.pop()
            _log.warning(
                "%s: deleting %s (offsets %d..%d, %d bytes): %s",
                self.directory, segment.name, segment.base_offset, segment.next_offset - 1, segment.size, why,
            )
            segment.delete()

    def _delete_first(self) -> None:
        self._segments.pop(0).delete()
        self._bases.pop(0)
        self._log_start_offset = max(self._log_start_offset, self._bases[0])
        self.recovery_point = max(self.recovery_point, self._log_start_offset)



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
