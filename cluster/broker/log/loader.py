"""Opening a partition's log (Kafka's LogLoader): recovery from the recovery point after a crash.

Segments below the recovery point were fsynced before the crash, so only their
indexes are checked; everything from the recovery point on is validated batch
by batch and cut at the first bad one. A clean shutdown marker skips the
validation entirely. The leader-epoch cache comes from its checkpoint, or from
the batches when the checkpoint is unusable.
"""

from __future__ import annotations

import logging
from pathlib import Path

from cluster.broker.log import layout, retention
from cluster.broker.log.clock import Clock
from cluster.broker.log.config import LogConfig
from cluster.broker.log.epoch_cache import LeaderEpochCache
from cluster.broker.log.segment import Segment
from cluster.broker.log.segment_list import SegmentList

_log = logging.getLogger(__name__)


def load(directory: Path, config: LogConfig, clock: Clock) -> tuple[SegmentList, LeaderEpochCache]:
    """The segments in `directory` and their leader epochs, recovered if the log was not closed cleanly."""
    segments = SegmentList.open(directory, config, clock)
    clean = layout.has_clean_shutdown_marker(directory)
    epoch_cache, epoch_checkpoint_usable = LeaderEpochCache.load(directory)
    epoch_starts = _check_or_recover(segments, clean)
    segments.check_contiguity()
    if epoch_checkpoint_usable:
        epoch_cache.assign_newer(epoch_starts)
    else:
        epoch_cache.clear()
        epoch_cache.assign_newer((header.partition_leader_epoch, header.base_offset) for header in segments.batch_headers())
    retention.truncate_epochs_to_log(segments, epoch_cache)
    retention.keep_checkpointed_start(segments, epoch_cache)
    if not clean:
        segments.flush()
    segments.refresh_corruption()
    layout.remove_clean_shutdown_marker(directory)
    return segments, epoch_cache


def _check_or_recover(segments: SegmentList, clean: bool) -> list[tuple[int, int]]:
    """Checks the indexes of flushed segments and recovers the rest; returns the (epoch, start
    offset) pairs the recovered batches carry."""
    first_unflushed = (
        len(segments.segments) if clean else segments.index_at(max(segments.recovery_point, segments.log_start_offset))
    )
    for segment in segments.segments[:first_unflushed]:
        if not segment.load_indexes():
            _log.warning("%s: index files of %s are missing or inconsistent; rebuilding them", segments.directory, segment.name)
            _rebuild_closed_or_recover(segments, segment)
    epoch_starts: list[tuple[int, int]] = []
    at = first_unflushed
    while at < len(segments.segments):
        epoch_starts += _recover(segments, segments.segments[at])
        at += 1
    return epoch_starts


def _rebuild_closed_or_recover(segments: SegmentList, segment: Segment) -> None:
    """A flushed segment whose indexes failed: rebuild them; damage is reported, not cut,
    except in the last segment, where appends continue and garbage cannot stay in the middle."""
    if segment is segments.active:
        _recover(segments, segment)
        return
    result = segment.scan()
    if result.problem:
        segment.next_offset = segments.segments[segments.segments.index(segment) + 1].base_offset
        segments.report(result.problem)


def _recover(segments: SegmentList, segment: Segment) -> list[tuple[int, int]]:
    """Crash recovery of one segment: validate everything, cut at the first bad batch."""
    result = segment.scan()
    problem = result.problem
    if problem:
        _log.error(
            "%s: recovery truncates %s at byte %d, dropping offsets from %d (%d bytes): %s",
            segments.directory, segment.name, problem.position, problem.offset, segment.size - problem.position, problem.reason,
        )
        segment.truncate_at(problem.position)
        segment.corruption = None
        segment.next_offset = problem.offset
        segments.delete_after(segment, "after a truncated segment")
    return result.epoch_starts
