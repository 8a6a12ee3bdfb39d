"""How records leave a partition's log: retention and the log start from the front, truncation from the end.

Every cut is made durable in the order a crash can recover from: the log
start is checkpointed before the segments below it are deleted, so records
below it cannot come back, and the leader epochs are trimmed to the records
that remain. Producer snapshots the remaining batches no longer back go too
(snapshot_files.py): those below the first segment, and those past a truncation.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from cluster import durable_file
from cluster.broker.log import snapshot_files
from cluster.broker.log.config import UNLIMITED
from cluster.broker.log.epoch_cache import LeaderEpochCache
from cluster.broker.log.segment import Segment
from cluster.broker.log.segment_list import SegmentList

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeletedSegment:
    base_offset: int
    next_offset: int
    size: int
    reason: str


def apply_retention(segments: SegmentList, epochs: LeaderEpochCache, high_watermark: int | None = None) -> list[DeletedSegment]:
    """Deletes whole segments, oldest first, while retention.ms or retention.bytes is breached.

    Kafka's deletableSegments: a segment goes only if every offset in it is below the high
    watermark (None: the log end, every record committed), so the log start never passes
    what is committed. retention.ms compares the newest timestamp in a segment with the log's
    clock, so a clock stepped forward past retention.ms deletes early, and one stepped back
    late. The active segment goes too when it is breached and not empty: it is rolled
    first, so that the log keeps an empty segment at its end, where it then starts.
    """
    config = segments.config
    now = segments.clock()
    bound = segments.log_end_offset if high_watermark is None else high_watermark
    if segments.corruption is not None:
        bound = min(bound, segments.corruption.offset)
    excess = segments.size - config.retention_bytes if config.retention_bytes != UNLIMITED else None
    listed = segments.segments
    doomed: list[tuple[Segment, str]] = []
    for at, segment in enumerate(listed):
        last = at == len(listed) - 1
        upper = segments.log_end_offset if last else listed[at + 1].base_offset
        if (last and segment.is_empty) or upper > bound:
            break
        reason = _retention_breach(segments, segment, now, excess)
        if reason is None:
            break
        doomed.append((segment, reason))
        if excess is not None:
            excess -= segment.size
    if not doomed:
        return []
    if len(doomed) == len(listed):
        segments.roll()
    deleted = []
    for segment, reason in doomed:
        deleted.append(DeletedSegment(segment.base_offset, segment.next_offset, segment.size, reason))
        _log.info(
            "%s: retention deletes %s (offsets %d..%d, %d bytes): %s",
            segments.directory, segment.name, segment.base_offset, segment.next_offset - 1, segment.size, reason,
        )
        segments.delete_first()
    durable_file.fsync_directory(segments.directory)
    _delete_snapshots_below_first_segment(segments)
    truncate_epochs_to_log(segments, epochs)
    segments.refresh_corruption()
    return deleted


def _retention_breach(segments: SegmentList, segment: Segment, now: int, excess: int | None) -> str | None:
    """Kafka's rules: the newest timestamp (the file's mtime if it has none) older than retention.ms
    by the clock, or the log larger than retention.bytes by at least this segment."""
    config = segments.config
    if config.retention_ms != UNLIMITED:
        newest = segment.max_timestamp if segment.max_timestamp >= 0 else os.stat(segment.path).st_mtime_ns // 1_000_000
        if now - newest > config.retention_ms:
            return f"newest timestamp {newest} is more than retention.ms {config.retention_ms} before {now}"
    if excess is not None and excess - segment.size >= 0:
        return f"log exceeds retention.bytes {config.retention_bytes}"
    return None


def truncate_to(segments: SegmentList, epochs: LeaderEpochCache, offset: int) -> None:
    """Drops every batch that reaches `offset` (replication's divergence repair).

    The log end becomes the start of the batch holding `offset`, which is
    `offset` itself whenever `offset` is a batch boundary, as epoch ends are.
    A log start inside that batch moves back to the new end (Kafka: the
    minimum of the two).
    """
    if offset >= segments.log_end_offset:
        return
    if offset <= segments.log_start_offset:
        truncate_fully_and_start_at(segments, epochs, offset)
        return
    if segments.corruption is not None:
        offset = min(offset, segments.corruption.offset)
    segment = segments.segments[segments.index_at(offset)]
    if offset < segment.valid_next_offset:
        position, end = segment.locate(offset)
    else:
        position, end = segment.valid_end, offset
    if segments.log_start_offset > end:
        segments.checkpoint_log_start(end)  # before anything is cut: a full disk then changes nothing
    snapshot_files.delete_outside(segments.directory, 0, end, f"the log is truncated to offset {end}")
    segments.delete_after(segment, f"truncation to offset {offset}")
    _log.info("%s: truncating %s at byte %d, log end %d -> %d", segments.directory, segment.name, position, segment.next_offset, end)
    segment.truncate_at(position)
    result = segment.scan()
    segment.next_offset = end
    if result.problem:
        segments.report(result.problem)
    epochs.truncate_from_end(segments.log_end_offset)
    if segments.recovery_point > segments.log_end_offset:
        segments.advance_recovery_point(segments.log_end_offset)
    segments.refresh_corruption()


def truncate_fully_and_start_at(segments: SegmentList, epochs: LeaderEpochCache, offset: int) -> None:
    """Empties the log and restarts it at `offset` (a follower far behind a leader's log start)."""
    if offset < 0:
        raise ValueError(f"log start offset must be non-negative, got {offset}")
    _log.info("%s: deleting all %d segments; the log restarts at offset %d", segments.directory, len(segments.segments), offset)
    snapshot_files.delete_all(segments.directory, f"the log restarts empty at offset {offset}")
    segments.restart_at(offset)
    epochs.clear()
    segments.advance_recovery_point(offset)


def advance_log_start(segments: SegmentList, epochs: LeaderEpochCache, offset: int) -> None:
    """Kafka's maybeIncrementLogStartOffset, for a follower whose leader's log start moved on.

    `offset` (clamped to the log end) becomes the log start if it is
    higher: it is checkpointed before anything is deleted, so a crash
    cannot bring the records below it back; segments wholly below it go.
    """
    offset = min(offset, segments.log_end_offset)
    if offset <= segments.log_start_offset:
        return
    _log.info("%s: the log start advances from %d to %d", segments.directory, segments.log_start_offset, offset)
    segments.checkpoint_log_start(offset)
    _delete_segments_below_start(segments)
    truncate_epochs_to_log(segments, epochs)


def keep_checkpointed_start(segments: SegmentList, epochs: LeaderEpochCache) -> None:
    """Kafka's LogLoader rule: a log that now ends before its checkpointed start (a crash lost
    the tail it had when the start advanced) restarts empty there; otherwise segments that an
    interrupted advance_log_start left wholly below the start go now."""
    if segments.log_start_offset > segments.log_end_offset:
        _log.warning(
            "%s: the log ends at %d, before its checkpointed start %d; it restarts empty there",
            segments.directory, segments.log_end_offset, segments.log_start_offset,
        )
        truncate_fully_and_start_at(segments, epochs, segments.log_start_offset)
    else:
        _delete_segments_below_start(segments)


def truncate_epochs_to_log(segments: SegmentList, epochs: LeaderEpochCache) -> None:
    """Keeps epochs that hold records between the log start and end: a log that starts at its end has none."""
    epochs.truncate_from_start(segments.log_start_offset)
    epochs.truncate_from_end(segments.log_end_offset)


def _delete_segments_below_start(segments: SegmentList) -> None:
    deleted = False
    while len(segments.segments) > 1 and segments.segments[1].base_offset <= segments.log_start_offset:
        segment = segments.segments[0]
        _log.info(
            "%s: deleting %s (offsets %d..%d, %d bytes): below the log start %d",
            segments.directory, segment.name, segment.base_offset, segment.next_offset - 1, segment.size, segments.log_start_offset,
        )
        segments.delete_first()
        deleted = True
    if deleted:
        durable_file.fsync_directory(segments.directory)
        _delete_snapshots_below_first_segment(segments)
        segments.refresh_corruption()


def _delete_snapshots_below_first_segment(segments: SegmentList) -> None:
    """Deleted with their segments: the batches after them, which a scan would go on with, are gone."""
    snapshot_files.delete_outside(segments.directory, segments.segments[0].base_offset, segments.log_end_offset,
                                  "the segments after it are deleted")
