"""One segment: a .log file of v2 batches plus its two sparse indexes.

The segment knows positions and offsets; it decides nothing about rolling,
retention or recovery policy (the segment list, the loader and retention do).
Appends are a single sequential write; reads translate offsets to byte ranges
through the index and a short walk over batch headers, never touching records.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Sequence

from cluster.broker.log.batch_scan import BatchRejected, check_batches
from cluster.broker.log.errors import Corruption, failed_fsync
from cluster.broker.log.index import INT32_MAX, OffsetIndex, TimeIndex
from cluster.broker.protocol.record_batch import (
    HEADER,
    HEADER_SIZE,
    LOG_OVERHEAD,
    MAGIC,
    MIN_BATCH_LENGTH,
    BatchHeader,
    CorruptBatchError,
    peek_size,
    validate,
)

LOG_SUFFIX = ".log"
TXN_INDEX_SUFFIX = ".txnindex"
"""The aborted transactions whose markers the segment holds: written by the partition (transactions/txn_index.py),
deleted with the segment."""
NO_TIMESTAMP = -1
_SCAN_CHUNK = 8 << 20
_ANY_SIZE = INT32_MAX
"""Stored batches are checked whatever max.message.bytes now says: it may have been lowered since."""


def file_stem(base_offset: int) -> str:
    return f"{base_offset:020d}"


Placement = tuple[int, int, int, int]
"""(position, last offset, max timestamp, size) of one validated batch, the position counted
within the data being appended: a plain tuple, as one is made for every batch appended."""


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What a validating pass over the whole file found."""

    problem: Corruption | None
    epoch_starts: list[tuple[int, int]]
    indexes_rewritten: bool
    """The index files did not hold what the batches imply (missing, damaged, or behind after a crash)."""


class SegmentMark(NamedTuple):
    """A segment's state before an append, to undo the append with (a full disk)."""

    size: int
    next_offset: int
    max_timestamp: int
    offset_of_max_timestamp: int
    first_batch_timestamp: int | None
    bytes_since_index_entry: int
    offset_entries: int
    time_entries: int


