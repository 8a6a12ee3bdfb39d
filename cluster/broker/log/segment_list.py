"""A partition directory's segments in offset order (Kafka's LocalLog): append, roll, flush and read.

Used from one thread (the broker's event loop), with time from an injected
clock. It writes batches already checked and stamped, starting a new segment
when size, offset span or age call for it; serves whole batches by offset; and
keeps the first corrupt batch found, beyond which nothing is served. What it
holds is decided around it: loader recovers it, retention and truncation cut
it, partition_log applies the batch rules and leader epochs.
"""

from __future__ import annotations

import bisect
import logging
import os
from pathlib import Path
from typing import Iterator, Sequence

from cluster import durable_file
from cluster.broker.log import layout
from cluster.broker.log.clock import Clock
from cluster.broker.log.config import NEVER, LogConfig
from cluster.broker.log.errors import (
    Corruption,
    CorruptLogError,
    InvalidBatchError,
    OffsetOutOfRangeError,
    failed_fsync,
    is_disk_full,
)
from cluster.broker.log.index import INT32_MAX
from cluster.broker.log.region import FileRegion
from cluster.broker.log.segment import Placement, Segment, SegmentMark
from cluster.broker.protocol.record_batch import BatchHeader, CorruptBatchError
from cluster.broker.protocol.records import decode_records

_log = logging.getLogger(__name__)

AppendMark = tuple[int, SegmentMark, int]
"""(segments, the active segment's mark, recovery point) before an append, to undo it with."""


