"""Opening a partition's log (Kafka's LogLoader), which checks every batch of every segment.

Kafka validates only what lies past the recovery point, trusting that what was
fsynced is still intact. Disks flip bits and files get cut, so here every
batch's framing, CRC and offsets are checked on every open (compiled, over
chunks of each file), and the log ends at the first batch that fails, wherever
it is: the rest of that segment and every later segment are deleted, and what
was cut and why is logged. A replica then fetches what it lost from its
leader. A gap or an overlap between segments cuts the log the same way. Index
files are recomputed and rewritten when they differ; the leader-epoch cache is
rebuilt from the batches. After a crash (no clean shutdown marker) or a cut,
the log is flushed, so what it now holds is what is on disk.

Producer snapshots are trusted only where the recovered batches back them
(Kafka's LogLoader rules): none above the log end, none below the first
segment, and after a crash none above the recovery point checkpointed before
it, since the batches such a snapshot describes may never have reached the
disk, or may have been cut and rewritten differently since.
"""

from __future__ import annotations

import logging
from pathlib import Path

from cluster.broker.log import layout, retention, snapshot_files
from cluster.broker.log.clock import Clock
from cluster.broker.log.config import LogConfig
from cluster.broker.log.epoch_cache import LeaderEpochCache
from cluster.broker.log.errors import Corruption
from cluster.broker.log.segment import Segment
from cluster.broker.log.segment_list import SegmentList

_log = logging.getLogger(__name__)


def load(directory: Path, config: LogConfig, clock: Clock) -> tuple[SegmentList, LeaderEpochCache]:
    """The segments in `directory`, checked and cut at the first bad batch, and their leader epochs."""
    segments = SegmentList.open(directory, config, clock)
    clean = layout.has_clean_shutdown_marker(directory)
    checkpointed_recovery_point = segments.recovery_point
    epoch_starts, cut = _check_every_segment(segments)
    epoch_cache = LeaderEpochCache.rebuilt(directory, epoch_starts, segments.log_start_offset, segments.log_end_offset)
    retention.keep_checkpointed_start(segments, epoch_cache)
    _drop_untrusted_snapshots(segments, None if clean else checkpointed_recovery_point)
    if cut and segments.recovery_point > segments.log_end_offset:
        segments.advance_recovery_point(segments.log_end_offset)
    if cut or not clean:
        segments.flush()
    layout.remove_clean_shutdown_marker(directory)
    return segments, epoch_cache


def _drop_untrusted_snapshots(segments: SegmentList, crash_recovery_point: int | None) -> None:
    """`crash_recovery_point`: the recovery point checkpointed before a crash; None after a clean shutdown."""
    snapshot_files.delete_outside(segments.directory, segments.segments[0].base_offset, segments.log_end_offset,
                                  "the recovered log's segments do not hold the batches around it")
    if crash_recovery_point is not None:
        snapshot_files.delete_outside(
            segments.directory, 0, crash_recovery_point,
            f"after a crash, it is above the recovery point {crash_recovery_point}: the batches it describes may "
            "not have reached the disk")


def _check_every_segment(segments: SegmentList) -> tuple[list[tuple[int, int]], bool]:
    """Scans the segments in order; returns the (epoch, start offset) pairs of the batches kept,
    and whether the log was cut."""
    epoch_starts: list[tuple[int, int]] = []
    for at, segment in enumerate(segments.segments):
        result = segment.scan()
        if result.indexes_rewritten:
            _log.warning("%s: the index files of %s did not match its batches; rewritten", segments.directory, segment.name)
        epoch_starts += result.epoch_starts
        problem = result.problem or _gap_after(segments, at)
        if problem is not None:
            _cut(segments, segment, problem)
            return epoch_starts, True
    return epoch_starts, False


def _gap_after(segments: SegmentList, at: int) -> Corruption | None:
    """A problem if the next segment does not start where this one ends (a lost or stray file)."""
    segment = segments.segments[at]
    if at + 1 == len(segments.segments) or segments.segments[at + 1].base_offset == segment.next_offset:
        return None
    return Corruption(
        segment.name, segment.size, segment.next_offset,
        f"the segment ends at offset {segment.next_offset} but the next one starts at {segments.segments[at + 1].base_offset}",
    )


def _cut(segments: SegmentList, segment: Segment, problem: Corruption) -> None:
    later = segments.segments[segments.segments.index(segment) + 1 :]
    dropped_bytes = segment.size - problem.position + sum(other.size for other in later)
    _log.error(
        "%s: %s at byte %d (offset %d): %s; the log is truncated there, dropping offsets from %d (%d bytes%s)",
        segments.directory, segment.name, problem.position, problem.offset, problem.reason, problem.offset,
        dropped_bytes, f" and {len(later)} later segment(s)" if later else "",
    )
    segment.truncate_at(problem.position)
    segment.corruption = None
    segment.next_offset = problem.offset
    segments.delete_after(segment, "it lies after the corrupt batch")