class Segment:
    """A .log file and its indexes, named by base offset."""

    def __init__(self, directory: Path, base_offset: int, index_interval_bytes: int, created_ms: int) -> None:
        self.directory = directory
        self.index_interval_bytes = index_interval_bytes
        self.base_offset = base_offset
        self.name = file_stem(base_offset) + LOG_SUFFIX
        self.fd = os.open(directory / self.name, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        self.size = os.fstat(self.fd).st_size
        self.next_offset = base_offset
        self.offset_index = OffsetIndex(directory / (file_stem(base_offset) + OffsetIndex.SUFFIX), base_offset)
        self.time_index = TimeIndex(directory / (file_stem(base_offset) + TimeIndex.SUFFIX), base_offset)
        self.max_timestamp = NO_TIMESTAMP
        self.offset_of_max_timestamp = base_offset
        self.first_batch_timestamp: int | None = None
        self.created_ms = created_ms
        self.corruption: Corruption | None = None
        self._bytes_since_index_entry = 0

    @property
    def path(self) -> Path:
        return self.directory / self.name

    @property
    def is_empty(self) -> bool:
        return self.size == 0

    @property
    def valid_end(self) -> int:
        """Bytes that may be served: all of them unless a corrupt batch was found."""
        return self.corruption.position if self.corruption else self.size

    @property
    def valid_next_offset(self) -> int:
        return self.corruption.offset if self.corruption else self.next_offset

    # --- writing -------------------------------------------------------------------------------

    def append(self, run: memoryview, begin: int, batches: list[Placement]) -> None:
        """Writes `run`, the bytes of validated, stamped batches whose positions count from `begin`, in one write."""
        start = self.size
        written = os.write(self.fd, run)
        while written < len(run):
            written += os.write(self.fd, run[written:])
        self.size = start + len(run)
        self._note(start - begin, batches)
        self.next_offset = batches[-1][1] + 1

    def finish_time_index(self) -> None:
        """Records the segment's largest timestamp, as Kafka does when a segment stops being active."""
        last = self.time_index.keys[-1] if len(self.time_index) else NO_TIMESTAMP
        if self.max_timestamp > last:
            self.time_index.append(self.max_timestamp, self.offset_of_max_timestamp)

    def persist_indexes(self) -> None:
        self.offset_index.persist()
        self.time_index.persist()

    def flush(self) -> None:
        """fsyncs the .log file (the indexes are hints, written but never fsynced)."""
        try:
            os.fsync(self.fd)
        except OSError as error:
            raise failed_fsync(error, self.name) from error
        self.persist_indexes()

    def mark(self) -> SegmentMark:
        return SegmentMark(
            self.size, self.next_offset, self.max_timestamp, self.offset_of_max_timestamp, self.first_batch_timestamp,
            self._bytes_since_index_entry, len(self.offset_index), len(self.time_index),
        )

    def undo(self, mark: SegmentMark) -> None:
        """Returns to `mark`: the file cut back (a partial write included) and the indexes with it."""
        os.ftruncate(self.fd, mark.size)
        (self.size, self.next_offset, self.max_timestamp, self.offset_of_max_timestamp, self.first_batch_timestamp,
         self._bytes_since_index_entry) = mark[:6]
        self.offset_index.truncate_entries(mark.offset_entries)
        self.time_index.truncate_entries(mark.time_entries)

    def truncate_at(self, position: int) -> None:
        """Drops bytes from `position` on; the caller rebuilds the indexes with scan()."""
        os.ftruncate(self.fd, position)
        self.size = position

    def close(self) -> None:
        os.close(self.fd)

    def delete(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)
        self.offset_index.delete()
        self.time_index.delete()
        (self.directory / (file_stem(self.base_offset) + TXN_INDEX_SUFFIX)).unlink(missing_ok=True)

    # --- opening and checking ------------------------------------------------------------------

    def scan(self) -> ScanResult:
        """Validates every batch (framing, magic, CRC, offsets) and recomputes both indexes.

        The checks are batch_scan's, compiled, over chunks of the file. Stops at
        the first bad batch and reports it with its byte position and the offset
        that was expected there; the indexes then cover only the batches before
        it, and next_offset is left for the caller to decide (truncate there, or
        keep serving the intact prefix). Index files are rewritten only if they
        differ from what the batches imply.
        """
        self.offset_index.clear()
        self.time_index.clear()
        self.max_timestamp, self.offset_of_max_timestamp = NO_TIMESTAMP, self.base_offset
        self.first_batch_timestamp = None
        self._bytes_since_index_entry = 0
        expected, epoch, epoch_starts = self.base_offset, None, []
        problem, position, wanted = None, 0, 0
        while position < self.size and problem is None:
            chunk = os.pread(self.fd, min(max(wanted, _SCAN_CHUNK), self.size - position), position)
            wanted = 0
            found, bad = _valid_prefix(chunk)
            placed = []
            for at, base_offset, last_offset, leader_epoch, max_timestamp, size in found:
                if base_offset != expected:
                    problem = Corruption(self.name, position + at, expected, f"batch claims offset {base_offset}")
                    break
                if last_offset - self.base_offset > INT32_MAX:
                    problem = Corruption(self.name, position + at, expected, "offset beyond the segment's int32 range")
                    break
                if leader_epoch != epoch and leader_epoch >= 0:
                    epoch = leader_epoch
                    epoch_starts.append((epoch, base_offset))
                placed.append((position + at, last_offset, max_timestamp, size))
                expected = last_offset + 1
            if placed:
                self._note(0, placed)
            if problem is not None or bad is None:
                position += len(chunk)
                continue
            size = peek_size(chunk, bad)
            if position + len(chunk) < self.size and (size is None or bad + size > len(chunk)) and (
                size is None or position + bad + size <= self.size
            ):
                position, wanted = position + bad, size or 0  # the batch runs past this chunk: read it whole
                continue
            problem = Corruption(self.name, position + bad, expected, _why_invalid(chunk, bad, size))
        if problem is None:
            self.next_offset = expected
        self.corruption = problem
        self.finish_time_index()
        rewritten = self.offset_index.store()
        rewritten |= self.time_index.store()
        return ScanResult(problem, epoch_starts, rewritten)

    def headers(self, start: int = 0) -> list[BatchHeader]:
        """The headers of the batches from offset `start` (a batch boundary) on, read by hopping over
        lengths from where the index points (for rebuilding a leader's producer state)."""
        if start >= self.valid_next_offset:
            return []
        found, position = [], self.locate(start)[0] if start > self.base_offset else 0
        while position < self.valid_end:
            header = self._structural_header(position)
            if header is None:
                break
            found.append(header)
            position += header.size
        return found

    # --- reading -------------------------------------------------------------------------------

    def locate(self, offset: int) -> tuple[int, int]:
        """(position, base offset) of the batch holding `offset`, which must lie in the valid range."""
        at = self.offset_index.floor(offset)
        position = self.offset_index.values[at] if at >= 0 else 0
        while True:
            base, size, last = self._span(position)
            if last >= offset:
                return position, base
            position += size

    def slice(self, offset: int, max_bytes: int, upper_offset: int) -> tuple[int, int, int]:
        """(start, end, next offset) of whole batches from the one holding `offset`.

        Stops before the first batch reaching `upper_offset`, and after max_bytes
        unless that would leave nothing (Kafka returns at least one batch).
        """
        limit, limit_offset = self.valid_end, self.valid_next_offset
        if upper_offset < limit_offset:
            limit, limit_offset = self.locate(upper_offset)
        start, _ = self.locate(offset)
        if start >= limit:
            return start, start, offset
        target = start + max_bytes
        if target >= limit:
            return start, limit, limit_offset
        end = max(start, self.offset_index.position_floor(target))
        while True:
            _, size, _ = self._span(end)
            if end + size > target:
                break
            end += size
        if end == start:
            end = start + size
        if end >= limit:
            return start, limit, limit_offset
        base, _, _ = self._span(end)
        return start, end, base

    def batch_at(self, position: int) -> BatchHeader:
        return BatchHeader.parse(os.pread(self.fd, HEADER_SIZE, position))

    # --- internals -----------------------------------------------------------------------------

    def _note(self, shift: int, batches: Sequence[Placement]) -> None:
        """Kafka's LogSegment.append bookkeeping for batches now at file position `position + shift`,
        shared by appends and rebuilds so both agree.

        Every append runs this, so the running values are kept in locals and stored once."""
        if batches[0][0] + shift == 0:
            self.first_batch_timestamp = batches[0][2]
        since, interval = self._bytes_since_index_entry, self.index_interval_bytes
        for position, last_offset, max_timestamp, size in batches:
            if max_timestamp > self.max_timestamp:
                self.max_timestamp, self.offset_of_max_timestamp = max_timestamp, last_offset
            if since > interval:
                self.offset_index.append(last_offset, position + shift)
                times = self.time_index.keys
                if self.max_timestamp > (times[-1] if times else NO_TIMESTAMP):
                    self.time_index.append(self.max_timestamp, self.offset_of_max_timestamp)
                since = 0
            since += size
        self._bytes_since_index_entry = since

    def _track_timestamp(self, last_offset: int, max_timestamp: int) -> None:
        if max_timestamp > self.max_timestamp:
            self.max_timestamp = max_timestamp
            self.offset_of_max_timestamp = last_offset

    def _span(self, position: int) -> tuple[int, int, int]:
        """(base offset, size, last offset) of the batch at `position`, from its header."""
        fields = HEADER.unpack_from(os.pread(self.fd, HEADER_SIZE, position))
        return fields[0], fields[1] + LOG_OVERHEAD, fields[0] + fields[6]

    def _structural_header(self, position: int) -> BatchHeader | None:
        """The header at `position` if its framing is plausible (no CRC: that needs the whole batch)."""
        raw = os.pread(self.fd, HEADER_SIZE, position)
        if len(raw) < HEADER_SIZE:
            return None
        header = BatchHeader.parse(raw)
        if (
            header.magic != MAGIC
            or header.batch_length < MIN_BATCH_LENGTH
            or header.last_offset_delta < 0
            or position + header.size > self.size
        ):
            return None
        return header


def _valid_prefix(chunk: bytes) -> tuple[list[tuple[int, int, int, int, int, int]], int | None]:
    """The batches batch_scan accepts from the start of `chunk`, and where it stopped (None: at the end)."""
    try:
        return check_batches(chunk, _ANY_SIZE), None
    except BatchRejected as rejected:
        bad = rejected.args[0]
    return (check_batches(memoryview(chunk)[:bad], _ANY_SIZE) if bad else []), bad


def _why_invalid(chunk: bytes, position: int, size: int | None) -> str:
    """validate()'s reason for the batch batch_scan rejected, the reference for the rules' wording."""
    try:
        validate(chunk, position)
    except CorruptBatchError as error:
        return error.reason
    return f"torn batch: its header says {size} bytes, more than the file holds"