class SegmentList:
    """The segments and the offsets they serve, from the log start to the log end.

    Invariants: segments are contiguous and ordered, the last one is the only
    one written to, and nothing at or after `corruption.offset` is served. The
    log start lives here, not beside the leader epochs as in Kafka, because
    deleting the first segment moves it.
    """

    def __init__(
        self, directory: Path, config: LogConfig, clock: Clock, segments: list[Segment], recovery_point: int, log_start_offset: int
    ) -> None:
        self.directory = directory
        self.config = config
        self.clock = clock
        self._segments = segments
        self._bases = [segment.base_offset for segment in segments]
        self.recovery_point = recovery_point
        self._log_start_offset = max(log_start_offset, segments[0].base_offset)
        """Below it nothing is served; inside the first segment when advance_log_start moved it there."""
        self.corruption: Corruption | None = None
        """The first stored batch that failed validation; reads at or beyond its offset raise CorruptLogError."""
        self._last_flush_ms = clock()
        self._flushes_by_policy = config.flush_interval_messages != NEVER or config.flush_interval_ms != NEVER
        """False with Kafka's default policy (leave flushing to the OS): appends then skip maybe_flush."""
        self._directory_synced = True
        """False while a segment file was created or deleted since the directory was last fsynced."""
        self._recovery_point_saved = True
        """False while the recovery-point checkpoint is behind: a full disk refused the last write."""

    @classmethod
    def open(cls, directory: Path, config: LogConfig, clock: Clock) -> SegmentList:
        """The segments whose files are in `directory` (an empty one at offset 0 if none), as found:
        checking and recovering them is the loader's work."""
        bases = layout.segment_bases(directory)
        now = clock()
        segments = [Segment(directory, base, config.index_interval_bytes, now) for base in bases]
        if not segments:
            segments = [Segment(directory, 0, config.index_interval_bytes, now)]
        opened = cls(directory, config, clock, segments, layout.read_recovery_point(directory), layout.read_log_start_offset(directory))
        opened._directory_synced = bool(bases)
        return opened

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
    def segments(self) -> Sequence[Segment]:
        return self._segments

    @property
    def base_offsets(self) -> list[int]:
        return list(self._bases)

    @property
    def active(self) -> Segment:
        return self._segments[-1]

    def index_at(self, offset: int) -> int:
        """The position in `segments` of the segment holding `offset` (the first for offsets below it)."""
        return max(bisect.bisect_right(self._bases, offset) - 1, 0)

    def batch_headers(self, start: int = 0) -> Iterator[BatchHeader]:
        """The header of every stored batch from `start` on (a batch boundary), read by hopping over batch
        lengths without touching records: what rebuilding a leader's producer state needs."""
        for segment in self._segments[self.index_at(start):]:
            yield from segment.headers(start)

    def stored_batch(self, header: BatchHeader) -> bytes:
        """The bytes of a batch batch_headers gave, below the log start too, which read() refuses:
        replaying the producer state needs the markers there."""
        segment = self._segments[self.index_at(header.base_offset)]
        position, _ = segment.locate(header.base_offset)
        return os.pread(segment.fd, header.size, position)

    # --- appending -----------------------------------------------------------------------------

    def write(self, data: memoryview, placed: list[Placement], max_timestamp: int) -> None:
        """Writes `data`, the batches `placed`, with one write per segment, rolling segments as needed.

        The usual append needs no roll, which one test over the whole of `data`
        shows: _needs_roll's rules applied to its size, last offset and largest
        timestamp. Only when that fails are the batches taken one by one.
        """
        active = self._segments[-1]
        rolling = not (
            active.size + len(data) <= self.config.segment_bytes
            and placed[-1][1] - active.base_offset <= INT32_MAX
            and (not active.size or self._waited_for_roll(active, max_timestamp) <= self.config.segment_ms)
        )
        mark = self._mark() if rolling else None
        try:
            if rolling:
                self._write_rolling(data, placed)
            else:
                active.append(data, 0, placed)
        except OSError as error:
            if is_disk_full(error):
                self._undo(mark or self._mark())  # a lone write that failed has changed nothing in memory yet
            raise
        if self._flushes_by_policy:
            self.maybe_flush()

    def _mark(self) -> AppendMark:
        return len(self._segments), self._segments[-1].mark(), self.recovery_point

    def _undo(self, mark: AppendMark) -> None:
        """Returns to the log as it was before a failed append: segments it created deleted, the
        active one cut back. A roll midway fsynced part of the append, and a power loss must not
        bring back records nobody was told of, so the undo is made durable too (a full disk is
        rare: the fsyncs cost nothing that matters)."""
        count, active_mark, recovery_point = mark
        while len(self._segments) > count:
            self._bases.pop()
            self._segments.pop().delete()
        active = self._segments[-1]
        active.undo(active_mark)
        active.flush()
        self._sync_directory()
        self.advance_recovery_point(min(recovery_point, active.next_offset))
        _log.warning("%s: an append found the disk full and was undone; the log ends at %d again", self.directory,
                     self.log_end_offset)

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
        return self.clock() - segment.created_ms

    def roll(self) -> None:
        """Closes the active segment (flushing it, as Kafka does) and starts a new one at the log end."""
        active = self.active
        if active.is_empty:
            return
        active.finish_time_index()
        active.flush()
        segment = Segment(self.directory, active.next_offset, self.config.index_interval_bytes, self.clock())
        self._segments.append(segment)
        self._bases.append(segment.base_offset)
        self._sync_directory()
        self.advance_recovery_point(max(self.recovery_point, segment.base_offset))

    # --- durability ----------------------------------------------------------------------------

    def maybe_flush(self) -> None:
        """Flushes if log.flush.interval.messages or log.flush.interval.ms says it is time, and
        writes a recovery-point checkpoint a full disk refused earlier."""
        if not self._recovery_point_saved:
            self.advance_recovery_point(self.recovery_point)
        unflushed = self._segments[-1].next_offset - self.recovery_point
        if unflushed <= 0:
            return
        if unflushed >= self.config.flush_interval_messages or (
            self.config.flush_interval_ms != NEVER and self.clock() - self._last_flush_ms >= self.config.flush_interval_ms
        ):
            self.flush()

    def flush(self) -> None:
        """fsyncs every segment holding data past the recovery point, and the directory if segment
        files came or went since it was last fsynced (a new file's name is durable only then), then
        moves the point to the log end."""
        for segment in self._segments[self.index_at(self.recovery_point) :]:
            segment.flush()
        if not self._directory_synced:
            self._sync_directory()
        self._last_flush_ms = self.clock()
        self.advance_recovery_point(self.log_end_offset)

    def _sync_directory(self) -> None:
        """Makes the names of created and deleted segment files durable."""
        try:
            durable_file.fsync_directory(self.directory)
        except OSError as error:
            raise failed_fsync(error, f"directory {self.directory.name}") from error
        self._directory_synced = True

    def advance_recovery_point(self, offset: int) -> None:
        """Moves the point and checkpoints it; a full disk leaves the old checkpoint, which is lower
        and so still true, and maybe_flush writes it again."""
        if offset == self.recovery_point and self._recovery_point_saved:
            return
        self.recovery_point = offset
        self._recovery_point_saved = layout.write_recovery_point(self.directory, offset)

    def close(self) -> None:
        """Flushes everything and marks the shutdown clean, so the next open need not flush."""
        self.active.finish_time_index()
        self.flush()
        layout.write_clean_shutdown_marker(self.directory)
        self.close_files()

    def close_files(self) -> None:
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
            return FileRegion(self.active.fd, self.active.size, 0, offset)
        segment = self._segments[self.index_at(offset)]
        if self.corruption is not None:
            limit = min(limit, self.corruption.offset)
        first, last, next_offset = segment.slice(offset, max_bytes, limit)
        return FileRegion(segment.fd, first, last - first, next_offset)

    def offset_for_timestamp(self, timestamp: int) -> int | None:
        """The offset of the first record whose timestamp is >= `timestamp`, or None.

        An empty segment (a freshly rolled active one, or a whole new log) is passed over
        first: its max timestamp, NO_TIMESTAMP (-1), is no record's, and a target at or
        below it would otherwise send the search into a file that holds no batch."""
        for segment in self._segments:
            self._refuse_corrupt(segment.base_offset)
            if segment.is_empty or segment.max_timestamp < timestamp:
                continue
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

    # --- corruption ----------------------------------------------------------------------------

    def _refuse_corrupt(self, offset: int) -> None:
        if self.corruption is not None and offset >= self.corruption.offset:
            raise CorruptLogError(self.corruption)

    def report(self, corruption: Corruption) -> None:
        _log.error(
            "%s: corrupt batch in %s at byte %d (offset %d): %s; offsets from %d are not served",
            self.directory, corruption.segment, corruption.position, corruption.offset, corruption.reason, corruption.offset,
        )

    def refresh_corruption(self) -> None:
        self.corruption = next((segment.corruption for segment in self._segments if segment.corruption), None)

    # --- removing segments ---------------------------------------------------------------------

    def checkpoint_log_start(self, offset: int) -> None:
        """The checkpoint first, then the start: if the disk is full, nothing changes."""
        layout.write_log_start_offset(self.directory, offset)
        self._log_start_offset = offset

    def delete_first(self) -> None:
        """The log start and the recovery point move up to the new first segment: neither may lie in a deleted file."""
        self._segments.pop(0).delete()
        self._bases.pop(0)
        self._log_start_offset = max(self._log_start_offset, self._bases[0])
        self.recovery_point = max(self.recovery_point, self._log_start_offset)

    def delete_after(self, keep: Segment, why: str) -> None:
        """Newest first, so that a crash midway leaves the segments contiguous."""
        while self._segments[-1] is not keep:
            segment = self._segments.pop()
            self._bases.pop()
            self._directory_synced = False
            _log.warning("%s: deleting %s (%d bytes from offset %d): %s", self.directory, segment.name, segment.size,
                         segment.base_offset, why)
            segment.delete()

    def restart_at(self, offset: int) -> None:
        """Deletes every segment and starts an empty one at `offset`, which becomes the log start;
        the caller moves the recovery point there once the leader epochs are cleared.

        The empty segment exists and the start is checkpointed before anything is deleted, so a
        full disk changes nothing, and a crash midway leaves a log ending before its checkpointed
        start, which opens as this empty one.
        """
        reused = next((segment for segment in self._segments if segment.base_offset == offset), None)
        fresh = reused or Segment(self.directory, offset, self.config.index_interval_bytes, self.clock())
        try:
            self.checkpoint_log_start(offset)
        except OSError:
            if reused is None:
                fresh.delete()
            raise
        for segment in self._segments:
            if segment is not fresh:
                segment.delete()
        if reused is not None:
            reused.truncate_at(0)
            reused.scan()
        self._segments = [fresh]
        self._bases = [offset]
        self._sync_directory()
        self.corruption = None
